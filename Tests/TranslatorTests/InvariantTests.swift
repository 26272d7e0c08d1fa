import EnvoyAPI
import MeshConfig
import SwiftProtobuf
import Testing
import XDSCache
import XDSCore

@testable import Translator

/// Properties every translation must have, checked over generated meshes (seeded, so a
/// failure reproduces), including destinations that name missing hosts and subsets.
@Suite("Translator invariants over generated configs")
struct InvariantTests {
  /// A small deterministic generator (SplitMix64).
  struct Generator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
      state &+= 0x9E37_79B9_7F4A_7C15
      var z = state
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
  }

  static func mesh(seed: UInt64) -> [MeshResource] {
    var rng = Generator(state: seed)
    let serviceCount = Int.random(in: 1...12, using: &rng)
    let hosts = (0..<serviceCount).map { "svc\($0).mesh.local" }
    var resources: [MeshResource] = []
    for (i, host) in hosts.enumerated() {
      let ports = (0..<Int.random(in: 1...2, using: &rng)).map {
        ServicePort(number: 8000 + $0 * 10 + (i % 3), name: "http\($0)", protocol: "HTTP")
      }
      let endpoints = (0..<Int.random(in: 0...4, using: &rng)).map { e in
        WorkloadEntry(
          address: "10.0.\(i).\(e + 1)",
          labels: ["version": Bool.random(using: &rng) ? "v1" : "v2"],
          locality: ["", "eu/a", "us/b/c"].randomElement(using: &rng)!,
          weight: Int.random(in: 1...5, using: &rng))
      }
      resources.append(
        MeshResource(
          metadata: ObjectMeta(name: "se\(i)"),
          spec: .serviceEntry(
            ServiceEntry(hosts: [host], ports: ports, resolution: .static, endpoints: endpoints))))
      if Bool.random(using: &rng) {
        resources.append(
          MeshResource(
            metadata: ObjectMeta(name: "dr\(i)"),
            spec: .destinationRule(
              DestinationRule(
                host: host,
                trafficPolicy: TrafficPolicy(
                  loadBalancer: .init(
                    simple: [.random, .leastRequest, .roundRobin].randomElement(using: &rng))),
                subsets: [
                  Subset(name: "v1", labels: ["version": "v1"]),
                  Subset(name: "v2", labels: ["version": "v2"]),
                ]))))
      }
    }
    // VirtualServices, some naming hosts, subsets and ports that do not exist.
    func destination(_ rng: inout Generator) -> Destination {
      let host =
        Int.random(in: 0..<10, using: &rng) == 0
        ? "missing.mesh.local" : hosts.randomElement(using: &rng)!
      let subset = [nil, "v1", "v2", "nope"].randomElement(using: &rng)!
      let port: Destination.PortSelector? =
        Bool.random(using: &rng)
        ? nil : .init(number: [8000, 8010, 9999].randomElement(using: &rng)!)
      return Destination(host: host, subset: subset, port: port)
    }
    for (i, host) in hosts.enumerated() where Bool.random(using: &rng) {
      var rules: [HTTPRoute] = []
      for r in 0..<Int.random(in: 1...3, using: &rng) {
        let split = Int.random(in: 0...100, using: &rng)
        let route: [HTTPRouteDestination] =
          Bool.random(using: &rng)
          ? [HTTPRouteDestination(destination: destination(&rng), weight: 100)]
          : [
            HTTPRouteDestination(destination: destination(&rng), weight: split),
            HTTPRouteDestination(destination: destination(&rng), weight: 100 - split),
          ]
        var rule = HTTPRoute(
          name: Bool.random(using: &rng) ? "rule\(r)" : nil,
          match: Bool.random(using: &rng) ? [HTTPMatchRequest(uri: .prefix("/p\(r)"))] : nil,
          route: route)
        switch Int.random(in: 0...3, using: &rng) {
        case 0:
          rule.mirror = destination(&rng)
          rule.mirrorPercentage = Percent(value: Double.random(in: 0...100, using: &rng))
        case 1: rule.mirror = destination(&rng)
        case 2:
          rule.mirrors = [
            HTTPMirrorPolicy(destination: destination(&rng), percentage: Percent(value: 12.5)),
            HTTPMirrorPolicy(destination: destination(&rng)),
          ]
        default: break
        }
        rules.append(rule)
      }
      resources.append(
        MeshResource(
          metadata: ObjectMeta(name: "vs\(i)"),
          spec: .virtualService(VirtualService(hosts: [host], http: rules))))
    }
    return resources
  }

  @Test(arguments: Array(UInt64(1)...UInt64(60)))
  func invariantsHold(seed: UInt64) throws {
    let resources = Self.mesh(seed: seed)
    let out = Translator.translate(MeshSnapshot(resources))
    let clusterNames = out.clusters.map(\.name)
    #expect(Set(clusterNames).count == clusterNames.count, "duplicate cluster names")
    #expect(
      Set(out.endpoints.map(\.clusterName)).count == out.endpoints.count,
      "duplicate load assignments")
    let listenerNames = (out.listeners + out.apiListeners).map(\.name)
    #expect(Set(listenerNames).count == listenerNames.count, "duplicate listeners")
    #expect(Set(out.routes.map(\.name)).count == out.routes.count, "duplicate route configurations")
    let clusters = Set(clusterNames)
    let assignments = Set(out.endpoints.map(\.clusterName))
    for cluster in out.clusters where cluster.type == .eds {
      #expect(
        assignments.contains(cluster.name), "EDS cluster \(cluster.name) has no load assignment")
    }
    for name in assignments {
      #expect(clusters.contains(name), "load assignment for unknown cluster \(name)")
    }
    for config in out.routes {
      for host in config.virtualHosts {
        for route in host.routes {
          var named: [String] = []
          switch route.route.clusterSpecifier {
          case .cluster(let name): named.append(name)
          case .weightedClusters(let weighted):
            named += weighted.clusters.map(\.name)
            #expect(weighted.clusters.allSatisfy { $0.weight.value > 0 })
            #expect(weighted.clusters.reduce(0) { $0 + $1.weight.value } == 100)
          default: Issue.record("route \(route.name) has no cluster")
          }
          named += route.route.requestMirrorPolicies.map(\.cluster)
          for name in named {
            #expect(
              clusters.contains(name),
              "route \(route.name) in \(host.name) names unknown cluster \(name)")
          }
          for policy in route.route.requestMirrorPolicies {
            let fraction = policy.runtimeFraction.defaultValue
            let denominator: UInt32 =
              [.hundred: 100, .tenThousand: 10_000, .million: 1_000_000][fraction.denominator] ?? 0
            #expect(fraction.numerator <= denominator)
            #expect(policy.runtimeFraction.runtimeKey.hasPrefix("mirror.default.vs"))
          }
        }
      }
    }
    for listener in out.listeners {
      #expect(out.routes.contains { $0.name == String(listener.address.socketAddress.portValue) })
    }
    for assignment in out.endpoints {
      #expect(assignment.endpoints.allSatisfy { $0.loadBalancingWeight.value > 0 })
    }
  }

  @Test(arguments: Array(UInt64(100)...UInt64(120)))
  func outputIsIndependentOfInputOrder(seed: UInt64) {
    let resources = Self.mesh(seed: seed)
    var rng = Generator(state: seed ^ 0xABCDEF)
    var shuffled = resources.shuffled(using: &rng)
    // Endpoint order inside a ServiceEntry does not matter either.
    for index in shuffled.indices {
      if case .serviceEntry(var entry) = shuffled[index].spec {
        entry.endpoints = entry.endpoints?.shuffled(using: &rng)
        shuffled[index].spec = .serviceEntry(entry)
      }
    }
    #expect(
      Translator.translate(MeshSnapshot(resources)) == Translator.translate(MeshSnapshot(shuffled)))
  }
}
