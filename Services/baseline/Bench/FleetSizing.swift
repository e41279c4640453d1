import ArgumentParser
import Foundation

/// The partitions each input topic needs for a stated fleet, from the per-instance rates measured
/// in the same run. A topic's partitions bound how many instances of its consumer share the work
/// (one instance per partition at most: one dump-consumer per partition of activity-dumps, one
/// merger per partition of profile-merge-requests, one enricher per partition of security-signals),
/// so:
///
///     partitions = ⌈ required rate × headroom ÷ rate of one instance ⌉
///
/// The headroom keeps each instance that busy at most (2: half busy, so a backlog after an outage
/// drains at least as fast as it built up, and batches do not queue behind each other).
struct FleetSizing: ParsableArguments, Sendable {
    @Option(name: .customLong("fleet-containers"), help: "Containers of the stated fleet (each sends dumps).")
    var containers = 100_000
    @Option(name: .customLong("fleet-dump-minutes"), help: "Minutes between two dumps of one container.")
    var dumpIntervalMinutes = 30.0
    @Option(name: .customLong("fleet-signals"), help: "Signals per second of the stated fleet.")
    var signalsPerSecond = 5000.0
    @Option(help: "Required rate × headroom is what the instances must be able to do (2: at most half busy).")
    var headroom = 2.0

    var dumpsPerSecond: Double { Double(containers) / (dumpIntervalMinutes * 60) }

    func validate() throws {
        guard containers > 0, dumpIntervalMinutes > 0, signalsPerSecond > 0, headroom >= 1 else {
            throw ValidationError("the fleet's containers, dump interval and signal rate must be positive, the headroom at least 1")
        }
    }

    /// ⌈ required × headroom ÷ perInstance ⌉, at least 1; nil without a measured rate.
    static func partitions(required: Double, perInstance: Double, headroom: Double) -> Int? {
        guard perInstance.isFinite, perInstance > 0, required.isFinite else { return nil }
        return max(1, Int((required * headroom / perInstance).rounded(.up)))
    }

    /// The fleet in words, for the table.
    var description: String {
        "\(BenchFormat.grouped(Double(containers))) containers, a dump every \(BenchFormat.grouped(dumpIntervalMinutes)) min"
    }
}
