import Foundation
import XDSCore

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The few calls the load generator makes to the control plane's admin API: apply a
/// change, read `/metrics`, read the status ledger.
struct AdminEndpoint: Sendable {
  /// `http://HOST:PORT`.
  let base: String

  /// An endpoint at `address` (`HOST:PORT`).
  init(address: String) {
    base = "http://" + address
  }

  /// What a `GET` returned, and how long it took.
  struct Fetched: Sendable {
    var body: Data
    var duration: Duration
  }

  /// `POST /api/v1/config/apply` with `yaml`; fails unless the control plane accepts it.
  func apply(_ yaml: String) async throws(LoadGeneratorError) {
    let response = try await send("POST", "/api/v1/config/apply", body: Data(yaml.utf8))
    guard response.status == 200 else {
      throw LoadGeneratorError(
        "the control plane rejected the change (HTTP \(response.status)): "
          + String(decoding: response.body.prefix(800), as: UTF8.self))
    }
  }

  /// `GET path`, which must answer 200.
  func get(_ path: String) async throws(LoadGeneratorError) -> Fetched {
    let start = ContinuousClock.now
    let response = try await send("GET", path, body: nil)
    guard response.status == 200 else {
      throw LoadGeneratorError("GET \(path) answered HTTP \(response.status)")
    }
    return Fetched(body: response.body, duration: .now - start)
  }

  /// The status ledger (`GET /api/v1/status`): every connected client.
  func status() async throws(LoadGeneratorError) -> (clients: [ClientStatus], fetched: Fetched) {
    let fetched = try await get("/api/v1/status")
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    do {
      return (try decoder.decode([ClientStatus].self, from: fetched.body), fetched)
    } catch {
      throw LoadGeneratorError("GET /api/v1/status: cannot decode the ledger: \(error)")
    }
  }

  private func send(_ method: String, _ path: String, body: Data?) async throws(LoadGeneratorError)
    -> (status: Int, body: Data)
  {
    guard let url = URL(string: base + path) else {
      throw LoadGeneratorError("invalid admin address in \(base + path)")
    }
    // The ledger of 10,000 streams takes a while to encode: allow for it.
    var request = URLRequest(url: url, timeoutInterval: 120)
    request.httpMethod = method
    if let body {
      request.httpBody = body
      request.setValue("application/yaml", forHTTPHeaderField: "Content-Type")
    }
    do {
      let (data, response) = try await URLSession.shared.data(for: request)
      return ((response as? HTTPURLResponse)?.statusCode ?? 0, data)
    } catch {
      throw LoadGeneratorError(
        "\(method) \(base + path) failed: \(error.localizedDescription); is --admin the "
          + "control plane's --admin-address?")
    }
  }
}
