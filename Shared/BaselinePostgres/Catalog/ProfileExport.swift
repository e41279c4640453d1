import BaselineCore
import Foundation
import Logging
import PostgresNIO

/// A version as a document: Baseline's own export format (`baseline.profile/v1`), which `import`
/// takes back unchanged.
public struct ProfileDocument: Codable, Sendable {
    public static let formatV1 = "baseline.profile/v1"

    public struct Instance: Codable, Sendable {
        public var instanceId: String
        public var firstSeenNs: Int64
        public var lastSeenNs: Int64

        public init(instanceId: String, firstSeenNs: Int64, lastSeenNs: Int64) {
            self.instanceId = instanceId
            self.firstSeenNs = firstSeenNs
            self.lastSeenNs = lastSeenNs
        }
    }

    public struct Node: Codable, Sendable {
        public var eventType: String
        public var key: String
        public var dumps: Int64
        /// Indexes into `instances`.
        public var instances: [Int32]
        public var firstSeenNs: Int64
        public var lastSeenNs: Int64
        public var openFlags: Int64
        public var openMode: Int64
        public var isPattern: Bool

        public init(eventType: String, key: String, dumps: Int64, instances: [Int32], firstSeenNs: Int64, lastSeenNs: Int64,
                    openFlags: Int64, openMode: Int64, isPattern: Bool) {
            self.eventType = eventType
            self.key = key
            self.dumps = dumps
            self.instances = instances
            self.firstSeenNs = firstSeenNs
            self.lastSeenNs = lastSeenNs
            self.openFlags = openFlags
            self.openMode = openMode
            self.isPattern = isPattern
        }
    }

    public struct EventTypeState: Codable, Sendable {
        public var eventType: String
        public var state: String
        public var learningSinceNs: Int64
        public var lastNewNodeNs: Int64
        public var stableSinceNs: Int64?

        public init(eventType: String, state: String, learningSinceNs: Int64, lastNewNodeNs: Int64, stableSinceNs: Int64?) {
            self.eventType = eventType
            self.state = state
            self.learningSinceNs = learningSinceNs
            self.lastNewNodeNs = lastNewNodeNs
            self.stableSinceNs = stableSinceNs
        }
    }

    public var format: String
    public var imageName: String
    public var imageTag: String
    public var differentiateArgs: Bool
    public var dumpsMerged: Int64
    public var exportedAt: Date
    public var instances: [Instance]
    public var eventTypes: [EventTypeState]
    public var nodes: [Node]

    public init(format: String, imageName: String, imageTag: String, differentiateArgs: Bool, dumpsMerged: Int64, exportedAt: Date,
                instances: [Instance], eventTypes: [EventTypeState], nodes: [Node]) {
        self.format = format
        self.imageName = imageName
        self.imageTag = imageTag
        self.differentiateArgs = differentiateArgs
        self.dumpsMerged = dumpsMerged
        self.exportedAt = exportedAt
        self.instances = instances
        self.eventTypes = eventTypes
        self.nodes = nodes
    }
}

/// Export and import of whole versions.
public struct ProfileExport: Sendable {
    public let client: PostgresClient
    public let logger: Logger
    /// The largest version import accepts (nodes).
    public var maxNodes = 1_000_000

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func export(image: String, tag: String) async throws -> ProfileDocument {
        var doc: ProfileDocument?
        for try await (args, dumps) in try await client.query("""
            SELECT differentiate_args, dumps_merged FROM profile_versions WHERE profile_key = \(image) AND image_tag = \(tag)
            """, logger: logger).decode((Bool, Int64).self) {
            doc = ProfileDocument(format: ProfileDocument.formatV1, imageName: image, imageTag: tag, differentiateArgs: args,
                                  dumpsMerged: dumps, exportedAt: Date(), instances: [], eventTypes: [], nodes: [])
        }
        guard var doc else { throw CatalogError.notFound("no profile version \(image):\(tag)") }
        for try await (id, first, last) in try await client.query("""
            SELECT instance_id, first_seen_ns, last_seen_ns FROM profile_instances
            WHERE profile_key = \(image) AND image_tag = \(tag) ORDER BY ordinal
            """, logger: logger).decode((String, Int64, Int64).self) {
            doc.instances.append(.init(instanceId: id, firstSeenNs: first, lastSeenNs: last))
        }
        for try await (type, state, since, lastNew, stable) in try await client.query("""
            SELECT event_type, state, learning_since_ns, last_new_node_ns, stable_since_ns FROM profile_event_types
            WHERE profile_key = \(image) AND image_tag = \(tag) ORDER BY event_type
            """, logger: logger).decode((String, String, Int64, Int64, Int64?).self) {
            doc.eventTypes.append(.init(eventType: type, state: state, learningSinceNs: since, lastNewNodeNs: lastNew, stableSinceNs: stable))
        }
        for try await (type, key, dumps, ordinals, first, last, flags, mode, pattern) in try await client.query("""
            SELECT event_type, node_key, dumps::int8, instance_ordinals, first_seen_ns, last_seen_ns, open_flags, open_mode, is_pattern
            FROM profile_nodes WHERE profile_key = \(image) AND image_tag = \(tag) ORDER BY event_type, node_key
            """, logger: logger).decode((String, String, Int64, [Int32], Int64, Int64, Int64, Int64, Bool).self) {
            doc.nodes.append(.init(eventType: type, key: key, dumps: dumps, instances: ordinals.sorted(), firstSeenNs: first, lastSeenNs: last,
                                   openFlags: flags, openMode: mode, isPattern: pattern))
        }
        return doc
    }

    /// Creates a version from a document. The version must not exist yet (a running profile is
    /// only ever changed by profile-merger). An imported version has merged no dump
    /// (`last_dump_at` -infinity): it is never another tag's "latest", it is evicted first, and its
    /// instances do not name the workload of a signal's container until a dump merges into it. Keys are checked, so an import cannot plant a key the
    /// key builder would never produce (a bare `*` pattern, an unescaped separator in a process).
    public func importVersion(_ doc: ProfileDocument, as image: String? = nil, tag: String? = nil, by user: String) async throws -> VersionKey {
        guard doc.format == ProfileDocument.formatV1 else { throw CatalogError.invalid("format must be \(ProfileDocument.formatV1)") }
        let image = image ?? doc.imageName, tag = tag ?? doc.imageTag
        try Self.validate(doc, image: image, tag: tag, maxNodes: maxNodes)
        let instanceCount = Int64(doc.instances.count)
        try await client.withTransaction(logger: logger) { conn in
            var exists = false
            for try await _ in try await conn.query("""
                SELECT 1 FROM profile_versions WHERE profile_key = \(image) AND image_tag = \(tag) FOR UPDATE
                """, logger: logger).decode(Int32.self) { exists = true }
            if exists { throw CatalogError.conflict("profile version \(image):\(tag) exists; import only creates versions") }
            let firstNs = doc.instances.map(\.firstSeenNs).min() ?? 0, lastNs = doc.instances.map(\.lastSeenNs).max() ?? 0
            let first = Date(timeIntervalSince1970: Double(max(0, firstNs)) / 1e9), last = Date(timeIntervalSince1970: Double(max(0, lastNs)) / 1e9)
            try await conn.query("""
                INSERT INTO profiles (profile_key) VALUES (\(image)) ON CONFLICT (profile_key) DO UPDATE SET updated_at = now()
                """, logger: logger)
            let commonality = Self.commonality(doc)
            let state = Self.overallState(doc)
            try await conn.query("""
                INSERT INTO profile_versions (profile_key, image_tag, dumps_merged, instances, first_seen, last_seen, nodes, commonality, state,
                                              differentiate_args, last_dump_at, imported_by, imported_at)
                VALUES (\(image), \(tag), \(doc.dumpsMerged), \(instanceCount), \(first), \(last), \(Int32(clamping: doc.nodes.count)),
                        \(commonality), \(state), \(doc.differentiateArgs), '-infinity', \(user), now())
                """, logger: logger)
            let ins = doc.instances
            try await conn.query("""
                INSERT INTO profile_instances (profile_key, image_tag, ordinal, instance_id, first_seen_ns, last_seen_ns, first_received_ns)
                SELECT \(image), \(tag), o, id, f, l, f
                FROM UNNEST(\(ins.indices.map { Int32($0) })::int4[], \(ins.map(\.instanceId))::text[], \(ins.map(\.firstSeenNs))::int8[],
                            \(ins.map(\.lastSeenNs))::int8[]) AS t(o, id, f, l)
                """, logger: logger)
            let n = doc.nodes
            let ordinals = n.map { "{" + $0.instances.map(String.init).joined(separator: ",") + "}" }
            try await conn.query("""
                INSERT INTO profile_nodes (profile_key, image_tag, event_type, node_key, dumps, instances, instance_ordinals, first_seen_ns,
                                           last_seen_ns, open_flags, open_mode, is_pattern)
                SELECT \(image), \(tag), t, k, d, cardinality(o::int4[]), o::int4[], f, l, fl, m, p
                FROM UNNEST(\(n.map(\.eventType))::text[], \(n.map(\.key))::text[], \(n.map { Int32(clamping: $0.dumps) })::int4[],
                            \(ordinals)::text[], \(n.map(\.firstSeenNs))::int8[], \(n.map(\.lastSeenNs))::int8[], \(n.map(\.openFlags))::int8[],
                            \(n.map(\.openMode))::int8[], \(n.map(\.isPattern))::bool[]) AS u(t, k, d, o, f, l, fl, m, p)
                """, logger: logger)
            let e = doc.eventTypes
            try await conn.query("""
                INSERT INTO profile_event_types (profile_key, image_tag, event_type, state, learning_since_ns, last_new_node_ns, nodes, q1, q2,
                                                 incidences, coverage, novelty, commonality, stable_since_ns)
                SELECT \(image), \(tag), t, s, ls, ln, (SELECT count(*) FROM profile_nodes x WHERE x.profile_key = \(image)
                                                          AND x.image_tag = \(tag) AND x.event_type = t), 0, 0, 0, 0, 0, 0, NULLIF(ss, -1)
                FROM UNNEST(\(e.map(\.eventType))::text[], \(e.map(\.state))::text[], \(e.map(\.learningSinceNs))::int8[],
                            \(e.map(\.lastNewNodeNs))::int8[], \(e.map { $0.stableSinceNs ?? -1 })::int8[]) AS u(t, s, ls, ln, ss)
                """, logger: logger)
        }
        return VersionKey(imageName: image, imageTag: tag)
    }

    static func validate(_ doc: ProfileDocument, image: String, tag: String, maxNodes: Int) throws(CatalogError) {
        guard Validation.isName(image), Validation.isName(tag) else { throw .invalid("image name and tag must be 1-255 printable characters") }
        guard doc.nodes.count <= maxNodes else { throw .invalid("at most \(maxNodes) nodes can be imported") }
        guard doc.instances.count <= 1_000_000, Set(doc.instances.map(\.instanceId)).count == doc.instances.count else {
            throw .invalid("instances must be distinct")
        }
        // Times may not lie ahead (with the merge's own tolerance for agent clocks).
        let latest = Int64(Date().timeIntervalSince1970 * 1e9) + 300 * 1_000_000_000
        for i in doc.instances {
            guard Validation.isName(i.instanceId), i.firstSeenNs <= latest, i.lastSeenNs <= latest else {
                throw .invalid("instance \(i.instanceId.prefix(80)): 1-255 printable bytes, and not seen in the future")
            }
        }
        guard Set(doc.eventTypes.map(\.eventType)).count == doc.eventTypes.count else { throw .invalid("event types must be distinct") }
        var seen = Set<String>()
        for node in doc.nodes {
            guard let type = EventType(rawValue: node.eventType) else { throw .invalid("unknown event type \(node.eventType)") }
            guard !node.key.isEmpty, node.key.utf8.count <= StorageLimits().maxNodeKeyBytes, !node.key.contains("\u{0}") else {
                throw .invalid("node key of \(node.eventType) is empty, too long or holds NUL")
            }
            guard seen.insert(node.eventType + "\u{0}" + node.key).inserted else { throw .invalid("duplicate node \(node.key)") }
            let parts = ProfileNodeKey(type: type, value: node.key).parts
            if (type == .exec) != (parts.activity == nil) { throw .invalid("node \(node.key) does not have the shape of a \(type) node") }
            if parts.lineage.contains(where: { $0.isEmpty || $0.contains(" | ") }) { throw .invalid("node \(node.key) has an empty process") }
            if node.isPattern {
                guard type == .file, let a = parts.activity, PatternMiner.isWellFormedPattern(a) else {
                    throw .invalid("pattern \(node.key) must be a file path with constant parts")
                }
            }
            guard (0...Int64(UInt32.max)).contains(node.openFlags), (0...Int64(UInt32.max)).contains(node.openMode),
                  type == .file || (node.openFlags == 0 && node.openMode == 0) else {
                throw .invalid("node \(node.key): open flags and mode are 32-bit values of file nodes")
            }
            guard node.firstSeenNs <= latest, node.lastSeenNs <= latest else { throw .invalid("node \(node.key) is seen in the future") }
            guard node.instances.allSatisfy({ $0 >= 0 && Int($0) < doc.instances.count }) else {
                throw .invalid("node \(node.key) names an instance that is not in the document")
            }
        }
        for e in doc.eventTypes {
            guard EventType(rawValue: e.eventType) != nil, LifecycleState(rawValue: e.state) != nil else {
                throw .invalid("unknown event type or state \(e.eventType)=\(e.state)")
            }
        }
    }

    static func commonality(_ doc: ProfileDocument) -> Double {
        guard !doc.nodes.isEmpty, !doc.instances.isEmpty else { return 0 }
        let total = doc.nodes.reduce(0.0) { $0 + Double($1.instances.count) / Double(doc.instances.count) }
        return total / Double(doc.nodes.count)
    }

    static func overallState(_ doc: ProfileDocument) -> String {
        let states = Set(doc.eventTypes.map(\.state))
        if states.contains("unstable") { return "unstable" }
        if !states.isEmpty, states == ["stable"] { return "stable" }
        return "learning"
    }
}

public struct VersionKey: Codable, Sendable {
    public var imageName: String
    public var imageTag: String
}

/// Checks shared by the API's inputs and imports.
public enum Validation {
    /// An image name, tag or id: 1–255 bytes, no control characters.
    public static func isName(_ s: String) -> Bool {
        !s.isEmpty && s.utf8.count <= 255 && !s.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
}
