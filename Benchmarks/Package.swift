// swift-tools-version:6.1
import PackageDescription

/// Micro-benchmarks of Baseline's pure core with ordo-one/benchmark (time, CPU and allocation
/// counts per operation): `cd Benchmarks && swift package benchmark` (docs/performance.md).
/// A package of its own, as the benchmark package's documentation suggests for keeping its
/// dependencies out of the main package: `swift build` of Baseline (what CI runs) never builds it.
let package = Package(
    name: "baseline-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, so the product reference holds whatever the checkout's directory is called.
        .package(name: "baseline", path: ".."),
        // The malloc interposer gives the allocation counts; naming the trait turns the package's
        // other default trait (a Swift runtime interposer not among the local package copies) off.
        .package(url: "https://github.com/ordo-one/benchmark", exact: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "CoreBenchmarks",
            dependencies: [
                .product(name: "BaselineCore", package: "baseline"),
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/CoreBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
