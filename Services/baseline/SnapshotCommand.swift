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
    @Option(help: "Host name the dumps carry (default: the snapshotter's own host name; in a pod pass the node's, e.g. from the downward API).")
    var host: String?
    @Option(name: .customLong("max-fds"), help: "fd entries examined per process (the rest is skipped and counted).")
    var maxFDs = 4096
    @Option(name: .customLong("max-message-bytes"),
            help: "Largest dump produced or written (bytes); larger ones are skipped and counted (dump-consumer's default bound).")
    var maxMessageBytes = StorageLimits().maxOutputBytes
    @Flag(help: "Also containers and units below a systemd user manager (rootless podman, user services): any local user names those.")
    var rootless = false
    @Flag(help: "One line per process left out (pid, name, workload, reason; at most 1000 per snapshot).") var verbose = false

    func validate() throws {
        let selectors = [pid != nil, !match.isEmpty, units || !unit.isEmpty].filter { $0 }.count
        if selectors > 1 { throw ValidationError("choose one of --pid, --match, --units/--unit") }
        if !container.isEmpty && selectors > 0 { throw ValidationError("--container narrows the container workloads only") }
        if let pid, pid <= 0 { throw ValidationError("--pid must be a positive process id") }
        if let interval, !(interval > 0 && interval <= 86_400 * 365) { throw ValidationError("--interval must be a positive number of seconds") }
        if let count, count <= 0 { throw ValidationError("--count must be positive") }
        if maxFDs <= 0 { throw ValidationError("--max-fds must be positive") }
        if maxMessageBytes <= 0 { throw ValidationError("--max-message-bytes must be positive") }
        if let image, image.isEmpty { throw ValidationError("--image must not be empty") }
    }

    var selector: WorkloadSelector {
        if let pid { return .pid(pid) }
        if !match.isEmpty { return .match(match.map(Glob.init)) }
        if units || !unit.isEmpty { return .units(names: unit) }
        return .containers(idPrefixes: container)
    }

    /// A broker that is down must not hold a round longer than the interval (librdkafka's default
    /// is 5 minutes): at most the interval, and 60 s for a single snapshot, at least 1 s (librdkafka
    /// wants it above linger.ms). `--property` still wins.
    var messageTimeoutMs: Int { max(1000, Int(min(interval ?? 60, 60) * 1000)) }

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
        let grouping = WorkloadGrouping(selector: selector, naming: WorkloadNaming(image: image, tag: tag, mapping: mapping),
                                        includeUserManagers: rootless)
        let snapshotter = Snapshotter(reader: reader, grouping: grouping, differentiateArgs: differentiateArgs, host: host)
        let payloads = SnapshotPayloads(format: format, maxMessageBytes: maxMessageBytes)
        if let output { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) }
        let kafkaConfiguration: KafkaConfiguration? = send ? try kafka.configuration() : nil
        let producer: KafkaProducer? = if let kafkaConfiguration {
            try KafkaProducer(configuration: kafkaConfiguration, extraProperties: ["message.timeout.ms": String(messageTimeoutMs)],
                              logger: cliLogger)
        } else { nil }
        defer { producer?.triggerClose() }

        let rounds = count ?? (interval == nil ? 1 : Int.max)
        let stop = StopRequest()
        if rounds > 1 || send { stop.install() }
        var total = SnapshotStats()
        var dumps = 0, sent = 0, sendFailures = 0, writeFailures = 0, tooLarge = 0, taken = 0
        var notes = NoteDeduplicator()
        let schedule = interval.map { SnapshotSchedule(start: Self.monotonic(), interval: Int64($0 * 1_000_000_000)) }
        var tick = schedule?.start ?? 0
        for round in 1...rounds {
            let out: SnapshotBuilder.Output
            do throws(Snapshotter.Failure) {
                out = try snapshotter.snapshot(clock: Self.now)
            } catch {
                Self.log("error: \(error.description)")
                throw ExitCode(1)
            }
            taken += 1
            let encoded = payloads.encode(out.dumps)
            tooLarge += encoded.tooLarge
            for note in notes.fresh(out.notes + encoded.notes) { Self.log("note: \(note)") }
            if verbose { for skipped in out.skipped { Self.log(skipped.description) } }
            var records: [(dump: SnapshotDump, record: KafkaRecord)] = []
            for item in encoded.encoded {
                if let output {
                    do throws(SnapshotFiles.WriteError) {
                        try SnapshotFiles.write(item.bytes, directory: output, name: SnapshotFiles.fileName(item.dump))
                    } catch {
                        writeFailures += 1
                        Self.log("\(Self.name(item.dump)): not written: \(error)")
                    }
                }
                if send {
                    records.append((item.dump, KafkaRecord(topic: topic, key: item.dump.workload.profileKey, value: item.bytes,
                                                           headers: [KafkaHeader(WireHeaders.contentType, "application/json")])))
                } else if output == nil {
                    FileHandle.standardOutput.write(Data(item.bytes + [UInt8(ascii: "\n")]))
                }
            }
            dumps += encoded.encoded.count
            var line = "\(Self.timestamp()) [\(round)\(rounds == Int.max ? "" : "/\(rounds)")] \(out.stats.summary)"
            if encoded.tooLarge > 0 { line += "; \(encoded.tooLarge) dump(s) too large" }
            if let producer, let kafkaConfiguration, !records.isEmpty {
                stop.pendingDeliveries = records.count
                let results: [Result<KafkaDeliveryReport, KafkaError>]
                do {
                    results = try await producer.sendEach(records.map(\.record))
                } catch {
                    results = records.map { _ in .failure(error as? KafkaError ?? KafkaError("\(error)")) }
                }
                stop.pendingDeliveries = 0
                var ok = 0
                for (item, result) in zip(records, results) {
                    if case .failure(let error) = result {
                        Self.log("\(Self.name(item.dump)): not sent to \(topic) (brokers \(kafkaConfiguration.brokers)): \(error)")
                    } else {
                        ok += 1
                    }
                }
                sent += ok
                sendFailures += records.count - ok
                line += ok == records.count ? "; sent \(ok) to \(topic)" : "; sent \(ok) of \(records.count) to \(topic), \(records.count - ok) NOT sent"
            }
            Self.log(line)
            total.add(out.stats)
            if round == rounds || stop.requested { break }
            if let schedule {
                let next = schedule.next(after: tick, now: Self.monotonic())
                if next.skipped > 0 { Self.log("\(Self.timestamp()) the snapshot took longer than --interval: \(next.skipped) round(s) skipped") }
                tick = next.at
                while Self.monotonic() < next.at && !stop.requested { try await Task.sleep(for: .milliseconds(100)) }
                if stop.requested { break }
            }
        }
        if taken > 1 {
            Self.log("total over \(taken) snapshots: \(dumps) dump(s)\(send ? ", \(sent) sent, \(sendFailures) not sent" : ""); skipped: "
                     + "\(total.kernelThreads) kernel threads, \(total.vanished) vanished, \(total.permissionDenied) permission denied, "
                     + "\(total.unreadable) unreadable, \(total.belowSkippedProcess) below a skipped process")
        }
        if sendFailures > 0 || writeFailures > 0 { throw ExitCode(1) }
        if dumps == 0 {
            Self.log("no workload was dumped (\(Self.hint(total, tooLarge: tooLarge, euid: Int64(geteuid()))))")
            throw ExitCode(1)
        }
    }

    /// Why nothing was dumped, most likely first: permissions when the reads were refused, then
    /// size, then naming.
    static func hint(_ stats: SnapshotStats, tooLarge: Int, euid: Int64) -> String {
        if stats.permissionDenied > 0
            && (euid != 0 || stats.unreadWorkloads > 0 || stats.permissionDenied * 2 >= max(1, stats.listed - stats.kernelThreads)) {
            return "\(stats.permissionDenied) process(es) could not be read: run as root, with CAP_SYS_PTRACE in a container "
                + "(docs/snapshot.md, Kubernetes)"
        }
        if stats.overLimits + tooLarge > 0 { return "every workload was over the dump limits (see the notes)" }
        if stats.unreadWorkloads > 0 { return "the selected processes could not be read (see the notes; --verbose says why)" }
        return "containers need a name: --image or --map; host processes: --units, --match or --pid"
    }

    static func name(_ dump: SnapshotDump) -> String { "\(dump.workload.imageName) (\(dump.workload.instanceID))" }

    static func now() -> Int64 { Timestamps.nanoseconds(Date()) ?? 0 }

    /// Nanoseconds of a clock that never goes back (the schedule's).
    static func monotonic() -> Int64 { Int64(clamping: DispatchTime.now().uptimeNanoseconds) }

    static func timestamp() -> String {
        let f = ISO8601DateFormatter()
        f.formatOptions = [.withInternetDateTime]
        return f.string(from: Date())
    }

    static func log(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
}

/// Ctrl-C or SIGTERM (a container stopping) during a series of snapshots: finish the current one,
/// then stop; a second one ends at once. While deliveries are awaited it says how many.
final class StopRequest: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    private var pending = 0
    private var sources: [DispatchSourceSignal] = []

    var requested: Bool { lock.withLock { flag } }

    /// Records handed to the producer and not yet acknowledged (set by the round).
    var pendingDeliveries: Int {
        get { lock.withLock { pending } }
        set { lock.withLock { pending = newValue } }
    }

    func install() {
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [weak self] in
                guard let self else { return }
                let waiting = self.lock.withLock {
                    self.flag = true
                    return self.pending
                }
                // The next one ends the process at once.
                signal(SIGINT, SIG_DFL)
                signal(SIGTERM, SIG_DFL)
                SnapshotCommand.log(waiting > 0
                    ? "\(signalNumber == SIGTERM ? "terminated" : "interrupted"): waiting for \(waiting) deliveries (at most the message timeout), then stopping"
                    : "\(signalNumber == SIGTERM ? "terminated" : "interrupted"): stopping after this snapshot")
            }
            source.resume()
            sources.append(source)
        }
    }
}
