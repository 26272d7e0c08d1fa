// swift-tools-version:6.1
import PackageDescription

let strict: [SwiftSetting] = [
  .swiftLanguageMode(.v6),
  .enableUpcomingFeature("ExistentialAny"),
  .enableUpcomingFeature("InternalImportsByDefault"),
  .enableUpcomingFeature("MemberImportVisibility"),
]

// Shadowplane runs on Linux only: the config store watches its directory with inotify, and
// the atomic writes, signal masks and the demo use Glibc. No Apple platform is declared
// because none is built or tested (DirectoryWatcher.swift stops a build elsewhere with a
// clear error).
let package = Package(
  name: "shadowplane",
  products: [
    .executable(name: "shadowplane", targets: ["shadowplane"]),
    .library(name: "XDS", targets: ["XDS"]),
    .library(name: "XDSCore", targets: ["XDSCore"]),
    .library(name: "XDSClient", targets: ["XDSClient"]),
    .library(name: "EnvoyAPI", targets: ["EnvoyAPI"]),
    // For the fuzz targets in Fuzz/ (a package of their own, built with -sanitize=fuzzer).
    .library(name: "MeshConfig", targets: ["MeshConfig"]),
    .library(name: "Proxy", targets: ["Proxy"]),
    .library(name: "ShadowCompare", targets: ["ShadowCompare"]),
  ],
  dependencies: [
    .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
    .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
    .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
    .package(url: "https://github.com/apple/swift-nio-http2", from: "1.46.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    .package(url: "https://github.com/apple/swift-certificates", from: "1.21.1"),
    .package(url: "https://github.com/apple/swift-asn1", from: "1.7.4"),
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/apple/swift-atomics", from: "1.3.0"),
    .package(url: "https://github.com/ordo-one/malloc-interposer", from: "1.6.1"),
  ],
  targets: [
    .target(
      name: "XDSClient",
      dependencies: [
        "EnvoyAPI", "XDSCore",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict
    ),
    .testTarget(
      name: "XDSClientTests",
      dependencies: [
        "XDSClient", "XDS", "XDSCore", "XDSCache", "EnvoyAPI", "TestSupport",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict
    ),
    .target(
      name: "EnvoyAPI",
      dependencies: [
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
      ],
      swiftSettings: [.swiftLanguageMode(.v6)]
    ),
    .target(
      name: "XDSCore",
      dependencies: ["EnvoyAPI", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
      swiftSettings: strict
    ),
    .target(
      name: "XDSCache",
      dependencies: [
        "XDSCore", "EnvoyAPI",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Crypto", package: "swift-crypto"),
      ],
      swiftSettings: strict
    ),
    .target(
      name: "MeshIdentity",
      dependencies: [
        .product(name: "X509", package: "swift-certificates"),
        .product(name: "Crypto", package: "swift-crypto"),
        .product(name: "SwiftASN1", package: "swift-asn1"),
      ],
      swiftSettings: strict
    ),
    .target(
      name: "AdminAuth",
      dependencies: [
        "MeshIdentity", "XDSCore",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTLS", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "X509", package: "swift-certificates"),
        .product(name: "SwiftASN1", package: "swift-asn1"),
      ],
      swiftSettings: strict
    ),
    .target(
      name: "AdminAPI",
      dependencies: ["XDSCore", "MeshConfig"],
      swiftSettings: strict
    ),
    .target(
      name: "MeshConfig",
      dependencies: ["ShadowCompare", .product(name: "Yams", package: "Yams")],
      swiftSettings: strict
    ),
    .target(
      name: "ConfigStore",
      dependencies: ["MeshConfig", "XDSCore", .product(name: "Logging", package: "swift-log")],
      swiftSettings: strict
    ),
    .target(
      name: "Translator",
      dependencies: [
        "MeshConfig", "EnvoyAPI", "XDSCore", "XDSCache",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      swiftSettings: strict
    ),
    .target(
      name: "XDS",
      dependencies: [
        "EnvoyAPI", "XDSCore", "XDSCache", "ShadowCompare",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
      ],
      swiftSettings: strict
    ),
    .target(
      name: "ControlPlane",
      dependencies: [
        "XDS", "XDSCore", "XDSCache", "EnvoyAPI", "MeshConfig", "ConfigStore", "Translator",
        "AdminAPI", "MeshIdentity", "AdminAuth", "ShadowCompare",
        .product(name: "HummingbirdTLS", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOTLS", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "X509", package: "swift-certificates"),
        .product(name: "SwiftASN1", package: "swift-asn1"),
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Metrics", package: "swift-metrics"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      // The web console, embedded in the binary (no files to install beside it).
      resources: [
        .embedInCode("Console/index.html"), .embedInCode("Console/console.css"),
        .embedInCode("Console/console.js"),
      ],
      swiftSettings: strict
    ),
    .target(
      name: "Proxy",
      dependencies: [
        "XDSClient", "XDSCore", "EnvoyAPI", "AdminAuth", "ShadowCompare",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "HummingbirdTLS", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOHTTP2", package: "swift-nio-http2"),
        .product(name: "NIOHPACK", package: "swift-nio-http2"),
        .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
        .product(name: "Atomics", package: "swift-atomics"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ],
      swiftSettings: strict
    ),
    // Compares a primary response with its shadow, learns noise from a baseline, aggregates
    // and renders a verdict. Pure: no I/O, no clock.
    .target(
      name: "ShadowCompare",
      dependencies: [.product(name: "Crypto", package: "swift-crypto")],
      swiftSettings: strict
    ),
    .target(name: "CSignalMask"),
    .executableTarget(
      name: "TranslatorBenchmark",
      dependencies: [
        "MeshConfig", "Translator", "XDSCache",
        .product(name: "MallocInterposerSwift", package: "malloc-interposer"),
      ],
      path: "Benchmarks/TranslatorBenchmark",
      swiftSettings: strict
    ),
    .executableTarget(
      name: "RateProbe",
      dependencies: [
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ],
      path: "Benchmarks/RateProbe",
      swiftSettings: strict
    ),
    .executableTarget(
      name: "XDSLoadGenerator",
      dependencies: [
        "XDSClient", "XDSCore", "EnvoyAPI",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      path: "Benchmarks/XDSLoadGenerator",
      swiftSettings: strict
    ),
    .executableTarget(
      name: "shadowplane",
      dependencies: [
        "ControlPlane", "Proxy", "CSignalMask", "MeshConfig", "XDSCore", "AdminAPI", "MeshIdentity",
        "ShadowCompare",
        .product(name: "AsyncHTTPClient", package: "async-http-client"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        "EnvoyAPI",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict
    ),
    .target(
      name: "TestSupport",
      dependencies: [
        "EnvoyAPI", "XDSCore", "XDSCache",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      path: "Tests/TestSupport",
      swiftSettings: strict
    ),
    .testTarget(
      name: "ControlPlaneTests",
      dependencies: [
        "ShadowCompare",
        "ControlPlane", "AdminAPI", "ConfigStore", "MeshConfig", "XDS", "XDSCore", "XDSCache",
        "TestSupport", "AdminAuth",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "Prometheus", package: "swift-prometheus"),
      ],
      swiftSettings: strict
    ),
    .testTarget(
      name: "XDSCoreTests",
      dependencies: [
        "XDSCore", "EnvoyAPI", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      swiftSettings: strict
    ),
    .testTarget(
      name: "CLITests",
      dependencies: [
        "shadowplane", "AdminAPI", "MeshConfig", "XDSCore", "EnvoyAPI", "ControlPlane", "Proxy",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      swiftSettings: strict
    ),
    .testTarget(
      name: "MeshConfigTests",
      dependencies: ["MeshConfig"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "TranslatorTests",
      dependencies: [
        "Translator", "MeshConfig", "EnvoyAPI", "XDSCore", "XDSCache",
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      exclude: ["Golden"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "ShadowCompareTests",
      dependencies: ["ShadowCompare"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "ConfigStoreTests",
      dependencies: ["ConfigStore", "MeshConfig"],
      swiftSettings: strict
    ),
    .testTarget(
      name: "ProxyTests",
      dependencies: [
        "Proxy", "EnvoyAPI", "XDSClient", "XDSCore", "AdminAuth", "ShadowCompare",
        .product(name: "Atomics", package: "swift-atomics"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "NIOHTTP2", package: "swift-nio-http2"),
        .product(name: "NIOHPACK", package: "swift-nio-http2"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdTesting", package: "hummingbird"),
        .product(name: "Logging", package: "swift-log"),
      ],
      swiftSettings: strict
    ),
    .testTarget(
      name: "XDSTests",
      dependencies: [
        "XDS", "XDSCore", "XDSCache", "EnvoyAPI", "TestSupport", "ShadowCompare",
        .product(name: "GRPCCore", package: "grpc-swift-2"),
        .product(name: "GRPCInProcessTransport", package: "grpc-swift-2"),
      ],
      swiftSettings: strict
    ),
  ]
)
