// swift-tools-version:6.0
import PackageDescription

/// Settings shared by every Swift target.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// The per-message modules drop runtime exclusivity checks and overflow/bounds traps in release builds.
/// Measured with callgrind on 300 000 pub→sub messages: 747 M → 530 M instructions (-29 %); most of
/// it was swift_beginAccess on the parser, sublist and outbound state. Debug builds and tests keep
/// every check.
let hotPathSettings: [SwiftSetting] = swiftSettings + [
    .unsafeFlags(["-Ounchecked", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "natsd",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "natsd", targets: ["natsd"]),
        .executable(name: "bench", targets: ["bench"]),
        // The modules that read untrusted bytes, for the libFuzzer harnesses of Fuzz/Harnesses (a separate
        // package that depends on this one; scripts/fuzz.sh builds it). A plain `swift build` builds nothing more.
        .library(
            name: "NATSFuzzTargets",
            targets: ["NATSProtocol", "NATSJSON", "NATSConfig", "NATSServer", "NATSMonitoring"]
        ),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Ed25519 verification of nkey users' nonce signatures (NATSAuth).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        // The /metrics endpoint's Prometheus text format (NATSMonitoring only).
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // MARK: - C shims
        .target(
            name: "CLibUV",
            path: "CLibUV",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.linkedLibrary("uv")]
        ),
        // OpenSSL (Debian's libssl-dev) behind memory-style BIOs: TLS for clients and routes.
        .target(
            name: "CTLS",
            path: "Sources/CTLS",
            linkerSettings: [.linkedLibrary("ssl"), .linkedLibrary("crypto")]
        ),
        .systemLibrary(name: "CCrypt", path: "Sources/CCrypt"),
        .systemLibrary(name: "CHTTPParser", path: "Sources/CHTTPParser"),

        // MARK: - Layers
        // Hot path (-Ounchecked in release): the per-message code only.
        .target(name: "UVLoop", dependencies: ["CLibUV", "CTLS"], swiftSettings: hotPathSettings),
        .target(name: "NATSProtocol", swiftSettings: hotPathSettings),
        .target(name: "NATSSublist", dependencies: ["NATSProtocol", "UVLoop"], swiftSettings: hotPathSettings),
        // Checked code: everything that reads operator or peer input outside the per-message path
        // (CONNECT/INFO JSON, config and flags, credentials, logging, monitoring HTTP).
        .target(name: "NATSJSON", dependencies: ["NATSProtocol"], swiftSettings: swiftSettings),
        .target(name: "NATSConfig", swiftSettings: swiftSettings),
        .target(
            name: "NATSAuth",
            dependencies: ["NATSConfig", "CCrypt", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "NATSLogging",
            dependencies: ["NATSConfig", .product(name: "Logging", package: "swift-log")],
            swiftSettings: swiftSettings
        ),
        // The server core: client and route connections, publish and forward, cluster membership.
        .target(
            name: "NATSServer",
            dependencies: [
                "UVLoop", "NATSProtocol", "NATSSublist", "NATSJSON", "NATSConfig", "NATSAuth", "NATSLogging",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: hotPathSettings
        ),
        .target(
            name: "NATSMonitoring",
            dependencies: [
                "NATSServer", "NATSSublist", "UVLoop", "NATSJSON", "NATSConfig", "CHTTPParser",
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "natsd",
            dependencies: ["NATSServer", "NATSMonitoring", "NATSConfig", "NATSLogging"],
            swiftSettings: swiftSettings
        ),

        // MARK: - Benchmarks
        .executableTarget(
            name: "bench",
            dependencies: ["CTLS"],
            path: "Benchmarks/bench",
            exclude: ["Tests"],
            swiftSettings: swiftSettings
        ),

        // MARK: - Tests
        .testTarget(name: "UVLoopTests", dependencies: ["UVLoop"], swiftSettings: swiftSettings),
        .testTarget(name: "NATSProtocolTests", dependencies: ["NATSProtocol"], swiftSettings: swiftSettings),
        .testTarget(name: "NATSSublistTests", dependencies: ["NATSSublist"], swiftSettings: swiftSettings),
        .testTarget(name: "NATSJSONTests", dependencies: ["NATSJSON"], swiftSettings: swiftSettings),
        .testTarget(name: "NATSConfigTests", dependencies: ["NATSConfig"], swiftSettings: swiftSettings),
        .testTarget(name: "NATSAuthTests", dependencies: ["NATSAuth"], swiftSettings: swiftSettings),
        .testTarget(name: "NATSLoggingTests", dependencies: ["NATSLogging"], swiftSettings: swiftSettings),
        .testTarget(
            name: "NATSServerTests",
            dependencies: [
                "NATSServer", "NATSConfig", "NATSAuth", "NATSJSON", "NATSProtocol",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "NATSMonitoringTests",
            dependencies: [
                "NATSMonitoring", "NATSServer", "NATSConfig", "UVLoop", "CLibUV",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BenchTests",
            dependencies: ["bench"],
            path: "Benchmarks/bench/Tests",
            swiftSettings: swiftSettings + [.define("BENCH_TESTS")]
        ),
    ]
)
