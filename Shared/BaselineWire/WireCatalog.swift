import BaselineCore
import Foundation

/// Every topic that carries a Baseline message, bound to its type. Inputs (`activity-dumps`,
/// `security-signals`) carry outside bytes in several formats (see docs/dump-formats.md) and the
/// dead-letter topics carry the original bytes; they are named in `Topics` only.
public enum WireCatalog {
    /// Sorted keys and unescaped slashes: stable bytes for consumers that diff or hash messages.
    static let stable: JSONEncoder.OutputFormatting = [.sortedKeys, .withoutEscapingSlashes]

    /// A normalised dump to merge, keyed by profile so one partition owns a profile. JSON as
    /// `JSONEncoder` writes it, through a hand-written writer and a one-pass reader (the encoder
    /// and decoder were a sixth of the dump-consumer's and a third of the merger's time).
    public static let mergeRequests = WireTopic<MergeRequest>(name: Topics.profileMergeRequests, key: { $0.profileKey },
                                                              encode: { $0.json() }, decode: { try MergeRequest.fromJSON($0) })

    /// The clock's re-evaluation of a quiet version, on the same topic and key as its dumps (ordered
    /// with them), told apart by its `baseline-kind` header.
    public static let clockTicks = WireTopic<ClockTick>.json(
        Topics.profileMergeRequests, headers: [WireHeader(WireHeaders.kind, WireHeaders.clockTickKind)], key: { $0.profileKey })

    /// A version's revision, counters and states after each merge commit.
    public static let profileUpdates = WireTopic<ProfileUpdate>.json(Topics.profileUpdates, formatting: stable, key: { $0.profileKey })

    /// Activity outside a stable profile (at least once: de-duplicate on `anomaly_id`).
    public static let securityAnomalies = WireTopic<AnomalyEvent>.json(Topics.securityAnomalies, formatting: stable,
                                                                        key: { $0.profileKey })

    /// A suppression to consider, keyed by its stable id (at least once: de-duplicate on the id).
    public static let suppressionSuggestions = WireTopic<SuppressionSuggestion>.json(
        Topics.suppressionSuggestions, formatting: stable, key: { $0.suggestionID })

    /// The original signal, byte for byte, plus a `baseline` member; keyed as the original.
    public static let enrichedSignals = WireTopic<EnrichedSignal>(
        name: Topics.securitySignalsEnriched, key: { _ in nil }, encode: { $0.bytes }, decode: { try EnrichedSignal(enriched: $0) })
}
