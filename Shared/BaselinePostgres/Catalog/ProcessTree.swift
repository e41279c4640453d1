import BaselineCore
import Foundation
import Logging
import PostgresNIO

/// A process node of the tree: one lineage of the version's exec nodes.
public struct ProcessTreeNode: Codable, Sendable {
    /// The node key (the lineage): pass it back to expand the node or open its panel.
    public var key: String
    /// The process itself, readable (the last lineage element, unescaped).
    public var name: String
    public var depth: Int
    public var dumps: Int64
    public var instances: Int64
    /// Share of the version's instances that ran this process (0...1).
    public var commonality: Double
    public var firstSeen: Date?
    public var lastSeen: Date?
    /// Processes below it, at every depth (0: a leaf).
    public var descendants: Int64
    public var children: Int64
}

/// A file, DNS name, socket, syscall or capability of a process node, with its statistics.
public struct ActivityNode: Codable, Sendable {
    public var eventType: String
    public var key: String
    public var activity: String
    public var dumps: Int64
    public var instances: Int64
    public var commonality: Double
    public var isPattern: Bool
    public var openFlags: Int64?
    public var firstSeen: Date?
    public var lastSeen: Date?
}

/// A process node with what it did: the side panel.
public struct ProcessNodeDetail: Codable, Sendable {
    public var node: ProcessTreeNode
    public var lineage: [String]
    public var activities: [String: [ActivityNode]]
    /// Event types whose list was cut at the limit.
    public var truncated: [String]
}

/// The tree is stored flat (one exec node per lineage); these queries read one level at a time so
/// a 50,000-node profile is never sent whole.
extension ProfileListing {
    /// Children of `parent` (nil: the roots), in key order after the cursor.
    public func children(image: String, tag: String, parent: String?, cursor: String?, limit: Int) async throws -> Page<ProcessTreeNode> {
        let versionInstances = try await instanceCount(image: image, tag: tag)
        let after = try cursor.map { c -> String in
            guard let parts = Cursor.decode(c, count: 1) else { throw CatalogError.invalid("cursor is not one this API issued") }
            return parts[0]
        }
        if let parent, try await !nodeExists(image: image, tag: tag, type: "exec", key: parent) {
            throw CatalogError.notFound("no process node \(parent) in \(image):\(tag)")
        }
        let prefix = parent.map { $0 + ProfileNodeKey.lineageSeparator }
        let depth = parent.map { $0.components(separatedBy: ProfileNodeKey.lineageSeparator).count } ?? 0
        let rows = try await client.query("""
            WITH sub AS (
                SELECT node_key, dumps, instances, first_seen_ns, last_seen_ns,
                       CASE WHEN \(prefix)::text IS NULL THEN node_key ELSE substr(node_key, length(\(prefix)) + 1) END AS rest
                FROM profile_nodes
                WHERE profile_key = \(image) AND image_tag = \(tag) AND event_type = 'exec'
                  AND (\(prefix)::text IS NULL OR starts_with(node_key, \(prefix)))
            ), counted AS (
                SELECT split_part(rest, ' > ', 1) AS child, count(*) - 1 AS descendants,
                       count(*) FILTER (WHERE array_length(string_to_array(rest, ' > '), 1) = 2) AS children
                FROM sub GROUP BY 1
            )
            SELECT s.node_key, s.rest, s.dumps::int8, s.instances::int8, s.first_seen_ns, s.last_seen_ns, c.descendants, c.children
            FROM sub s JOIN counted c ON c.child = s.rest
            WHERE (\(after)::text IS NULL OR s.rest > \(after))
            ORDER BY s.rest LIMIT \(Int64(limit + 1))
            """, logger: logger)
        var items: [ProcessTreeNode] = []
        for try await (key, rest, dumps, instances, first, last, descendants, children) in rows.decode(
            (String, String, Int64, Int64, Int64, Int64, Int64, Int64).self) {
            items.append(ProcessTreeNode(key: key, name: NodeText.readable(rest), depth: depth + 1, dumps: dumps, instances: instances,
                                     commonality: Self.share(instances, of: versionInstances), firstSeen: Catalog.date(ns: first),
                                     lastSeen: Catalog.date(ns: last), descendants: descendants, children: children))
            _ = rest
        }
        var next: String?
        if items.count > limit {
            items.removeLast()
            let last = items[items.count - 1].key
            next = Cursor.encode([prefix.map { String(last.dropFirst($0.count)) } ?? last])
        }
        return Page(items: items, nextCursor: next)
    }

    /// A process node, its lineage and its activities (at most `limit` per event type, most common first).
    public func node(image: String, tag: String, key: String, limit: Int) async throws -> ProcessNodeDetail {
        let versionInstances = try await instanceCount(image: image, tag: tag)
        var node: ProcessTreeNode?
        let lineage = key.components(separatedBy: ProfileNodeKey.lineageSeparator)
        for try await (dumps, instances, first, last, descendants, children) in try await client.query("""
            SELECT n.dumps::int8, n.instances::int8, n.first_seen_ns, n.last_seen_ns,
                   (SELECT count(*) FROM profile_nodes d WHERE d.profile_key = n.profile_key AND d.image_tag = n.image_tag
                        AND d.event_type = 'exec' AND starts_with(d.node_key, n.node_key || ' > ')),
                   (SELECT count(*) FROM profile_nodes d WHERE d.profile_key = n.profile_key AND d.image_tag = n.image_tag
                        AND d.event_type = 'exec' AND starts_with(d.node_key, n.node_key || ' > ')
                        AND strpos(substr(d.node_key, length(n.node_key) + 4), ' > ') = 0)
            FROM profile_nodes n
            WHERE n.profile_key = \(image) AND n.image_tag = \(tag) AND n.event_type = 'exec' AND n.node_key = \(key)
            """, logger: logger).decode((Int64, Int64, Int64, Int64, Int64, Int64).self) {
            node = ProcessTreeNode(key: key, name: NodeText.readable(lineage.last ?? key), depth: lineage.count, dumps: dumps,
                               instances: instances, commonality: Self.share(instances, of: versionInstances),
                               firstSeen: Catalog.date(ns: first), lastSeen: Catalog.date(ns: last), descendants: descendants,
                               children: children)
        }
        guard let node else { throw CatalogError.notFound("no process node \(key) in \(image):\(tag)") }
        let prefix = key + ProfileNodeKey.activitySeparator
        var activities: [String: [ActivityNode]] = [:]
        var truncated: [String] = []
        for try await (type, nodeKey, dumps, instances, first, last, flags, pattern, rank) in try await client.query("""
            SELECT event_type, node_key, dumps::int8, instances::int8, first_seen_ns, last_seen_ns, open_flags, is_pattern, rank
            FROM (SELECT *, row_number() OVER (PARTITION BY event_type ORDER BY instances DESC, node_key)::int8 AS rank
                  FROM profile_nodes
                  WHERE profile_key = \(image) AND image_tag = \(tag) AND event_type <> 'exec' AND starts_with(node_key, \(prefix))) n
            WHERE rank <= \(Int64(limit + 1))
            ORDER BY event_type, rank
            """, logger: logger).decode((String, String, Int64, Int64, Int64, Int64, Int64, Bool, Int64).self) {
            if rank > limit {
                truncated.append(type)
                continue
            }
            let activity = String(nodeKey.dropFirst(prefix.count))
            activities[type, default: []].append(ActivityNode(
                eventType: type, key: nodeKey, activity: activity, dumps: dumps, instances: instances,
                commonality: Self.share(instances, of: versionInstances), isPattern: pattern,
                openFlags: type == EventType.file.rawValue ? flags : nil, firstSeen: Catalog.date(ns: first), lastSeen: Catalog.date(ns: last)))
        }
        return ProcessNodeDetail(node: node, lineage: lineage.map(NodeText.readable), activities: activities, truncated: truncated)
    }

    /// The version's instance count; `CatalogError.notFound` when the version does not exist.
    public func instanceCount(image: String, tag: String) async throws -> Int64 {
        for try await n in try await client.query("""
            SELECT instances FROM profile_versions WHERE profile_key = \(image) AND image_tag = \(tag)
            """, logger: logger).decode(Int64.self) { return n }
        throw CatalogError.notFound("no profile version \(image):\(tag)")
    }

    func nodeExists(image: String, tag: String, type: String, key: String) async throws -> Bool {
        for try await _ in try await client.query("""
            SELECT 1 FROM profile_nodes WHERE profile_key = \(image) AND image_tag = \(tag) AND event_type = \(type) AND node_key = \(key)
            """, logger: logger).decode(Int32.self) { return true }
        return false
    }

    static func share(_ part: Int64, of whole: Int64) -> Double {
        whole > 0 ? Catalog.round4(min(1, Double(part) / Double(whole))) : 0
    }
}

/// Node keys as people read them: percent-escapes undone, except where the character could
/// mislead a reviewer (separators, brackets, quotes, `%`, control, format and bidi characters,
/// whitespace other than a space): those stay escaped, so one process never reads as two and
/// `update\u{202E}gnp.sh` never reads as `updatehs.png`.
public enum NodeText {
    public static func readable(_ element: String) -> String {
        guard element.contains("%"), let decoded = element.removingPercentEncoding else { return element }
        var out = String.UnicodeScalarView()
        for u in decoded.unicodeScalars {
            if misleading(u) {
                for b in String(u).utf8 { out.append(contentsOf: String(format: "%%%02X", b).unicodeScalars) }
            } else {
                out.append(u)
            }
        }
        return String(out)
    }

    static func misleading(_ u: Unicode.Scalar) -> Bool {
        switch u {
        case ">", "|", "[", "]", "\"", "\\", "%": return true
        case " ": return false
        default:
            switch u.properties.generalCategory {
            case .control, .format, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator, .surrogate: return true
            default: return u.properties.isWhitespace
            }
        }
    }
}
