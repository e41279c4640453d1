import BaselineCore
import Foundation
import Testing

@Suite struct TimeAndGrowthTests {
    static let second: Int64 = 1_000_000_000
    static let minute = 60 * second
    static let hour = 60 * minute
    static let t0: Int64 = 1_764_000_000 * second

    func request(_ id: String, instance: String, at time: Int64, received: Int64? = nil, children: [String] = [],
                 created: Int64? = nil) -> MergeRequest {
        var workload = Workload(imageName: "app", imageTag: "1", containerID: instance)
        workload.containerCreatedAt = created
        let dump = ActivityDump(id: id, workload: workload, start: time - 30 * Self.second, end: time,
                                processes: [ProcessNode(path: "/app", children: children.map { ProcessNode(path: $0) })])
        return MergeRequest(dumpID: id, sourceFormat: "baseline-json", receivedAt: received ?? time, dump: dump)
    }

    @Test func implausibleEventTimesAreClampedToTheRecordTime() {
        let policy = EventTimePolicy()
        let record = Self.t0
        let future = request("d1", instance: "c1", at: record + 400 * Self.day).dump
        let (a, clampedA) = policy.apply(to: future, recordTime: record)
        #expect(clampedA && a.end == record && a.start == record)
        let ancient = request("d2", instance: "c1", at: record - 3 * Self.day).dump
        let (b, clampedB) = policy.apply(to: ancient, recordTime: record)
        #expect(clampedB && b.end == record)
        let fine = request("d3", instance: "c1", at: record - 10 * Self.minute).dump
        let (c, clampedC) = policy.apply(to: fine, recordTime: record)
        #expect(!clampedC && c == fine)
        // Extreme values never trap.
        var extreme = fine
        extreme.start = .min
        extreme.end = .max
        #expect(policy.apply(to: extreme, recordTime: .max).clamped)
        #expect(EventTimePolicy(maxAhead: .max, maxBehind: .max).apply(to: extreme, recordTime: .min).dump.end == .min)
    }

    static let day = 24 * hour

    @Test func aFarFutureDumpCannotAgeAVersionToUnstableOnceClamped() {
        var state = VersionState(version: ProfileVersion(profileKey: "app", imageTag: "1"))
        let config = ModelConfiguration()
        for i in 0..<3 { _ = ProfileMerge.apply(request("d\(i)", instance: "c\(i)", at: Self.t0 + Int64(i) * Self.minute), to: &state, config: config) }
        // The agent's clock is a year ahead; the record time is now.
        let record = Self.t0 + 5 * Self.minute
        var late = request("bad", instance: "c9", at: Self.t0 + 365 * Self.day, received: record)
        late.dump = EventTimePolicy().apply(to: late.dump, recordTime: record).dump
        let r = ProfileMerge.apply(late, to: &state, config: config)
        #expect(r.transitions.isEmpty)
        #expect(state.version.clock == record)
        #expect(state.lifecycle.values.allSatisfy { $0.state == .learning })
    }

    /// Attack shape: an instance the broker has seen for an hour sends a dump claiming its container
    /// just started, to have new behaviour pass as warm-up (neither learned nor an anomaly).
    @Test func aClaimedFreshContainerStartCannotRestartWarmUpForAnOldInstance() {
        var config = ModelConfiguration()
        config.warmupPeriod = 180 * Self.second
        var state = VersionState(version: ProfileVersion(profileKey: "app", imageTag: "1"))
        _ = ProfileMerge.apply(request("d1", instance: "c1", at: Self.t0, received: Self.t0), to: &state, config: config)
        let later = Self.t0 + Self.hour
        let forged = ProfileMerge.apply(request("d2", instance: "c1", at: later, received: later, children: ["/usr/bin/nc"], created: later - Self.second),
                                        to: &state, config: config)
        #expect(!forged.warmingUp, "the broker saw c1 an hour ago")
        // A truly new instance whose container started seconds before is still in warm-up.
        let fresh = ProfileMerge.apply(request("d3", instance: "c2", at: later, received: later, created: later - 10 * Self.second),
                                       to: &state, config: config)
        #expect(fresh.warmingUp)
    }

    /// The Baseline JSON field survives decoding (it was dropped when the workload was resolved).
    @Test func baselineDumpsKeepTheirContainerStart() throws {
        let json = #"{"schema":"baseline.activity-dump/v1","workload":{"image_name":"app","container_id":"c1","container_created_at":1764000000000000000},"processes":[{"path":"/app"}]}"#
        let request = try DumpDecoder().decode(Array(json.utf8), receivedAt: Self.t0)
        #expect(request.dump.workload.containerCreatedAt == 1_764_000_000_000_000_000)
    }

    @Test func warmUpRunsFromTheContainerStartOrTheFirstBrokerSighting() {
        var config = ModelConfiguration()
        config.warmupPeriod = 180 * Self.second
        var state = VersionState(version: ProfileVersion(profileKey: "app", imageTag: "1"))
        // The dump claims an event window hours after the container started: not warm-up.
        let created = Self.t0
        let r1 = ProfileMerge.apply(request("d1", instance: "c1", at: created + 2 * Self.hour, created: created), to: &state, config: config)
        #expect(!r1.warmingUp)
        // No creation time: the instance was first seen by the broker 60 s before this dump's arrival.
        let r2 = ProfileMerge.apply(request("d2", instance: "c2", at: Self.t0, received: Self.t0), to: &state, config: config)
        #expect(r2.warmingUp)
        let r3 = ProfileMerge.apply(request("d3", instance: "c2", at: Self.t0 + 60 * Self.second, received: Self.t0 + 60 * Self.second),
                                    to: &state, config: config)
        #expect(r3.warmingUp)
        // Its own event times cannot stretch the warm-up: broker time says 10 minutes have passed.
        let r4 = ProfileMerge.apply(request("d4", instance: "c2", at: Self.t0 + 30 * Self.second, received: Self.t0 + 10 * Self.minute),
                                    to: &state, config: config)
        #expect(!r4.warmingUp)
    }

    @Test func theClockTurnsAQuietVersionStableWithoutNewDumps() {
        var config = ModelConfiguration()
        config.lifecycle.minDumps = 3
        var state = VersionState(version: ProfileVersion(profileKey: "app", imageTag: "1"))
        for i in 0..<3 { _ = ProfileMerge.apply(request("d\(i)", instance: "c\(i)", at: Self.t0 + Int64(i) * Self.second), to: &state, config: config) }
        #expect(state.overallState == .learning)
        #expect(ProfileMerge.evaluate(&state, at: Self.t0 + 5 * Self.minute, config: config).isEmpty)  // not quiet long enough
        let transitions = ProfileMerge.evaluate(&state, at: Self.t0 + 20 * Self.minute, config: config)
        #expect(transitions.count == EventType.allCases.count && transitions.allSatisfy { $0.to == .stable })
        #expect(state.lifecycle[.exec]?.stableSince == Self.t0 + 20 * Self.minute)
        // And past the learning limit, a version that never settles turns unstable by the clock.
        var noisy = VersionState(version: ProfileVersion(profileKey: "app", imageTag: "2"))
        _ = ProfileMerge.apply(request("n0", instance: "c0", at: Self.t0), to: &noisy, config: config)
        let late = ProfileMerge.evaluate(&noisy, at: Self.t0 + 49 * Self.hour, config: config)
        #expect(late.allSatisfy { $0.to == .unstable })
    }

    @Test func aTypeOverItsNodeCapStopsLearning() {
        var config = ModelConfiguration()
        config.lifecycle.nodeCap = 3
        var state = VersionState(version: ProfileVersion(profileKey: "app", imageTag: "1"))
        let r = ProfileMerge.apply(request("d0", instance: "c0", at: Self.t0, children: ["/a", "/b", "/c", "/d"]), to: &state, config: config)
        #expect(r.transitions.contains { $0.type == .exec && $0.to == .unstable && $0.reason.hasPrefix("too_large") })
        #expect(state.lifecycle[.file]?.state == .learning)  // other types are not affected
        let more = ProfileMerge.apply(request("d1", instance: "c0", at: Self.t0 + Self.second, children: ["/e", "/f"]), to: &state, config: config)
        #expect(more.outcome.learned.isEmpty && more.anomalies.isEmpty)
        #expect(state.version.nodeCount(.exec) == 5)
    }

    @Test func aDumpThatPredatesStabilityIsLearningEvidenceNotAnAnomaly() {
        var config = ModelConfiguration()
        config.lifecycle.minDumps = 3
        var state = VersionState(version: ProfileVersion(profileKey: "app", imageTag: "1"))
        for i in 0..<3 { _ = ProfileMerge.apply(request("d\(i)", instance: "c\(i)", at: Self.t0 + Int64(i) * Self.second), to: &state, config: config) }
        _ = ProfileMerge.apply(request("d3", instance: "c0", at: Self.t0 + 30 * Self.minute), to: &state, config: config)
        #expect(state.lifecycle[.exec]?.state == .stable)
        // Recorded before the type turned stable, delivered after (another partition was slower).
        // (From a known instance, long past its warm-up: only the event time makes it learning evidence.)
        let late = ProfileMerge.apply(request("late", instance: "c0", at: Self.t0 + 10 * Self.minute, received: Self.t0 + 31 * Self.minute,
                                              children: ["/bin/rare"]), to: &state, config: config)
        #expect(late.anomalies.isEmpty && late.outcome.learned == [.process(lineage: ["/app", "/bin/rare"])])
        // Recorded after: an anomaly.
        let after = ProfileMerge.apply(request("after", instance: "c0", at: Self.t0 + 40 * Self.minute, children: ["/bin/nc"]), to: &state, config: config)
        #expect(after.anomalies.map(\.node) == [.process(lineage: ["/app", "/bin/nc"])])
    }

    /// The attack shape: a dump dated before the profile turned stable but delivered long after
    /// (events are the producer's word) must raise anomalies, not teach the stable profile.
    @Test func aBackdatedDumpDeliveredPastTheGraceIsJudgedAsOfItsReceipt() {
        var config = ModelConfiguration()
        config.lifecycle.minDumps = 3
        var state = VersionState(version: ProfileVersion(profileKey: "app", imageTag: "1"))
        for i in 0..<3 { _ = ProfileMerge.apply(request("d\(i)", instance: "c\(i)", at: Self.t0 + Int64(i) * Self.second), to: &state, config: config) }
        _ = ProfileMerge.apply(request("d3", instance: "c0", at: Self.t0 + 30 * Self.minute), to: &state, config: config)
        #expect(state.lifecycle[.exec]?.state == .stable)
        let received = Self.t0 + 30 * Self.minute + config.lateDeliveryGrace + Self.minute
        let backdated = ProfileMerge.apply(request("backdated", instance: "c0", at: Self.t0 + 10 * Self.minute, received: received,
                                                   children: ["/tmp/implant"]), to: &state, config: config)
        #expect(backdated.outcome.learned.isEmpty)
        #expect(backdated.anomalies.map(\.node) == [.process(lineage: ["/app", "/tmp/implant"])])
        #expect(state.version.nodes[.process(lineage: ["/app", "/tmp/implant"])] == nil)
    }

    @Test func oneFleetDeliveredInTwoOrdersEndsWithTheSameNodes() {
        let fleet = FleetGenerator.generate(.small)
        func merge(_ dumps: [ActivityDump]) -> (nodes: [String: Set<ProfileNodeKey>], anomalies: Int) {
            var states: [String: VersionState] = [:]
            var anomalies = 0
            for d in dumps {
                let key = "\(d.workload.imageName):\(d.workload.imageTag)"
                var state = states[key] ?? VersionState(version: ProfileVersion(profileKey: d.workload.imageName, imageTag: d.workload.imageTag))
                let request = MergeRequest(dumpID: d.id ?? UUID().uuidString, sourceFormat: "baseline-json", receivedAt: d.end ?? 0,
                                           dump: DumpNormalizer().normalize(d))
                anomalies += ProfileMerge.apply(request, to: &state, config: ModelConfiguration()).anomalies.count
                states[key] = state
            }
            return (states.mapValues { Set($0.version.nodes.keys) }, anomalies)
        }
        // In event-time order, and container after container (each container's own dumps in order,
        // as one partition delivers them; the fleet's partitions drained one at a time).
        let byTime = fleet.dumps.sorted { ($0.end ?? 0, $0.id ?? "") < ($1.end ?? 0, $1.id ?? "") }
        let byContainer = fleet.dumps.sorted {
            ($0.workload.containerID ?? "", $0.end ?? 0) < ($1.workload.containerID ?? "", $1.end ?? 0)
        }
        let a = merge(byTime), b = merge(byContainer)
        #expect(a.nodes == b.nodes)
        #expect(a.anomalies == 0 && b.anomalies == 0)
    }

    @Test func aRestartedContainerCannotTeachAStableProfile() {
        var config = ModelConfiguration()
        config.lifecycle.minDumps = 3
        var state = VersionState(version: ProfileVersion(profileKey: "app", imageTag: "1"))
        for i in 0..<3 { _ = ProfileMerge.apply(request("d\(i)", instance: "c\(i)", at: Self.t0 + Int64(i) * Self.second), to: &state, config: config) }
        _ = ProfileMerge.apply(request("d3", instance: "c0", at: Self.t0 + 30 * Self.minute, received: Self.t0 + 30 * Self.minute), to: &state, config: config)
        #expect(state.lifecycle[.exec]?.state == .stable)
        // A new container whose first dump covers 30 minutes: no warm-up, its new activity is an anomaly.
        var long = request("r1", instance: "restarted-1", at: Self.t0 + 60 * Self.minute, children: ["/bin/sh"])
        long.dump.start = Self.t0 + 30 * Self.minute
        let r1 = ProfileMerge.apply(long, to: &state, config: config)
        #expect(!r1.warmingUp && r1.anomalies.map(\.node) == [.process(lineage: ["/app", "/bin/sh"])])
        // A new container's short first dump is warm-up: no anomaly, and nothing learned either.
        let r2 = ProfileMerge.apply(request("r2", instance: "restarted-2", at: Self.t0 + 61 * Self.minute, children: ["/bin/sh"]),
                                    to: &state, config: config)
        #expect(r2.warmingUp && r2.anomalies.isEmpty && r2.outcome.learned.isEmpty)
        #expect(state.version.nodes[.process(lineage: ["/app", "/bin/sh"])] == nil)
        // A creation time in the future, or after the events, grants no warm-up.
        let r3 = ProfileMerge.apply(request("r3", instance: "restarted-3", at: Self.t0 + 62 * Self.minute, children: ["/bin/sh"],
                                            created: Self.t0 + 90 * Self.minute), to: &state, config: config)
        #expect(!r3.warmingUp && !r3.anomalies.isEmpty)
    }
}
