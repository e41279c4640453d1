/// Why an input was not accepted. `code` is a stable machine-readable token (a metric label and
/// a dead-letter header), `reason` is for people.
public struct Rejection: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    public var reason: String

    public init(_ code: String, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code): \(reason)" }
}
