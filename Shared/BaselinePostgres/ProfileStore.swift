import BaselineCore
import Logging
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

/// One merge request as a row of `merged_dumps`.
public struct MergedDumpRow: Sendable {
    public var request: MergeRequest
    public var sourceTopic: String
    public var sourcePartition: Int32
    public var sourceOffset: Int64

    public init(request: MergeRequest, sourceTopic: String, sourcePartition: Int32, sourceOffset: Int64) {
        self.request = request
        self.sourceTopic = sourceTopic
        self.sourcePartition = sourcePartition
        self.sourceOffset = sourceOffset
    }
}

/// What one batch changed.
public struct BatchOutcome: Sendable {
    public var merged: Int
    public var duplicates: Int
    public var updates: [ProfileUpdate]
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

    /// Applies a batch of merge requests and stores the consumed offsets, atomically.
    /// Dump ids merged before are skipped, so replays and retries change nothing.
    public func applyBatch(_ rows: [MergedDumpRow], group: String, offsets: [StoredOffset], logger: Logger) async throws -> BatchOutcome {
        try await client.withTransaction(logger: logger) { conn in
            var inserted: [(String, String)] = []
            if !rows.isEmpty {
                let r = rows.map(\.request)
                let ids = r.map(\.dumpID)
                let keys = r.map(\.profileKey)
                let tags = r.map(\.dump.workload.imageTag)
                let instances = r.map(\.dump.workload.instanceID)
                let hosts = r.map { $0.dump.workload.host ?? "" }
                let services = r.map { $0.dump.workload.service ?? "" }
                let starts = r.map { $0.dump.start ?? -1 }
                let ends = r.map { $0.dump.end ?? -1 }
                let nodeCounts = r.map { Int32(clamping: $0.dump.nodeCount) }
                let topics = rows.map(\.sourceTopic)
                let partitions = rows.map(\.sourcePartition)
                let sourceOffsets = rows.map(\.sourceOffset)
                let result = try await conn.query("""
                    INSERT INTO merged_dumps (dump_id, profile_key, image_tag, instance_id, host, service, dump_start, dump_end,
                                              node_count, source_topic, source_partition, source_offset)
                    SELECT dump_id, profile_key, image_tag, instance_id, NULLIF(host, ''), NULLIF(service, ''),
                           CASE WHEN start_ns >= 0 THEN to_timestamp(start_ns / 1e9) END,
                           CASE WHEN end_ns >= 0 THEN to_timestamp(end_ns / 1e9) END,
                           node_count, source_topic, source_partition, source_offset
                    FROM UNNEST(\(ids)::text[], \(keys)::text[], \(tags)::text[], \(instances)::text[], \(hosts)::text[],
                                \(services)::text[], \(starts)::int8[], \(ends)::int8[], \(nodeCounts)::int4[], \(topics)::text[],
                                \(partitions)::int4[], \(sourceOffsets)::int8[])
                         AS t(dump_id, profile_key, image_tag, instance_id, host, service, start_ns, end_ns, node_count,
                              source_topic, source_partition, source_offset)
                    ON CONFLICT (dump_id) DO NOTHING
                    RETURNING profile_key, image_tag
                    """, logger: logger)
                for try await row in result.decode((String, String).self) { inserted.append(row) }
            }
            var updates: [ProfileUpdate] = []
            if !inserted.isEmpty {
                var counts: [String: (String, String, Int64)] = [:]
                for (k, t) in inserted { counts["\(k)\u{0}\(t)", default: (k, t, 0)].2 += 1 }
                let keys = counts.values.map(\.0)
                let tags = counts.values.map(\.1)
                let ns = counts.values.map(\.2)
                try await conn.query("""
                    INSERT INTO profiles (profile_key, revision) SELECT DISTINCT k, 1 FROM UNNEST(\(keys)::text[]) AS u(k)
                    ON CONFLICT (profile_key) DO UPDATE SET revision = profiles.revision + 1, updated_at = now()
                    """, logger: logger)
                try await conn.query("""
                    INSERT INTO profile_versions (profile_key, image_tag, dumps_merged, first_seen, last_seen)
                    SELECT k, t, n, now(), now() FROM UNNEST(\(keys)::text[], \(tags)::text[], \(ns)::int8[]) AS u(k, t, n)
                    ON CONFLICT (profile_key, image_tag) DO UPDATE
                    SET dumps_merged = profile_versions.dumps_merged + EXCLUDED.dumps_merged, last_seen = now(), updated_at = now()
                    """, logger: logger)
                let updated = try await conn.query("""
                    UPDATE profile_versions v
                    SET instances = (SELECT count(DISTINCT d.instance_id) FROM merged_dumps d
                                     WHERE d.profile_key = v.profile_key AND d.image_tag = v.image_tag)
                    FROM UNNEST(\(keys)::text[], \(tags)::text[]) AS u(k, t), profiles p
                    WHERE v.profile_key = u.k AND v.image_tag = u.t AND p.profile_key = v.profile_key
                    RETURNING v.profile_key, v.image_tag, p.revision, v.dumps_merged, v.instances
                    """, logger: logger)
                for try await (k, t, rev, dumps, inst) in updated.decode((String, String, Int64, Int64, Int64).self) {
                    updates.append(ProfileUpdate(profileKey: k, imageTag: t, revision: rev, dumpsMerged: dumps, instances: inst))
                }
            }
            if !offsets.isEmpty {
                try await conn.query("""
                    INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
                    SELECT \(group), t, p, o FROM UNNEST(\(offsets.map(\.topic))::text[], \(offsets.map(\.partition))::int4[],
                                                        \(offsets.map(\.nextOffset))::int8[]) AS u(t, p, o)
                    ON CONFLICT (consumer_group, topic, partition) DO UPDATE SET next_offset = EXCLUDED.next_offset, updated_at = now()
                    """, logger: logger)
            }
            return BatchOutcome(merged: inserted.count, duplicates: rows.count - inserted.count, updates: updates)
        }
    }
}
