import BaselineService
import Foundation
import Testing

/// deploy/Dockerfile and what it builds from: reproducible versions, a small context, one librdkafka.
@Suite struct ImageBuildTests {
    @Test func theBuildContextLeavesLocalStateOut() throws {
        let ignored = Set(try RepositoryFiles.text(".dockerignore").split(separator: "\n").map {
            $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty && !$0.hasPrefix("#") })
        for path in [".git", ".build", ".kafka", ".venv", ".data", "Package.resolved", "deploy/kubernetes", ".env"] {
            #expect(ignored.contains(path), ".dockerignore must leave out \(path)")
        }
    }

    /// An overlay's secrets/ lives under deploy/kubernetes: the build copies named files of deploy/,
    /// never the folder, so secrets reach no layer even if .dockerignore is changed.
    @Test func theBuildCopiesNoSecretsFromDeploy() throws {
        let dockerfile = try RepositoryFiles.text("deploy/Dockerfile")
        for copy in dockerfile.matches(of: /(?m)^COPY (?!--from)(.+)$/) {
            let sources = copy.1.split(separator: " ").dropLast()
            for source in sources where source.hasPrefix("deploy") {
                #expect(source != "deploy/" && source != "deploy" && !source.hasPrefix("deploy/kubernetes"),
                        "COPY \(copy.1) brings deploy/kubernetes (overlay secrets) into the build")
            }
        }
        let gitignored = try RepositoryFiles.text(".gitignore").split(separator: "\n")
        #expect(gitignored.contains(".env") && gitignored.contains("deploy/kubernetes/overlays/*/secrets/"))
    }

    /// The wheel's librdkafka carries a hashed soname (librdkafka-<hash>.so.1); ldconfig indexes
    /// sonames, so without the rename the binaries' librdkafka.so.1 is "not found" at run time.
    @Test func theWheelsLibrdkafkaGetsTheSonameTheBinariesNeed() throws {
        let dockerfile = try RepositoryFiles.text("deploy/Dockerfile")
        let build = try #require(dockerfile.components(separatedBy: "\nFROM ").dropFirst().first)
        #expect(build.contains("patchelf --set-soname librdkafka.so.1 /out/lib/librdkafka.so.1"))
        #expect(build.contains("readelf -d /out/lib/librdkafka.so.1 | grep -q 'Library soname: \\[librdkafka.so.1\\]'"),
                "the build checks the soname it set")
        #expect(build.contains("patchelf") && build.firstMatch(of: /apt-get install[^\n]*patchelf/) != nil, "patchelf is installed")
    }

    @Test func theRuntimeGetsTheLibrdkafkaOfScriptsSetupAndNoOther() throws {
        let dockerfile = try RepositoryFiles.text("deploy/Dockerfile")
        let setup = try RepositoryFiles.text("scripts/setup")
        let version = try #require(setup.firstMatch(of: /confluent-kafka==([0-9.]+)/)?.1)
        #expect(dockerfile.contains("ARG CONFLUENT_KAFKA_VERSION=\(version)"))
        let stages = dockerfile.components(separatedBy: "\nFROM ")
        #expect(stages.count == 3, "a build stage and a runtime stage")
        let runtime = try #require(stages.last)
        #expect(!runtime.contains("librdkafka1") && !runtime.contains("librdkafka-dev"), "no Debian librdkafka in the runtime")
        #expect(dockerfile.firstMatch(of: /(?m)^ENV .*LD_LIBRARY_PATH/) == nil, "no library path overriding the linker's choice")
        #expect(runtime.contains("COPY --from=build /out/lib/librdkafka.so.1 /usr/local/lib/librdkafka.so.1"))
        #expect(dockerfile.contains("deploy/resolve-packages") && dockerfile.contains("swift build -c release --force-resolved-versions"))
        #expect(!dockerfile.contains("COPY . ."), "copy what the build needs, not the context")
    }

    @Test func imageEnvironmentIsConfigurationEveryServiceReads() throws {
        let dockerfile = try RepositoryFiles.text("deploy/Dockerfile")
        for match in dockerfile.matches(of: /(?m)^ENV (BASELINE_[A-Z_]+)=/) {
            for service in BaselineServiceName.allCases {
                #expect(ConfigurationRegistry.variable(String(match.1), for: service) != nil, "\(match.1) is not a setting of \(service)")
            }
        }
    }

    /// Every package of the resolved graph is pinned for image builds at the version this machine
    /// resolved, and Package.swift pins its direct dependencies exactly.
    @Test func dependencyVersionsArePinned() throws {
        let listed = try RepositoryFiles.text("deploy/package-versions.txt").split(separator: "\n")
            .filter { !$0.hasPrefix("#") && !$0.isEmpty }
            .map { $0.split(separator: " ").map(String.init) }
        let pinned = Dictionary(uniqueKeysWithValues: listed.map { (identity($0[0]), $0[1]) })
        let manifest = try RepositoryFiles.text("Package.swift")
        #expect(!manifest.contains("from:") && !manifest.contains("..<"), "Package.swift pins exact versions")
        for match in manifest.matches(of: /\.package\(url: "([^"]+)", exact: "([^"]+)"\)/) {
            #expect(pinned[identity(String(match.1))] == String(match.2), "\(match.1): Package.swift and deploy/package-versions.txt differ")
        }
        let resolvedText = try RepositoryFiles.text("Package.resolved")
        let resolved = try JSONSerialization.jsonObject(with: Data(resolvedText.utf8)) as? [String: Any]
        let pins = (resolved?["pins"] as? [[String: Any]]) ?? []
        #expect(!pins.isEmpty)
        for pin in pins {
            let location = pin["location"] as? String ?? ""
            let version = (pin["state"] as? [String: Any])?["version"] as? String
            #expect(pinned[identity(location)] == version,
                    "\(location) resolved to \(version ?? "?"): refresh with deploy/resolve-packages --list > deploy/package-versions.txt")
        }
        #expect(pins.count == pinned.count, "deploy/package-versions.txt lists packages the graph no longer has")
    }

    func identity(_ url: String) -> String {
        (url.split(separator: "/").last.map(String.init) ?? url).replacingOccurrences(of: ".git", with: "").lowercased()
    }
}
