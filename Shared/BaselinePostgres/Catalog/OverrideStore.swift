import BaselineCore
import Foundation
import Logging
import PostgresNIO

/// Per-profile learning overrides as users read and write them (seconds, not nanoseconds).
/// A nil field keeps the service default.
public struct OverrideSettings: Codable, Sendable, Hashable {
    public var maxNovelty: Double?
    public var minDumps: Int?
    public var minInstances: Int?
    public var minQuietSeconds: Int64?
    public var maxLearningSeconds: Int64?
    public var nodeCap: Int?

    public init(maxNovelty: Double? = nil, minDumps: Int? = nil, minInstances: Int? = nil, minQuietSeconds: Int64? = nil,
                maxLearningSeconds: Int64? = nil, nodeCap: Int? = nil) {
        self.maxNovelty = maxNovelty
        self.minDumps = minDumps
        self.minInstances = minInstances
        self.minQuietSeconds = minQuietSeconds
        self.maxLearningSeconds = maxLearningSeconds
        self.nodeCap = nodeCap
    }

    /// The JSON names of the fields (snake_case).
    public static let fieldNames: Set<String> = ["max_novelty", "min_dumps", "min_instances", "min_quiet_seconds", "max_learning_seconds",
                                                 "node_cap"]

    /// The ranges a value must be in; the message names the field.
    public func validated() throws(CatalogError) -> OverrideSettings {
        func check<T: Comparable>(_ v: T?, _ name: String, _ range: ClosedRange<T>) throws(CatalogError) {
            if let v, !range.contains(v) { throw .invalid("\(name) must be in \(range.lowerBound)...\(range.upperBound)") }
        }
        if let n = maxNovelty, !n.isFinite { throw .invalid("max_novelty must be a finite number") }
        try check(maxNovelty, "max_novelty", 0.0...1.0)
        try check(minDumps, "min_dumps", 1...1_000_000)
        try check(minInstances, "min_instances", 1...1_000_000)
        try check(minQuietSeconds, "min_quiet_seconds", 0...31_536_000)
        try check(maxLearningSeconds, "max_learning_seconds", 60...315_360_000)
        try check(nodeCap, "node_cap", 1...10_000_000)
        return self
    }
}

/// The overrides of a profile with who changed them last.
public struct ProfileOverrides: Codable, Sendable {
    public var imageName: String
    public var settings: OverrideSettings
    public var updatedBy: String?
    public var updatedAt: Date?
}

public struct OverrideStore: Sendable {
    public let client: PostgresClient
    public let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func get(profileKey: String) async throws -> ProfileOverrides {
        try await requireProfile(profileKey)
        var result = ProfileOverrides(imageName: profileKey, settings: OverrideSettings(), updatedBy: nil, updatedAt: nil)
        for try await (novelty, dumps, instances, quiet, learning, cap, by, at) in try await client.query("""
            SELECT max_novelty, min_dumps, min_instances, min_quiet_seconds, max_learning_seconds, node_cap, updated_by, updated_at
            FROM profile_overrides WHERE profile_key = \(profileKey)
            """, logger: logger).decode((Double?, Int32?, Int32?, Int64?, Int64?, Int32?, String?, Date).self) {
            result.settings = OverrideSettings(maxNovelty: novelty, minDumps: dumps.map(Int.init), minInstances: instances.map(Int.init),
                                               minQuietSeconds: quiet, maxLearningSeconds: learning, nodeCap: cap.map(Int.init))
            result.updatedBy = by
            result.updatedAt = at
        }
        return result
    }

    /// Replaces the profile's overrides (nil fields: defaults) and records the change in its history.
    /// profile-merger applies them from its next merge or clock tick of the profile.
    public func set(profileKey: String, _ settings: OverrideSettings, by user: String) async throws -> ProfileOverrides {
        let s = try settings.validated()
        try await requireProfile(profileKey)
        let json = String(decoding: try JSONEncoder.snakeCase.encode(s), as: UTF8.self)
        try await client.withTransaction(logger: logger) { conn in
            try await conn.query("""
                INSERT INTO profile_overrides (profile_key, max_novelty, min_dumps, min_instances, min_quiet_seconds,
                                               max_learning_seconds, node_cap, updated_by, updated_at)
                VALUES (\(profileKey), \(s.maxNovelty), \(s.minDumps.map { Int32($0) }), \(s.minInstances.map { Int32($0) }),
                        \(s.minQuietSeconds), \(s.maxLearningSeconds), \(s.nodeCap.map { Int32($0) }), \(user), now())
                ON CONFLICT (profile_key) DO UPDATE SET
                    max_novelty = EXCLUDED.max_novelty, min_dumps = EXCLUDED.min_dumps, min_instances = EXCLUDED.min_instances,
                    min_quiet_seconds = EXCLUDED.min_quiet_seconds, max_learning_seconds = EXCLUDED.max_learning_seconds,
                    node_cap = EXCLUDED.node_cap, updated_by = EXCLUDED.updated_by, updated_at = now()
                """, logger: logger)
            try await conn.query("""
                INSERT INTO override_changes (profile_key, overrides, changed_by) VALUES (\(profileKey), \(json)::jsonb, \(user))
                """, logger: logger)
        }
        return try await get(profileKey: profileKey)
    }
}

extension OverrideStore {
    func requireProfile(_ profileKey: String) async throws {
        for try await _ in try await client.query("SELECT 1 FROM profiles WHERE profile_key = \(profileKey)", logger: logger)
            .decode(Int32.self) { return }
        throw CatalogError.notFound("no profile \(profileKey)")
    }
}

extension JSONEncoder {
    /// snake_case keys, sorted, dates as RFC 3339: the API's and the stored documents' encoding.
    public static var snakeCase: JSONEncoder {
        let e = JSONEncoder()
        e.keyEncodingStrategy = .convertToSnakeCase
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .iso8601
        return e
    }
}
