import Foundation
import Metrics

/// Counters by label and dimensions, created once: `Counter(label:dimensions:)` goes through the
/// metrics factory (a registry lookup under a lock) on every call, too slow for a per-message path.
final class CounterCache: @unchecked Sendable {
    static let shared = CounterCache()
    private let lock = NSLock()
    private var counters: [String: Counter] = [:]

    func increment(_ label: String, _ dimensions: [(String, String)] = [], by amount: Int = 1) {
        let key = dimensions.reduce(label) { $0 + "\u{0}" + $1.0 + "=" + $1.1 }
        let counter = lock.withLock {
            if let c = counters[key] { return c }
            let c = Counter(label: label, dimensions: dimensions)
            counters[key] = c
            return c
        }
        counter.increment(by: amount)
    }
}
