import ServiceLifecycle

/// Runs a preparation step (migrations, topic creation) before a service, inside the service
/// group, so that clients it depends on (the PostgreSQL pool) are already running.
public struct PreparedService: Service {
    let prepare: @Sendable () async throws -> Void
    let service: any Service

    public init(_ service: any Service, prepare: @escaping @Sendable () async throws -> Void) {
        self.service = service
        self.prepare = prepare
    }

    public func run() async throws {
        try await prepare()
        try await service.run()
    }
}

/// A service built when it starts (after preparation), e.g. a consumer that must not join its
/// group before the database schema is current.
public struct LazyService: Service {
    let make: @Sendable () async throws -> any Service

    public init(_ make: @escaping @Sendable () async throws -> any Service) {
        self.make = make
    }

    public func run() async throws {
        try await make().run()
    }
}
