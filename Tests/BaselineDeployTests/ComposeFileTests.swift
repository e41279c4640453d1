import BaselineWire
import BaselineService
import Foundation
import Testing

/// docker-compose.yml, parsed as YAML (no Docker engine runs here), against the services'
/// ConfigurationRegistry and the topic contract.
@Suite struct ComposeFileTests {
    let compose: YAMLValue
    let services: [String: YAMLValue]

    init() throws {
        compose = try RepositoryFiles.yaml("docker-compose.yml")
        services = compose["services"].dictionary
    }

    /// The Baseline services of the file: those running the image deploy/Dockerfile builds.
    var baselineServices: [(BaselineServiceName, YAMLValue)] {
        services.values.compactMap { service in
            guard service["image"].string?.hasPrefix("baseline:") == true,
                  let name = service["command"][0].string.flatMap(BaselineServiceName.init(rawValue:)) else { return nil }
            return (name, service)
        }
    }

    @Test func everyServiceRunsFromTheOneImage() {
        #expect(Set(baselineServices.map(\.0)) == Set(BaselineServiceName.allCases))
        #expect(baselineServices.count == BaselineServiceName.allCases.count)
        for (name, service) in baselineServices {
            #expect(service["build"]["dockerfile"].string == "deploy/Dockerfile", "\(name)")
            #expect(service["build"]["context"].string == ".", "\(name)")
            #expect(service["image"].string == "baseline:latest", "\(name)")
            #expect(service["restart"].string == "unless-stopped", "\(name)")
        }
    }

    @Test func everyBaselineVariableSetIsASettingOfThatService() {
        for (name, service) in baselineServices {
            let known = Set(ConfigurationRegistry.variables(for: name).map(\.name))
            let set = service["environment"].dictionary.keys.filter { $0.hasPrefix("BASELINE_") }
            #expect(!set.isEmpty, "\(name) sets nothing")
            for variable in set {
                #expect(known.contains(variable), "\(name) sets \(variable), which it does not read")
            }
        }
    }

    @Test func everyRequiredVariableIsSet() {
        for (name, service) in baselineServices {
            let environment = service["environment"].dictionary
            for variable in ConfigurationRegistry.variables(for: name) where variable.required {
                let set = environment[variable.name]?.exists == true || variable.alternative.map { environment[$0]?.exists == true } == true
                #expect(set, "\(name) must set \(variable.name)")
            }
        }
    }

    @Test func healthChecksAskReadyzOnTheServicesPort() {
        for (name, service) in baselineServices {
            let port = service["environment"]["BASELINE_HTTP_PORT"].string ?? String(name.defaultHTTPPort)
            #expect(service["healthcheck"]["test"].strings == ["CMD", "baseline-readyz", port], "\(name)")
            #expect(Int(port) == name.defaultHTTPPort, "\(name) moved its port: the Kubernetes manifests and docs assume the default")
        }
    }

    @Test func servicesStartAfterWhatTheyNeed() {
        for (name, service) in baselineServices {
            let needs = service["depends_on"]
            if ConfigurationRegistry.variables(for: name).contains(.kafkaBrokers) {
                #expect(needs["topics"]["condition"].string == "service_completed_successfully", "\(name)")
                #expect(needs["kafka"]["condition"].string == "service_healthy", "\(name)")
                #expect(service["environment"]["BASELINE_CREATE_TOPICS"].string == "false", "\(name): the topic job owns the partitions")
            }
            if ConfigurationRegistry.variables(for: name).contains(.databaseURL) {
                #expect(needs["postgres"]["condition"].string == "service_healthy", "\(name)")
            }
        }
    }

    @Test func kafkaIsApacheKafkaInKRaftModeWithItsLogOnAVolume() throws {
        let kafka = services["kafka"] ?? YAMLValue(nil)
        #expect(kafka["image"].string?.hasPrefix("apache/kafka:") == true)
        let env = kafka["environment"]
        #expect(env["KAFKA_PROCESS_ROLES"].string?.split(separator: ",").contains("controller") == true)
        #expect(!env["KAFKA_ZOOKEEPER_CONNECT"].exists)
        let logDirectory = try #require(env["KAFKA_LOG_DIRS"].string)
        let mounts = kafka["volumes"].strings.map { $0.split(separator: ":").map(String.init) }
        let volume = try #require(mounts.first { $0.count >= 2 && $0[1] == logDirectory }?.first)
        #expect(compose["volumes"].dictionary.keys.contains(volume))
        #expect(kafka["healthcheck"]["test"].exists)
    }

    /// No well-known database password: compose refuses to start without POSTGRES_PASSWORD
    /// (`${VAR:?…}`), never falling back to a default (`${VAR:-…}`).
    @Test func thePasswordHasNoDefault() throws {
        let text = try RepositoryFiles.text("docker-compose.yml")
        #expect(text.firstMatch(of: /\$\{POSTGRES_PASSWORD:?-/) == nil, "a default password")
        let uses = text.matches(of: /\$\{POSTGRES_PASSWORD([^}]*)\}/)
        #expect(!uses.isEmpty && uses.allSatisfy { $0.1.hasPrefix(":?") })
        #expect(services["postgres"]?["environment"]["POSTGRES_PASSWORD"].string?.hasPrefix("${POSTGRES_PASSWORD:?") == true)
    }

    /// Published ports bind the loopback only: on a host with a public address, `9404:9404` would
    /// publish the API (and Docker's rules bypass the host firewall).
    @Test func publishedPortsBindTheLoopback() {
        var published = 0
        for (name, service) in services {
            for port in service["ports"].array {
                published += 1
                #expect(port.string?.hasPrefix("127.0.0.1:") == true || port["host_ip"].string == "127.0.0.1", "\(name) publishes \(port.raw ?? "")")
            }
        }
        #expect(published > 0, "the API is published")
    }

    @Test func postgresKeepsItsDataOnAVolume() {
        let postgres = services["postgres"] ?? YAMLValue(nil)
        #expect(postgres["image"].string?.hasPrefix("postgres:") == true)
        let volume = postgres["volumes"].strings.first { $0.hasSuffix(":/var/lib/postgresql/data") }?.split(separator: ":").first
        #expect(volume.map { compose["volumes"].dictionary.keys.contains(String($0)) } == true)
        #expect(postgres["healthcheck"]["test"].exists)
    }

    @Test func theTopicJobCreatesTheDocumentedTopicsOnce() throws {
        let topics = services["topics"] ?? YAMLValue(nil)
        #expect(topics["image"].string == services["kafka"]?["image"].string)
        #expect(topics["restart"].string == "no")
        let created = RepositoryFiles.topicList(try #require(topics["environment"]["TOPICS"].string))
        #expect(created == (try RepositoryFiles.stackTopics()))
        #expect(Set(created.keys) == Set(Topics.all))
        #expect(topics["command"][0].string?.contains("--partitions") == true)
    }
}
