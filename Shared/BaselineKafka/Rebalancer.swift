import Foundation
import Logging

/// Applies a consumer's group rebalances without ever blocking librdkafka's rebalance callback.
///
/// Without an `onAssign` handler, partitions are assigned inside the callback (start: the
/// group's committed offsets). With one, the callback only starts the handler as a task and
/// returns: the partitions are handed to librdkafka later, by the consumer's next poll once the
/// handler has answered, with its start offsets in the assign call itself. Until then librdkafka
/// fetches nothing from them — they are not assigned — so no message can precede the handler's
/// offsets, while the consumer keeps polling (callbacks, logs, heartbeats of other partitions).
/// librdkafka allows the assign call after the callback returned (the group waits for it).
/// Assign-paused-then-seek was rejected: the seek races librdkafka's own committed-offset lookup
/// (librdkafka #2190).
///
/// Every method runs on the consumer's queue (the callback runs inside its polls and its close),
/// except the handler tasks, which only touch the locked state.
final class Rebalancer: @unchecked Sendable {
    private let onAssign: KafkaConsumer.AssignHandler?
    private let onRevoke: KafkaConsumer.RevokeHandler?
    private let logger: Logger
    private let lock = NSLock()
    private var assigned: Set<KafkaTopicPartition> = []
    /// Partitions whose handler has not answered yet, with the ticket of that handler call.
    private var awaiting: [KafkaTopicPartition: Int] = [:]
    private var answered: [Answer] = []
    private var tasks: [Int: Task<Void, Never>] = [:]
    private var nextTicket = 0
    private var failure: KafkaError?
    private var callbacks = 0
    weak var events: ClientEvents?

    private struct Answer {
        let ticket: Int
        let partitions: [KafkaTopicPartition]
        let offsets: [KafkaTopicPartition: Int64]
        let cooperative: Bool
    }

    init(onAssign: KafkaConsumer.AssignHandler?, onRevoke: KafkaConsumer.RevokeHandler?, logger: Logger) {
        self.onAssign = onAssign
        self.onRevoke = onRevoke
        self.logger = logger
    }

    var assignment: Set<KafkaTopicPartition> { lock.withLock { assigned } }
    var isAwaitingStartOffsets: Bool { lock.withLock { !awaiting.isEmpty } }
    var count: Int { lock.withLock { callbacks } }

    // MARK: - librdkafka's callback

    func rebalanced(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t,
                    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        let cooperative = rd_kafka_rebalance_protocol(rk).map { String(cString: $0) } == "COOPERATIVE"
        let tps = partitions.map { readList($0).keys.sorted { $0.description < $1.description } } ?? []
        lock.withLock { callbacks += 1 }
        switch err {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            assign(rk, tps, cooperative: cooperative)
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            revoke(rk, tps, cooperative: cooperative, lost: rd_kafka_assignment_lost(rk) != 0)
        default:
            // librdkafka's contract for a failed rebalance: clear the assignment to resync.
            let error = KafkaError(err, context: "rebalance failed")
            logger.error("\(error.message)")
            events?.record(error)
            onRevoke?(tps)
            revokeAll(rk, tps)
        }
    }

    private func assign(_ rk: OpaquePointer, _ tps: [KafkaTopicPartition], cooperative: Bool) {
        // No partitions (a standby: more members than partitions) means no offsets to ask for, but
        // librdkafka still waits for the assign call before the member counts as joined: without it
        // the member never rejoins and the group can never rebalance again.
        guard let onAssign, !tps.isEmpty else {
            apply(rk, tps, offsets: [:], cooperative: cooperative)
            return
        }
        let ticket: Int = lock.withLock {
            nextTicket += 1
            for tp in tps { awaiting[tp] = nextTicket }
            return nextTicket
        }
        logger.info("partitions assigned, asking for their start offsets", metadata: ["partitions": "\(tps)"])
        let logger = self.logger
        let task = Task { [self] in
            // Retried until it answers: the group's committed offsets are for lag only when the
            // handler stores positions itself, so resuming from them could skip or repeat work.
            // Meanwhile the partitions stay unfetched and the consumer says it awaits start offsets.
            var delay = Duration.milliseconds(200)
            var attempt = 0
            while true {
                do {
                    let offsets = try await onAssign(tps)
                    answer(Answer(ticket: ticket, partitions: tps, offsets: offsets, cooperative: cooperative))
                    return
                } catch where Task.isCancelled {
                    return  // revoked or closed meanwhile: nothing to assign
                } catch {
                    attempt += 1
                    logger.error("assign handler failed (attempt \(attempt)), partitions not fetched; retrying in \(delay)",
                                 metadata: ["error": "\(error)", "partitions": "\(tps)"])
                    events?.record(KafkaError("assign handler failed: \(error)"))
                }
                do { try await Task.sleep(for: delay * Double.random(in: 0.75...1.25)) } catch { return }
                delay = min(delay * 2, .seconds(30))
            }
        }
        lock.withLock { if awaiting.values.contains(ticket) { tasks[ticket] = task } }
    }

    /// Keeps the handler's answer for the next poll, unless its partitions were revoked meanwhile.
    private func answer(_ answer: Answer) {
        lock.withLock {
            tasks[answer.ticket] = nil
            let still = answer.partitions.filter { awaiting[$0] == answer.ticket }
            guard !still.isEmpty else { return }
            answered.append(Answer(ticket: answer.ticket, partitions: still, offsets: answer.offsets, cooperative: answer.cooperative))
        }
    }

    private func revoke(_ rk: OpaquePointer, _ tps: [KafkaTopicPartition], cooperative: Bool, lost: Bool) {
        onRevoke?(tps)
        guard cooperative else {
            revokeAll(rk, tps)
            return
        }
        // Only partitions handed to librdkafka can be unassigned; the others were still awaiting
        // their handler, whose answer is now void.
        let (owned, orphaned): ([KafkaTopicPartition], [Task<Void, Never>]) = lock.withLock {
            let owned = tps.filter { assigned.contains($0) }
            assigned.subtract(tps)
            for tp in tps { awaiting[tp] = nil }
            answered = answered.compactMap { a in
                let rest = a.partitions.filter { !tps.contains($0) }
                return rest.isEmpty ? nil : Answer(ticket: a.ticket, partitions: rest, offsets: a.offsets, cooperative: true)
            }
            return (owned, takeOrphanedTasks())
        }
        for task in orphaned { task.cancel() }
        let list = makeList(Dictionary(uniqueKeysWithValues: owned.map { ($0, Int64(RD_KAFKA_OFFSET_INVALID)) }))
        defer { rd_kafka_topic_partition_list_destroy(list) }
        check(takeError(rd_kafka_incremental_unassign(rk, list)), "unassign \(owned)")
        logger.info(lost ? "partitions lost" : "partitions revoked", metadata: ["partitions": "\(tps)"])
    }

    /// Eager protocol (and failed rebalances): the whole assignment goes, pending answers too.
    private func revokeAll(_ rk: OpaquePointer, _ tps: [KafkaTopicPartition]) {
        let pending: [Task<Void, Never>] = lock.withLock {
            assigned.removeAll()
            awaiting.removeAll()
            answered.removeAll()
            return takeOrphanedTasks()
        }
        for task in pending { task.cancel() }
        let err = rd_kafka_assign(rk, nil)
        check(err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, context: "unassign"), "unassign")
        logger.info("partitions revoked", metadata: ["partitions": "\(tps)"])
    }

    /// Handler tasks none of whose partitions still await them (caller holds the lock).
    private func takeOrphanedTasks() -> [Task<Void, Never>] {
        let live = Set(awaiting.values)
        let orphaned = tasks.filter { !live.contains($0.key) }
        for key in orphaned.keys { tasks[key] = nil }
        return Array(orphaned.values)
    }

    // MARK: - Called by every poll, before librdkafka's

    /// Hands librdkafka the partitions whose handler has answered, with its start offsets; throws
    /// (once) the first assign/unassign failure recorded since the last poll.
    func applyAnswers(_ rk: OpaquePointer) throws {
        let ready: [Answer] = lock.withLock {
            let ready = answered
            answered.removeAll()
            for a in ready {
                for tp in a.partitions where awaiting[tp] == a.ticket { awaiting[tp] = nil }
                tasks[a.ticket] = nil
            }
            return ready
        }
        for a in ready { apply(rk, a.partitions, offsets: a.offsets, cooperative: a.cooperative) }
        let recorded: KafkaError? = lock.withLock {
            defer { failure = nil }
            return failure
        }
        if let recorded { throw recorded }
    }

    private func apply(_ rk: OpaquePointer, _ tps: [KafkaTopicPartition], offsets: [KafkaTopicPartition: Int64], cooperative: Bool) {
        // Partitions without a handler offset start at the group's committed offset (INVALID).
        let start = Dictionary(uniqueKeysWithValues: tps.map { ($0, offsets[$0] ?? Int64(RD_KAFKA_OFFSET_INVALID)) })
        let list = makeList(start)
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let error: KafkaError?
        if cooperative {
            error = takeError(rd_kafka_incremental_assign(rk, list))
        } else {
            let err = rd_kafka_assign(rk, list)
            error = err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError(err, context: "assign")
        }
        guard check(error, "assign \(tps)") else { return }
        lock.withLock {
            if cooperative { assigned.formUnion(tps) } else { assigned = Set(tps) }
        }
        let chosen = start.filter { $0.value >= 0 }
        logger.info("partitions assigned", metadata: ["partitions": "\(tps)", "start": "\(chosen.isEmpty ? "committed" : "\(chosen)")"])
    }

    /// Logs and keeps a failed assign/unassign for the next poll to throw. Returns true on success.
    @discardableResult
    private func check(_ error: KafkaError?, _ what: String) -> Bool {
        guard let error else { return true }
        logger.error("\(what) failed: \(error.message)")
        events?.record(error)
        lock.withLock { if failure == nil { failure = error } }
        return false
    }

    /// Cancels handlers still running (the consumer closed).
    func cancelPending() {
        let pending: [Task<Void, Never>] = lock.withLock {
            awaiting.removeAll()
            answered.removeAll()
            defer { tasks.removeAll() }
            return Array(tasks.values)
        }
        for task in pending { task.cancel() }
    }
}

/// Converts (and frees) an `rd_kafka_error_t`.
private func takeError(_ error: OpaquePointer?) -> KafkaError? {
    guard let error else { return nil }
    defer { rd_kafka_error_destroy(error) }
    return KafkaError(code: rd_kafka_error_code(error).rawValue, String(cString: rd_kafka_error_string(error)))
}
