import AdminAPI
import ConfigStore
import Foundation
import Hummingbird
import MeshConfig

/// Runtime overrides, served to every proxy as the RTDS layer `shadowplane` (no route push):
///
/// - `GET /api/v1/runtime`: `{"layer": "shadowplane", "values": {KEY: VALUE}}`.
/// - `PUT /api/v1/runtime/KEY` with the value as the body (`90`, `12.5`, `125000/MILLION`).
/// - `DELETE /api/v1/runtime/KEY`.
extension AdminRouter {
  func addRuntimeRoutes(to router: Router<AdminRequestContext>) {
    router.get("/api/v1/runtime") { _, _ in
      guard let store else { return noStore() }
      return try json(RuntimeOverrides(values: await store.runtime()))
    }
    router.put("/api/v1/runtime/:key") { request, context in
      guard let store else { return noStore() }
      let key = context.parameters.get("key") ?? ""
      let body = try await request.body.collect(upTo: 4096)
      let value = String(buffer: body).trimmingCharacters(in: .whitespacesAndNewlines)
      return try await setRuntime(store, key, value, context)
    }
    router.delete("/api/v1/runtime/:key") { _, context in
      guard let store else { return noStore() }
      return try await setRuntime(store, context.parameters.get("key") ?? "", nil, context)
    }
  }

  private func setRuntime(
    _ store: any ConfigStore, _ key: String, _ value: String?, _ context: AdminRequestContext
  ) async throws -> Response {
    let revision: Int64
    do throws(ConfigErrors) {
      revision = try await store.setRuntime(key, value)
    } catch {
      return try refused(error)
    }
    await audit(
      value == nil ? .runtimeUnset : .runtimeSet, [value.map { "\(key)=\($0)" } ?? key], revision,
      context)
    return try json(
      RuntimeOverrides(revision: revision, values: await store.runtime()), revision: revision)
  }
}
