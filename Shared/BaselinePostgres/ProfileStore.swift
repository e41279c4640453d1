import BaselineCore
import Logging
import Metrics
import PostgresNIO

/// A consumed position stored with the effect it produced.
public struct StoredOffset: Sendable, Hashable {
    public var topic: String
    public var partition: Int32
    public var nextOffset: Int64

    public init(topic: String, partition: Int32, nextOffset: Int64) {
        self.topic = topic
        self.partition = partition
        self.nextOffset = nextOffset
    }
}

/// What makes a merged dump unique: its id within its version (`merged_dumps`' key).
public struct MergedDumpKey: Sendable, Hashable {
    public var profileKey: String
    public var imageTag: String
    public var dumpID: String

    public init(profileKey: String, imageTag: String, dumpID: String) {
        self.profileKey = profileKey
        self.imageTag = imageTag
        self.dumpID = dumpID
    }

    public init(_ request: MergeRequest) {
        self.init(profileKey: request.profileKey, imageTag: request.dump.workload.imageTag, dumpID: request.dumpID)
    }
}

/// One merge request as a row of `merged_dumps`.
public struct MergedDumpRow: Sendable {
    public var request: MergeRequest
    public var sourceTopic: String
    public var sourcePartition: Int32
    public var sourceOffset: Int64
    public var newNodes: Int
    public var warmingUp: Bool

    public init(request: MergeRequest, sourceTopic: String, sourcePartition: Int32, sourceOffset: Int64, newNodes: Int = 0,
                warmingUp: Bool = false) {
        self.warmingUp = warmingUp
        self.request = request
        self.sourceTopic = sourceTopic
        self.sourcePartition = sourcePartition
        self.sourceOffset = sourceOffset
        self.newNodes = newNodes
    }
}

/// The profile-merger's system of record in PostgreSQL.
public struct ProfileStore: Sendable {
    public let client: PostgresClient

    public init(client: PostgresClient) {
        self.client = client
    }

    /// Offsets stored for `group`, restricted to the given partitions.
    public func loadOffsets(group: String, partitions: [(topic: String, partition: Int32)]) async throws -> [StoredOffset] {
        let topics = Array(Set(partitions.map(\.topic)))
        let wanted = Set(partitions.map { "\($0.topic)\u{0}\($0.partition)" })
        var result: [StoredOffset] = []
        let rows = try await client.query("""
            SELECT topic, partition, next_offset FROM consumer_offsets
            WHERE consumer_group = \(group) AND topic = ANY(\(topics))
            """)
        for try await (topic, partition, next) in rows.decode((String, Int32, Int64).self)
        where wanted.contains("\(topic)\u{0}\(partition)") {
            result.append(StoredOffset(topic: topic, partition: partition, nextOffset: next))
        }
        return result
    }
}

extension ProfileStore {
    /// Versions with a learning event type whose last dump is older than `quietSeconds`, in key
    /// order, at most `limit` of them after the version `after` (a page of a sweep: the next page
    /// starts after this one's last version).
    public func quietLearningVersions(quietSeconds: Double, limit: Int, after: (profileKey: String, imageTag: String)? = nil) async throws
        -> [(profileKey: String, imageTag: String)] {
        let (afterKey, afterTag) = after ?? ("", "")
        var result: [(String, String)] = []
        for try await row in try await client.query("""
            SELECT v.profile_key, v.image_tag FROM profile_versions v
            WHERE v.last_dump_at < now() - make_interval(secs => \(quietSeconds))
              AND (NOT \(after != nil) OR (v.profile_key, v.image_tag) > (\(afterKey), \(afterTag)))
              AND EXISTS (SELECT 1 FROM profile_event_types e
                          WHERE e.profile_key = v.profile_key AND e.image_tag = v.image_tag AND e.state = 'learning')
            ORDER BY v.profile_key, v.image_tag LIMIT \(Int64(limit))
            """).decode((String, String).self) {
            result.append(row)
        }
        return result.map { (profileKey: $0.0, imageTag: $0.1) }
    }

    /// Deletes the least recently seen versions of `profileKey` beyond `keep` (nodes, instances
    /// and states go with them; open suggestions for them are dismissed); never one of `protected`
    /// (the versions the current batch merged into). Returns the evicted tags.
    public static func evictVersions(profileKey: String, keep: Int, protected: [String], conn: PostgresConnection,
                                     logger: Logger) async throws -> [String] {
        var evicted: [String] = []
        for try await tag in try await conn.query("""
            DELETE FROM profile_versions WHERE profile_key = \(profileKey) AND image_tag IN (
                SELECT image_tag FROM profile_versions WHERE profile_key = \(profileKey)
                ORDER BY image_tag = ANY(\(protected)) DESC, last_dump_at DESC, image_tag DESC OFFSET \(Int64(keep)))
              AND NOT image_tag = ANY(\(protected))
            RETURNING image_tag
            """, logger: logger).decode(String.self) {
            evicted.append(tag)
        }
        if !evicted.isEmpty {
            try await conn.query("""
                DELETE FROM profile_signals WHERE profile_key = \(profileKey) AND image_tag = ANY(\(evicted))
                """, logger: logger)
            try await conn.query("""
                UPDATE suppression_suggestions SET status = 'dismissed'
                WHERE profile_key = \(profileKey) AND image_tag = ANY(\(evicted)) AND status = 'open'
                """, logger: logger)
        }
        return evicted
    }
}

extension ProfileStore {
    /// Claims this round of the periodic job `name` (at most one claim per `minimumGap` across all
    /// instances); returns the database's clock in nanoseconds when claimed, nil when another
    /// instance ran it recently. The database clock, not the host's, is the time the job uses.
    public func claimPeriodicRun(_ name: String, minimumGap seconds: Double) async throws -> Int64? {
        var claimed: Int64?
        for try await now in try await client.query("""
            INSERT INTO clock_sweeps (name, last_at) VALUES (\(name), now())
            ON CONFLICT (name) DO UPDATE SET last_at = now()
            WHERE clock_sweeps.last_at < now() - make_interval(secs => \(seconds))
            RETURNING (extract(epoch FROM last_at) * 1000000)::int8
            """).decode(Int64.self) {
            claimed = now.multipliedReportingOverflow(by: 1000).partialValue
        }
        return claimed
    }
}

/// The stored offset of a partition has moved past the batch: another member merged it (this one
/// lost the partition in a rebalance). Nothing was written.
public struct FencedBatch: Error, CustomStringConvertible {
    public let topic: String
    public let partition: Int32
    public let stored: Int64
    public let batchStart: Int64
    public var description: String {
        "fenced: \(topic)[\(partition)] is stored at \(stored), past this batch's start \(batchStart) (another member owns it now)"
    }
}

extension ProfileStore {
    /// Locks the batch's offset rows and checks none moved past the batch's first offsets, so a
    /// member that lost a partition cannot write its (older) state over the new owner's. A row
    /// that does not exist yet (a partition's first batch) is created first, at the batch's start:
    /// a lock on nothing would let two members' first batches both pass, and the one committing
    /// last write its statistics over the other's. The second creator waits for the first to
    /// finish, then sees its row.
    static func checkOwnership(_ firsts: [StoredOffset], group: String, conn: PostgresConnection, logger: Logger) async throws {
        guard !firsts.isEmpty else { return }
        let wanted = Dictionary(firsts.map { ("\($0.topic)\u{0}\($0.partition)", $0) }, uniquingKeysWith: { a, b in a.nextOffset <= b.nextOffset ? a : b })
        let rows = wanted.values.sorted { ($0.topic, $0.partition) < ($1.topic, $1.partition) }
        try await conn.query("""
            INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
            SELECT \(group), t, p, n FROM UNNEST(\(rows.map(\.topic))::text[], \(rows.map(\.partition))::int4[],
                                                \(rows.map(\.nextOffset))::int8[]) WITH ORDINALITY AS u(t, p, n, o)
            ORDER BY o
            ON CONFLICT (consumer_group, topic, partition) DO NOTHING
            """, logger: logger)
        for try await (topic, partition, next) in try await conn.query("""
            SELECT topic, partition, next_offset FROM consumer_offsets
            WHERE consumer_group = \(group) AND topic = ANY(\(Array(Set(firsts.map(\.topic))))) AND partition = ANY(\(Array(Set(firsts.map(\.partition)))))
            ORDER BY topic, partition FOR UPDATE
            """, logger: logger).decode((String, Int32, Int64).self) {
            guard let first = wanted["\(topic)\u{0}\(partition)"] else { continue }
            if next > first.nextOffset {
                throw FencedBatch(topic: topic, partition: partition, stored: next, batchStart: first.nextOffset)
            }
            if next < first.nextOffset {
                // Not refused (retention may have removed them: the start-offset check logs that),
                // but never silent: messages between the stored offset and this batch were not merged.
                Counter(label: "baseline_offsets_gap_total").increment()  // rare: no cached counter needed
                logger.warning("gap before batch: \(topic)[\(partition)] is stored at \(next) but this batch starts at \(first.nextOffset); \(first.nextOffset - next) message(s) were not merged by this group")
            }
        }
    }

    /// Stores offsets alone (a batch whose messages were all dead-lettered), forward only.
    public func storeOffsets(_ offsets: [StoredOffset], firsts: [StoredOffset], group: String, logger: Logger) async throws {
        guard !offsets.isEmpty else { return }
        var batch = ProfileBatch()
        batch.offsets = offsets
        batch.firstOffsets = firsts
        try await client.withTransaction(logger: logger) { conn in
            _ = try await ProfileStore.write(batch, group: group, conn: conn, logger: logger)
        }
    }
}

extension ProfileStore {
    /// Sets a stored offset, also backwards: only for a partition whose log was re-created, and
    /// only while it is still `expected` (no other member has moved it since it was checked).
    public func resetOffset(group: String, topic: String, partition: Int32, to offset: Int64, ifStoredAt expected: Int64) async throws {
        try await client.query("""
            UPDATE consumer_offsets SET next_offset = \(offset), updated_at = now()
            WHERE consumer_group = \(group) AND topic = \(topic) AND partition = \(partition) AND next_offset = \(expected)
            """)
    }
}

extension ProfileStore {
    /// Accepted anomalies not learned yet whose version still exists, oldest decision first; each is
    /// marked as sent, so it is handed out again only after `resendAfter` seconds (a lost message).
    /// `profileKeys` limits the claim to those profiles (tests sharing a database).
    public func claimAcceptedAnomalies(limit: Int, resendAfter seconds: Double, profileKeys: [String]? = nil) async throws
        -> [(profileKey: String, imageTag: String, AcceptedAnomaly)] {
        var out: [(String, String, AcceptedAnomaly)] = []
        for try await (id, key, tag, type, node, instance, at) in try await client.query("""
            UPDATE anomalies a SET learn_sent_at = now()
            WHERE a.anomaly_id IN (
                SELECT x.anomaly_id FROM anomalies x JOIN profile_versions v USING (profile_key, image_tag)
                WHERE x.status = 'accepted' AND x.learned_at IS NULL
                  AND (\(profileKeys)::text[] IS NULL OR x.profile_key = ANY(\(profileKeys)::text[]))
                  AND (x.learn_sent_at IS NULL OR x.learn_sent_at < now() - make_interval(secs => \(seconds)))
                ORDER BY x.decided_at LIMIT \(Int64(limit)) FOR UPDATE OF x SKIP LOCKED)
            RETURNING a.anomaly_id, a.profile_key, a.image_tag, a.event_type, a.node_key, a.instance_id, a.at_ns
            """).decode((String, String, String, String, String, String, Int64).self) {
            guard let t = EventType(rawValue: type) else { continue }
            out.append((key, tag, AcceptedAnomaly(anomalyID: id, node: ProfileNodeKey(type: t, value: node), instanceID: instance, at: at)))
        }
        return out
    }

    /// The database's clock (nanoseconds): ticks carry it, so one host's wrong clock cannot age versions.
    public func databaseNow() async throws -> Int64 {
        for try await ns in try await client.query("SELECT (extract(epoch FROM now()) * 1000000000)::int8").decode(Int64.self) { return ns }
        throw CatalogError.notFound("no time from the database")
    }
}

extension ProfileStore {
    /// The anomalies of `ids` that are accepted, not learned yet and belong to this version, as
    /// the database has them: a tick names anomalies, it never brings nodes of its own (anyone
    /// who can write to the topic could otherwise teach a stable profile).
    public static func acceptedToLearn(_ ids: [String], profileKey: String, imageTag: String, conn: PostgresConnection,
                                       logger: Logger) async throws -> [AcceptedAnomaly] {
        guard !ids.isEmpty else { return [] }
        var out: [AcceptedAnomaly] = []
        for try await (id, type, node, instance, at) in try await conn.query("""
            SELECT anomaly_id, event_type, node_key, instance_id, at_ns FROM anomalies
            WHERE anomaly_id = ANY(\(ids)) AND profile_key = \(profileKey) AND image_tag = \(imageTag)
              AND status = 'accepted' AND learned_at IS NULL
            ORDER BY anomaly_id FOR UPDATE
            """, logger: logger).decode((String, String, String, String, Int64).self) {
            guard let t = EventType(rawValue: type) else { continue }
            out.append(AcceptedAnomaly(anomalyID: id, node: ProfileNodeKey(type: t, value: node), instanceID: instance, at: at))
        }
        return out
    }
}

extension ProfileStore {
    /// The database's clock inside a transaction (nanoseconds).
    public static func databaseNow(conn: PostgresConnection, logger: Logger) async throws -> Int64 {
        for try await ns in try await conn.query("SELECT (extract(epoch FROM now()) * 1000000000)::int8", logger: logger).decode(Int64.self) {
            return ns
        }
        return .max
    }
}
