import EnvoyAPI

// The proto names of the enum values the cluster table shows (`STRICT_DNS`, `ROUND_ROBIN`),
// as proto3 JSON and Envoy's docs write them. SwiftProtobuf keeps its own name table
// package-internal, hence these switches; they are exhaustive, so a value added to the
// protos fails the build here rather than showing a wrong name. An unknown value shows its
// number, as proto3 JSON writes it.

extension Envoy_Config_Cluster_V3_Cluster.DiscoveryType {
  /// `STATIC`, `STRICT_DNS`, `LOGICAL_DNS`, `EDS`, `ORIGINAL_DST`.
  var protoName: String {
    switch self {
    case .static: "STATIC"
    case .strictDns: "STRICT_DNS"
    case .logicalDns: "LOGICAL_DNS"
    case .eds: "EDS"
    case .originalDst: "ORIGINAL_DST"
    case .UNRECOGNIZED(let number): String(number)
    }
  }
}

extension Envoy_Config_Cluster_V3_Cluster.LbPolicy {
  /// `ROUND_ROBIN`, `LEAST_REQUEST`, `RING_HASH`, ...
  var protoName: String {
    switch self {
    case .roundRobin: "ROUND_ROBIN"
    case .leastRequest: "LEAST_REQUEST"
    case .ringHash: "RING_HASH"
    case .random: "RANDOM"
    case .maglev: "MAGLEV"
    case .clusterProvided: "CLUSTER_PROVIDED"
    case .loadBalancingPolicyConfig: "LOAD_BALANCING_POLICY_CONFIG"
    case .UNRECOGNIZED(let number): String(number)
    }
  }
}
