// swift-tools-version:6.0
import PackageDescription

// libFuzzer harnesses for natsd's untrusted-input surfaces. A separate package so that the main
// package never builds or links fuzzing code; scripts/fuzz.sh builds it with
// `--sanitize=address -Xswiftc -sanitize=fuzzer` into its own scratch path (.build-fuzz).
//
// Each harness is an executable whose Swift `main` enters libFuzzer through LLVMFuzzerRunDriver.
// This directory is deliberately not named after the repository: SwiftPM derives a path package's
// identity from its directory name, and the root package must not share one with this package.

let harnessDependencies: [Target.Dependency] = [
    "FuzzSupport",
    .product(name: "NATSFuzzTargets", package: "natsd"),
]

let package = Package(
    name: "NATSFuzzHarnesses",
    platforms: [.macOS(.v14)],
    dependencies: [
        // Named explicitly: a path package's identity otherwise comes from the checkout's directory name.
        .package(name: "natsd", path: "../.."),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    ],
    targets: [
        .target(name: "CLibFuzzer"),
        // A throwaway certificate made with OpenSSL at harness start (TLSHandshakeFuzzer).
        .target(name: "CTLSFuzzIdentity", linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]),
        .target(name: "FuzzSupport", dependencies: ["CLibFuzzer", .product(name: "NATSFuzzTargets", package: "natsd")]),
        .executableTarget(name: "ClientParserFuzzer", dependencies: harnessDependencies),
        .executableTarget(name: "RouteParserFuzzer", dependencies: harnessDependencies),
        .executableTarget(name: "ConnectInfoFuzzer", dependencies: harnessDependencies),
        .executableTarget(name: "ConfigFuzzer", dependencies: harnessDependencies),
        .executableTarget(name: "TLSHandshakeFuzzer", dependencies: harnessDependencies + ["CTLSFuzzIdentity"]),
        .executableTarget(
            name: "MonitoringFuzzer",
            dependencies: harnessDependencies + [.product(name: "Logging", package: "swift-log")]
        ),
        .executableTarget(name: "MonitorResponseFuzzer", dependencies: harnessDependencies),
    ]
)
