import BaselineCore
import Foundation
import Logging
import PostgresNIO

/// A workload instance (container) of a version.
public struct InstanceRow: Codable, Sendable {
    public var instanceId: String
    public var firstSeen: Date?
    public var lastSeen: Date?
    public var dumps: Int64
    public var hosts: [String]
}

/// An activity dump merged into a version.
public struct DumpRow: Codable, Sendable {
    public var dumpId: String
    public var instanceId: String
    public var host: String?
    public var service: String?
    public var cluster: String?
    public var namespace: String?
    public var dumpStart: Date?
    public var dumpEnd: Date?
    public var nodeCount: Int64
    public var newNodes: Int64
    public var warmingUp: Bool
    public var versionCommonality: Double?
    public var mergedAt: Date
    public var sourcePartition: Int32
    public var sourceOffset: Int64
}

/// One entry of a version's history.
public struct HistoryEntry: Codable, Sendable {
    public var at: Date
    /// `dump_merged`, `state_changed`, `anomaly`, `anomaly_accepted`, `anomaly_dismissed`, `overrides_changed`,
    /// `suppression_created`, `suppression_changed`.
    public var kind: String
    public var eventType: String?
    public var detail: String
    public var by: String?
    public var ref: String?
}

/// A point of the commonality-over-time chart.
public struct CommonalityPoint: Codable, Sendable {
    public var at: Date
    public var commonality: Double
    public var dumpsMerged: Int64
}

extension ProfileListing {
    public func instances(image: String, tag: String, cursor: String?, limit: Int) async throws -> Page<InstanceRow> {
        _ = try await instanceCount(image: image, tag: tag)
        let after = try Self.oneCursor(cursor)
        var items: [InstanceRow] = []
        for try await (id, first, last, dumps, hosts) in try await client.query("""
            SELECT i.instance_id, i.first_seen_ns, i.last_seen_ns,
                   (SELECT count(*) FROM merged_dumps d WHERE d.instance_id = i.instance_id AND d.profile_key = i.profile_key
                                                         AND d.image_tag = i.image_tag),
                   COALESCE((SELECT array_agg(DISTINCT d.host) FROM merged_dumps d WHERE d.instance_id = i.instance_id
                             AND d.profile_key = i.profile_key AND d.image_tag = i.image_tag AND d.host IS NOT NULL), '{}')
            FROM profile_instances i
            WHERE i.profile_key = \(image) AND i.image_tag = \(tag) AND (\(after)::text IS NULL OR i.instance_id > \(after))
            ORDER BY i.instance_id LIMIT \(Int64(limit + 1))
            """, logger: logger).decode((String, Int64, Int64, Int64, [String]).self) {
            items.append(InstanceRow(instanceId: id, firstSeen: Catalog.date(ns: first), lastSeen: Catalog.date(ns: last), dumps: dumps,
                                     hosts: hosts))
        }
        return Self.paged(items, limit: limit) { [$0.instanceId] }
    }

    public func dumps(image: String, tag: String, cursor: String?, limit: Int) async throws -> Page<DumpRow> {
        _ = try await instanceCount(image: image, tag: tag)
        var before: (Int64, String)?
        if let cursor {
            guard let p = Cursor.decode(cursor, count: 2), let us = Int64(p[0]) else {
                throw CatalogError.invalid("cursor is not one this API issued")
            }
            before = (us, p[1])
        }
        var items: [DumpRow] = []
        var cursors: [String: Int64] = [:]
        for try await row in try await client.query("""
            SELECT dump_id, instance_id, host, service, cluster, namespace, dump_start, dump_end, node_count::int8, new_nodes::int8,
                   warming_up, version_commonality, merged_at, source_partition, source_offset, us
            FROM (SELECT *, (extract(epoch FROM merged_at) * 1000000)::int8 AS us FROM merged_dumps
                  WHERE profile_key = \(image) AND image_tag = \(tag)) d
            WHERE (\(before?.0)::int8 IS NULL OR (us, dump_id) < (\(before?.0), \(before?.1)))
            ORDER BY us DESC, dump_id DESC LIMIT \(Int64(limit + 1))
            """, logger: logger).decode((String, String, String?, String?, String?, String?, Date?, Date?, Int64, Int64, Bool, Double?,
                                         Date, Int32, Int64, Int64).self) {
            let (id, instance, host, service, cluster, namespace, start, end, nodes, new, warm, commonality, merged, partition, offset, us) = row
            cursors[id] = us
            items.append(DumpRow(dumpId: id, instanceId: instance, host: host, service: service, cluster: cluster, namespace: namespace,
                                 dumpStart: start, dumpEnd: end, nodeCount: nodes, newNodes: new, warmingUp: warm,
                                 versionCommonality: commonality.map(Catalog.round4), mergedAt: merged, sourcePartition: partition,
                                 sourceOffset: offset))
        }
        return Self.paged(items, limit: limit) { [String(cursors[$0.dumpId] ?? 0), $0.dumpId] }
    }

    /// Merges, state changes, anomalies and their decisions, override and suppression changes, newest first
    /// (entries of one transaction share their time: the cursor holds the time in microseconds and a
    /// tie-break, so a page boundary inside a merge batch loses no entry).
    public func history(image: String, tag: String, before: Date?, cursor: String? = nil, limit: Int) async throws -> Page<HistoryEntry> {
        _ = try await instanceCount(image: image, tag: tag)
        var after: (Int64, String)?
        if let cursor {
            guard let p = Cursor.decode(cursor, count: 2), let us = Int64(p[0]) else {
                throw CatalogError.invalid("cursor is not one this API issued")
            }
            after = (us, p[1])
        }
        var items: [HistoryEntry] = []
        var keys: [(Int64, String)] = []
        // Each branch returns its own newest `limit + 1` after the cursor (in the global order:
        // time, then kind/type/ref), so a page reads O(limit) rows per branch, not the history.
        let n = Int64(limit + 1)
        let bound: Int64? = after?.0, tie: String? = after?.1
        for try await (at, kind, type, detail, by, ref, us, tiebreak) in try await client.query("""
            WITH h AS (
                (SELECT merged_at AS at, 'dump_merged' AS kind, NULL::text AS event_type,
                        format('%s nodes, %s new, from %s', node_count, new_nodes, instance_id) AS detail, NULL::text AS by_user,
                        dump_id AS ref, 'dump_merged' || chr(1) || chr(1) || dump_id AS tiebreak
                 FROM merged_dumps WHERE profile_key = \(image) AND image_tag = \(tag)
                   AND (\(before)::timestamptz IS NULL OR merged_at < \(before))
                   AND (\(bound)::int8 IS NULL OR (merged_at, 'dump_merged' || chr(1) || chr(1) || dump_id)
                        < (timestamptz 'epoch' + \(bound) * interval '1 microsecond', \(tie)))
                 ORDER BY 1 DESC, 7 DESC LIMIT \(n))
                UNION ALL
                (SELECT recorded_at, 'state_changed', event_type, from_state || ' -> ' || to_state || ': ' || reason, NULL, dump_id,
                        'state_changed' || chr(1) || event_type || chr(1) || coalesce(dump_id, '') || chr(1) || id
                 FROM state_transitions WHERE profile_key = \(image) AND image_tag = \(tag)
                   AND (\(before)::timestamptz IS NULL OR recorded_at < \(before))
                   AND (\(bound)::int8 IS NULL OR (recorded_at, 'state_changed' || chr(1) || event_type || chr(1) || coalesce(dump_id, '') || chr(1) || id)
                        < (timestamptz 'epoch' + \(bound) * interval '1 microsecond', \(tie)))
                 ORDER BY 1 DESC, 7 DESC LIMIT \(n))
                UNION ALL
                (SELECT recorded_at, 'anomaly', event_type, node_key, NULL, anomaly_id,
                        'anomaly' || chr(1) || event_type || chr(1) || anomaly_id
                 FROM anomalies WHERE profile_key = \(image) AND image_tag = \(tag)
                   AND (\(before)::timestamptz IS NULL OR recorded_at < \(before))
                   AND (\(bound)::int8 IS NULL OR (recorded_at, 'anomaly' || chr(1) || event_type || chr(1) || anomaly_id)
                        < (timestamptz 'epoch' + \(bound) * interval '1 microsecond', \(tie)))
                 ORDER BY 1 DESC, 7 DESC LIMIT \(n))
                UNION ALL
                (SELECT decided_at, 'anomaly_' || status, event_type, node_key, decided_by, anomaly_id,
                        'anomaly_' || status || chr(1) || event_type || chr(1) || anomaly_id
                 FROM anomalies WHERE profile_key = \(image) AND image_tag = \(tag) AND decided_at IS NOT NULL
                   AND (\(before)::timestamptz IS NULL OR decided_at < \(before))
                   AND (\(bound)::int8 IS NULL OR (decided_at, 'anomaly_' || status || chr(1) || event_type || chr(1) || anomaly_id)
                        < (timestamptz 'epoch' + \(bound) * interval '1 microsecond', \(tie)))
                 ORDER BY 1 DESC, 7 DESC LIMIT \(n))
                UNION ALL
                (SELECT changed_at, 'overrides_changed', NULL, overrides::text, changed_by, id::text,
                        'overrides_changed' || chr(1) || chr(1) || id::text
                 FROM override_changes WHERE profile_key = \(image)
                   AND (\(before)::timestamptz IS NULL OR changed_at < \(before))
                   AND (\(bound)::int8 IS NULL OR (changed_at, 'overrides_changed' || chr(1) || chr(1) || id::text)
                        < (timestamptz 'epoch' + \(bound) * interval '1 microsecond', \(tie)))
                 ORDER BY 1 DESC, 7 DESC LIMIT \(n))
                UNION ALL
                (SELECT created_at, 'suppression_created', event_type, rule_id || ': ' || query, created_by, suppression_id,
                        'suppression_created' || chr(1) || event_type || chr(1) || suppression_id
                 FROM suppressions WHERE profile_key = \(image)
                   AND (\(before)::timestamptz IS NULL OR created_at < \(before))
                   AND (\(bound)::int8 IS NULL OR (created_at, 'suppression_created' || chr(1) || event_type || chr(1) || suppression_id)
                        < (timestamptz 'epoch' + \(bound) * interval '1 microsecond', \(tie)))
                 ORDER BY 1 DESC, 7 DESC LIMIT \(n))
                UNION ALL
                (SELECT changed_at, 'suppression_changed', event_type, CASE WHEN active THEN 'enabled' ELSE 'disabled' END, changed_by,
                        suppression_id, 'suppression_changed' || chr(1) || event_type || chr(1) || suppression_id
                 FROM suppressions WHERE profile_key = \(image) AND changed_at IS NOT NULL
                   AND (\(before)::timestamptz IS NULL OR changed_at < \(before))
                   AND (\(bound)::int8 IS NULL OR (changed_at, 'suppression_changed' || chr(1) || event_type || chr(1) || suppression_id)
                        < (timestamptz 'epoch' + \(bound) * interval '1 microsecond', \(tie)))
                 ORDER BY 1 DESC, 7 DESC LIMIT \(n))
                UNION ALL
                (SELECT imported_at, 'imported', NULL, format('imported: %s nodes, %s instances', nodes, instances), imported_by,
                        image_tag, 'imported' || chr(1) || chr(1) || image_tag
                 FROM profile_versions WHERE profile_key = \(image) AND image_tag = \(tag) AND imported_at IS NOT NULL
                   AND (\(before)::timestamptz IS NULL OR imported_at < \(before))
                   AND (\(bound)::int8 IS NULL OR (imported_at, 'imported' || chr(1) || chr(1) || image_tag)
                        < (timestamptz 'epoch' + \(bound) * interval '1 microsecond', \(tie))))
            )
            SELECT at, kind, event_type, detail, by_user, ref, (extract(epoch FROM at) * 1000000)::int8, tiebreak
            FROM h ORDER BY at DESC, tiebreak DESC LIMIT \(n)
            """, logger: logger).decode((Date, String, String?, String, String?, String?, Int64, String).self) {
            items.append(HistoryEntry(at: at, kind: kind, eventType: type, detail: detail, by: by, ref: ref))
            keys.append((us, tiebreak))
        }
        guard items.count > limit else { return Page(items: items, nextCursor: nil) }
        items.removeLast()
        let last = keys[items.count - 1]
        return Page(items: items, nextCursor: Cursor.encode([String(last.0), last.1]))
    }

    /// The version's commonality after each merge, oldest first (at most `limit` points, evenly thinned).
    public func commonalitySeries(image: String, tag: String, limit: Int) async throws -> [CommonalityPoint] {
        _ = try await instanceCount(image: image, tag: tag)
        var points: [CommonalityPoint] = []
        for try await (at, c, n) in try await client.query("""
            SELECT merged_at, version_commonality, n FROM (
                SELECT merged_at, version_commonality, row_number() OVER (ORDER BY merged_at, dump_id)::int8 AS n,
                       count(*) OVER ()::int8 AS total
                FROM merged_dumps WHERE profile_key = \(image) AND image_tag = \(tag) AND version_commonality IS NOT NULL) s
            WHERE total <= \(Int64(limit)) OR n % GREATEST(1, total / \(Int64(limit))) = 0 OR n = total
            ORDER BY n
            """, logger: logger).decode((Date, Double, Int64).self) {
            points.append(CommonalityPoint(at: at, commonality: Catalog.round4(c), dumpsMerged: n))
        }
        return points
    }

    static func oneCursor(_ cursor: String?) throws -> String? {
        try cursor.map { c -> String in
            guard let parts = Cursor.decode(c, count: 1) else { throw CatalogError.invalid("cursor is not one this API issued") }
            return parts[0]
        }
    }

    static func paged<T>(_ items: [T], limit: Int, key: (T) -> [String]) -> Page<T> {
        guard items.count > limit else { return Page(items: items, nextCursor: nil) }
        let kept = Array(items.prefix(limit))
        return Page(items: kept, nextCursor: kept.last.map { Cursor.encode(key($0)) })
    }
}

extension ISO8601DateFormatter {
    public static var withFraction: ISO8601DateFormatter {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return f
    }
}
