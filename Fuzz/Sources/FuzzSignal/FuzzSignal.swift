import BaselineCore
import CFuzzerDriver
import Foundation

/// libFuzzer entry point for security signal bytes: everything `signal-enricher` does with a
/// message value. Parsing, the activity and its node key, enrichment against a small profile
/// (matching, warm-up arithmetic on the signal's own times) and without one, and the enriched
/// signal (`appendingBaseline`). Every input must either parse or be rejected with a `Rejection`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSignal(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    SignalHarness.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

enum SignalHarness {
    /// A small profile (nginx, stable) to match signals against.
    static let matcher: ProfileMatcher = {
        let dump = #"""
        {"workload":{"image_name":"nginx","image_tag":"1.27"},"start":1780000000000000000,"end":1780000060000000000,
         "processes":[{"path":"/usr/sbin/nginx","files":[{"path":"/etc/nginx/nginx.conf"},{"path":"/var/log/nginx/access.log","flags":1}],
           "binds":[{"port":80}],"dns":[{"name":"example.com"}],
           "children":[{"path":"/usr/sbin/nginx","children":[{"path":"/bin/busybox","argv0":"sh","args":["-c","true"]}]}]}]}
        """#
        guard let request = try? DumpDecoder().decode(Array(dump.utf8), receivedAt: 1_780_000_060_000_000_000) else {
            fatalError("the harness's own profile dump does not decode")
        }
        var state = VersionState(version: ProfileVersion(profileKey: "nginx", imageTag: "1.27"))
        _ = ProfileMerge.apply(request, to: &state, config: ModelConfiguration())
        for type in EventType.allCases {
            state.lifecycle[type] = EventTypeLifecycle(state: .stable, learningSince: 0, lastNewNodeAt: 0, stableSince: 1)
        }
        return ProfileMatcher(state: state)
    }()

    static func run(_ bytes: [UInt8]) {
        let signal: SecuritySignal
        do {
            signal = try SecuritySignal.parse(bytes)
        } catch {
            precondition(!error.code.isEmpty && !error.reason.isEmpty, "a rejection without code or reason")
            return
        }
        if let activity = SignalActivity(signal: signal) {
            _ = activity.key(differentiateArgs: false)
            _ = activity.key(differentiateArgs: true)
        }
        let config = EnrichmentConfiguration()
        let none = Enrichment.enrich(signal, workload: signal.workload, matcher: nil, suppressions: SuppressionIndex(), config: config)
        let workload = signal.workload ?? Workload(imageName: "nginx", imageTag: "1.27")
        let profiled = Enrichment.enrich(signal, workload: workload, matcher: matcher, suppressions: SuppressionIndex(), config: config)
        for context in [none.context, profiled.context] {
            // The enriched signal is the original plus a `baseline` member, still one JSON object.
            guard let out = try? SecuritySignal.appendingBaseline(context, to: bytes) else {
                preconditionFailure("a parsed signal could not be enriched")
            }
            let object = try? JSONSerialization.jsonObject(with: Data(out)) as? [String: Any]
            precondition(object?["baseline"] != nil, "the enriched signal is no JSON object with a baseline member")
        }
    }
}

/// SwiftPM links `main` to `fuzz_signal_main`: run libFuzzer's driver with its own flags.
@_cdecl("fuzz_signal_main")
public func fuzzSignalMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzSignal(data, size) }
}
