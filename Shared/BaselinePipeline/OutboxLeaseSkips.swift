import Foundation
import Logging
import Synchronization

/// Rounds of an outbox relay that found the lease held elsewhere. A skip is normal (another
/// instance drains); a long run of them means the holder is stuck (a drain hanging on the
/// broker) or something holds the lock outside the relays, and the outbox is not drained.
enum OutboxLeaseSkips {
    /// Skips in a row after which each further skip warns (every `warnEvery`).
    static let warnEvery = 10
    private static let inARow = Mutex<[String: Int]>([:])
    private static let totals = Mutex<[String: Int]>([:])

    /// Counts a round of `outbox`'s relay: `leased` false is a skip.
    static func record(_ outbox: String, leased: Bool, logger: Logger) {
        let skips = inARow.withLock { counts -> Int in
            counts[outbox] = leased ? 0 : (counts[outbox] ?? 0) + 1
            return counts[outbox] ?? 0
        }
        guard skips > 0 else { return }
        totals.withLock { $0[outbox, default: 0] += 1 }
        CounterCache.shared.increment("baseline_outbox_lease_skipped_total", [("outbox", outbox)])
        if skips % warnEvery == 0 {
            logger.warning("\(outbox) not drained by this instance \(skips) rounds in a row: another session holds its lease (pg_locks, locktype 'advisory')")
        }
    }

    /// Skips in a row of `outbox` now (tests).
    static func current(_ outbox: String) -> Int { inARow.withLock { $0[outbox] ?? 0 } }

    /// Skips of `outbox` since the process started, never reset (tests: another relay's successful
    /// round resets the run in a row, so tests running at the same time cannot compare that).
    static func total(_ outbox: String) -> Int { totals.withLock { $0[outbox] ?? 0 } }
}
