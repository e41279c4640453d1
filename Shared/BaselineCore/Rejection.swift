/// Why an input was not accepted. `code` is a stable machine-readable token (a metric label and
/// a dead-letter header), `reason` is for people.
public struct Rejection: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var reason: String

    /// Reasons quote outside input (a schema, a kind, a key): bounded here, in bytes, so no
    /// reason can make a log line or a dead letter too large (one Character of an outside string
    /// may hold megabytes of combining marks).
    public static let maxReasonBytes = 2_000

    public init(_ code: String, _ reason: String) {
        self.code = code
        self.reason = reason.prefix(bytes: Self.maxReasonBytes)
    }

    public var description: String { "\(code): \(reason)" }
}
