import ArgumentParser
import BaselineCore
import BaselineKafka
import BaselineSnapshot
import BaselineWire
import Dispatch
import Foundation

extension SnapshotFormat: ExpressibleByArgument {}

/// `baseline snapshot`: activity dumps of the workloads running on this Linux host, read from
/// /proc (docs/snapshot.md).
struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Dump the workloads running on this Linux host, read from /proc (no agent, no eBPF).",
        discussion: """
            One dump per workload: its process tree (executable, argv, uid/gid, start time, cgroup), the regular files each \
            process holds open and its listening TCP/UDP sockets, every node marked generation type snapshot. \
            Workloads are containers (default: one per container id, named by --map or --image), systemd units (--units, \
            --unit NAME), the processes matching --match (executable or cgroup path, with everything below them), or one \
            process subtree (--pid). Kernel threads, processes that exit while read and processes this user may not inspect \
            are skipped and counted in the summary (standard error). Without -o or --send the dumps go to standard output, \
            one JSON document per line.
            """)

    @Option(help: "Snapshot this process and everything below it.") var pid: Int64?
    @Option(help: "Shell pattern on the executable path or cgroup path (`*` crosses /); repeatable: one workload of the matches and everything below them.")
    var match: [String] = []
    @Flag(help: "Group host processes by systemd unit (every .service unit, or those named with --unit).") var units = false
    @Option(help: "Only this systemd unit (`nginx` means nginx.service); repeatable; implies --units.") var unit: [String] = []
    @Option(help: "Only containers whose id starts with this; repeatable.") var container: [String] = []

    @Option(help: "Image name (the profile) of the workloads no --map rule names.") var image: String?
    @Option(help: "Image tag (the profile version) when --map gives none (default: latest).") var tag: String?
    @Option(name: .customLong("map"), help: "File of `CGROUP-PATTERN IMAGE[:TAG]` lines naming workloads (first match wins).")
    var mapFile: String?
    @Flag(help: "Process identity includes the arguments (the dumps' differentiate_args).") var differentiateArgs = false

    @Option(help: "Dump format: baseline or datadog (Datadog's SecDump JSON).") var format: SnapshotFormat = .baseline
    @Option(name: .shortAndLong, help: "Write one file per dump into this directory (created).") var output: String?
    @Flag(help: "Produce the dumps to Kafka (activity-dumps).") var send = false
    @OptionGroup var kafka: KafkaOptions
    @Option(help: "Topic for --send.") var topic = Topics.activityDumps

    @Option(help: "Seconds between snapshots: repeats until --count snapshots were taken, or Ctrl-C.") var interval: Double?
    @Option(help: "Number of snapshots (default: 1; unlimited with --interval).") var count: Int?

    @Option(help: "The /proc tree to read (a host's /proc mounted elsewhere).") var proc = "/proc"
    @Option(help: "Host name the dumps carry (default: the host name of the /proc tree).") var host: String?
    @Option(name: .customLong("max-fds"), help: "fd entries examined per process (the rest is skipped and counted).")
    var maxFDs = 4096

    func validate() throws {
        let selectors = [pid != nil, !match.isEmpty, units || !unit.isEmpty].filter { $0 }.count
        if selectors > 1 { throw ValidationError("choose one of --pid, --match, --units/--unit") }
        if !container.isEmpty && selectors > 0 { throw ValidationError("--container narrows the container workloads only") }
        if let pid, pid <= 0 { throw ValidationError("--pid must be a positive process id") }
        if let interval, !(interval > 0 && interval <= 86_400 * 365) { throw ValidationError("--interval must be a positive number of seconds") }
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
        if maxFDs <= 0 { throw ValidationError("--max-fds must be positive") }
        if let image, image.isEmpty { throw ValidationError("--image must not be empty") }
    }

    var selector: WorkloadSelector {
        if let pid { return .pid(pid) }
        if !match.isEmpty { return .match(match.map(Glob.init)) }
        if units || !unit.isEmpty { return .units(names: unit) }
        return .containers(idPrefixes: container)
    }

    func run() async throws {
        var mapping = ImageMapping()
        if let mapFile {
            guard let data = FileManager.default.contents(atPath: mapFile) else { throw ValidationError("cannot read \(mapFile)") }
            do {
                mapping = try ImageMapping(parsing: String(decoding: data, as: UTF8.self))
            } catch {
                throw ValidationError("\(mapFile): \(error)")
            }
        }
        var reader = ProcReader(fs: ProcFileSystem(root: proc))
        reader.limits.maxFDsPerProcess = maxFDs
        let snapshotter = Snapshotter(reader: reader, grouping: WorkloadGrouping(selector: selector,
                                                                                 naming: WorkloadNaming(image: image, tag: tag, mapping: mapping)),
                                      differentiateArgs: differentiateArgs, host: host)
        if let output { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) }
        let producer: KafkaProducer? = if send { try KafkaProducer(configuration: try kafka.configuration(), logger: cliLogger) } else { nil }
        defer { producer?.triggerClose() }

        let rounds = count ?? (interval == nil ? 1 : Int.max)
        let stop = StopRequest()
        if rounds > 1 { stop.installOnInterrupt() }
        var total = SnapshotStats()
        var dumps = 0, sent = 0, sendFailures = 0, taken = 0
        for round in 1...rounds {
            let out: SnapshotBuilder.Output
            do throws(Snapshotter.Failure) {
                out = try snapshotter.snapshot(clock: Self.now)
            } catch {
                throw ValidationError(error.description)
            }
            taken += 1
            for note in out.notes { Self.log("note: \(note)") }
            var records: [KafkaRecord] = []
            for dump in out.dumps {
                let bytes = try format.encode(dump)
                if let output {
                    let url = URL(fileURLWithPath: output).appendingPathComponent(Self.fileName(dump))
                    try Data(bytes).write(to: url)
                }
                if send {
                    records.append(KafkaRecord(topic: topic, key: dump.workload.profileKey, value: bytes,
                                               headers: [KafkaHeader(WireHeaders.contentType, "application/json")]))
                } else if output == nil {
                    FileHandle.standardOutput.write(Data(bytes + [UInt8(ascii: "\n")]))
                }
            }
            dumps += out.dumps.count
            var line = "[\(round)\(rounds == Int.max ? "" : "/\(rounds)")] \(out.stats.summary)"
            if let producer, !records.isEmpty {
                do {
                    _ = try await producer.sendAll(records)
                    sent += records.count
                    line += "; sent \(records.count) to \(topic)"
                } catch {
                    sendFailures += records.count
                    line += "; NOT sent: \(error)"
                }
            }
            Self.log(line)
            total.add(out.stats)
            if round == rounds || stop.requested { break }
            if let interval {
                let deadline = ContinuousClock.now + .milliseconds(Int64(interval * 1000))
                while ContinuousClock.now < deadline && !stop.requested { try await Task.sleep(for: .milliseconds(100)) }
                if stop.requested { break }
            }
        }
        if taken > 1 {
            Self.log("total over \(taken) snapshots: \(dumps) dump(s)\(send ? ", \(sent) sent" : ""); skipped: "
                     + "\(total.kernelThreads) kernel threads, \(total.vanished) vanished, \(total.permissionDenied) permission denied, "
                     + "\(total.unreadable) unreadable, \(total.belowSkippedProcess) below a skipped process")
        }
        if sendFailures > 0 { throw ExitCode(1) }
        if dumps == 0 {
            Self.log("no workload was dumped (containers need a name: --image or --map; host processes: --units, --match or --pid)")
            throw ExitCode(1)
        }
    }

    static func now() -> Int64 { Timestamps.nanoseconds(Date()) ?? 0 }

    static func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }

    /// `<image>-<instance>-<start>.json` (the instance: container id, else host/service, so the
    /// workloads of one snapshot never share a name), every character outside [A-Za-z0-9._-]
    /// replaced, so no name (a unit, an image with a registry) can leave the directory.
    static func fileName(_ dump: SnapshotDump) -> String {
        let raw = "\(dump.workload.imageName)-\(dump.workload.instanceID)-\(dump.start)"
        let safe = String(String.UnicodeScalarView(raw.unicodeScalars.map {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "." || $0 == "-" ? $0 : "_"
        }))
        // No hidden file, no `..`.
        return (safe.hasPrefix(".") ? "_" + String(safe.dropFirst()) : safe) + ".json"
    }
}

/// Ctrl-C during a series of snapshots: finish the current one, then stop (a second Ctrl-C ends at once).
final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    private var source: DispatchSourceSignal?

    var requested: Bool { lock.withLock { flag } }

    func installOnInterrupt() {
        signal(SIGINT, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: SIGINT, queue: .global())
        source.setEventHandler { [weak self] in
            guard let self else { return }
            self.lock.withLock { self.flag = true }
            signal(SIGINT, SIG_DFL)
            SnapshotCommand.log("interrupted: stopping after this snapshot")
        }
        source.resume()
        self.source = source
    }
}
