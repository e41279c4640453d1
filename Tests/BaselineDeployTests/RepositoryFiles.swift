import Foundation
import Yams

/// The repository's files, read by the tests that check deployment files against each other.
enum RepositoryFiles {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func text(_ path: String) throws -> String {
        try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
    }

    static func yaml(_ path: String) throws -> YAMLValue {
        YAMLValue(try Yams.load(yaml: text(path)))
    }

    /// Every document of a multi-document YAML file.
    static func yamlDocuments(_ path: String) throws -> [YAMLValue] {
        try Yams.load_all(yaml: text(path)).map { YAMLValue($0) }
    }

    /// scripts/stack's topic list, `name:partitions` words of its TOPICS=( … ) array.
    static func stackTopics() throws -> [String: Int] {
        let script = try text("scripts/stack")
        guard let start = script.range(of: "TOPICS=("), let end = script[start.upperBound...].firstIndex(of: ")") else { return [:] }
        return topicList(String(script[start.upperBound..<end]))
    }

    /// `name:partitions` words as a dictionary.
    static func topicList(_ words: String) -> [String: Int] {
        var topics: [String: Int] = [:]
        for word in words.split(whereSeparator: { $0 == " " || $0 == "\n" }) {
            let parts = word.split(separator: ":")
            if parts.count == 2, let n = Int(parts[1]) { topics[String(parts[0])] = n }
        }
        return topics
    }
}

/// A parsed YAML value with forgiving accessors (a missing key is `.missing`, which tests then report).
struct YAMLValue {
    let raw: Any?

    init(_ raw: Any?) { self.raw = raw }

    subscript(key: String) -> YAMLValue {
        YAMLValue((raw as? [AnyHashable: Any])?[AnyHashable(key)])
    }

    subscript(index: Int) -> YAMLValue {
        guard let array = raw as? [Any], array.indices.contains(index) else { return YAMLValue(nil) }
        return YAMLValue(array[index])
    }

    var exists: Bool { raw != nil }

    /// Scalars as text (YAML's `9401` and `"9401"` alike).
    var string: String? {
        switch raw {
        case let s as String: s
        case let i as Int: String(i)
        case let b as Bool: String(b)
        case let d as Double: String(d)
        default: nil
        }
    }

    var array: [YAMLValue] { (raw as? [Any])?.map { YAMLValue($0) } ?? [] }

    var dictionary: [String: YAMLValue] {
        var result: [String: YAMLValue] = [:]
        for (key, value) in (raw as? [AnyHashable: Any]) ?? [:] {
            if let key = key.base as? String { result[key] = YAMLValue(value) }
        }
        return result
    }

    var strings: [String] { array.compactMap(\.string) }
}
