import Foundation

/// The one owner of a librdkafka client handle. `KafkaConsumer` and `KafkaProducer` never hold the
/// raw pointer: every use goes through `withHandle`/`run`, which throw `KafkaError.closed` once
/// closing began. The handle is destroyed exactly once — by `close`, or by `deinit` when nobody
/// closed it (e.g. an initialiser threw after creating it) — and never on Swift's cooperative pool.
final class KafkaClient: @unchecked Sendable {
    /// Blocking calls (polls, commits, flush, admin waits) run on this serial queue, off the pool.
    let queue: DispatchQueue
    let events: ClientEvents  // librdkafka reaches it through the conf opaque: it must outlive the handle
    private let windDown: @Sendable (OpaquePointer) -> Void
    private let condition = NSCondition()
    private var handle: OpaquePointer?  // nil once closing began
    private var users = 0  // calls inside withHandle; closing waits until they are done
    private var pollThread: PollThread?

    /// - Parameters:
    ///   - pollThreadName: when set, a dedicated thread serves the main queue (producers); a
    ///     consumer's main queue is served by its own polls instead.
    ///   - windDown: what to do before the handle is destroyed (leave the group, flush).
    init(_ type: rd_kafka_type_t, label: String, properties: [(String, String)], events: ClientEvents,
         pollThreadName: String? = nil, windDown: @escaping @Sendable (OpaquePointer) -> Void,
         configure: (OpaquePointer) -> Void = { _ in }) throws {
        self.events = events
        self.windDown = windDown
        queue = DispatchQueue(label: label)
        // Logs are queued and served by whoever polls the main queue, so the swift-log handler never
        // runs on (and never slows) librdkafka's broker threads.
        let rk = try makeHandle(type, properties + [("log.queue", "true")]) { conf in
            events.install(on: conf)
            configure(conf)
        }
        handle = rk
        let err = rd_kafka_set_log_queue(rk, nil)
        if err != RD_KAFKA_RESP_ERR_NO_ERROR { events.logger.warning("librdkafka logs stay on stderr: \(errorString(err))") }
        if let pollThreadName { pollThread = PollThread(handle: rk, name: pollThreadName) }
        events.setOnAllBrokersDown { [weak self] in self?.probeBrokersLater() }
    }

    deinit {
        // Nobody closed the client: wind down and destroy on a background thread, because deinit
        // may run on the cooperative pool and rd_kafka_destroy blocks until librdkafka's threads end.
        guard let rk = handle else { return }
        let owned = OwnedHandle(rk: rk), windDown = self.windDown, thread = pollThread, events = self.events
        Self.reaper.async {
            windDown(owned.rk)
            thread?.stop()
            Self.destroy(owned.rk)
            withExtendedLifetime(events) {}
        }
    }

    /// The only place a handle is destroyed.
    private static func destroy(_ rk: OpaquePointer) {
        #if DEBUG
        DestroyLedger.record(String(cString: rd_kafka_name(rk)))
        #endif
        rd_kafka_destroy(rk)
    }

    private static let reaper = DispatchQueue(label: "kafka-reaper", attributes: .concurrent)

    var isClosed: Bool { condition.withLock { handle == nil } }

    /// Throws `KafkaError.closed` once closing began.
    func ensureOpen() throws {
        if isClosed { throw KafkaError.closed }
    }

    /// Runs `body` with the handle on the calling thread; closing waits until it returns.
    /// `body` must not block for long when called from the cooperative pool.
    func withHandle<T>(_ body: (OpaquePointer) throws -> T) throws -> T {
        let rk: OpaquePointer = try condition.withLock {
            guard let handle else { throw KafkaError.closed }
            users += 1
            return handle
        }
        defer {
            condition.withLock {
                users -= 1
                if users == 0 { condition.broadcast() }
            }
        }
        return try body(rk)
    }

    /// Runs a blocking call with the handle on `queue` and awaits its result without occupying a
    /// cooperative thread.
    func run<T: Sendable>(_ body: @escaping @Sendable (OpaquePointer) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try self.withHandle(body) }) }
        }
    }

    /// Refuses new calls, waits for those in flight, winds down (`windDown` overrides the one given
    /// at init), stops the poll thread and destroys the handle. Idempotent; returns when done.
    func close(windDown: (@Sendable (OpaquePointer) -> Void)? = nil) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            queue.async {
                self.closeNow(windDown ?? self.windDown)
                continuation.resume()
            }
        }
    }

    /// `close` without waiting for it, for callers that cannot await (`defer`).
    func closeInBackground(windDown: (@Sendable (OpaquePointer) -> Void)? = nil) {
        queue.async { self.closeNow(windDown ?? self.windDown) }
    }

    private func closeNow(_ windDown: @Sendable (OpaquePointer) -> Void) {
        let rk: OpaquePointer? = condition.withLock {
            guard let rk = handle else { return nil }
            handle = nil  // from here on every call throws KafkaError.closed
            while users > 0 { condition.wait() }
            return rk
        }
        guard let rk else { return }
        windDown(rk)
        pollThread?.stop()
        Self.destroy(rk)
    }
}

/// A handle on its way to the reaper thread; nobody else holds it any more.
private struct OwnedHandle: @unchecked Sendable {
    let rk: OpaquePointer
}

/// Builds a librdkafka handle from properties; `configure` may install callbacks on the conf.
/// The caller owns the returned handle (wrap it in a `KafkaClient` at once).
func makeHandle(_ type: rd_kafka_type_t, _ properties: [(String, String)],
                configure: (OpaquePointer) -> Void = { _ in }) throws -> OpaquePointer {
    guard let conf = rd_kafka_conf_new() else { throw KafkaError("rd_kafka_conf_new failed") }
    var errstr = [CChar](repeating: 0, count: 512)
    for (k, v) in properties where rd_kafka_conf_set(conf, k, v, &errstr, errstr.count) != RD_KAFKA_CONF_OK {
        rd_kafka_conf_destroy(conf)
        throw KafkaError("invalid Kafka property \(k)=\(v): \(cString(errstr))")
    }
    configure(conf)
    guard let rk = rd_kafka_new(type, conf, &errstr, errstr.count) else {  // owns conf on success only
        rd_kafka_conf_destroy(conf)
        throw KafkaError("cannot create Kafka client: \(cString(errstr))")
    }
    return rk
}

#if DEBUG
/// Debug builds count destroys per client name (unique per process), so tests can prove that no
/// handle is destroyed twice.
enum DestroyLedger {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var counts: [String: Int] = [:]

    static func record(_ name: String) { lock.withLock { counts[name, default: 0] += 1 } }
    static var snapshot: [String: Int] { lock.withLock { counts } }
}
#endif
