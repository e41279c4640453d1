import BaselineCore
import Foundation
import Logging
import PostgresNIO

/// A suppression suggestion as users review it.
public struct SuggestionRow: Codable, Sendable {
    public var suggestionId: String
    public var ruleId: String
    public var imageName: String
    public var imageTag: String
    public var eventType: String
    public var nodeKey: String
    public var query: String
    public var evidence: JSONValue
    public var status: String
    public var createdAt: Date
    public var decidedBy: String?
    public var decidedAt: Date?
}

/// An accepted suppression with its hit count.
public struct SuppressionRow: Codable, Sendable {
    public var suppressionId: String
    public var suggestionId: String?
    public var ruleId: String
    public var imageName: String
    public var eventType: String
    public var nodeKey: String
    public var query: String
    public var active: Bool
    public var hits: Int64
    public var lastHitAt: Date?
    public var createdBy: String
    public var createdAt: Date
    public var changedBy: String?
    public var changedAt: Date?
}

/// Suggestions (accept → suppression, dismiss) and suppressions (list, disable, enable).
public struct SuggestionDecisions: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func list(image: String?, status: String?, cursor: String?, limit: Int) async throws -> Page<SuggestionRow> {
        let after = try ProfileListing.oneCursor(cursor)
        var items: [SuggestionRow] = []
        for try await row in try await client.query("""
            SELECT suggestion_id, rule_id, profile_key, image_tag, event_type, node_key, query, evidence::text, status, created_at,
                   decided_by, decided_at
            FROM suppression_suggestions
            WHERE (\(image)::text IS NULL OR profile_key = \(image)) AND (\(status)::text IS NULL OR status = \(status))
              AND (\(after)::text IS NULL OR suggestion_id > \(after))
            ORDER BY suggestion_id LIMIT \(Int64(limit + 1))
            """, logger: logger).decode((String, String, String, String, String, String, String, String, String, Date, String?, Date?).self) {
            items.append(Self.suggestion(row))
        }
        return ProfileListing.paged(items, limit: limit) { [$0.suggestionId] }
    }

    public func get(_ id: String) async throws -> SuggestionRow {
        for try await row in try await client.query("""
            SELECT suggestion_id, rule_id, profile_key, image_tag, event_type, node_key, query, evidence::text, status, created_at,
                   decided_by, decided_at
            FROM suppression_suggestions WHERE suggestion_id = \(id)
            """, logger: logger).decode((String, String, String, String, String, String, String, String, String, Date, String?, Date?).self) {
            return Self.suggestion(row)
        }
        throw CatalogError.notFound("no suppression suggestion \(id)")
    }

    /// Accepts a suggestion: the suppression (exactly as wide as the suggestion's node) is created,
    /// or re-enabled. Accepting an accepted suggestion returns its suppression.
    public func accept(_ id: String, by user: String) async throws -> SuppressionRow {
        _ = try await get(id)
        let suppression: Suppression
        do {
            suppression = try await SuppressionStore(client: client).accept(suggestionID: id, by: user, logger: logger)
        } catch {
            if DatabaseFailure.underlying(error) is SuppressionStore.Dismissed { throw CatalogError.conflict("suggestion \(id) was dismissed") }
            throw error
        }
        return try await suppressionRow(suppression.id)
    }

    public func dismiss(_ id: String, by user: String) async throws -> SuggestionRow {
        let current = try await get(id)
        if current.status == "dismissed" { return current }
        guard current.status == "open" else { throw CatalogError.conflict("suggestion \(id) is already \(current.status)") }
        var changed = false
        for try await _ in try await client.query("""
            UPDATE suppression_suggestions SET status = 'dismissed', decided_by = \(user), decided_at = now()
            WHERE suggestion_id = \(id) AND status = 'open' RETURNING 1
            """, logger: logger).decode(Int32.self) { changed = true }
        let now = try await get(id)
        // Lost a race with an accept: say so rather than answer 200 with `accepted`.
        if !changed && now.status != "dismissed" { throw CatalogError.conflict("suggestion \(id) is already \(now.status)") }
        return now
    }

    public func suppressions(image: String?, active: Bool?, cursor: String?, limit: Int) async throws -> Page<SuppressionRow> {
        let after = try ProfileListing.oneCursor(cursor)
        var items: [SuppressionRow] = []
        for try await row in try await client.query("""
            SELECT suppression_id, suggestion_id, rule_id, profile_key, event_type, node_key, query, active, hits, last_hit_at,
                   created_by, created_at, changed_by, changed_at
            FROM suppressions
            WHERE (\(image)::text IS NULL OR profile_key = \(image)) AND (\(active)::bool IS NULL OR active = \(active))
              AND (\(after)::text IS NULL OR suppression_id > \(after))
            ORDER BY suppression_id LIMIT \(Int64(limit + 1))
            """, logger: logger).decode((String, String?, String, String, String, String, String, Bool, Int64, Date?, String, Date, String?,
                                         Date?).self) {
            items.append(Self.suppression(row))
        }
        return ProfileListing.paged(items, limit: limit) { [$0.suppressionId] }
    }

    public func suppressionRow(_ id: String) async throws -> SuppressionRow {
        for try await row in try await client.query("""
            SELECT suppression_id, suggestion_id, rule_id, profile_key, event_type, node_key, query, active, hits, last_hit_at,
                   created_by, created_at, changed_by, changed_at
            FROM suppressions WHERE suppression_id = \(id)
            """, logger: logger).decode((String, String?, String, String, String, String, String, Bool, Int64, Date?, String, Date, String?,
                                         Date?).self) {
            return Self.suppression(row)
        }
        throw CatalogError.notFound("no suppression \(id)")
    }

    /// Disables or re-enables a suppression; signal-enricher applies it at its next refresh.
    public func setActive(_ id: String, _ active: Bool, by user: String) async throws -> SuppressionRow {
        _ = try await suppressionRow(id)
        try await client.query("""
            UPDATE suppressions SET active = \(active), changed_by = \(user), changed_at = now()
            WHERE suppression_id = \(id) AND active <> \(active)
            """, logger: logger)
        return try await suppressionRow(id)
    }

    static func suggestion(_ row: (String, String, String, String, String, String, String, String, String, Date, String?, Date?)) -> SuggestionRow {
        let (id, rule, key, tag, type, node, query, evidence, status, created, by, decided) = row
        return SuggestionRow(suggestionId: id, ruleId: rule, imageName: key, imageTag: tag, eventType: type, nodeKey: node, query: query,
                             evidence: JSONValue.parse(evidence), status: status, createdAt: created, decidedBy: by, decidedAt: decided)
    }

    static func suppression(_ row: (String, String?, String, String, String, String, String, Bool, Int64, Date?, String, Date, String?, Date?))
        -> SuppressionRow {
        let (id, suggestion, rule, key, type, node, query, active, hits, lastHit, by, created, changedBy, changedAt) = row
        return SuppressionRow(suppressionId: id, suggestionId: suggestion, ruleId: rule, imageName: key, eventType: type, nodeKey: node,
                              query: query, active: active, hits: hits, lastHitAt: lastHit, createdBy: by, createdAt: created,
                              changedBy: changedBy, changedAt: changedAt)
    }
}
