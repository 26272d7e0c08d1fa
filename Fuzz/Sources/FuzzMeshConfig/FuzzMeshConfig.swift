import MeshConfig

/// libFuzzer target: arbitrary bytes as an apply body or a store file.
///
/// Runs what the control plane runs on such input: ``MeshConfigDecoder/decode(utf8:source:limits:)``
/// with the control plane's default limits (which also runs ``MeshValidator``), then
/// ``MeshValidator/warnings(_:)`` on the snapshot of what decoded. Refusing the input is
/// fine; crashing, hanging (libFuzzer's `-timeout`) or ballooning (`-rss_limit_mb`) is not.
///
/// What decodes must also survive the store: ``MeshConfigEncoder`` promises that the decoder
/// reads its YAML (the store's files) and JSON (the admin API's answers) back unchanged, so a
/// resource that is accepted but written differently, or not readable again, would be an
/// apply that breaks the next start. That is checked too, and a difference is a crash here.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMeshConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let resources: [MeshResource]
  do {
    resources = try MeshConfigDecoder.decode(
      utf8: bytes, source: "fuzz.yaml", limits: DecodeLimits())
  } catch {
    // Every refusal must be describable (the admin API and the CLI print it).
    keep(error.description)
    return 0
  }
  keep(MeshValidator.warnings(MeshSnapshot(revision: 1, resources)).map(\.description))
  guard !resources.isEmpty else { return 0 }
  roundTrip(resources, through: "YAML", MeshConfigEncoder.yaml)
  roundTrip(resources, through: "JSON", MeshConfigEncoder.json)
  return 0
}

/// Encodes `resources` with `encode` and checks that decoding the text gives them back.
private func roundTrip(
  _ resources: [MeshResource], through format: String, _ encode: ([MeshResource]) throws -> String
) {
  let text: String
  do {
    text = try encode(resources)
  } catch {
    fatalError("accepted resources do not encode as \(format): \(error)")
  }
  do {
    let again = try MeshConfigDecoder.decode(text, source: "round-trip", limits: DecodeLimits())
    guard again == resources else {
      fatalError("\(format) round trip changed the resources:\n\(text)")
    }
  } catch {
    fatalError("accepted resources, written as \(format), are refused: \(error)\n\(text)")
  }
}

/// Uses `value` opaquely, so that the optimizer cannot drop a computation whose result the
/// target only reads for its side effects (a trap is one).
@inline(never) @_optimize(none)
private func keep<T>(_ value: T) {}
