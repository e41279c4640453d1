import PostgresNIO

/// Sorts database errors by what retrying can do about them.
public enum DatabaseFailure {
    public enum Kind: String, Sendable {
        /// Connection loss, timeouts, serialization failures, deadlocks, a server restarting:
        /// retrying the same work later succeeds.
        case transient
        /// The data itself is refused (a value PostgreSQL rejects, a constraint, a program limit
        /// such as an index row too large): the same input fails every time.
        case deterministic
        /// Anything else (a bug, a schema change in progress): retried a few times, then treated
        /// as deterministic so one input cannot stall a partition forever.
        case unknown
    }

    /// The error that caused it: a transaction's failure wraps the error of its body (or of
    /// BEGIN/COMMIT).
    public static func underlying(_ error: any Error) -> any Error {
        if let t = error as? PostgresTransactionError {
            return (t.closureError ?? t.commitError ?? t.beginError).map(underlying) ?? error
        }
        return error
    }

    public static func classify(_ error: any Error) -> Kind {
        let error = underlying(error)
        // The pool's own errors (its circuit breaker trips after a minute of failed connects).
        if String(reflecting: type(of: error)).contains("ConnectionPoolError") { return .transient }
        guard let error = error as? PSQLError else {
            return error is CancellationError ? .transient : .unknown
        }
        switch error.code {
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            // 08 connection, 40 transaction rollback (40001 serialization, 40P01 deadlock),
            // 53 insufficient resources, 57 operator intervention (shutdown, cannot connect now),
            // 55P03 lock not available, 58 system error.
            // 25006 read-only transaction (a failover), 42501 insufficient privilege (an operator's change).
            if ["08", "40", "53", "57", "58"].contains(where: state.hasPrefix) || ["55P03", "25006", "42501"].contains(state) { return .transient }
            // 22 data exception (NUL byte, invalid UTF-8, out of range), 23 integrity, 54 program limit.
            if ["22", "23", "54"].contains(where: state.hasPrefix) { return .deterministic }
            return .unknown
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed, .queryCancelled,
             .failedToAddSSLHandler:
            return .transient
        case .tooManyParameters:
            return .deterministic
        default:
            return .unknown
        }
    }

    /// The statement ran longer than the session's `statement_timeout` (SQLSTATE 57014): retried
    /// like an outage, but counted apart, since a statement that is slow every time (a blocker in
    /// pg_stat_activity, a timeout too short for the data) needs an operator, not patience.
    public static func isStatementTimeout(_ error: any Error) -> Bool {
        (underlying(error) as? PSQLError)?.serverInfo?[.sqlState] == "57014"
    }

    /// A short description for logs and dead-letter reasons (SQLSTATE and message when the server sent them).
    public static func describe(_ error: any Error) -> String {
        let error = underlying(error)
        guard let e = error as? PSQLError else { return String(describing: error) }
        if let state = e.serverInfo?[.sqlState], let message = e.serverInfo?[.message] { return "SQLSTATE \(state): \(message)" }
        return String(reflecting: e.code)
    }
}
