import Foundation
import Logging

/// What librdkafka calls back into for one client (rebalances), reached through the conf opaque
/// pointer.
final class ClientEvents: @unchecked Sendable {
    let logger: Logger
    /// Consumers only: rebalances are delegated to it.
    let rebalancer: Rebalancer?

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
        if rebalancer != nil {
            rd_kafka_conf_set_rebalance_cb(conf) { rk, err, partitions, opaque in
                guard let rk, let opaque else { return }
                ClientEvents.from(opaque).rebalancer?.rebalanced(rk, err, partitions)
            }
        }
    }
}
