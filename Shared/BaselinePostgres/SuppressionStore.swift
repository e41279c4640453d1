import BaselineCore
import Foundation
import Logging
import PostgresNIO

/// Suggestions, suppressions and the workload look-ups signal-enricher needs. Accepting a
/// suggestion is a storage operation here, so the API only has to call it.
public struct SuppressionStore: Sendable {
    public let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// Records a suggestion (idempotent); true when it still has to be published (new, or
    /// recorded before but never acknowledged by the broker).
    public func record(_ s: SuppressionSuggestion) async throws -> Bool {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let evidence = String(decoding: try encoder.encode(s), as: UTF8.self)
        let rows = try await client.query("""
            INSERT INTO suppression_suggestions (suggestion_id, rule_id, profile_key, image_tag, event_type, node_key, query, evidence, message)
            VALUES (\(s.suggestionID), \(s.ruleID), \(s.profileKey), \(s.imageTag), \(s.eventType.rawValue), \(s.nodeKey),
                    \(s.query), \(evidence)::jsonb, \(evidence)::jsonb)
            ON CONFLICT (suggestion_id) DO UPDATE SET message = coalesce(suppression_suggestions.message, EXCLUDED.message)
            RETURNING published
            """)
        for try await published in rows.decode(Bool.self) { return !published }
        return false
    }

    /// Marks suggestions published (the broker acknowledged them).
    /// `on`: the connection of an outbox lease (default: the pool).
    public func markPublished(_ ids: [String], on connection: (any PostgresQueryable)? = nil) async throws {
        guard !ids.isEmpty else { return }
        _ = try await (connection ?? client).run("UPDATE suppression_suggestions SET published = true WHERE suggestion_id = ANY(\(ids))",
                                                 logger: nil)
    }

    /// Suggestions recorded at least `olderThan` seconds ago and never acknowledged: the outbox.
    public func unpublishedSuggestions(olderThan seconds: Double, limit: Int, on connection: (any PostgresQueryable)? = nil) async throws
        -> [(id: String, message: [UInt8])] {
        var out: [(String, [UInt8])] = []
        for try await (id, message) in try await (connection ?? client).run("""
            SELECT suggestion_id, message::text FROM suppression_suggestions
            WHERE NOT published AND message IS NOT NULL AND created_at < now() - make_interval(secs => \(seconds))
            ORDER BY created_at LIMIT \(Int64(limit))
            """, logger: nil).decode((String, String).self) {
            out.append((id, Array(message.utf8)))
        }
        return out.map { (id: $0.0, message: $0.1) }
    }

    public struct NotFound: Error, CustomStringConvertible {
        public let description: String
    }

    public struct Dismissed: Error, CustomStringConvertible {
        public let description: String
    }

    /// Accepts a suggestion: creates (or returns) the suppression for its rule, profile and node.
    public func accept(suggestionID: String, by user: String, logger: Logger) async throws -> Suppression {
        try await client.withTransaction(logger: logger) { conn in
            var found: (String, String, String, String, String, String)?
            for try await row in try await conn.query("""
                SELECT rule_id, profile_key, event_type, node_key, query, status FROM suppression_suggestions
                WHERE suggestion_id = \(suggestionID) FOR UPDATE
                """, logger: logger).decode((String, String, String, String, String, String).self) { found = row }
            guard let (rule, profile, type, node, query, status) = found, let eventType = EventType(rawValue: type) else {
                throw NotFound(description: "no suppression suggestion \(suggestionID)")
            }
            // A dismissed suggestion (by a user, or because its version was evicted) is not accepted behind their back.
            guard status != "dismissed" else { throw Dismissed(description: "suggestion \(suggestionID) was dismissed") }
            let id = "sup-" + suggestionID.dropFirst(4)
            try await conn.query("""
                INSERT INTO suppressions (suppression_id, suggestion_id, rule_id, profile_key, event_type, node_key, query, created_by)
                VALUES (\(id), \(suggestionID), \(rule), \(profile), \(type), \(node), \(query), \(user))
                ON CONFLICT (rule_id, profile_key, event_type, node_key) DO UPDATE
                    SET active = true, changed_by = EXCLUDED.created_by, changed_at = now()
                """, logger: logger)
            try await conn.query("""
                UPDATE suppression_suggestions SET status = 'accepted', decided_at = now(), decided_by = \(user)
                WHERE suggestion_id = \(suggestionID)
                """, logger: logger)
            return Suppression(id: id, ruleID: rule, profileKey: profile, nodeKey: ProfileNodeKey(type: eventType, value: node), query: query)
        }
    }

    /// Every active suppression.
    public func active() async throws -> [Suppression] {
        var result: [Suppression] = []
        for try await (id, rule, profile, type, node, query) in try await client.query("""
            SELECT suppression_id, rule_id, profile_key, event_type, node_key, query FROM suppressions WHERE active
            """).decode((String, String, String, String, String, String).self) {
            guard let t = EventType(rawValue: type) else { continue }
            result.append(Suppression(id: id, ruleID: rule, profileKey: profile, nodeKey: ProfileNodeKey(type: t, value: node), query: query))
        }
        return result
    }

    /// Adds signal counts to suppressions.
    public func addHits(_ hits: [String: Int]) async throws {
        if hits.isEmpty { return }
        let ids = Array(hits.keys)
        try await client.query("""
            UPDATE suppressions s SET hits = s.hits + u.n, last_hit_at = now()
            FROM UNNEST(\(ids)::text[], \(ids.map { Int64(hits[$0]!) })::int8[]) AS u(id, n)
            WHERE s.suppression_id = u.id
            """)
    }

    /// The workload (profile key, image tag) a container id belongs to, from the instances profile-merger has seen.
    public func workload(containerID: String) async throws -> (profileKey: String, imageTag: String)? {
        for try await row in try await client.query("""
            SELECT i.profile_key, i.image_tag FROM profile_instances i JOIN profile_versions v USING (profile_key, image_tag)
            WHERE i.instance_id = \(containerID) AND v.last_dump_at > '-infinity' ORDER BY i.last_seen_ns DESC LIMIT 1
            """).decode((String, String).self) { return row }
        return nil
    }

    /// The most recently updated tag of a profile (for signals that name no image tag).
    public func latestTag(profileKey: String) async throws -> String? {
        for try await tag in try await client.query("""
            SELECT image_tag FROM profile_versions WHERE profile_key = \(profileKey) ORDER BY last_dump_at DESC, image_tag DESC LIMIT 1
            """).decode(String.self) { return tag }
        return nil
    }

    /// A version's learned state, or nil when it does not exist.
    public func loadVersion(profileKey: String, imageTag: String, miner: PatternMiner, logger: Logger) async throws -> VersionState? {
        try await client.withConnection { conn in
            try await ProfileStore.loadVersion(profileKey: profileKey, imageTag: imageTag, miner: miner, conn: conn, logger: logger)
        }
    }
}
