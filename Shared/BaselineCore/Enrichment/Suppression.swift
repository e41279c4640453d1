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
        return "sug-" + Hex.lowercase(digest.prefix(12))
    }

    /// A query exactly as wide as the matched node: the image, the process (argv0 for multi-call
    /// binaries, arguments when the profile differentiates them), its parent and every ancestor
    /// up to the workload's first process, and the activity (a file pattern only when the profile
    /// mined it). Example: `@container.image_name:nginx @process.executable.path:/usr/sbin/nginx
    /// @process.parent.executable.path:/docker-entrypoint.sh @file.path:/etc/nginx/nginx.conf`.
    public static func query(profileKey: String, activity: SignalActivity, matched node: ProfileNodeKey,
                             differentiateArgs: Bool) -> String {
        var terms = ["@container.image_name:\(escape(profileKey))"]
        guard let process = activity.lineage.last else { return terms.joined(separator: " ") }
        terms.append("@process.executable.path:\(escape(process.path))")
        if MultiCallBinaries.isMultiCall(process.path) { terms.append("@process.argv0:\(escape(NodeIdentity.baseArgv0(process.argv0 ?? "")))") }
        if differentiateArgs { terms.append("@process.args:\(escape(process.args.joined(separator: " ")))") }
        let ancestors = activity.lineage.dropLast().reversed()
        if let parent = ancestors.first {
            terms.append("@process.parent.executable.path:\(escape(parent.path))")
            if MultiCallBinaries.isMultiCall(parent.path) { terms.append("@process.parent.argv0:\(escape(NodeIdentity.baseArgv0(parent.argv0 ?? "")))") }
        } else {
            // The workload's first process: its parent is outside the container.
            terms.append("-@process.parent.container.id:*")
        }
        for a in ancestors.dropFirst() {
            terms.append("@process.ancestors.executable.path:\(escape(a.path))")
            if MultiCallBinaries.isMultiCall(a.path) { terms.append("@process.ancestors.argv0:\(escape(NodeIdentity.baseArgv0(a.argv0 ?? "")))") }
        }
        let (_, activityPart) = node.parts
        if let activityPart {
            switch node.type {
            case .file: terms.append("@file.path:\(escape(activityPart))")
            case .dns:
                let parts = activityPart.split(separator: " ", maxSplits: 1)
                terms.append("@dns.question.name:\(escape(String(parts.first ?? "")))")
                if parts.count > 1 { terms.append("@dns.question.type:\(escape(String(parts[1])))") }
            case .network:
                // `AF_INET 0.0.0.0:80/tcp`
                let parts = activityPart.split(separator: " ", maxSplits: 1)
                if parts.count == 2, let colon = parts[1].lastIndex(of: ":"), let slash = parts[1].lastIndex(of: "/"), colon < slash {
                    terms.append("@bind.addr.family:\(escape(String(parts[0])))")
                    terms.append("@bind.addr.ip:\(escape(String(parts[1][..<colon])))")
                    terms.append("@bind.addr.port:\(parts[1][parts[1].index(after: colon)..<slash])")
                    terms.append("@bind.protocol:\(escape(String(parts[1][parts[1].index(after: slash)...])))")
                }
            case .exec, .syscall, .capability: break
            }
        }
        return terms.joined(separator: " ")
    }

    /// Quotes values with spaces or query syntax; `*` stays a wildcard.
    static func escape(_ v: String) -> String {
        guard v.contains(where: { " ():\"\\".contains($0) || $0.isWhitespace }) else { return v }
        return "\"" + v.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
