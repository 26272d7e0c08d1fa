import AdminAPI
import Foundation
import MeshConfig

extension AdminClient {
  /// The failure a non-2xx answer stands for: the server's messages when it sent an
  /// `ErrorResponse` (each problem passed through `relabel`), else the status and the start
  /// of the body.
  static func failure(
    _ response: Response, method: Method, path: String,
    relabel: (ConfigError) -> ConfigError = { $0 }
  ) -> CommandFailure {
    if var answer = try? AdminJSON.decoder().decode(ErrorResponse.self, from: response.body) {
      answer.errors = answer.errors?.map(relabel)
      if !answer.lines.isEmpty { return CommandFailure(lines: answer.lines) }
    }
    let text = String(decoding: response.body, as: UTF8.self).trimmingCharacters(
      in: .whitespacesAndNewlines)
    if response.status == 404, text.isEmpty {
      return CommandFailure(
        "\(method.rawValue) \(path): not found (404); this control plane may predate the endpoint")
    }
    let detail = text.isEmpty ? "" : ": " + String(text.prefix(500))
    return CommandFailure("\(method.rawValue) \(path): HTTP \(response.status)\(detail)")
  }
}
