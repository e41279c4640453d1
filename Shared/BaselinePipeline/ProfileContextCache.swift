import BaselineCore
import BaselinePostgres
import Foundation
import Logging

/// Profile versions for enrichment, in memory and bounded: loaded from PostgreSQL on first use,
/// dropped when `profile-updates` announces a newer revision (so a profile that became stable is
/// reflected within a poll interval, without restart). Workloads without a profile and container
/// ids without a workload are cached negatively for `negativeTTL`. A loaded version is also
/// reloaded after `maxAge`, which bounds staleness should an update be missed (e.g. one published
/// while this instance was still joining the updates topic).
public final class ProfileContextCache: @unchecked Sendable {
    struct Key: Hashable {
        var profileKey: String
        var imageTag: String

        // By bytes (VersionCache.Key says why).
        static func == (a: Key, b: Key) -> Bool { a.profileKey.bytesEqual(b.profileKey) && a.imageTag.bytesEqual(b.imageTag) }

        func hash(into hasher: inout Hasher) {
            profileKey.hashBytes(into: &hasher)
            imageTag.hashBytes(into: &hasher)
        }
    }
    private enum Entry {
        case present(ProfileMatcher, used: UInt64, loaded: ContinuousClock.Instant)
        case absent(until: ContinuousClock.Instant)
    }

    private let lock = NSLock()
    private var entries: [Key: Entry] = [:]
    private var containers: [String: (Key?, ContinuousClock.Instant)] = [:]
    private var latestTags: [String: (String?, ContinuousClock.Instant)] = [:]
    private var clock: UInt64 = 0
    let store: SuppressionStore
    let capacity: Int
    let negativeTTL: Duration
    let maxAge: Duration
    let logger: Logger

    public init(store: SuppressionStore, capacity: Int = 10_000, negativeTTL: Duration = .seconds(5),
                maxAge: Duration = .seconds(60), logger: Logger) {
        self.store = store
        self.capacity = max(1, capacity)
        self.negativeTTL = negativeTTL
        self.maxAge = maxAge
        self.logger = logger
    }

    /// The workload of a signal: from its tags, else from its container id.
    public func workload(for signal: SecuritySignal) async throws -> Workload? {
        if var w = signal.workload {
            if !signal.hasImageTag, let tag = try await latestTag(w.profileKey) { w.imageTag = tag }
            return w
        }
        guard let container = signal.containerID, !container.isEmpty else { return nil }
        let now = ContinuousClock.now
        if let (key, until) = lock.withLock({ containers[container] }), until > now || key != nil {
            return key.map { Workload(imageName: $0.profileKey, imageTag: $0.imageTag, containerID: container) }
        }
        let found = try await store.workload(containerID: container)
        let key = found.map { Key(profileKey: $0.profileKey, imageTag: $0.imageTag) }
        lock.withLock {
            if containers.count > capacity * 4 { containers.removeAll() }
            containers[container] = (key, now + negativeTTL)
        }
        return key.map { Workload(imageName: $0.profileKey, imageTag: $0.imageTag, containerID: container) }
    }

    private func latestTag(_ profileKey: String) async throws -> String? {
        let now = ContinuousClock.now
        if let (tag, until) = lock.withLock({ latestTags[profileKey] }), until > now { return tag }
        let tag = try await store.latestTag(profileKey: profileKey)
        lock.withLock {
            if latestTags.count > capacity { latestTags.removeAll() }
            latestTags[profileKey] = (tag, now + negativeTTL)
        }
        return tag
    }

    /// The matcher of a version, loading it when needed; nil when the version does not exist.
    public func matcher(profileKey: String, imageTag: String) async throws -> ProfileMatcher? {
        let key = Key(profileKey: profileKey, imageTag: imageTag)
        let now = ContinuousClock.now
        let cached: ProfileMatcher?? = lock.withLock {
            switch entries[key] {
            case .present(let m, _, let loaded)? where now - loaded < maxAge:
                clock += 1
                entries[key] = .present(m, used: clock, loaded: loaded)
                return .some(m)
            case .absent(let until)? where until > now: return .some(nil)
            default: return nil
            }
        }
        if let cached { return cached }
        let state = try await store.loadVersion(profileKey: profileKey, imageTag: imageTag, miner: PatternMiner(), logger: logger)
        let matcher = state.map { ProfileMatcher(state: $0) }
        lock.withLock {
            clock += 1
            entries[key] = matcher.map { .present($0, used: clock, loaded: now) } ?? .absent(until: now + negativeTTL)
            if entries.count > capacity, let oldest = entries.min(by: { usage($0.value) < usage($1.value) })?.key {
                entries.removeValue(forKey: oldest)
            }
        }
        return matcher
    }

    private func usage(_ e: Entry) -> UInt64 {
        if case .present(_, let used, _) = e { return used }
        return 0
    }

    /// Drops a version (a newer revision exists); the next signal reloads it.
    public func invalidate(profileKey: String, imageTag: String) {
        lock.withLock {
            entries.removeValue(forKey: Key(profileKey: profileKey, imageTag: imageTag))
            latestTags.removeValue(forKey: profileKey)
            // A new instance may now map to this profile.
            containers = containers.filter { $0.value.0 != nil }
        }
    }

    public var count: Int { lock.withLock { entries.count } }

    /// Whether a loaded version is cached (for tests and diagnostics).
    public func isCached(profileKey: String, imageTag: String) -> Bool {
        lock.withLock {
            if case .present? = entries[Key(profileKey: profileKey, imageTag: imageTag)] { return true }
            return false
        }
    }
}
