import Crypto
import Foundation

/// An accepted suppression: signals of `ruleID` whose activity matches `nodeKey` in the
/// profile are marked suppressed (and still emitted).
public struct Suppression: Codable, Sendable, Hashable {
    public var id: String
    public var ruleID: String
    public var profileKey: String
    public var nodeKey: ProfileNodeKey
    public var query: String

    public init(id: String, ruleID: String, profileKey: String, nodeKey: ProfileNodeKey, query: String) {
        self.id = id
        self.ruleID = ruleID
        self.profileKey = profileKey
        self.nodeKey = nodeKey
        self.query = query
    }

    var indexKey: String { Self.indexKey(ruleID: ruleID, profileKey: profileKey, node: nodeKey) }
    static func indexKey(ruleID: String, profileKey: String, node: ProfileNodeKey) -> String {
        "\(ruleID)\u{0}\(profileKey)\u{0}\(node)"
    }
}

/// Active suppressions by (rule, profile, node): one lookup per signal.
public struct SuppressionIndex: Sendable {
    private var byKey: [String: Suppression] = [:]

    public init(_ suppressions: [Suppression] = []) {
        for s in suppressions { byKey[s.indexKey] = s }
    }

    public func find(ruleID: String, profileKey: String, node: ProfileNodeKey) -> Suppression? {
        byKey[Suppression.indexKey(ruleID: ruleID, profileKey: profileKey, node: node)]
    }

    public var count: Int { byKey.count }
}

/// A suggestion to suppress a rule for known, common behaviour of a stable profile.
public struct SuppressionSuggestion: Codable, Sendable, Hashable {
    public var suggestionID: String
    public var ruleID: String
    public var profileKey: String
    public var imageTag: String
    public var eventType: EventType
    public var nodeKey: String
    public var lineage: [String]
    public var activity: String?
    /// A readable query that would exclude this behaviour from the rule.
    public var query: String
    public var commonality: Double
    public var instances: Int
    public var instancesTotal: Int
    public var dumps: Int
    public var dumpsMerged: Int
    public var explanation: String

    enum CodingKeys: String, CodingKey {
        case suggestionID = "suggestion_id", ruleID = "rule_id", profileKey = "profile_key", imageTag = "image_tag",
             eventType = "event_type", nodeKey = "node_key", lineage, activity, query, commonality, instances,
             instancesTotal = "instances_total", dumps, dumpsMerged = "dumps_merged", explanation
    }

    /// Stable id: the same (rule, profile, node) always yields the same suggestion.
    public static func id(ruleID: String, profileKey: String, node: ProfileNodeKey) -> String {
        let digest = SHA256.hash(data: Data("\(ruleID)\u{0}\(profileKey)\u{0}\(node)".utf8))
        return "sug-" + digest.prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    /// `@container.image_name:nginx @process.executable.path:/usr/sbin/nginx` (+ the activity).
    public static func query(profileKey: String, node: ProfileNodeKey) -> String {
        let (lineage, activity) = node.parts
        var q = "@container.image_name:\(escape(profileKey)) @process.executable.path:\(escape(stripArgv0(lineage.last ?? "")))"
        if let activity {
            switch node.type {
            case .file: q += " @file.path:\(escape(activity))"
            case .dns: q += " @dns.question.name:\(escape(String(activity.split(separator: " ").first ?? "")))"
            case .network:
                if let port = activity.split(separator: ":").last?.split(separator: "/").first { q += " @bind.addr.port:\(port)" }
            case .exec, .syscall, .capability: break
            }
        }
        return q
    }

    static func stripArgv0(_ p: String) -> String { p.firstIndex(of: "[").map { String(p[..<$0]) } ?? p }

    /// Quotes values with spaces or query syntax; `*` stays a wildcard.
    static func escape(_ v: String) -> String {
        v.contains(where: { " ():\"\\".contains($0) }) ? "\"" + v.replacingOccurrences(of: "\"", with: "\\\"") + "\"" : v
    }
}
