import BaselineCore
import Foundation
import Logging
import PostgresNIO

/// An anomaly as users review it.
public struct AnomalyRow: Codable, Sendable {
    public var anomalyId: String
    public var imageName: String
    public var imageTag: String
    public var eventType: String
    public var nodeKey: String
    public var lineage: [String]
    public var activity: String?
    public var dumpId: String
    public var instanceId: String
    public var at: Date?
    public var status: String
    public var recordedAt: Date
    public var decidedBy: String?
    public var decidedAt: Date?
    /// When profile-merger added an accepted anomaly's node to the profile.
    public var learnedAt: Date?
}

/// Anomalies: list, accept (profile-merger then learns the node) and dismiss.
public struct AnomalyDecisions: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public enum Decision: String, Sendable {
        case accepted, dismissed
    }

    public func list(image: String?, tag: String?, status: String?, cursor: String?, limit: Int) async throws -> Page<AnomalyRow> {
        var before: (Int64, String)?
        if let cursor {
            guard let p = Cursor.decode(cursor, count: 2), let us = Int64(p[0]) else {
                throw CatalogError.invalid("cursor is not one this API issued")
            }
            before = (us, p[1])
        }
        var items: [AnomalyRow] = []
        var keys: [String: Int64] = [:]
        for try await row in try await client.query("""
            SELECT anomaly_id, profile_key, image_tag, event_type, node_key, dump_id, instance_id, at_ns, status, recorded_at,
                   decided_by, decided_at, learned_at, us
            FROM (SELECT *, (extract(epoch FROM recorded_at) * 1000000)::int8 AS us FROM anomalies
                  WHERE (\(image)::text IS NULL OR profile_key = \(image)) AND (\(tag)::text IS NULL OR image_tag = \(tag))
                    AND (\(status)::text IS NULL OR status = \(status))) a
            WHERE (\(before?.0)::int8 IS NULL OR (us, anomaly_id) < (\(before?.0), \(before?.1)))
            ORDER BY us DESC, anomaly_id DESC LIMIT \(Int64(limit + 1))
            """, logger: logger).decode((String, String, String, String, String, String, String, Int64, String, Date, String?, Date?, Date?,
                                         Int64).self) {
            let (id, key, tag, type, node, dump, instance, at, status, recorded, by, decided, learned, us) = row
            let parts = ProfileNodeKey(type: EventType(rawValue: type) ?? .exec, value: node).parts
            items.append(AnomalyRow(anomalyId: id, imageName: key, imageTag: tag, eventType: type, nodeKey: node,
                                    lineage: parts.lineage.map(NodeText.readable), activity: parts.activity.map(NodeText.readable),
                                    dumpId: dump, instanceId: instance, at: Catalog.date(ns: at), status: status, recordedAt: recorded,
                                    decidedBy: by, decidedAt: decided, learnedAt: learned))
            keys[id] = us
        }
        return ProfileListing.paged(items, limit: limit) { [String(keys[$0.anomalyId] ?? 0), $0.anomalyId] }
    }

    public func get(_ id: String) async throws -> AnomalyRow {
        var found: AnomalyRow?
        for try await row in try await client.query("""
            SELECT anomaly_id, profile_key, image_tag, event_type, node_key, dump_id, instance_id, at_ns, status, recorded_at,
                   decided_by, decided_at, learned_at
            FROM anomalies WHERE anomaly_id = \(id)
            """, logger: logger).decode((String, String, String, String, String, String, String, Int64, String, Date, String?, Date?, Date?).self) {
            let (id, key, tag, type, node, dump, instance, at, status, recorded, by, decided, learned) = row
            let parts = ProfileNodeKey(type: EventType(rawValue: type) ?? .exec, value: node).parts
            found = AnomalyRow(anomalyId: id, imageName: key, imageTag: tag, eventType: type, nodeKey: node,
                               lineage: parts.lineage.map(NodeText.readable), activity: parts.activity.map(NodeText.readable),
                               dumpId: dump, instanceId: instance, at: Catalog.date(ns: at), status: status, recordedAt: recorded,
                               decidedBy: by, decidedAt: decided, learnedAt: learned)
        }
        guard let found else { throw CatalogError.notFound("no anomaly \(id)") }
        return found
    }

    /// Decides a pending anomaly; deciding it again the same way is a no-op, the other way a conflict.
    public func decide(_ id: String, _ decision: Decision, by user: String) async throws -> AnomalyRow {
        let current = try await get(id)
        if current.status == decision.rawValue { return current }
        guard current.status == "pending" else {
            throw CatalogError.conflict("anomaly \(id) is already \(current.status)")
        }
        var changed = false
        for try await _ in try await client.query("""
            UPDATE anomalies SET status = \(decision.rawValue), decided_by = \(user), decided_at = now()
            WHERE anomaly_id = \(id) AND status = 'pending' RETURNING 1
            """, logger: logger).decode(Int32.self) { changed = true }
        if !changed { return try await decide(id, decision, by: user) }
        return try await get(id)
    }
}
