import BaselineCore
import CFuzzerDriver
import Foundation

/// libFuzzer entry point for dump bytes: everything `dump-consumer` does with a message value
/// before it leaves the process. Decoding (gzip, Baseline JSON, Datadog protobuf JSON or binary
/// protobuf, sniffed as with no content-type header), the limits, normalisation, node keys, event
/// time clamping, the content id, the JSON written to `profile-merge-requests`, and a merge into a
/// fresh profile version. Every input must either pass or be rejected with a `Rejection`: any trap,
/// ASan report, hang or runaway memory is a finding.
///
/// The first byte selects the content type the message claims (so the protobuf reader also sees
/// JSON-looking bytes and the JSON path sees bytes a sniffer would send elsewhere) only when it is
/// one of the three control bytes below; every other input is decoded as is, so seeds need no prefix.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDump(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let data, size > 0 else { return 0 }
    var bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var contentType: String?
    switch bytes[0] {
    case 0x01: contentType = "application/json"; bytes.removeFirst()
    case 0x02: contentType = "application/x-protobuf"; bytes.removeFirst()
    case 0x03: contentType = "application/octet-stream"; bytes.removeFirst()
    default: break
    }
    DumpHarness.run(bytes, contentType: contentType)
    return 0
}

enum DumpHarness {
    static let decoder = DumpDecoder()
    /// A record time in 2026, as the broker would stamp it.
    static let recordTime: Int64 = 1_780_000_000_000_000_000

    static func run(_ bytes: [UInt8], contentType: String?) {
        // The format step alone: its output need not respect the limits, and normalising and keying
        // it must not trap either (the JSON and protobuf nesting checks bound its depth).
        if let (_, raw) = try? decoder.decodeRaw(bytes, contentType: contentType) {
            _ = ProfileNodeKey.nodes(of: DumpNormalizer().normalize(raw))
        }
        let request: MergeRequest
        do {
            request = try decoder.decode(bytes, contentType: contentType, receivedAt: recordTime)
        } catch {
            precondition(!error.code.isEmpty && !error.reason.isEmpty, "a rejection without code or reason")
            return
        }
        _ = ProfileNodeKey.nodes(of: request.dump)
        _ = DumpDecoder.contentID(of: request.dump)
        // As the ingestor does: clamp event times to the record time, then encode the merge request.
        var clamped = request
        clamped.dump = EventTimePolicy().apply(to: request.dump, recordTime: recordTime).dump
        _ = try? JSONEncoder().encode(clamped)
        // Merge into a new version, clamped (as in production) and as decoded (outside times as is).
        for r in [clamped, request] {
            var state = VersionState(version: ProfileVersion(profileKey: r.dump.workload.profileKey, imageTag: r.dump.workload.imageTag))
            _ = ProfileMerge.apply(r, to: &state, config: ModelConfiguration())
            _ = ProfileMerge.apply(r, to: &state, config: ModelConfiguration())
        }
    }
}

/// SwiftPM links `main` to `fuzz_dump_main`: run libFuzzer's driver with its own flags.
@_cdecl("fuzz_dump_main")
public func fuzzDumpMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzDump(data, size) }
}
