import Foundation
import Logging

/// What librdkafka reports to one client through its callbacks (log lines, errors, rebalances),
/// reached through the conf opaque pointer. With `log.queue` set, all of them are served by the
/// client's own polls (a consumer's queue, a producer's poll thread), never spontaneously on
/// librdkafka's broker threads, so a slow log handler cannot stall the client's I/O.
final class ClientEvents: @unchecked Sendable {
    let logger: Logger
    /// Consumers only: rebalances are delegated to it.
    let rebalancer: Rebalancer?
    private let lock = NSLock()
    private var lastError: KafkaError?
    private var lastErrorAt: ContinuousClock.Instant?
    private var allBrokersDown = false
    private var onAllBrokersDown: (@Sendable () -> Void)?

    init(logger: Logger, rebalancer: Rebalancer? = nil) {
        self.logger = logger
        self.rebalancer = rebalancer
    }

    static func from(_ opaque: UnsafeMutableRawPointer) -> ClientEvents {
        Unmanaged<ClientEvents>.fromOpaque(opaque).takeUnretainedValue()
    }

    /// Installs the callbacks; the client owning the handle keeps `self` alive until it is destroyed.
    func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_log_cb(conf) { rk, level, facility, line in
            guard let rk, let opaque = rd_kafka_opaque(rk) else { return }
            ClientEvents.from(opaque).log(rk, level: level, facility: facility, line: line)
        }
        rd_kafka_conf_set_error_cb(conf) { rk, err, reason, opaque in
            guard let rk, let opaque else { return }
            ClientEvents.from(opaque).reportError(rk, rd_kafka_resp_err_t(rawValue: err), reason: reason)
        }
        if rebalancer != nil {
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
                guard let rk, let opaque else { return }
                ClientEvents.from(opaque).rebalancer?.rebalanced(rk, err, partitions)
            }
        }
    }

    func setOnAllBrokersDown(_ hook: @escaping @Sendable () -> Void) {
        lock.withLock { onAllBrokersDown = hook }
    }

    // MARK: - Logs

    private func log(_ rk: OpaquePointer, level: Int32, facility: UnsafePointer<CChar>?, line: UnsafePointer<CChar>?) {
        let message = line.map { String(cString: $0) } ?? ""
        let facility = facility.map { String(cString: $0) } ?? ""
        let client = String(cString: rd_kafka_name(rk))
        logger.log(level: Logger.Level(syslog: level), "\(message)",
                   metadata: ["kafka.client": "\(client)", "kafka.facility": "\(facility)"], source: "librdkafka")
    }

    // MARK: - Errors and broker state

    private func reportError(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t, reason: UnsafePointer<CChar>?) {
        let detail = reason.map { String(cString: $0) } ?? ""
        if err == RD_KAFKA_RESP_ERR__FATAL {
            var errstr = [CChar](repeating: 0, count: 512)
            let fatal = rd_kafka_fatal_error(rk, &errstr, errstr.count)
            let error = KafkaError(fatal, context: "fatal error: \(cString(errstr))")
            logger.critical("\(error.message)", source: "librdkafka")
            record(error)
            return
        }
        report(err, detail: detail, level: .error)
    }

    /// A non-fatal error, from the error callback or (consumers) returned by a poll as a message.
    func report(_ err: rd_kafka_resp_err_t, detail: String, level: Logger.Level) {
        let error = KafkaError(code: err.rawValue, detail.isEmpty ? errorString(err) : "\(errorString(err)): \(detail)")
        logger.log(level: level, "\(error.message)", source: "librdkafka")
        record(error)
        if err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN {
            let hook: (@Sendable () -> Void)? = lock.withLock {
                allBrokersDown = true
                return onAllBrokersDown
            }
            hook?()
        }
    }

    /// Keeps `error` as the client's latest error (readiness reports it).
    func record(_ error: KafkaError) {
        lock.withLock {
            lastError = error
            lastErrorAt = .now
        }
    }

    /// Evidence that a broker is reachable again (a fetched message, an acknowledged record, a
    /// commit, an answered probe).
    func brokerAnswered() {
        let wasDown = lock.withLock {
            defer { allBrokersDown = false }
            return allBrokersDown
        }
        if wasDown { logger.info("Kafka brokers reachable again", source: "librdkafka") }
    }

    var brokersDown: Bool { lock.withLock { allBrokersDown } }

    func health(isClosed: Bool) -> KafkaHealth {
        lock.withLock {
            KafkaHealth(isClosed: isClosed, brokersDown: allBrokersDown, lastError: lastError, lastErrorAt: lastErrorAt)
        }
    }
}
