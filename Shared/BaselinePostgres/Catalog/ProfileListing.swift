import BaselineCore
import Foundation
import Logging
import PostgresNIO

/// What the profiles overview filters on. Every value is bound as a parameter.
public struct ProfileFilter: Sendable, Hashable {
    /// Image name, exactly.
    public var image: String?
    /// Image tag (the version), exactly.
    public var imageTag: String?
    public var service: String?
    /// `key:value` workload tags the version's dumps carried; every one must match.
    public var labels: [(key: LabelKey, value: String)] = []
    public var state: LifecycleState?
    /// Case-insensitive substring of the image name, tag or a service.
    public var text: String?

    public enum LabelKey: String, Sendable, CaseIterable {
        case service, host, cluster, namespace, instance
    }

    public init() {}

    public static func == (a: ProfileFilter, b: ProfileFilter) -> Bool {
        a.image == b.image && a.imageTag == b.imageTag && a.service == b.service && a.state == b.state && a.text == b.text
            && a.labels.map { "\($0.key):\($0.value)" } == b.labels.map { "\($0.key):\($0.value)" }
    }

    public func hash(into h: inout Hasher) {
        h.combine(image); h.combine(imageTag); h.combine(service); h.combine(state); h.combine(text)
        for l in labels { h.combine(l.key); h.combine(l.value) }
    }
}

/// A version's line in the overview.
public struct VersionSummary: Codable, Sendable {
    public var imageName: String
    public var imageTag: String
    public var state: String
    public var dumpsMerged: Int64
    public var instances: Int64
    public var nodes: Int64
    public var commonality: Double
    public var eventTypes: [String: String]
    public var pendingAnomalies: Int64
    public var firstSeen: Date
    public var lastUpdated: Date
}

/// The overview's unit: an image name with its versions (image tags).
public struct ImageGroup: Codable, Sendable {
    public var imageName: String
    public var dumpsMerged: Int64
    public var lastUpdated: Date
    public var versions: [VersionSummary]
}

/// Read side of the profiles: the overview grouped by image name.
public struct ProfileListing: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    /// Images matching `filter` after the cursor's image, in name order, with their matching versions.
    public func list(_ filter: ProfileFilter, cursor: String?, limit: Int) async throws -> Page<ImageGroup> {
        let after = try cursor.map { c -> String in
            guard let parts = Cursor.decode(c, count: 1) else { throw CatalogError.invalid("cursor is not one this API issued") }
            return parts[0]
        }
        let pattern = filter.text.map { "%" + Self.likeEscaped($0.lowercased()) + "%" }
        let labelKeys = filter.labels.map(\.key.rawValue), labelValues = filter.labels.map(\.value)
        let rows = try await client.query("""
            WITH matching AS (
                SELECT v.profile_key, v.image_tag, v.state, v.dumps_merged, v.instances, v.nodes, v.commonality,
                       v.first_seen, v.last_seen
                FROM profile_versions v
                WHERE (\(filter.image)::text IS NULL OR v.profile_key = \(filter.image))
                  AND (\(filter.imageTag)::text IS NULL OR v.image_tag = \(filter.imageTag))
                  AND (\(filter.state?.rawValue)::text IS NULL OR v.state = \(filter.state?.rawValue))
                  AND (\(after)::text IS NULL OR v.profile_key > \(after))
                  AND (\(filter.service)::text IS NULL OR EXISTS (
                        SELECT 1 FROM merged_dumps d WHERE d.profile_key = v.profile_key AND d.image_tag = v.image_tag
                                                     AND d.service = \(filter.service)))
                  AND NOT EXISTS (
                        SELECT 1 FROM UNNEST(\(labelKeys)::text[], \(labelValues)::text[]) AS f(k, val)
                        WHERE NOT EXISTS (
                            SELECT 1 FROM merged_dumps d WHERE d.profile_key = v.profile_key AND d.image_tag = v.image_tag
                              AND CASE f.k WHEN 'service' THEN d.service WHEN 'host' THEN d.host WHEN 'cluster' THEN d.cluster
                                           WHEN 'namespace' THEN d.namespace WHEN 'instance' THEN d.instance_id END = f.val))
                  AND (\(pattern)::text IS NULL OR lower(v.profile_key) LIKE \(pattern) ESCAPE '\\'
                       OR lower(v.image_tag) LIKE \(pattern) ESCAPE '\\'
                       OR EXISTS (SELECT 1 FROM merged_dumps d WHERE d.profile_key = v.profile_key AND d.image_tag = v.image_tag
                                                              AND lower(d.service) LIKE \(pattern) ESCAPE '\\'))
            ), images AS (
                SELECT DISTINCT profile_key FROM matching ORDER BY profile_key LIMIT \(Int64(limit + 1))
            )
            SELECT m.profile_key, m.image_tag, m.state, m.dumps_merged, m.instances, m.nodes::int8, m.commonality,
                   m.first_seen, m.last_seen,
                   COALESCE((SELECT jsonb_object_agg(e.event_type, e.state)::text FROM profile_event_types e
                             WHERE e.profile_key = m.profile_key AND e.image_tag = m.image_tag), '{}'),
                   (SELECT count(*) FROM anomalies a WHERE a.profile_key = m.profile_key AND a.image_tag = m.image_tag
                                                       AND a.status = 'pending')
            FROM matching m JOIN images USING (profile_key)
            ORDER BY m.profile_key, m.last_seen DESC, m.image_tag
            """, logger: logger)
        var groups: [ImageGroup] = []
        for try await (key, tag, state, dumps, instances, nodes, commonality, first, last, types, pending) in rows.decode(
            (String, String, String, Int64, Int64, Int64, Double, Date, Date, String, Int64).self) {
            let summary = VersionSummary(imageName: key, imageTag: tag, state: state, dumpsMerged: dumps, instances: instances,
                                         nodes: nodes, commonality: Catalog.round4(commonality),
                                         eventTypes: Self.states(types), pendingAnomalies: pending, firstSeen: first, lastUpdated: last)
            if groups.last?.imageName == key {
                groups[groups.count - 1].versions.append(summary)
                groups[groups.count - 1].dumpsMerged += dumps
                groups[groups.count - 1].lastUpdated = max(groups[groups.count - 1].lastUpdated, last)
            } else {
                groups.append(ImageGroup(imageName: key, dumpsMerged: dumps, lastUpdated: last, versions: [summary]))
            }
        }
        var next: String?
        if groups.count > limit {
            groups.removeLast()
            next = groups.last.map { Cursor.encode([$0.imageName]) }
        }
        return Page(items: groups, nextCursor: next)
    }

    static func states(_ json: String) -> [String: String] {
        (try? JSONDecoder().decode([String: String].self, from: Data(json.utf8))) ?? [:]
    }

    /// `%`, `_` and `\` of user text match themselves in LIKE.
    static func likeEscaped(_ s: String) -> String {
        var out = ""
        for c in s {
            if c == "%" || c == "_" || c == "\\" { out.append("\\") }
            out.append(c)
        }
        return out
    }
}

enum Catalog {
    static func round4(_ x: Double) -> Double { x.isFinite ? (x * 10_000).rounded() / 10_000 : 0 }

    /// Nanoseconds since the epoch as a date (nil for the "unknown" sentinels).
    static func date(ns: Int64?) -> Date? {
        guard let ns, ns > 0 else { return nil }
        return Date(timeIntervalSince1970: Double(ns) / 1e9)
    }
}
