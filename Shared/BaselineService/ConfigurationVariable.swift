/// One environment variable a service reads: the single description that the code, the docs
/// (docs/configuration.md), docker-compose.yml and the Kubernetes manifests are checked against.
public struct ConfigurationVariable: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case integer(ClosedRange<Int>)
        case number(ClosedRange<Double>)
        case boolean
        case text
    }

    public let name: String
    /// The value used when the variable is unset or empty, as it would be written; nil: none.
    public let defaultValue: String?
    public let kind: Kind
    /// A deployment must set it: it has no default, or its default only suits the local stack
    /// (`scripts/stack`). `alternative` names a variable that may be set instead.
    public let required: Bool
    public let alternative: String?
    /// What it does, in Markdown (one table cell of docs/configuration.md).
    public let description: String

    public init(_ name: String, default defaultValue: String?, _ kind: Kind, required: Bool = false,
                alternative: String? = nil, _ description: String) {
        self.name = name
        self.defaultValue = defaultValue
        self.kind = kind
        self.required = required
        self.alternative = alternative
        self.description = description
    }
}
