// swift-tools-version: 6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

/// A fuzz target: an executable on FuzzSupport and what it fuzzes (see fuzz/run).
func fuzzTarget(_ name: String, _ dependencies: [Target.Dependency]) -> Target {
    .executableTarget(name: name, dependencies: ["FuzzSupport"] + dependencies, swiftSettings: swiftSettings)
}

/// What the gateway's fuzz targets build on.
let gatewayFuzzing: [Target.Dependency] = [
    "Gateway",
    .product(name: "HTTPTypes", package: "swift-http-types"),
    .product(name: "NIOCore", package: "swift-nio"),
]

let package = Package(
    name: "tandem",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tandem", targets: ["tandem"]),
        .library(name: "Engine", targets: ["Engine"]),
        .library(name: "Manifest", targets: ["Manifest"]),
        .library(name: "Placement", targets: ["Placement"]),
        .library(name: "TandemLambdaRuntime", targets: ["TandemLambdaRuntime"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // libcurl, with typed non-variadic wrappers for curl_easy_setopt/getinfo.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // Docker Engine API client over libcurl and the engine's Unix socket.
        .target(
            name: "Engine",
            dependencies: [
                "CCurl",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // tandem.yaml: parse and validate (pure).
        .target(
            name: "Manifest",
            dependencies: [.product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // Mode decision, cost model, explanations (pure).
        .target(
            name: "Placement",
            dependencies: ["Manifest"],
            swiftSettings: swiftSettings
        ),
        // Function mode: environments, the Runtime API, the invoke path.
        .target(
            name: "FunctionMode",
            dependencies: [
                "Engine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Service mode: supervised replicas (pure ServiceState) and the backends that run them.
        .target(
            name: "ServiceMode",
            dependencies: [
                "Engine", "FunctionMode",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The HTTP front door: the Lambda Invoke API and each workload's http routes.
        .target(
            name: "Gateway",
            dependencies: [
                "FunctionMode", "Manifest",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // Durable state in SQLite: invocation ledger, async event queue, dead letters.
        .target(
            name: "Store",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            swiftSettings: swiftSettings
        ),
        // The daemon: places and runs the manifest's workloads, serves the control socket.
        .target(
            name: "Controller",
            dependencies: [
                "Engine", "Manifest", "Placement", "FunctionMode", "ServiceMode", "Gateway", "Store",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command tree; the executable only calls into it.
        .target(
            name: "TandemCLI",
            dependencies: [
                "Engine", "Manifest", "Placement", "Controller", "Gateway",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "tandem",
            dependencies: [
                "TandemCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // A tiny client of the AWS Lambda Runtime API for Swift functions that run
        // in images built FROM scratch: no Foundation networking, no NIO.
        .target(
            name: "TandemLambdaRuntime",
            swiftSettings: swiftSettings
        ),
        // Measurements for the scripts in bench/ (each prints JSON).
        .executableTarget(
            name: "tandem-bench",
            dependencies: [
                "Engine", "FunctionMode", "Gateway",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            path: "Sources/TandemBench",
            swiftSettings: swiftSettings
        ),
        // Example function images (built statically by each image's prebuild).
        .executableTarget(
            name: "echo-function",
            dependencies: ["TandemLambdaRuntime"],
            path: "images/echo-function/Sources",
            swiftSettings: swiftSettings
        ),

        // Fuzz targets (fuzz/run): each is an executable that libFuzzer drives when built
        // with `-sanitize=fuzzer -DTANDEM_FUZZING`; built normally, it replays the input
        // files named on its command line (see Sources/FuzzSupport).
        .target(
            name: "FuzzSupport",
            swiftSettings: swiftSettings
        ),
        fuzzTarget("FuzzManifest", ["Manifest"]),
        fuzzTarget("FuzzLogDemultiplexer", ["Engine"]),
        fuzzTarget("FuzzRuntimeAPI", [
            "FunctionMode",
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
        ]),
        fuzzTarget("FuzzInvokeRequest", gatewayFuzzing),
        fuzzTarget("FuzzHTTPAPIEvent", gatewayFuzzing),
        fuzzTarget("FuzzHTTPAPIResponse", gatewayFuzzing),

        // What the integration tests share: engine availability, test images.
        .target(
            name: "TestSupport",
            dependencies: [
                "Engine", "FunctionMode",
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngineTests",
            dependencies: [
                "TestSupport", "Engine",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ManifestTests",
            dependencies: [
                "Manifest",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlacementTests",
            dependencies: [
                "Placement", "Manifest",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            exclude: ["Golden"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "FunctionModeTests",
            dependencies: [
                "TestSupport",
                "FunctionMode", "Engine",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServiceModeTests",
            dependencies: [
                "TestSupport", "ServiceMode", "FunctionMode", "Engine",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GatewayTests",
            dependencies: [
                "TestSupport",
                "Gateway", "FunctionMode", "Engine",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ControllerTests",
            dependencies: [
                "TestSupport", "Controller", "FunctionMode", "Engine", "Store", "Manifest", "Placement",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TandemLambdaRuntimeTests",
            dependencies: ["TandemLambdaRuntime"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TandemCLITests",
            dependencies: ["TandemCLI"],
            swiftSettings: swiftSettings
        ),
    ],
    swiftLanguageModes: [.v6]
)
