import ArgumentParser
import Foundation

/// `baseline profiles …`: the profiles as profile-api shows them.
struct ProfilesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "profiles", abstract: "Security profiles (through profile-api).",
                                                    subcommands: [List.self, Show.self, Tree.self, History.self, Export.self, Import.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Profiles grouped by image name.")
        @OptionGroup var options: APIOptions
        @Option(help: "Image name (exact).") var image: String?
        @Option(help: "Image tag (exact).") var tag: String?
        @Option(help: "Service (exact).") var service: String?
        @Option(help: "Workload tag key:value (service, host, cluster, namespace, instance); repeatable.") var label: [String] = []
        @Option(help: "learning, stable or unstable.") var state: String?
        @Option(name: .customLong("search"), help: "Free text in image name, tag or service.") var search: String?

        func run() async throws {
            let query: [(String, String?)] = [("image", image), ("tag", tag), ("service", service), ("state", state), ("q", search)]
                + label.map { ("label", $0) }
            let groups = try await options.client.all("profiles", query: query)
            print("IMAGE:TAG".padding(toLength: 44, withPad: " ", startingAt: 0), "STATE     DUMPS  INSTANCES  COMMONALITY  LAST UPDATED")
            for group in groups {
                for v in group["versions"] as? [[String: Any]] ?? [] {
                    print("\(text(v["image_name"])):\(text(v["image_tag"]))".padding(toLength: 44, withPad: " ", startingAt: 0),
                          text(v["state"]).padding(toLength: 9, withPad: " ", startingAt: 0),
                          text(v["dumps_merged"]).padding(toLength: 6, withPad: " ", startingAt: 0),
                          text(v["instances"]).padding(toLength: 10, withPad: " ", startingAt: 0),
                          text(v["commonality"]).padding(toLength: 12, withPad: " ", startingAt: 0), text(v["last_updated"]))
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A version: states with their reasons and evidence (JSON).")
        @OptionGroup var options: APIOptions
        @Argument(help: "Image name.") var image: String
        @Argument(help: "Image tag.") var tag: String

        func run() async throws {
            printJSON(try await options.client.json("GET", "profiles/\(APIClient.segment(image))/versions/\(APIClient.segment(tag))"))
        }
    }

    struct Tree: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The process tree with commonality per node.")
        @OptionGroup var options: APIOptions
        @Argument(help: "Image name.") var image: String
        @Argument(help: "Image tag.") var tag: String
        @Option(help: "Depth to expand.") var depth = 6

        func run() async throws {
            let client = try options.client
            let path = "profiles/\(APIClient.segment(image))/versions/\(APIClient.segment(tag))/tree"
            func walk(_ parent: String?, _ level: Int) async throws {
                for node in try await client.all(path, query: [("parent", parent)]) {
                    print(String(repeating: "  ", count: level) + "\(text(node["name"]))  [\(text(node["commonality"])), \(text(node["instances"])) instances]")
                    if level + 1 < depth, (node["children"] as? Int ?? 0) > 0 { try await walk(node["key"] as? String, level + 1) }
                }
            }
            try await walk(nil, 0)
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Merges, state changes, anomalies, overrides and suppressions, newest first.")
        @OptionGroup var options: APIOptions
        @Argument(help: "Image name.") var image: String
        @Argument(help: "Image tag.") var tag: String
        @Option(help: "Entries.") var limit = 50

        func run() async throws {
            let page = try await options.client.json("GET", "profiles/\(APIClient.segment(image))/versions/\(APIClient.segment(tag))/history",
                                                     query: [("limit", String(limit))])
            for e in page["items"] as? [[String: Any]] ?? [] {
                print("\(text(e["at"]))  \(text(e["kind"]).padding(toLength: 20, withPad: " ", startingAt: 0)) \(e["event_type"].map(text) ?? "")  \(text(e["detail"]))"
                      + (e["by"].map { "  by \(text($0))" } ?? ""))
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A version as JSON (Baseline's format, or Datadog's SecurityProfile shape).")
        @OptionGroup var options: APIOptions
        @Argument(help: "Image name.") var image: String
        @Argument(help: "Image tag.") var tag: String
        @Option(help: "baseline or datadog.") var format = "baseline"
        @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?

        func run() async throws {
            let data = try await options.client.call("GET", "profiles/\(APIClient.segment(image))/versions/\(APIClient.segment(tag))/export",
                                                     query: [("format", format)])
            if let output { try data.write(to: URL(fileURLWithPath: output)) } else { print(String(decoding: data, as: UTF8.self)) }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a version from a Baseline export (never overwrites one).")
        @OptionGroup var options: APIOptions
        @Argument(help: "File written by `baseline profiles export`.") var file: String
        @Option(help: "Import under this image name.") var asImage: String?
        @Option(help: "Import under this tag.") var asTag: String?

        func run() async throws {
            let data = try Data(contentsOf: URL(fileURLWithPath: file))
            let created = try await options.client.json("POST", "profiles/import", query: [("as_image", asImage), ("as_tag", asTag)], body: data)
            print("imported \(text(created["image_name"])):\(text(created["image_tag"]))")
        }
    }
}

/// `baseline suggestions …`: suppression suggestions.
struct SuggestionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "suggestions", abstract: "Suppression suggestions (through profile-api).",
                                                    subcommands: [List.self, Accept.self, Dismiss.self], aliases: ["suggestion"])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List suggestions.")
        @OptionGroup var options: APIOptions
        @Option(help: "open, accepted or dismissed (default: all).") var status: String?
        @Option(help: "Image name.") var image: String?

        func run() async throws {
            let items = try await options.client.all("suggestions", query: [("status", status), ("image", image)])
            print("\(items.count) suggestion(s)")
            for s in items {
                let evidence = s["evidence"] as? [String: Any] ?? [:]
                print("\(text(s["suggestion_id"])) [\(text(s["status"]))] rule \(text(s["rule_id"])) on \(text(s["image_name"])):\(text(s["image_tag"])): "
                      + "\(text(s["query"]))  (seen on \(text(evidence["instances"]))/\(text(evidence["instances_total"])) instances)")
            }
        }
    }

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept a suggestion: matching signals are marked suppressed.")
        @OptionGroup var options: APIOptions
        @Argument(help: "Suggestion id (sug-…).") var id: String

        func run() async throws {
            let s = try await options.client.json("POST", "suggestions/\(APIClient.segment(id))/accept")
            print("accepted \(id): suppression \(text(s["suppression_id"])) for rule \(text(s["rule_id"])): \(text(s["query"]))")
        }
    }

    struct Dismiss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dismiss a suggestion.")
        @OptionGroup var options: APIOptions
        @Argument(help: "Suggestion id (sug-…).") var id: String

        func run() async throws {
            _ = try await options.client.json("POST", "suggestions/\(APIClient.segment(id))/dismiss")
            print("dismissed \(id)")
        }
    }
}

/// `baseline anomalies …`.
struct AnomaliesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "anomalies", abstract: "Anomalies (through profile-api).",
                                                    subcommands: [List.self, Accept.self, Dismiss.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List anomalies, newest first.")
        @OptionGroup var options: APIOptions
        @Option(help: "pending, accepted or dismissed (default: all).") var status: String?
        @Option(help: "Image name.") var image: String?
        @Option(help: "Image tag.") var tag: String?

        func run() async throws {
            let items = try await options.client.all("anomalies", query: [("status", status), ("image", image), ("tag", tag)])
            print("\(items.count) anomal\(items.count == 1 ? "y" : "ies")")
            for a in items {
                let lineage = (a["lineage"] as? [String] ?? []).joined(separator: " > ")
                print("\(text(a["anomaly_id"])) [\(text(a["status"]))] \(text(a["image_name"])):\(text(a["image_tag"])) \(text(a["event_type"])): "
                      + lineage + (a["activity"].map { " | \(text($0))" } ?? "") + "  (instance \(text(a["instance_id"])))")
            }
        }
    }

    struct Accept: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Accept an anomaly: profile-merger adds its node to the profile.")
        @OptionGroup var options: APIOptions
        @Argument(help: "Anomaly id.") var id: String

        func run() async throws {
            _ = try await options.client.json("POST", "anomalies/\(APIClient.segment(id))/accept")
            print("accepted \(id): profile-merger learns it shortly")
        }
    }

    struct Dismiss: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Dismiss an anomaly.")
        @OptionGroup var options: APIOptions
        @Argument(help: "Anomaly id.") var id: String

        func run() async throws {
            _ = try await options.client.json("POST", "anomalies/\(APIClient.segment(id))/dismiss")
            print("dismissed \(id)")
        }
    }
}

/// `baseline overrides …`: per-profile learning overrides.
struct OverridesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "overrides", abstract: "Per-profile learning overrides (through profile-api).",
                                                    subcommands: [Get.self, Set.self])

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show a profile's overrides.")
        @OptionGroup var options: APIOptions
        @Argument(help: "Image name.") var image: String

        func run() async throws { printJSON(try await options.client.json("GET", "profiles/\(APIClient.segment(image))/overrides")) }
    }

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replace a profile's overrides (fields left out return to the defaults).")
        @OptionGroup var options: APIOptions
        @Argument(help: "Image name.") var image: String
        @Option(help: "Largest novelty still stable (0...1).") var maxNovelty: Double?
        @Option(help: "Dumps needed before stable.") var minDumps: Int?
        @Option(help: "Instances needed before stable.") var minInstances: Int?
        @Option(help: "Seconds without new behaviour before stable.") var minQuietSeconds: Int?
        @Option(help: "Seconds of learning before unstable.") var maxLearningSeconds: Int?
        @Option(help: "Nodes per event type at most.") var nodeCap: Int?

        func run() async throws {
            var body: [String: Any] = [:]
            if let maxNovelty { body["max_novelty"] = maxNovelty }
            if let minDumps { body["min_dumps"] = minDumps }
            if let minInstances { body["min_instances"] = minInstances }
            if let minQuietSeconds { body["min_quiet_seconds"] = minQuietSeconds }
            if let maxLearningSeconds { body["max_learning_seconds"] = maxLearningSeconds }
            if let nodeCap { body["node_cap"] = nodeCap }
            printJSON(try await options.client.json("PUT", "profiles/\(APIClient.segment(image))/overrides",
                                                    body: try JSONSerialization.data(withJSONObject: body)))
        }
    }
}
