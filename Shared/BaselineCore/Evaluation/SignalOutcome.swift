import Foundation

/// What the enricher said about one generated signal: the input of `EvaluationTally`.
public struct SignalOutcome: Sendable, Hashable, Codable {
    /// The signal's id, when known: the tally counts an id once (delivery is at-least-once).
    public var id: String?
    public var kind: SignalKind
    public var inProfile: Bool
    public var anomaly: Bool
    public var suggested: Bool
    public var suppressed: Bool

    public init(kind: SignalKind, inProfile: Bool, anomaly: Bool, suggested: Bool, suppressed: Bool, id: String? = nil) {
        self.id = id
        self.kind = kind
        self.inProfile = inProfile
        self.anomaly = anomaly
        self.suggested = suggested
        self.suppressed = suppressed
    }

    /// From the `baseline` object of an enriched signal.
    public init(kind: SignalKind, baseline: BaselineContext, id: String? = nil) {
        self.init(kind: kind, inProfile: baseline.inProfile, anomaly: baseline.anomaly, suggested: baseline.suggestionID != nil,
                  suppressed: baseline.suppressed, id: id)
    }

    enum CodingKeys: String, CodingKey { case id, kind, inProfile = "in_profile", anomaly, suggested, suppressed }

    /// Reads an enriched signal (`security-signals.enriched`): its top-level `id` and the
    /// `baseline` members `in_profile`, `anomaly`, `suggestion_id`, `suppressed` (others ignored).
    /// Returns nil when the id is not one of `kinds` (a signal some other producer sent); throws
    /// when the bytes are not JSON or carry no `baseline` object.
    public static func fromEnrichedSignal(_ bytes: [UInt8], kinds: [String: SignalKind]) throws -> SignalOutcome? {
        let signal = try JSONDecoder().decode(EnrichedSignal.self, from: Data(bytes))
        guard let id = signal.id, let kind = kinds[id] else { return nil }
        let b = signal.baseline
        return SignalOutcome(kind: kind, inProfile: b.inProfile ?? false, anomaly: b.anomaly ?? false,
                             suggested: b.suggestionID != nil, suppressed: b.suppressed ?? false, id: id)
    }

    struct EnrichedSignal: Decodable {
        var id: String?
        var baseline: Verdict
    }

    struct Verdict: Decodable {
        var inProfile: Bool?
        var anomaly: Bool?
        var suggestionID: String?
        var suppressed: Bool?

        enum CodingKeys: String, CodingKey { case inProfile = "in_profile", anomaly, suggestionID = "suggestion_id", suppressed }
    }
}
