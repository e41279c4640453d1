import BaselineWire
import BaselineService
import Foundation
import Testing

/// deploy/kubernetes: the Kustomize base and the example overlay, parsed as YAML, against the
/// registry, the compose file and the topic contract.
@Suite struct KubernetesManifestTests {
    let kustomization: YAMLValue
    let objects: [YAMLValue]
    let compose: [String: YAMLValue]

    init() throws {
        kustomization = try RepositoryFiles.yaml("deploy/kubernetes/base/kustomization.yaml")
        objects = try kustomization["resources"].strings.flatMap {
            try RepositoryFiles.yamlDocuments("deploy/kubernetes/base/\($0)")
        }
        compose = try RepositoryFiles.yaml("docker-compose.yml")["services"].dictionary
    }

    func objects(_ kind: String) -> [YAMLValue] { objects.filter { $0["kind"].string == kind } }

    var deployments: [(BaselineServiceName, YAMLValue)] {
        objects("Deployment").compactMap { d in d["metadata"]["name"].string.flatMap(BaselineServiceName.init(rawValue:)).map { ($0, d) } }
    }

    func autoscaler(of name: BaselineServiceName) -> YAMLValue? {
        objects("HorizontalPodAutoscaler").first { $0["spec"]["scaleTargetRef"]["name"].string == name.rawValue }
    }

    /// Every pod template of the base (Deployments and the topic job), by its object's name.
    var podTemplates: [(String, YAMLValue)] {
        objects.compactMap { object in
            let pod = object["spec"]["template"]["spec"]
            return pod.exists ? (object["metadata"]["name"].string ?? "?", pod) : nil
        }
    }

    /// A Kubernetes memory quantity (`512Mi`, `1Gi`, `1G`, bytes) in bytes.
    static func bytes(_ quantity: String?) -> Int? {
        guard let quantity else { return nil }
        let units: [(String, Int)] = [("Ki", 1 << 10), ("Mi", 1 << 20), ("Gi", 1 << 30), ("K", 1_000), ("M", 1_000_000), ("G", 1_000_000_000)]
        for (suffix, factor) in units where quantity.hasSuffix(suffix) {
            return Int(quantity.dropLast(suffix.count)).map { $0 * factor }
        }
        return Int(quantity)
    }

    /// The literals of a ConfigMap the base generates.
    func configMap(_ name: String) -> [String: String] {
        let generator = kustomization["configMapGenerator"].array.first { $0["name"].string == name }
        var values: [String: String] = [:]
        for literal in generator?["literals"].strings ?? [] {
            let parts = literal.split(separator: "=", maxSplits: 1).map(String.init)
            values[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return values
    }

    /// Every variable a container gets: its env list and the ConfigMaps it loads. Values from a
    /// Secret show as `secret:NAME/KEY`.
    func environment(_ container: YAMLValue) -> [String: String] {
        var env: [String: String] = [:]
        for source in container["envFrom"].array {
            if let name = source["configMapRef"]["name"].string { env.merge(configMap(name)) { $1 } }
        }
        for item in container["env"].array {
            guard let name = item["name"].string else { continue }
            let secret = item["valueFrom"]["secretKeyRef"]
            env[name] = item["value"].string
                ?? secret["name"].string.map { "secret:\($0)/\(secret["key"].string ?? "")" } ?? ""
        }
        return env
    }

    @Test func everyServiceIsADeploymentOfTheImage() throws {
        #expect(Set(deployments.map(\.0)) == Set(BaselineServiceName.allCases))
        for (name, deployment) in deployments {
            let labels = deployment["spec"]["selector"]["matchLabels"].dictionary.mapValues { $0.string }
            let podLabels = deployment["spec"]["template"]["metadata"]["labels"].dictionary.mapValues { $0.string }
            #expect(!labels.isEmpty && labels.allSatisfy { podLabels[$0.key] == $0.value }, "\(name): selector must match the pod labels")
            #expect(podLabels["app.kubernetes.io/part-of"] == "baseline", "\(name): the metrics Service selects by part-of")
            let container = deployment["spec"]["template"]["spec"]["containers"][0]
            #expect(container["image"].string == "baseline", "\(name)")
            #expect(container["command"].strings == [name.rawValue], "\(name)")
            // An HPA owns its Deployment's count: a replicas field would reset it on every apply.
            if let hpa = autoscaler(of: name) {
                #expect(!deployment["spec"]["replicas"].exists, "\(name): the HorizontalPodAutoscaler sets the replicas")
                #expect(hpa["spec"]["minReplicas"].string.flatMap(Int.init).map { $0 >= 2 } == true, "\(name): one instance is no failover")
            } else {
                #expect(deployment["spec"]["replicas"].string.flatMap(Int.init).map { $0 >= 2 } == true, "\(name): one instance is no failover")
            }
            // Compose and Kubernetes run the same image: compose's tag `baseline:latest`, the base's `baseline` + newTag.
            #expect(compose[name.rawValue]?["image"].string == "baseline:\(kustomization["images"][0]["newTag"].string ?? "")")
        }
    }

    @Test func environmentIsRegisteredAndComplete() {
        for (name, deployment) in deployments {
            let container = deployment["spec"]["template"]["spec"]["containers"][0]
            let env = environment(container)
            let known = Set(ConfigurationRegistry.variables(for: name).map(\.name))
            for variable in env.keys where variable.hasPrefix("BASELINE_") {
                #expect(known.contains(variable), "\(name) gets \(variable), which it does not read")
            }
            for variable in ConfigurationRegistry.variables(for: name) where variable.required {
                #expect(env[variable.name] != nil || variable.alternative.map { env[$0] != nil } == true, "\(name) must get \(variable.name)")
            }
            // The settings compose gives too agree (secrets and files aside).
            let composed = compose[name.rawValue]?["environment"].dictionary ?? [:]
            for key in ["BASELINE_KAFKA_PROPERTIES", "BASELINE_CREATE_TOPICS", "BASELINE_HTTP_HOST", "BASELINE_HTTP_PORT", "BASELINE_LOG_LEVEL"]
            where composed[key] != nil || env[key] != nil {
                #expect(composed[key]?.string == env[key], "\(name): \(key) differs between docker-compose.yml and Kubernetes")
            }
        }
    }

    @Test func secretsAreReferencedNeverWritten() {
        #expect(objects("Secret").isEmpty, "the base references Secrets; an overlay or a secret manager creates them")
        var referenced = Set<String>()
        for object in objects {
            let pod = object["spec"]["template"]["spec"]
            for volume in pod["volumes"].array { if let s = volume["secret"]["secretName"].string { referenced.insert(s) } }
            for container in pod["containers"].array {
                for value in environment(container).values where value.hasPrefix("secret:") {
                    referenced.insert(String(value.dropFirst(7).split(separator: "/")[0]))
                }
            }
        }
        #expect(referenced == ["baseline-database", "baseline-kafka-credentials", "baseline-api-tokens"])
        for value in Array(configMap("baseline-kafka-settings").values) + Array(configMap("baseline-common").values) {
            #expect(!value.lowercased().contains("password"), "credentials belong in a Secret")
        }
    }

    @Test func probesAndResources() {
        for (name, deployment) in deployments {
            let container = deployment["spec"]["template"]["spec"]["containers"][0]
            let port = container["ports"].array.first { $0["name"].string == "http" }?["containerPort"].string
            #expect(port == String(name.defaultHTTPPort), "\(name)")
            #expect(environment(container)["BASELINE_HTTP_PORT"] == port, "\(name)")
            #expect(container["livenessProbe"]["httpGet"]["path"].string == "/healthz", "\(name)")
            #expect(container["readinessProbe"]["httpGet"]["path"].string == "/readyz", "\(name)")
            #expect(container["livenessProbe"]["httpGet"]["port"].string == "http", "\(name)")
            #expect(container["readinessProbe"]["httpGet"]["port"].string == "http", "\(name)")
            // /readyz may take up to 3 s for its checks; the default timeout (1 s) fails ready pods.
            for probe in ["livenessProbe", "readinessProbe"] {
                let timeout = container[probe]["timeoutSeconds"].string.flatMap(Int.init) ?? 1
                #expect(timeout >= 5, "\(name): \(probe) timeoutSeconds \(timeout) is shorter than /readyz may take")
            }
            let resources = container["resources"]
            #expect(resources["requests"]["cpu"].exists && resources["requests"]["memory"].exists, "\(name)")
            // A request far below the limit overcommits the node: under memory pressure the pod is killed.
            let request = Self.bytes(resources["requests"]["memory"].string), limit = Self.bytes(resources["limits"]["memory"].string)
            #expect(request != nil && limit != nil && request! * 2 >= limit!, "\(name): memory request below half its limit")
        }
    }

    /// Pods run as a numeric non-root user (a user name cannot be checked by the kubelet: the pod
    /// would never start), with no way to gain privileges, a read-only root, and no API token.
    @Test func everyPodIsLockedDown() {
        #expect(podTemplates.count == deployments.count + objects("Job").count)
        for (name, pod) in podTemplates {
            #expect(pod["automountServiceAccountToken"].string == "false", "\(name)")
            for container in pod["containers"].array {
                let context = container["securityContext"], podContext = pod["securityContext"]
                let nonRoot = (context["runAsNonRoot"].exists ? context : podContext)["runAsNonRoot"].string
                #expect(nonRoot == "true", "\(name): runAsNonRoot")
                let user = (context["runAsUser"].exists ? context : podContext)["runAsUser"].string.flatMap(Int.init)
                #expect(user.map { $0 > 0 } == true, "\(name): runAsNonRoot needs a numeric runAsUser")
                #expect(context["allowPrivilegeEscalation"].string == "false", "\(name)")
                #expect(context["readOnlyRootFilesystem"].string == "true", "\(name)")
                #expect(context["capabilities"]["drop"].strings == ["ALL"], "\(name)")
            }
        }
    }

    /// The services get librdkafka's client settings only; the admin credentials go to the topic job alone.
    @Test func kafkaCredentialsGoWhereTheyAreUsed() {
        for (name, pod) in podTemplates {
            for volume in pod["volumes"].array where volume["secret"]["secretName"].string == "baseline-kafka-credentials" {
                let keys = volume["secret"]["items"].array.compactMap { $0["key"].string }
                let isJob = objects("Job").contains { $0["metadata"]["name"].string == name }
                #expect(keys == [isJob ? "admin.properties" : "client.properties"], "\(name) mounts \(keys.isEmpty ? ["the whole Secret"] : keys)")
            }
        }
    }

    /// An import body is decoded in memory: its limit stays a small part of the API's memory limit.
    @Test func theAPIsImportLimitFitsItsMemory() throws {
        let api = try #require(deployments.first { $0.0 == .profileAPI }?.1)
        let container = api["spec"]["template"]["spec"]["containers"][0]
        let importBytes = try #require(environment(container)["BASELINE_API_MAX_IMPORT_BYTES"].flatMap(Int.init))
        let limit = try #require(Self.bytes(container["resources"]["limits"]["memory"].string))
        #expect(importBytes * 8 <= limit, "an import of \(importBytes) bytes in a pod of \(limit)")
        #expect(compose["profile-api"]?["environment"]["BASELINE_API_MAX_IMPORT_BYTES"].string == String(importBytes))
        // Requests keep arriving for a moment after the pod leaves the endpoints.
        #expect(container["lifecycle"]["preStop"]["exec"]["command"].strings.first == "sleep")
    }

    /// Nothing reaches a Baseline pod unless a policy lets it: the API's port from the API clients'
    /// namespaces, the ops endpoint from monitoring's; never from everywhere.
    @Test func networkPoliciesDenyByDefault() throws {
        let policies = objects("NetworkPolicy")
        let denyAll = policies.first {
            $0["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/part-of"].string == "baseline"
                && $0["spec"]["policyTypes"].strings.contains("Ingress") && !$0["spec"]["ingress"].exists
        }
        #expect(denyAll != nil, "a default-deny policy selecting every Baseline pod")
        var reachable = Set<String>()
        for policy in policies {
            for rule in policy["spec"]["ingress"].array {
                #expect(!rule["from"].array.isEmpty, "\(policy["metadata"]["name"].string ?? ""): a rule without `from` admits everyone")
                for peer in rule["from"].array {
                    #expect(!peer["namespaceSelector"]["matchLabels"].dictionary.isEmpty, "\(policy["metadata"]["name"].string ?? ""): an empty selector admits every namespace")
                    #expect(!peer["ipBlock"].exists)
                }
                #expect(!rule["ports"].array.isEmpty && rule["ports"].array.allSatisfy { $0["port"].string == "http" })
                if let app = policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"].string { reachable.insert(app) }
            }
        }
        #expect(reachable == ["profile-api"], "only the API is reachable beyond monitoring")
    }

    @Test func everyDeploymentHasADisruptionBudgetAndScalingStaysWithinPartitions() throws {
        let budgets = objects("PodDisruptionBudget")
        for (name, _) in deployments {
            #expect(budgets.contains { $0["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"].string == name.rawValue }, "\(name)")
        }
        for budget in budgets {
            // Pods that are not ready (a database outage) would otherwise block every drain.
            #expect(budget["spec"]["unhealthyPodEvictionPolicy"].string == "AlwaysAllow", "\(budget["metadata"]["name"].string ?? "")")
        }
        let partitions = try RepositoryFiles.stackTopics()
        let input: [BaselineServiceName: String] = [
            .dumpConsumer: Topics.activityDumps, .profileMerger: Topics.profileMergeRequests, .signalEnricher: Topics.securitySignals,
        ]
        let autoscalers = objects("HorizontalPodAutoscaler")
        #expect(!autoscalers.isEmpty)
        for hpa in autoscalers {
            let target = try #require(hpa["spec"]["scaleTargetRef"]["name"].string.flatMap(BaselineServiceName.init(rawValue:)))
            let max = try #require(hpa["spec"]["maxReplicas"].string.flatMap(Int.init))
            if let topic = input[target] {
                #expect(max <= partitions[topic] ?? 0, "\(target): instances beyond the partitions of \(topic) only stand by")
            }
        }
    }

    @Test func servicesForTheAPIAndForMetrics() {
        let services = objects("Service")
        let api = services.first { $0["metadata"]["name"].string == "profile-api" }
        #expect(api?["spec"]["selector"]["app.kubernetes.io/name"].string == "profile-api")
        #expect(api?["spec"]["ports"][0]["targetPort"].string == "http")
        let metrics = services.first { $0["spec"]["selector"]["app.kubernetes.io/part-of"].string == "baseline" }
        #expect(metrics?["spec"]["ports"][0]["targetPort"].string == "http")
    }

    @Test func theTopicJobCreatesTheDocumentedTopics() throws {
        let job = try #require(objects("Job").first)
        let container = job["spec"]["template"]["spec"]["containers"][0]
        let topics = try #require(container["env"].array.first { $0["name"].string == "TOPICS" }?["value"].string)
        #expect(RepositoryFiles.topicList(topics) == (try RepositoryFiles.stackTopics()))
        #expect(container["image"].string == compose["kafka"]?["image"].string)
        #expect(container["args"][0].string?.contains("--if-not-exists") == true)
    }

    @Test func theExampleOverlayBuildsOnTheBase() throws {
        let overlay = try RepositoryFiles.yaml("deploy/kubernetes/overlays/example/kustomization.yaml")
        #expect(overlay["resources"].strings.contains("../../base"))
        #expect(overlay["images"].array.contains { $0["name"].string == "baseline" && $0["newName"].exists })
        let generated = Set(kustomization["configMapGenerator"].array.compactMap { $0["name"].string })
        for merge in overlay["configMapGenerator"].array {
            #expect(merge["behavior"].string == "merge" && generated.contains(merge["name"].string ?? ""))
        }
        #expect(Set(overlay["secretGenerator"].array.compactMap { $0["name"].string })
            == ["baseline-database", "baseline-kafka-credentials", "baseline-api-tokens"])
        for replicas in overlay["replicas"].array {
            #expect(replicas["name"].string.flatMap(BaselineServiceName.init(rawValue:)) != nil)
        }
    }
}
