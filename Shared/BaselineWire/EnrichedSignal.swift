import BaselineCore
import Foundation

/// A record of `security-signals.enriched`: the original signal's bytes unchanged, with the
/// `baseline` member (profile context and verdict) added before its closing brace.
public struct EnrichedSignal: Sendable {
    /// The whole enriched signal, as it travels.
    public let bytes: [UInt8]
    public let baseline: BaselineContext

    /// Enriches `original` (a JSON object) with `baseline`.
    public init(original: [UInt8], baseline: BaselineContext) throws {
        bytes = try SecuritySignal.appendingBaseline(baseline, to: original)
        self.baseline = baseline
    }

    /// Reads an enriched signal; throws when it is not a JSON object with a `baseline` member.
    public init(enriched bytes: [UInt8]) throws {
        self.bytes = bytes
        baseline = try JSONDecoder().decode(Envelope.self, from: Data(bytes)).baseline
    }

    private struct Envelope: Decodable {
        let baseline: BaselineContext
    }
}
