// swift-tools-version:6.1
import PackageDescription

/// libFuzzer targets for the decoders of outside bytes (docs/reliability.md). Kept apart from the
/// main package: its executables hand `main` to libFuzzer's driver, so they only build with
/// `scripts/fuzz`'s flags:
///   swift build -c debug -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library
/// `Sources/BaselineCore` and `Sources/CZlib` are symlinks to the real sources in ../Shared.
let package = Package(
    name: "baseline-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        .target(
            name: "BaselineCore",
            dependencies: ["CZlib", .product(name: "Crypto", package: "swift-crypto")],
            path: "Sources/BaselineCore"
        ),
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // libFuzzer's driver entry, declared for Swift.
        .target(name: "CFuzzerDriver", path: "Sources/CFuzzerDriver"),
        // Dump bytes: gzip, Baseline JSON, Datadog protobuf JSON and binary protobuf, format sniffed.
        .executableTarget(name: "fuzz-dump", dependencies: ["BaselineCore", "CFuzzerDriver"], path: "Sources/FuzzDump"),
        // Security signal JSON.
        .executableTarget(name: "fuzz-signal", dependencies: ["BaselineCore", "CFuzzerDriver"], path: "Sources/FuzzSignal"),
    ]
)
