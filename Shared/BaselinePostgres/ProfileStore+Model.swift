import BaselineCore
import Foundation
import Logging
import PostgresNIO

extension ProfileStore {
    /// The dumps of `dumps` merged before. A dump id counts within its own version only: the same
    /// id under another workload is another dump (a tenant cannot shadow a victim's future dump).
    public static func mergedDumps(_ dumps: [MergedDumpKey], conn: PostgresConnection, logger: Logger) async throws -> Set<MergedDumpKey> {
        var found = Set<MergedDumpKey>()
        let rows = try await conn.query("""
            SELECT d.profile_key, d.image_tag, d.dump_id FROM merged_dumps d
            JOIN UNNEST(\(dumps.map(\.profileKey))::text[], \(dumps.map(\.imageTag))::text[], \(dumps.map(\.dumpID))::text[]) AS u(k, t, i)
              ON d.profile_key = u.k AND d.image_tag = u.t AND d.dump_id = u.i
            """, logger: logger)
        for try await (key, tag, id) in rows.decode((String, String, String).self) {
            found.insert(MergedDumpKey(profileKey: key, imageTag: tag, dumpID: id))
        }
        return found
    }

    /// Loads a version's learned state, or nil when the version does not exist yet.
    public static func loadVersion(profileKey: String, imageTag: String, miner: PatternMiner, conn: PostgresConnection,
                                   logger: Logger) async throws -> VersionState? {
        var header: (dumps: Int, differentiateArgs: Bool)?
        for try await (d, args) in try await conn.query(
            "SELECT dumps_merged, differentiate_args FROM profile_versions WHERE profile_key = \(profileKey) AND image_tag = \(imageTag)",
            logger: logger).decode((Int64, Bool).self) { header = (Int(d), args) }
        guard let header else { return nil }
        var instances: [ProfileInstance] = []
        for try await (id, first, last, received) in try await conn.query("""
            SELECT instance_id, first_seen_ns, last_seen_ns, first_received_ns FROM profile_instances
            WHERE profile_key = \(profileKey) AND image_tag = \(imageTag) ORDER BY ordinal
            """, logger: logger).decode((String, Int64, Int64, Int64?).self) {
            instances.append(ProfileInstance(id: id, firstSeen: first, lastSeen: last, firstReceived: received))
        }
        var nodes: [ProfileNodeKey: ProfileNodeStats] = [:]
        for try await (type, key, count, ordinals, first, last, flags, mode, pattern) in try await conn.query("""
            SELECT event_type, node_key, dumps, instance_ordinals, first_seen_ns, last_seen_ns, open_flags, open_mode, is_pattern
            FROM profile_nodes WHERE profile_key = \(profileKey) AND image_tag = \(imageTag)
            """, logger: logger).decode((String, String, Int32, [Int32], Int64, Int64, Int64, Int64, Bool).self) {
            guard let t = EventType(rawValue: type) else { continue }
            nodes[ProfileNodeKey(type: t, value: key)] = ProfileNodeStats(
                dumps: Int(count), instances: InstanceSet(ordinals), firstSeen: first, lastSeen: last,
                open: FileOpenBits(flags: UInt32(truncatingIfNeeded: flags), mode: UInt32(truncatingIfNeeded: mode)),
                isPattern: pattern)
        }
        var lifecycle: [EventType: EventTypeLifecycle] = [:]
        for try await (type, state, since, lastNew, stableSince) in try await conn.query("""
            SELECT event_type, state, learning_since_ns, last_new_node_ns, stable_since_ns FROM profile_event_types
            WHERE profile_key = \(profileKey) AND image_tag = \(imageTag)
            """, logger: logger).decode((String, String, Int64, Int64, Int64?).self) {
            guard let t = EventType(rawValue: type), let s = LifecycleState(rawValue: state) else { continue }
            lifecycle[t] = EventTypeLifecycle(state: s, learningSince: since, lastNewNodeAt: lastNew, stableSince: stableSince)
        }
        let version = ProfileVersion(profileKey: profileKey, imageTag: imageTag, dumps: header.dumps, instances: instances,
                                     nodes: nodes, differentiateArgs: header.differentiateArgs, miner: miner)
        return VersionState(version: version, lifecycle: lifecycle,
                            overrides: try await loadOverrides(profileKey: profileKey, conn: conn, logger: logger))
    }

    /// Per-profile overrides of the lifecycle criteria (none: defaults).
    public static func loadOverrides(profileKey: String, conn: PostgresConnection, logger: Logger) async throws -> LifecycleOverrides {
        var o = LifecycleOverrides()
        for try await (novelty, dumps, instances, quiet, learning, cap) in try await conn.query("""
            SELECT max_novelty, min_dumps, min_instances, min_quiet_seconds, max_learning_seconds, node_cap
            FROM profile_overrides WHERE profile_key = \(profileKey)
            """, logger: logger).decode((Double?, Int32?, Int32?, Int64?, Int64?, Int32?).self) {
            o = LifecycleOverrides(maxNovelty: novelty, minDumps: dumps.map(Int.init), minInstances: instances.map(Int.init),
                                   minQuietPeriod: quiet.map { $0 * 1_000_000_000 }, maxLearningPeriod: learning.map { $0 * 1_000_000_000 },
                                   nodeCap: cap.map(Int.init))
        }
        return o
    }

    /// Writes a batch's effect and its offsets on `conn` (inside the caller's transaction).
    /// Returns one profile update per version touched.
    public static func write(_ batch: ProfileBatch, group: String, lifecycle: LifecycleConfiguration = LifecycleConfiguration(),
                             conn: PostgresConnection, logger: Logger) async throws -> [ProfileUpdate] {
        try await checkOwnership(batch.firstOffsets, group: group, conn: conn, logger: logger)
        if !batch.dumps.isEmpty {
            let r = batch.dumps.map(\.request)
            try await conn.query("""
                INSERT INTO merged_dumps (dump_id, profile_key, image_tag, instance_id, host, service, dump_start, dump_end,
                                          node_count, new_nodes, source_topic, source_partition, source_offset, warming_up,
                                          cluster, namespace)
                SELECT dump_id, profile_key, image_tag, instance_id, NULLIF(host, ''), NULLIF(service, ''),
                       CASE WHEN start_ns >= 0 THEN to_timestamp(start_ns / 1e9) END,
                       CASE WHEN end_ns >= 0 THEN to_timestamp(end_ns / 1e9) END,
                       node_count, new_nodes, source_topic, source_partition, source_offset, warming_up,
                       NULLIF(cluster, ''), NULLIF(namespace, '')
                FROM UNNEST(\(r.map(\.dumpID))::text[], \(r.map(\.profileKey))::text[], \(r.map(\.dump.workload.imageTag))::text[],
                            \(r.map(\.dump.workload.instanceID))::text[], \(r.map { $0.dump.workload.host ?? "" })::text[],
                            \(r.map { $0.dump.workload.service ?? "" })::text[], \(r.map { $0.dump.start ?? -1 })::int8[],
                            \(r.map { $0.dump.end ?? -1 })::int8[], \(r.map { Int32(clamping: $0.dump.nodeCount) })::int4[],
                            \(batch.dumps.map { Int32(clamping: $0.newNodes) })::int4[], \(batch.dumps.map(\.sourceTopic))::text[],
                            \(batch.dumps.map(\.sourcePartition))::int4[], \(batch.dumps.map(\.sourceOffset))::int8[],
                            \(batch.dumps.map(\.warmingUp))::bool[], \(r.map { $0.dump.workload.cluster ?? "" })::text[],
                            \(r.map { $0.dump.workload.namespace ?? "" })::text[])
                     AS t(dump_id, profile_key, image_tag, instance_id, host, service, start_ns, end_ns, node_count, new_nodes,
                          source_topic, source_partition, source_offset, warming_up, cluster, namespace)
                ON CONFLICT (profile_key, image_tag, dump_id) DO NOTHING
                """, logger: logger)
        }
        var updates: [ProfileUpdate] = []
        for touched in batch.versions {
            updates.append(try await writeVersion(touched, lifecycle: lifecycle, conn: conn, logger: logger))
        }
        if !batch.dumps.isEmpty {
            let r = batch.dumps.map(\.request)
            try await conn.query("""
                UPDATE merged_dumps d SET version_commonality = v.commonality
                FROM UNNEST(\(r.map(\.profileKey))::text[], \(r.map(\.dump.workload.imageTag))::text[], \(r.map(\.dumpID))::text[]) AS u(k, t, i),
                     profile_versions v
                WHERE d.profile_key = u.k AND d.image_tag = u.t AND d.dump_id = u.i
                  AND v.profile_key = d.profile_key AND v.image_tag = d.image_tag
                """, logger: logger)
        }
        if !batch.transitions.isEmpty {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            let t = batch.transitions
            let evidence = try t.map { String(decoding: try encoder.encode($0.transition.evidence), as: UTF8.self) }
            try await conn.query("""
                INSERT INTO state_transitions (profile_key, image_tag, event_type, from_state, to_state, at_ns, reason, evidence, dump_id)
                SELECT k, tag, et, f, tt, a, r, e::jsonb, NULLIF(d, '')
                FROM UNNEST(\(t.map(\.profileKey))::text[], \(t.map(\.imageTag))::text[], \(t.map(\.transition.type.rawValue))::text[],
                            \(t.map(\.transition.from.rawValue))::text[], \(t.map(\.transition.to.rawValue))::text[],
                            \(t.map(\.transition.at))::int8[], \(t.map(\.transition.reason))::text[], \(evidence)::text[],
                            \(t.map { $0.dumpID ?? "" })::text[]) AS u(k, tag, et, f, tt, a, r, e, d)
                """, logger: logger)
        }
        if !batch.learnedAnomalies.isEmpty {
            try await conn.query("""
                UPDATE anomalies SET learned_at = now() WHERE anomaly_id = ANY(\(batch.learnedAnomalies)) AND status = 'accepted' AND learned_at IS NULL
                """, logger: logger)
        }
        if !batch.anomalies.isEmpty {
            let a = batch.anomalies
            try await conn.query("""
                INSERT INTO anomalies (anomaly_id, profile_key, image_tag, event_type, node_key, dump_id, instance_id, at_ns)
                SELECT * FROM UNNEST(\(a.map(\.id))::text[], \(a.map(\.profileKey))::text[], \(a.map(\.imageTag))::text[],
                                     \(a.map(\.node.type.rawValue))::text[], \(a.map(\.node.value))::text[], \(a.map(\.dumpID))::text[],
                                     \(a.map(\.instanceID))::text[], \(a.map(\.at))::int8[])
                ON CONFLICT (anomaly_id) DO NOTHING
                """, logger: logger)
        }
        if !batch.offsets.isEmpty {
            let o = batch.offsets
            try await conn.query("""
                INSERT INTO consumer_offsets (consumer_group, topic, partition, next_offset)
                SELECT \(group), t, p, n FROM UNNEST(\(o.map(\.topic))::text[], \(o.map(\.partition))::int4[],
                                                    \(o.map(\.nextOffset))::int8[]) AS u(t, p, n)
                ON CONFLICT (consumer_group, topic, partition) DO UPDATE
                SET next_offset = GREATEST(consumer_offsets.next_offset, EXCLUDED.next_offset), updated_at = now()
                """, logger: logger)
        }
        return updates
    }

    static func writeVersion(_ touched: ProfileBatch.TouchedVersion, lifecycle base: LifecycleConfiguration, conn: PostgresConnection,
                             logger: Logger) async throws -> ProfileUpdate {
        let v = touched.state.version
        let key = v.profileKey, tag = v.imageTag
        let revision = try await conn.query("""
            INSERT INTO profiles (profile_key, revision) VALUES (\(key), 1)
            ON CONFLICT (profile_key) DO UPDATE SET revision = profiles.revision + 1, updated_at = now()
            RETURNING revision
            """, logger: logger).decode(Int64.self).first { _ in true } ?? 0
        let state = touched.state.overallState.rawValue
        try await conn.query("""
            INSERT INTO profile_versions (profile_key, image_tag, dumps_merged, instances, nodes, commonality, state, first_seen, last_seen,
                                          differentiate_args, last_dump_at)
            VALUES (\(key), \(tag), \(Int64(v.dumps)), \(Int64(v.instances)), \(Int32(clamping: v.nodes.count)),
                    \(v.profileCommonality()), \(state), now(), now(), \(v.differentiateArgs), now())
            ON CONFLICT (profile_key, image_tag) DO UPDATE
            SET dumps_merged = EXCLUDED.dumps_merged, instances = EXCLUDED.instances, nodes = EXCLUDED.nodes,
                commonality = EXCLUDED.commonality, state = EXCLUDED.state, last_seen = now(), updated_at = now(),
                differentiate_args = EXCLUDED.differentiate_args,
                last_dump_at = CASE WHEN \(touched.dumpsMerged) THEN now() ELSE profile_versions.last_dump_at END
            """, logger: logger)
        if !touched.instances.isEmpty {
            let ordinals = touched.instances.sorted()
            let inst = ordinals.map { v.instance($0) }
            try await conn.query("""
                INSERT INTO profile_instances (profile_key, image_tag, ordinal, instance_id, first_seen_ns, last_seen_ns, first_received_ns)
                SELECT \(key), \(tag), o, i, f, l, NULLIF(r, -1)
                FROM UNNEST(\(ordinals)::int4[], \(inst.map(\.id))::text[], \(inst.map(\.firstSeen))::int8[], \(inst.map(\.lastSeen))::int8[],
                            \(inst.map { $0.firstReceived ?? -1 })::int8[]) AS u(o, i, f, l, r)
                ON CONFLICT (profile_key, image_tag, ordinal) DO UPDATE
                SET first_seen_ns = EXCLUDED.first_seen_ns, last_seen_ns = EXCLUDED.last_seen_ns,
                    first_received_ns = EXCLUDED.first_received_ns
                """, logger: logger)
        }
        if !touched.removed.isEmpty {
            let r = Array(touched.removed)
            try await conn.query("""
                DELETE FROM profile_nodes n USING UNNEST(\(r.map(\.type.rawValue))::text[], \(r.map(\.value))::text[]) AS u(t, k)
                WHERE n.profile_key = \(key) AND n.image_tag = \(tag) AND n.event_type = u.t AND n.node_key = u.k
                """, logger: logger)
        }
        let keys = touched.touched.filter { v.nodes[$0] != nil }.sorted { $0.description < $1.description }
        if !keys.isEmpty {
            let stats = keys.map { v.nodes[$0]! }
            // Ragged instance lists travel as comma-separated text (UNNEST cannot take ragged 2-D arrays).
            let ordinals = stats.map { $0.instances.sorted().map(String.init).joined(separator: ",") }
            try await conn.query("""
                INSERT INTO profile_nodes (profile_key, image_tag, event_type, node_key, dumps, instances, instance_ordinals,
                                           first_seen_ns, last_seen_ns, open_flags, open_mode, is_pattern)
                SELECT \(key), \(tag), t, k, d, cardinality(string_to_array(o, ',')::int4[]), string_to_array(o, ',')::int4[], f, l, fl, m, p
                FROM UNNEST(\(keys.map(\.type.rawValue))::text[], \(keys.map(\.value))::text[], \(stats.map { Int32(clamping: $0.dumps) })::int4[],
                            \(ordinals)::text[], \(stats.map(\.firstSeen))::int8[], \(stats.map(\.lastSeen))::int8[],
                            \(stats.map { Int64($0.open.flags) })::int8[], \(stats.map { Int64($0.open.mode) })::int8[],
                            \(stats.map(\.isPattern))::bool[])
                     AS u(t, k, d, o, f, l, fl, m, p)
                ON CONFLICT (profile_key, image_tag, event_type, node_key) DO UPDATE
                SET dumps = EXCLUDED.dumps, instances = EXCLUDED.instances, instance_ordinals = EXCLUDED.instance_ordinals,
                    first_seen_ns = EXCLUDED.first_seen_ns, last_seen_ns = EXCLUDED.last_seen_ns,
                    open_flags = EXCLUDED.open_flags, open_mode = EXCLUDED.open_mode, is_pattern = EXCLUDED.is_pattern
                """, logger: logger)
        }
        let types = EventType.allCases
        let lifecycles = types.map { touched.state.lifecycle[$0] ?? EventTypeLifecycle(startedAt: 0) }
        let coverage = types.map { v.coverage($0) }
        let config = touched.state.overrides.applied(to: base)
        let first = v.instanceList.map(\.firstSeen).min(), last = v.instanceList.map(\.lastSeen).max()
        let estimates = types.indices.map {
            StabilityEstimate.estimate(coverage[$0], state: lifecycles[$0].state, config: config, dumps: v.dumps,
                                       firstDumpAt: first, lastDumpAt: last)
        }
        try await conn.query("""
            INSERT INTO profile_event_types (profile_key, image_tag, event_type, state, learning_since_ns, last_new_node_ns,
                                             nodes, q1, q2, incidences, coverage, novelty, commonality, unseen_estimate,
                                             dumps_to_stable, eta_seconds, stable_since_ns)
            SELECT \(key), \(tag), t, st, ls, ln, n, q1, q2, inc, cov, nov, com, un, NULLIF(dts, -1), NULLIF(eta, -1), NULLIF(ss, \(Int64.min)) FROM UNNEST(
                \(types.map(\.rawValue))::text[], \(lifecycles.map(\.state.rawValue))::text[], \(lifecycles.map(\.learningSince))::int8[],
                \(lifecycles.map(\.lastNewNodeAt))::int8[], \(coverage.map { Int32(clamping: $0.nodes) })::int4[], \(coverage.map { Int32(clamping: $0.q1) })::int4[],
                \(coverage.map { Int32(clamping: $0.q2) })::int4[], \(coverage.map { Int64($0.incidences) })::int8[], \(coverage.map(\.coverage))::float8[],
                \(coverage.map(\.novelty))::float8[], \(types.map { v.profileCommonality(type: $0) })::float8[],
                \(coverage.map(\.unseenEstimate))::float8[], \(estimates.map { Int32(clamping: $0.dumpsToStable ?? -1) })::int4[],
                \(estimates.map { $0.etaSeconds ?? -1 })::int8[], \(lifecycles.map { $0.stableSince ?? .min })::int8[])
                AS u(t, st, ls, ln, n, q1, q2, inc, cov, nov, com, un, dts, eta, ss)
            ON CONFLICT (profile_key, image_tag, event_type) DO UPDATE
            SET state = EXCLUDED.state, learning_since_ns = EXCLUDED.learning_since_ns, last_new_node_ns = EXCLUDED.last_new_node_ns,
                nodes = EXCLUDED.nodes, q1 = EXCLUDED.q1, q2 = EXCLUDED.q2, incidences = EXCLUDED.incidences,
                coverage = EXCLUDED.coverage, novelty = EXCLUDED.novelty, commonality = EXCLUDED.commonality,
                unseen_estimate = EXCLUDED.unseen_estimate, dumps_to_stable = EXCLUDED.dumps_to_stable,
                eta_seconds = EXCLUDED.eta_seconds, stable_since_ns = EXCLUDED.stable_since_ns, updated_at = now()
            """, logger: logger)
        let states = Dictionary(uniqueKeysWithValues: touched.state.states.map { ($0.key.rawValue, $0.value.rawValue) })
        return ProfileUpdate(profileKey: key, imageTag: tag, revision: revision, dumpsMerged: Int64(v.dumps),
                             instances: Int64(v.instances), states: states)
    }

    /// Records the outcome of publishing anomalies.
    public static func markAnomalies(published: [String], rateLimited: [String], client: any PostgresQueryable) async throws {
        if published.isEmpty && rateLimited.isEmpty { return }
        _ = try await client.run("""
            UPDATE anomalies SET published = published OR anomaly_id = ANY(\(published)),
                                 rate_limited = rate_limited OR anomaly_id = ANY(\(rateLimited))
            WHERE anomaly_id = ANY(\(published + rateLimited))
            """, logger: nil)
    }

    /// Anomalies stored at least `olderThan` seconds ago but neither published nor rate-limited
    /// (the process stopped between the commit and the publication): the outbox to drain at
    /// start. The age bound leaves anomalies another instance is publishing right now alone.
    public static func unpublishedAnomalies(olderThan seconds: Int, limit: Int, client: any PostgresQueryable) async throws -> [Anomaly] {
        var result: [Anomaly] = []
        for try await (key, tag, type, node, dump, instance, at) in try await client.run("""
            SELECT profile_key, image_tag, event_type, node_key, dump_id, instance_id, at_ns FROM anomalies
            WHERE NOT published AND NOT rate_limited AND recorded_at < now() - make_interval(secs => \(Double(seconds)))
            ORDER BY recorded_at LIMIT \(Int64(limit))
            """, logger: nil).decode((String, String, String, String, String, String, Int64).self) {
            guard let t = EventType(rawValue: type) else { continue }
            result.append(Anomaly(profileKey: key, imageTag: tag, node: ProfileNodeKey(type: t, value: node), dumpID: dump,
                                  instanceID: instance, at: at))
        }
        return result
    }
}
