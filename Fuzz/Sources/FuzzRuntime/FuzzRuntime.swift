import EnvoyAPI
import SwiftProtobuf
import XDSCore

/// libFuzzer target: runtime values where they enter (issue 12, "Crashes").
///
/// The input is `TEXT NUL LAYER`: `TEXT` (up to the first zero byte, or the whole input) is
/// an admin value, `KEY=VALUE` or just `VALUE`, as `POST /runtime_modify`, `PUT
/// /api/v1/runtime/KEY`, the CLI and the store's `.runtime.json` give it; `LAYER` (after the
/// zero byte) is a serialized `envoy.service.runtime.v3.Runtime`, an RTDS layer as a proxy
/// receives it. Each goes through the checks of XDSCore (``RuntimeValue/init(parsing:)``,
/// ``RuntimeOverride/init(key:text:)``, ``RuntimeLayer/init(_:)``); what they accept is read
/// the way the data path reads it (``RuntimeValue/fraction``, ``Fraction/fires(random:)``,
/// `description`), which must never trap.
///
/// Two promises are checked, a broken one being a crash here: an accepted override's RTDS
/// form (``RuntimeOverride/layerValue``) is accepted by a proxy's ``RuntimeLayer`` with the
/// same fraction (else the control plane would serve a layer every proxy NACKs); and a value
/// accepted by ``RuntimeValue/init(parsing:)`` is accepted inside a layer too.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRuntime(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let split = bytes.firstIndex(of: 0) ?? bytes.endIndex
  let text = String(decoding: bytes[..<split], as: UTF8.self)
  checkText(text)
  if split < bytes.endIndex {
    checkLayer(Array(bytes[(split + 1)...]))
  }
  return 0
}

/// Draws that reach every branch of `random % denominator < numerator`.
private let draws: [UInt64] = [
  0, 1, 99, 100, 9_999, 10_000, 999_999, 1_000_000, UInt64(UInt32.max), .max,
]

/// Reads `value` every way the proxy and `/runtime` do.
private func read(_ value: RuntimeValue) {
  keep(value.description)
  if let fraction = value.fraction {
    keep(fraction.description)
    for draw in draws { keep(fraction.fires(random: draw)) }
  }
}

private func checkText(_ text: String) {
  let key: String
  let valueText: String
  if let equals = text.firstIndex(of: "=") {
    key = String(text[..<equals])
    valueText = String(text[text.index(after: equals)...])
  } else {
    key = "mirror.default.web.http0.0"
    valueText = text
  }

  if let value = try? RuntimeValue(parsing: valueText) {
    read(value)
    // A string in a layer is parsed the same way: it must be accepted there too.
    let layer = Envoy_Service_Runtime_V3_Runtime.with {
      $0.name = "fuzz"
      $0.layer.fields["k"] = Google_Protobuf_Value(stringValue: valueText)
    }
    do {
      let read = try RuntimeLayer(layer)
      precondition(read.values["k"] == value, "a layer reads '\(valueText)' differently")
    } catch {
      fatalError(
        "'\(valueText)' parses as a runtime value but a layer holding it is refused: \(error)")
    }
  }

  do {
    let override = try RuntimeOverride(key: key, text: valueText)
    keep(override.fraction.description)
    for draw in draws { keep(override.fraction.fires(random: draw)) }
    // What the control plane serves for it must be what a proxy reads.
    let layer = Envoy_Service_Runtime_V3_Runtime.with {
      $0.name = "shadowplane"
      $0.layer.fields[override.key] = override.layerValue
    }
    let served: RuntimeLayer
    do {
      served = try RuntimeLayer(layer)
    } catch {
      fatalError(
        "override \(key)=\(valueText) is accepted, but its RTDS layer is refused: \(error)")
    }
    // A dotted key is read back as the same dotted key (the layer holds it flat).
    guard let value = served.values[override.key] else {
      fatalError("override \(key)=\(valueText): its RTDS layer lost the key")
    }
    read(value)
    precondition(
      value.fraction == override.fraction,
      "override \(key)=\(valueText) is \(override.fraction), "
        + "a proxy reads \(String(describing: value.fraction))")
  } catch {
    keep(error.description)
  }
}

private func checkLayer(_ bytes: [UInt8]) {
  guard let runtime = try? Envoy_Service_Runtime_V3_Runtime(serializedBytes: bytes) else { return }
  do {
    let layer = try RuntimeLayer(runtime)
    for value in layer.values.values { read(value) }
  } catch {
    keep(error.description)
  }
}

/// Uses `value` opaquely, so that the optimizer cannot drop a computation whose result the
/// target only reads for its side effects (a trap is one).
@inline(never) @_optimize(none)
private func keep<T>(_ value: T) {}
