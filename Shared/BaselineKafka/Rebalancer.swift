import Foundation
import Logging

/// State behind a consumer's rebalance callback (reached through the client's opaque pointer).
final class Rebalancer: @unchecked Sendable {
    private let onAssign: KafkaConsumer.AssignHandler?
    private let onRevoke: KafkaConsumer.RevokeHandler?
    private let logger: Logger
    private let lock = NSLock()
    private var assigned: Set<KafkaTopicPartition> = []
    private var callbacks = 0

    init(onAssign: KafkaConsumer.AssignHandler?, onRevoke: KafkaConsumer.RevokeHandler?, logger: Logger) {
        self.onAssign = onAssign
        self.onRevoke = onRevoke
        self.logger = logger
    }

    var assignment: Set<KafkaTopicPartition> { lock.withLock { assigned } }
    var count: Int { lock.withLock { callbacks } }

    func rebalanced(_ rk: OpaquePointer, _ err: rd_kafka_resp_err_t,
                    _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE"
        let tps = partitions.map { Array(readList($0).keys) } ?? []
        lock.withLock { callbacks += 1 }
        if err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS {
            if let partitions, let onAssign {
                let start = resolveStartOffsets(tps, onAssign)
                for i in 0..<Int(partitions.pointee.cnt) {
                    let e = partitions.pointee.elems[i]
                    let tp = KafkaTopicPartition(topic: String(cString: e.topic), partition: e.partition)
                    if let offset = start[tp] { partitions.pointee.elems[i].offset = offset }
                }
            }
            if cooperative {
                if let e = rd_kafka_incremental_assign(rk, partitions) { rd_kafka_error_destroy(e) }
            } else {
                rd_kafka_assign(rk, partitions)
            }
            lock.withLock { assigned.formUnion(tps) }
            logger.info("partitions assigned", metadata: ["partitions": "\(tps.sorted { $0.description < $1.description })"])
        } else {
            onRevoke?(tps)
            if cooperative {
                if let e = rd_kafka_incremental_unassign(rk, partitions) { rd_kafka_error_destroy(e) }
            } else {
                rd_kafka_assign(rk, nil)
            }
            lock.withLock { assigned.subtract(tps) }
            logger.info("partitions revoked", metadata: ["partitions": "\(tps.count)"])
        }
    }

    /// Bridges the async handler into the synchronous C callback. If it fails, the partitions
    /// resume from the group's committed offsets (downstream effects are idempotent).
    private func resolveStartOffsets(_ tps: [KafkaTopicPartition], _ handler: @escaping KafkaConsumer.AssignHandler) -> [KafkaTopicPartition: Int64] {
        let box = LockedValue<Result<[KafkaTopicPartition: Int64], any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            do { box.value = .success(try await handler(tps)) } catch { box.value = .failure(error) }
            done.signal()
        }
        done.wait()
        switch box.value {
        case .success(let offsets): return offsets
        case .failure(let error):
            logger.error("assign handler failed, resuming from committed offsets", metadata: ["error": "\(error)"])
            return [:]
        case nil: return [:]
        }
    }
}
