// swift-tools-version:6.1
import PackageDescription

/// `scripts/setup` lays out `.kafka/lib/librdkafka.so.1` -> the librdkafka 2.16 shipped in the
/// confluent-kafka wheel. Every binary linking BaselineKafka carries this folder as its RUNPATH, so
/// `swift build`, `swift run` and `swift test` load 2.16 (Debian's 2.0.2 cannot talk to Tansu).
let kafkaLibDir = Context.packageDirectory + "/.kafka/lib"

let package = Package(
    name: "baseline",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "dump-consumer", targets: ["dump-consumer"]),
        .executable(name: "profile-merger", targets: ["profile-merger"]),
        .executable(name: "signal-enricher", targets: ["signal-enricher"]),
        .executable(name: "profile-api", targets: ["profile-api"]),
        .executable(name: "baseline", targets: ["baseline"]),
        // For the micro-benchmarks' package (Benchmarks/Package.swift), which uses the pure core.
        .library(name: "BaselineCore", targets: ["BaselineCore"]),
    ],
    // Exact versions (copies of these exist on the project's machines); every other package of the
    // graph is pinned in deploy/package-versions.txt for image builds (deploy/resolve-packages).
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio.git", exact: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", exact: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", exact: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", exact: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", exact: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", exact: "4.5.2"),
        // `baseline bench`: latency percentiles in an HdrHistogram.
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", exact: "0.2.0"),
        // Tests only: parses docker-compose.yml and the Kubernetes manifests.
        .package(url: "https://github.com/jpsim/Yams.git", exact: "6.2.2"),
    ],
    targets: [
        // Pure domain core: activity tree, merge, normalisation, lifecycle model, commonality, matching. No I/O.
        .target(
            name: "BaselineCore",
            dependencies: ["CZlib", .product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/BaselineCore"
        ),
        // The wire contract: topic names, header names, and which message type each topic carries.
        // What the CLI and the services share without the pipeline.
        .target(name: "BaselineWire", dependencies: ["BaselineCore"], path: "Shared/BaselineWire"),
        // zlib, for gzip-compressed dumps (Debian's zlib1g-dev).
        .systemLibrary(name: "CZlib", path: "Shared/CZlib", providers: [.apt(["zlib1g-dev"])]),

        // librdkafka header from Debian's librdkafka-dev.
        .systemLibrary(
            name: "CRdKafka",
            path: "Shared/CRdKafka",
            pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]
        ),
        // Thin Swift layer over librdkafka: producer, consumer-group AsyncSequence, admin.
        .target(
            name: "BaselineKafka",
            dependencies: [
                "CRdKafka",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/BaselineKafka",
            linkerSettings: [.unsafeFlags(["-Xlinker", "-rpath", "-Xlinker", kafkaLibDir])]
        ),
        // PostgreSQL access: pool, migrations, typed stores.
        .target(
            name: "BaselinePostgres",
            dependencies: [
                "BaselineCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Shared/BaselinePostgres"
        ),
        // What every service shares: configuration, logging, metrics/health endpoint, lifecycle.
        .target(
            name: "BaselineService",
            dependencies: [
                "BaselineKafka",
                "BaselinePostgres",
                "BaselinePipeline",
                "BaselineWire",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ],
            path: "Shared/BaselineService"
        ),
        // The stages of the pipeline (ingest, merge, enrich) wired from core + Kafka + PostgreSQL.
        .target(
            name: "BaselinePipeline",
            dependencies: [
                "BaselineCore", "BaselineKafka", "BaselinePostgres", "BaselineWire",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/BaselinePipeline"
        ),

        // Activity snapshots of a live Linux host read from /proc (I/O, so outside the pure core).
        .target(name: "BaselineSnapshot", dependencies: ["BaselineCore"], path: "Shared/BaselineSnapshot"),

        // profile-api: the HTTP API, its OpenAPI document and the Security Profiles page, over PostgreSQL.
        .target(
            name: "BaselineAPI",
            dependencies: [
                "BaselineCore", "BaselinePostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Shared/BaselineAPI",
            exclude: ["Web"]  // embedded by scripts/embed-assets into Generated/WebAssets.swift
        ),

        .executableTarget(
            name: "profile-api",
            dependencies: [
                "BaselineService", "BaselineAPI", "BaselinePostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/profile-api"
        ),
        .executableTarget(name: "dump-consumer", dependencies: ["BaselineService", "BaselinePipeline", "BaselineWire"], path: "Services/dump-consumer"),
        .executableTarget(name: "profile-merger", dependencies: ["BaselineService", "BaselinePipeline", "BaselineWire"], path: "Services/profile-merger"),
        .executableTarget(name: "signal-enricher", dependencies: ["BaselineService", "BaselinePipeline", "BaselineWire"], path: "Services/signal-enricher"),
        // Feeding a generated fleet through a running pipeline and tallying what comes out (`baseline evaluate`).
        .target(
            name: "BaselineEvaluation",
            dependencies: [
                "BaselineCore", "BaselineKafka", "BaselineWire",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/BaselineEvaluation"
        ),
        .executableTarget(
            name: "baseline",
            dependencies: [
                "BaselineCore", "BaselineEvaluation", "BaselineKafka", "BaselinePostgres", "BaselineSnapshot", "BaselineWire",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Services/baseline"
        ),

        .testTarget(
            name: "BaselineCoreTests",
            dependencies: ["BaselineCore", "CZlib"],
            path: "Tests/BaselineCoreTests",
            resources: [.copy("Fixtures")]  // SecDump fixtures serialised by the protobuf runtime
        ),
        // The deployment files (compose, Kubernetes, Dockerfile, docs) against the configuration registry.
        .testTarget(
            name: "BaselineDeployTests",
            dependencies: ["BaselineService", "BaselineWire", .product(name: "Yams", package: "Yams")],
            path: "Tests/BaselineDeployTests"
        ),
        .testTarget(name: "BaselineWireTests", dependencies: ["BaselineWire", "BaselineCore"], path: "Tests/BaselineWireTests"),
        // /proc parsers on captured text, and snapshots of process trees the tests start.
        .testTarget(
            name: "BaselineSnapshotTests",
            dependencies: ["BaselineSnapshot", "BaselineCore"],
            path: "Tests/BaselineSnapshotTests",
            resources: [.copy("Fixtures")]  // a fake /proc tree of captured text
        ),
        .testTarget(
            name: "BaselineIntegrationTests",
            dependencies: ["BaselineCore", "BaselineKafka", "BaselinePostgres", "BaselinePipeline", "BaselineService", "BaselineAPI",
                           "BaselineSnapshot", "BaselineWire", "BaselineEvaluation", .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/BaselineIntegrationTests"
        ),
    ]
)
