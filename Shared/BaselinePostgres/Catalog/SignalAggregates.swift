import BaselineCore
import Foundation
import Logging
import PostgresNIO

/// What signal-enricher accumulated for one (profile version, rule, node) since its last flush.
public struct SignalTally: Sendable, Hashable {
    public struct Key: Hashable, Sendable {
        public var profileKey: String
        public var imageTag: String
        public var ruleID: String
        public var eventType: String
        /// The matched node, else the signal's own activity key; empty when it has none.
        public var nodeKey: String

        public init(profileKey: String, imageTag: String, ruleID: String, eventType: String, nodeKey: String) {
            self.profileKey = profileKey
            self.imageTag = imageTag
            self.ruleID = ruleID
            self.eventType = eventType
            self.nodeKey = nodeKey
        }
    }

    public var match: String
    public var signals: Int64 = 0
    public var suppressed: Int64 = 0
    public var anomalous: Int64 = 0
    public var suggestionID: String?
    public var firstSeen: Date
    public var lastSeen: Date
    /// The `baseline` object of the last signal (JSON), so the page can show its context.
    public var lastEnrichment: String

    public init(match: String, firstSeen: Date, lastSeen: Date, lastEnrichment: String) {
        self.match = match
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.lastEnrichment = lastEnrichment
    }

    public mutating func add(_ other: SignalTally) {
        signals += other.signals
        suppressed += other.suppressed
        anomalous += other.anomalous
        suggestionID = other.suggestionID ?? suggestionID
        firstSeen = min(firstSeen, other.firstSeen)
        if other.lastSeen >= lastSeen {
            lastSeen = other.lastSeen
            lastEnrichment = other.lastEnrichment
            match = other.match
        }
    }
}

/// A profile's signal aggregate as the API shows it.
public struct SignalAggregateRow: Codable, Sendable {
    public var ruleId: String
    public var eventType: String
    public var nodeKey: String
    public var match: String
    public var signals: Int64
    public var suppressed: Int64
    public var anomalous: Int64
    public var suggestionId: String?
    public var firstSeen: Date
    public var lastSeen: Date
    public var lastEnrichment: JSONValue
}

/// Per-profile signal aggregates: bounded (`maxRowsPerVersion`; what does not fit is counted in
/// the rule's `*` row), written in one statement per flush, never one row per signal.
public struct SignalAggregateStore: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    public var maxRowsPerVersion: Int

    public static let overflowNode = "*"

    public init(client: PostgresClient, logger: Logger, maxRowsPerVersion: Int = 1000) {
        self.client = client
        self.logger = logger
        self.maxRowsPerVersion = maxRowsPerVersion
    }

    public func record(_ tallies: [SignalTally.Key: SignalTally]) async throws {
        guard !tallies.isEmpty else { return }
        let entries = tallies.sorted { ($0.key.profileKey, $0.key.imageTag, $0.key.ruleID, $0.key.nodeKey) < ($1.key.profileKey, $1.key.imageTag, $1.key.ruleID, $1.key.nodeKey) }
        let keys = entries.map(\.key), t = entries.map(\.value)
        let cap = Int64(maxRowsPerVersion)
        // Rows that exist are updated; new ones are inserted while the version has room, the
        // rest go to the overflow row of their rule.
        try await client.withTransaction(logger: logger) { conn in
            try await conn.query("""
                WITH input AS (
                    SELECT * FROM UNNEST(\(keys.map(\.profileKey))::text[], \(keys.map(\.imageTag))::text[], \(keys.map(\.ruleID))::text[],
                                         \(keys.map(\.eventType))::text[], \(keys.map(\.nodeKey))::text[], \(t.map(\.match))::text[],
                                         \(t.map(\.signals))::int8[], \(t.map(\.suppressed))::int8[], \(t.map(\.anomalous))::int8[],
                                         \(t.map { $0.suggestionID ?? "" })::text[], \(t.map(\.firstSeen))::timestamptz[],
                                         \(t.map(\.lastSeen))::timestamptz[], \(t.map(\.lastEnrichment))::text[])
                        AS i(profile_key, image_tag, rule_id, event_type, node_key, match, signals, suppressed, anomalous, suggestion_id,
                             first_seen, last_seen, last_enrichment)
                ), used AS (
                    SELECT s.profile_key, s.image_tag, count(*) AS used
                    FROM profile_signals s JOIN (SELECT DISTINCT profile_key, image_tag FROM input) v USING (profile_key, image_tag)
                    GROUP BY 1, 2
                ), placed AS (
                    SELECT i.*, (s.profile_key IS NOT NULL) AS present,
                           row_number() OVER (PARTITION BY i.profile_key, i.image_tag, (s.profile_key IS NULL)
                                              ORDER BY i.signals DESC, i.node_key) AS n,
                           coalesce(u.used, 0) AS used
                    FROM input i
                    LEFT JOIN profile_signals s ON s.profile_key = i.profile_key AND s.image_tag = i.image_tag AND s.rule_id = i.rule_id
                                               AND s.event_type = i.event_type AND s.node_key = i.node_key
                    LEFT JOIN used u ON u.profile_key = i.profile_key AND u.image_tag = i.image_tag
                ), routed AS (
                    SELECT profile_key, image_tag, rule_id, event_type,
                           CASE WHEN present OR used + n <= \(cap) THEN node_key ELSE \(Self.overflowNode) END AS node_key,
                           CASE WHEN present OR used + n <= \(cap) THEN match ELSE 'mixed' END AS match,
                           signals, suppressed, anomalous, NULLIF(suggestion_id, '') AS suggestion_id, first_seen, last_seen, last_enrichment
                    FROM placed
                )
                INSERT INTO profile_signals AS s (profile_key, image_tag, rule_id, event_type, node_key, match, signals, suppressed,
                                                  anomalous, suggestion_id, first_seen, last_seen, last_enrichment)
                SELECT profile_key, image_tag, rule_id, event_type, node_key, max(match), sum(signals), sum(suppressed), sum(anomalous),
                       max(suggestion_id), min(first_seen), max(last_seen), (array_agg(last_enrichment ORDER BY last_seen DESC))[1]::jsonb
                FROM routed GROUP BY profile_key, image_tag, rule_id, event_type, node_key
                -- One order for every writer: two enrichers upserting the same rows cannot deadlock.
                ORDER BY profile_key, image_tag, rule_id, event_type, node_key
                ON CONFLICT (profile_key, image_tag, rule_id, event_type, node_key) DO UPDATE SET
                    signals = s.signals + EXCLUDED.signals, suppressed = s.suppressed + EXCLUDED.suppressed,
                    anomalous = s.anomalous + EXCLUDED.anomalous, suggestion_id = COALESCE(EXCLUDED.suggestion_id, s.suggestion_id),
                    first_seen = LEAST(s.first_seen, EXCLUDED.first_seen),
                    last_seen = GREATEST(s.last_seen, EXCLUDED.last_seen),
                    match = CASE WHEN EXCLUDED.last_seen >= s.last_seen THEN EXCLUDED.match ELSE s.match END,
                    last_enrichment = CASE WHEN EXCLUDED.last_seen >= s.last_seen THEN EXCLUDED.last_enrichment ELSE s.last_enrichment END
                """, logger: logger)
        }
    }

    /// A version's aggregates, most recent first.
    public func list(image: String, tag: String, ruleID: String?, cursor: String?, limit: Int) async throws -> Page<SignalAggregateRow> {
        var before: (Int64, String)?
        if let cursor {
            guard let p = Cursor.decode(cursor, count: 2), let us = Int64(p[0]) else {
                throw CatalogError.invalid("cursor is not one this API issued")
            }
            before = (us, p[1])
        }
        var items: [SignalAggregateRow] = []
        var keys: [Int: (Int64, String)] = [:]
        for try await row in try await client.query("""
            SELECT rule_id, event_type, node_key, match, signals, suppressed, anomalous, suggestion_id, first_seen, last_seen,
                   last_enrichment::text, us, rule_id || chr(1) || event_type || chr(1) || node_key
            FROM (SELECT *, (extract(epoch FROM last_seen) * 1000000)::int8 AS us FROM profile_signals
                  WHERE profile_key = \(image) AND image_tag = \(tag) AND (\(ruleID)::text IS NULL OR rule_id = \(ruleID))) s
            WHERE (\(before?.0)::int8 IS NULL OR (us, rule_id || chr(1) || event_type || chr(1) || node_key) < (\(before?.0), \(before?.1)))
            ORDER BY us DESC, rule_id || chr(1) || event_type || chr(1) || node_key DESC LIMIT \(Int64(limit + 1))
            """, logger: logger).decode((String, String, String, String, Int64, Int64, Int64, String?, Date, Date, String, Int64, String).self) {
            let (rule, type, node, match, signals, suppressed, anomalous, suggestion, first, last, enrichment, us, tiebreak) = row
            keys[items.count] = (us, tiebreak)
            items.append(SignalAggregateRow(ruleId: rule, eventType: type, nodeKey: node, match: match, signals: signals,
                                            suppressed: suppressed, anomalous: anomalous, suggestionId: suggestion, firstSeen: first,
                                            lastSeen: last, lastEnrichment: JSONValue.parse(enrichment)))
        }
        guard items.count > limit else { return Page(items: items, nextCursor: nil) }
        items.removeLast()
        let k = keys[items.count - 1]!
        return Page(items: items, nextCursor: Cursor.encode([String(k.0), k.1]))
    }
}
