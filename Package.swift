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
    ],
    dependencies: [
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // Pure domain core: activity tree, merge, normalisation, lifecycle model, commonality, matching. No I/O.
        .target(
            name: "BaselineCore",
            dependencies: ["CZlib", .product(name: "Crypto", package: "swift-crypto")],
            path: "Shared/BaselineCore"
        ),
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
                "BaselineCore", "BaselineKafka", "BaselinePostgres",
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
        .executableTarget(name: "dump-consumer", dependencies: ["BaselineService", "BaselinePipeline"], path: "Services/dump-consumer"),
        .executableTarget(name: "profile-merger", dependencies: ["BaselineService", "BaselinePipeline"], path: "Services/profile-merger"),
        .executableTarget(name: "signal-enricher", dependencies: ["BaselineService", "BaselinePipeline"], path: "Services/signal-enricher"),
        .executableTarget(
            name: "baseline",
            dependencies: [
                "BaselineCore", "BaselineKafka", "BaselinePipeline", "BaselinePostgres", "BaselineSnapshot",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Services/baseline"
        ),

        .testTarget(
            name: "BaselineCoreTests",
            dependencies: ["BaselineCore", "CZlib"],
            path: "Tests/BaselineCoreTests",
            resources: [.copy("Fixtures")]  // SecDump fixtures serialised by the protobuf runtime
        ),
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
                           "BaselineSnapshot", .product(name: "HummingbirdTesting", package: "hummingbird")],
            path: "Tests/BaselineIntegrationTests"
        ),
    ]
)
