import BaselineService
import Foundation
import Testing

/// The registry is the single description of the services' environment: the code reads through
/// it, its defaults are valid values, and docs/configuration.md is its rendering.
@Suite struct ConfigurationRegistryTests {
    @Test func everyDefaultIsAValidValue() throws {
        for service in BaselineServiceName.allCases {
            let config = try BaselineConfiguration.fromEnvironment(service: service, environment: [:])
            for variable in ConfigurationRegistry.variables(for: service) {
                switch variable.kind {
                case .integer: _ = try config.int(variable)
                case .number: _ = try config.double(variable)
                case .boolean: _ = try config.bool(variable)
                case .text: _ = try config.string(variable)
                }
            }
        }
    }

    @Test func aServiceHasOneDescriptionPerVariable() {
        for service in BaselineServiceName.allCases {
            let names = ConfigurationRegistry.variables(for: service).map(\.name)
            #expect(Set(names).count == names.count, "\(service) lists a variable twice")
        }
    }

    @Test func aServiceCannotReadWhatItDoesNotList() throws {
        let config = try BaselineConfiguration.fromEnvironment(service: .dumpConsumer, environment: ["BASELINE_STABLE_MIN_DUMPS": "3"])
        #expect(throws: BaselineConfiguration.Invalid.self) { try config.int(.stableMinDumps) }
        let api = try BaselineConfiguration.fromEnvironment(service: .profileAPI, environment: ["BASELINE_KAFKA_BROKERS": "elsewhere:1"])
        #expect(!api.reads(.kafkaBrokers))
        #expect(api.kafka.brokers == BaselineConfiguration.defaultBrokers, "profile-api does not read Kafka settings")
    }

    @Test func valuesAreCheckedAgainstTheirRange() throws {
        let config = try BaselineConfiguration.fromEnvironment(service: .profileMerger, environment: [
            "BASELINE_BATCH_SIZE": "0", "BASELINE_STABLE_MAX_NOVELTY": "1.5", "BASELINE_MERGER_GROUP": "mergers-b",
        ])
        #expect(throws: BaselineConfiguration.Invalid.self) { try config.int(.batchSize) }
        #expect(throws: BaselineConfiguration.Invalid.self) { try config.double(.stableMaxNovelty) }
        #expect(try config.string(.mergerGroup) == "mergers-b")
        #expect(throws: BaselineConfiguration.Invalid.self) {
            try BaselineConfiguration.fromEnvironment(service: .signalEnricher, environment: ["BASELINE_HTTP_PORT": "70000"])
        }
        // Per-service defaults: the same name, different defaults.
        let enricher = try BaselineConfiguration.fromEnvironment(service: .signalEnricher, environment: [:])
        #expect(try enricher.int(.enricherProfileCacheSize) == 10_000 && (try config.int(.mergerProfileCacheSize)) == 1000)
        #expect(enricher.httpPort == 9403)
    }

    @Test func theDocumentationIsTheRegistry() throws {
        let doc = try RepositoryFiles.text("docs/configuration.md")
        let begin = "<!-- configuration table: ConfigurationRegistry.markdownTable() -->\n", end = "<!-- end of configuration table -->"
        let table = try #require(doc.range(of: begin).flatMap { b in doc.range(of: end, range: b.upperBound..<doc.endIndex).map { doc[b.upperBound..<$0.lowerBound] } })
        let expected = ConfigurationRegistry.markdownTable()
        // BASELINE_WRITE_DOCS=1 swift test --filter theDocumentationIsTheRegistry rewrites the table.
        if ProcessInfo.processInfo.environment["BASELINE_WRITE_DOCS"] == "1" && String(table) != expected {
            try doc.replacingCharacters(in: table.startIndex..<table.endIndex, with: expected)
                .write(to: RepositoryFiles.root.appendingPathComponent("docs/configuration.md"), atomically: true, encoding: .utf8)
            return
        }
        #expect(String(table) == expected, "docs/configuration.md is out of date (BASELINE_WRITE_DOCS=1 rewrites it); its table should read:\n\(expected)")
    }

    /// Services read the environment only through the registry: the pipeline services spell no
    /// variable name in their code; profile-api (moving to the typed accessors) may, but only
    /// names the registry lists for it (its by-name accessors also check default and range).
    @Test func servicesReadOnlyRegisteredVariables() throws {
        for service in BaselineServiceName.allCases {
            let directory = RepositoryFiles.root.appendingPathComponent("Services/\(service.rawValue)")
            guard let files = FileManager.default.enumerator(atPath: directory.path) else { continue }
            let known = Set(ConfigurationRegistry.variables(for: service).map(\.name))
            for case let file as String in files where file.hasSuffix(".swift") {
                let text = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
                let spelled = text.matches(of: /"(BASELINE_[A-Z0-9_]+)"/).map { String($0.1) }
                if service != .profileAPI {
                    #expect(spelled.isEmpty, "Services/\(service.rawValue)/\(file) names \(spelled): read them through ConfigurationRegistry")
                }
                // BASELINE_API_TOKEN is the CLI's, named in profile-api's hint about a mistyped variable.
                for name in spelled where name != "BASELINE_API_TOKEN" {
                    #expect(known.contains(name), "Services/\(service.rawValue)/\(file) reads \(name), which ConfigurationRegistry does not list")
                }
            }
        }
    }

    @Test func byNameAccessorsHoldTheCallerToTheRegistry() throws {
        let api = try BaselineConfiguration.fromEnvironment(service: .profileAPI, environment: ["BASELINE_API_MAX_BODY_BYTES": "2048"])
        #expect(try api.int("BASELINE_API_MAX_BODY_BYTES", default: 1 << 20, range: 1024...(64 << 20)) == 2048)
        #expect(throws: BaselineConfiguration.Invalid.self) { try api.int("BASELINE_API_MAX_BODY_BYTES", default: 1 << 21, range: 1024...(64 << 20)) }
        #expect(throws: BaselineConfiguration.Invalid.self) { try api.int("BASELINE_BATCH_SIZE", default: 500, range: 1...100_000) }
    }
}
