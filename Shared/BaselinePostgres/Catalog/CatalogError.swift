/// Why a catalog request cannot be served as asked: the API maps each case to its HTTP status.
public enum CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The profile, version, node, anomaly, suggestion or suppression does not exist.
    case notFound(String)
    /// The request conflicts with the current state (an already decided anomaly, an existing version on import).
    case conflict(String)
    /// The request is well-formed but its content cannot be used.
    case invalid(String)

    public var description: String {
        switch self {
        case .notFound(let m), .conflict(let m), .invalid(let m): m
        }
    }
}
