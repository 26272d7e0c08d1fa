// swift-tools-version:6.1
// libFuzzer targets for Shadowplane (issue 12, "Fuzzing"). A package of its own so that the
// root package's `swift build` and `swift test` never see them: each is an executable without
// `main` (libFuzzer supplies it), which links only with `-sanitize=fuzzer`. Built and run by
// `scripts/fuzz`; see Fuzz/README.md.
import PackageDescription

// libFuzzer calls `LLVMFuzzerTestOneInput` and owns `main`: no top-level code.
let fuzzTarget: [SwiftSetting] = [
  .swiftLanguageMode(.v6),
  .enableUpcomingFeature("ExistentialAny"),
  .unsafeFlags(["-parse-as-library"]),
]

let package = Package(
  name: "shadowplane-fuzz",
  platforms: [.macOS(.v15)],
  dependencies: [
    .package(name: "shadowplane", path: ".."),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    .executableTarget(
      name: "FuzzMeshConfig",
      dependencies: [.product(name: "MeshConfig", package: "shadowplane")],
      swiftSettings: fuzzTarget
    ),
    .executableTarget(
      name: "FuzzRuntime",
      dependencies: [
        .product(name: "XDSCore", package: "shadowplane"),
        .product(name: "EnvoyAPI", package: "shadowplane"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      swiftSettings: fuzzTarget
    ),
    .executableTarget(
      name: "FuzzXDSResponse",
      dependencies: [
        .product(name: "Proxy", package: "shadowplane"),
        .product(name: "XDSClient", package: "shadowplane"),
        .product(name: "XDSCore", package: "shadowplane"),
        .product(name: "EnvoyAPI", package: "shadowplane"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      swiftSettings: fuzzTarget
    ),
    .executableTarget(
      name: "FuzzShadowCompare",
      dependencies: [.product(name: "ShadowCompare", package: "shadowplane")],
      swiftSettings: fuzzTarget
    ),
    // Writes the generated seeds (`scripts/fuzz --seeds`) from its libFuzzer initializer.
    .executableTarget(
      name: "FuzzSeeds",
      dependencies: [
        .product(name: "XDSCore", package: "shadowplane"),
        .product(name: "EnvoyAPI", package: "shadowplane"),
        .product(name: "SwiftProtobuf", package: "swift-protobuf"),
      ],
      swiftSettings: fuzzTarget
    ),
  ]
)
