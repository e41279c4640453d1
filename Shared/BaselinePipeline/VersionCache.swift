import BaselineCore
import BaselineWire
import Foundation

/// Hot profile versions kept in memory (bounded, least recently used evicted) so a merge does
/// not reload a profile for each dump. Cleared on every rebalance: another member may have
/// merged into a profile while this one did not own its partition.
public final class VersionCache: @unchecked Sendable {
    public struct Key: Hashable, Sendable {
        public var profileKey: String
        public var imageTag: String

        public init(profileKey: String, imageTag: String) {
            self.profileKey = profileKey
            self.imageTag = imageTag
        }

        // By bytes, as PostgreSQL compares them: a look-alike image name ("\u{212A}iosk" for
        // "Kiosk") must not be served, or merged into, another workload's cached version.
        public static func == (a: Key, b: Key) -> Bool { a.profileKey.bytesEqual(b.profileKey) && a.imageTag.bytesEqual(b.imageTag) }

        public func hash(into hasher: inout Hasher) {
            profileKey.hashBytes(into: &hasher)
            imageTag.hashBytes(into: &hasher)
        }
    }

    private let lock = NSLock()
    private var entries: [Key: (state: VersionState, used: UInt64)] = [:]
    private var clock: UInt64 = 0
    public let capacity: Int

    public init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    public func get(_ key: Key) -> VersionState? {
        lock.withLock {
            guard var e = entries[key] else { return nil }
            clock += 1
            e.used = clock
            entries[key] = e
            return e.state
        }
    }

    public func put(_ key: Key, _ state: VersionState) {
        lock.withLock {
            clock += 1
            entries[key] = (state, clock)
            if entries.count > capacity, let oldest = entries.min(by: { $0.value.used < $1.value.used })?.key {
                entries.removeValue(forKey: oldest)
            }
        }
    }

    public func removeAll() { lock.withLock { entries.removeAll() } }
    public func remove(_ key: Key) { lock.withLock { _ = entries.removeValue(forKey: key) } }
    public var count: Int { lock.withLock { entries.count } }
}

extension MergeTopicMessage {
    /// The version the message is about.
    var key: VersionCache.Key { VersionCache.Key(profileKey: profileKey, imageTag: imageTag) }
}
