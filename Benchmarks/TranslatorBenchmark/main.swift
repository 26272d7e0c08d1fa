import Foundation
import MallocInterposerSwift
import MeshConfig
import Translator
import XDSCache

/// Translation benchmark: N services, each with a ServiceEntry (two endpoints), a
/// DestinationRule (two subsets) and a VirtualService mirroring 12.5 % to v2, translated
/// to Envoy resources and packed into a snapshot (content hashes included), as the control
/// plane does on every revision. Prints one JSON line per N: the median and best of 5 runs.
func mesh(services: Int) -> MeshSnapshot {
  var resources: [MeshResource] = []
  for i in 0..<services {
    let host = "svc\(i).bench.local"
    resources.append(
      MeshResource(
        metadata: ObjectMeta(name: "svc\(i)"),
        spec: .serviceEntry(
          ServiceEntry(
            hosts: [host],
            ports: [ServicePort(number: 8000 + i % 50, name: "http", protocol: "HTTP")],
            resolution: .static,
            endpoints: [
              WorkloadEntry(address: "10.\(i / 250 % 250).\(i % 250).1", labels: ["version": "v1"]),
              WorkloadEntry(address: "10.\(i / 250 % 250).\(i % 250).2", labels: ["version": "v2"]),
            ]))))
    resources.append(
      MeshResource(
        metadata: ObjectMeta(name: "svc\(i)"),
        spec: .destinationRule(
          DestinationRule(
            host: host,
            subsets: [
              Subset(name: "v1", labels: ["version": "v1"]),
              Subset(name: "v2", labels: ["version": "v2"]),
            ]))))
    resources.append(
      MeshResource(
        metadata: ObjectMeta(name: "svc\(i)"),
        spec: .virtualService(
          VirtualService(
            hosts: [host],
            http: [
              HTTPRoute(
                route: [
                  HTTPRouteDestination(
                    destination: Destination(host: host, subset: "v1"), weight: 100)
                ],
                mirror: Destination(host: host, subset: "v2"),
                mirrorPercentage: Percent(value: 12.5))
            ]))))
  }
  return MeshSnapshot(revision: 1, resources)
}

let sizes = CommandLine.arguments.dropFirst().compactMap { Int($0) }
for services in sizes.isEmpty ? [100, 1_000, 10_000] : sizes {
  let input = mesh(services: services)
  var samples: [Double] = []
  var resources = 0
  for _ in 0..<5 {
    let start = ContinuousClock.now
    let snapshot = try await TranslationSnapshot.build(Translator.translate(input), revision: 1)
      .resourceCount
    samples.append((ContinuousClock.now - start) / .milliseconds(1))
    resources = snapshot
  }
  samples.sort()
  // One more run, counted: timing runs stay free of the interposer's (small) cost.
  MallocInterposerSwift.initialize()
  MallocInterposerSwift.reset()
  MallocInterposerSwift.hook()
  let counted = try await TranslationSnapshot.build(Translator.translate(input), revision: 1)
    .resourceCount
  MallocInterposerSwift.unhook()
  let stats = MallocInterposerSwift.getStatistics()
  precondition(counted == resources)
  let preloaded = stats.mallocCount > 0
  let mallocs = preloaded ? String(stats.mallocCount) : "null"
  let bytes = preloaded ? String(stats.mallocBytesCount) : "null"
  print(
    "{\"services\": \(services), \"envoy_resources\": \(resources), \"median_ms\": \(String(format: "%.1f", samples[2])), "
      + "\"best_ms\": \(String(format: "%.1f", samples[0])), \"mallocs\": \(mallocs), \"malloc_bytes\": \(bytes)}"
  )
}
