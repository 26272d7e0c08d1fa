import AdminAPI
import ConfigStore
import Foundation
import Hummingbird
import Logging
import MeshConfig
import XDS
import XDSCore

/// The config store endpoints of the admin API (Istio-style resources):
///
/// - `POST /api/v1/config/apply`: a YAML or JSON body of resources; all or nothing.
///   200 with `{revision, changes, warnings}`, or 400 with `{errors: [...]}`.
/// - `POST /api/v1/config/delete`: the resources named by a YAML or JSON body.
/// - `DELETE /api/v1/config/KIND/NAMESPACE/NAME`.
/// - `GET /api/v1/config[?kind=K][&format=yaml|json]`, `GET /api/v1/config/KIND/NAMESPACE/NAME`.
///
/// Errors and warnings carry `source`, `resource`, `field` and `message`.
extension AdminRouter {
  func addConfigRoutes(to router: Router<AdminRequestContext>) {
    router.post("/api/v1/config/apply") { request, context in
      try await change(request, context, .apply) { store, resources throws(ConfigErrors) in
        try await store.apply(resources)
      }
    }
    router.post("/api/v1/config/delete") { request, context in
      try await change(request, context, .delete) { store, resources throws(ConfigErrors) in
        try await store.delete(resources.map(\.key))
      }
    }
    router.delete("/api/v1/config/:kind/:namespace/:name") { _, context in
      guard let store else { return noStore() }
      guard let key = resourceKey(context) else {
        return unknownKind(context.parameters.get("kind") ?? "")
      }
      let result: ApplyResult
      do throws(ConfigErrors) {
        result = try await store.delete([key])
      } catch {
        return try refused(error, source: String?.none)
      }
      await audit(
        .delete, result.changes.map { "\($0.resource) \($0.action.rawValue)" }, result.revision,
        context)
      return try json(result, revision: result.revision)
    }
    router.get("/api/v1/config") { request, _ in
      guard let store else { return noStore() }
      var kind: ResourceKind?
      if let name = request.uri.queryParameters["kind"].map(String.init) {
        guard let parsed = ResourceKind(name: name) else { return unknownKind(name) }
        kind = parsed
      }
      let format = request.uri.queryParameters["format"].map(String.init) ?? "json"
      return try resources(await store.list(kind: kind), format: format, single: false)
    }
    router.get("/api/v1/config/:kind/:namespace/:name") { request, context in
      guard let store else { return noStore() }
      guard let key = resourceKey(context) else {
        return unknownKind(context.parameters.get("kind") ?? "")
      }
      guard let resource = await store.get(key) else {
        return self.error(.notFound, "\(key) not found")
      }
      let format = request.uri.queryParameters["format"].map(String.init) ?? "json"
      return try resources([resource], format: format, single: true)
    }
  }

  /// Decodes the resources of a request's body (YAML or JSON, under the decode limits) and
  /// applies `edit` to the store with them: the answer is the result, or the refusal.
  private func change(
    _ request: Request, _ context: AdminRequestContext, _ action: AuditRecord.Action,
    _ edit: (any ConfigStore, [MeshResource]) async throws(ConfigErrors) -> ApplyResult
  ) async throws -> Response {
    guard let store else { return noStore() }
    let body = try await body(of: request)
    let result: ApplyResult
    do throws(ConfigErrors) {
      let decoded = try MeshConfigDecoder.decodeReporting(
        utf8: body.readableBytesView, source: "request", limits: limits.decode)
      var applied = try await edit(store, decoded.resources)
      applied.warnings = decoded.warnings + applied.warnings
      result = applied
    } catch {
      logger.warning(
        "configuration change refused",
        metadata: [
          "path": "\(request.uri.path)", "errors": "\(LogText(error.description, limit: 4096))",
        ])
      return try refused(error)
    }
    logger.info(
      "configuration changed",
      metadata: [
        "path": "\(request.uri.path)", "revision": "\(result.revision)",
        "changes":
          "\(LogText(result.changes.map { "\($0.resource) \($0.action.rawValue)" }.description, limit: 4096))",
      ])
    if result.changes.contains(where: { $0.action != .unchanged }) {
      await audit(
        action,
        result.changes.filter { $0.action != .unchanged }.map {
          "\($0.resource) \($0.action.rawValue)"
        },
        result.revision, context)
    }
    return try json(result, revision: result.revision)
  }

  private func resources(_ list: [MeshResource], format: String, single: Bool) throws -> Response {
    switch format {
    case "yaml":
      return Response(
        status: .ok, headers: [.contentType: "application/yaml"],
        body: .init(byteBuffer: ByteBuffer(string: try MeshConfigEncoder.yaml(list))))
    case "json":
      let text =
        single
        ? try MeshConfigEncoder.json(list)
        : "{\"items\":" + (list.isEmpty ? "[]" : try arrayJSON(list)) + "}"
      return Response(
        status: .ok, headers: [.contentType: "application/json"],
        body: .init(byteBuffer: ByteBuffer(string: text)))
    default:
      return error(.badRequest, "unknown format '\(format)': use yaml or json")
    }
  }

  private func arrayJSON(_ list: [MeshResource]) throws -> String {
    let text = try MeshConfigEncoder.json(list)
    return list.count == 1 ? "[" + text + "]" : text
  }

  /// The key in the path, nil if the kind is unknown.
  private func resourceKey(_ context: AdminRequestContext) -> ResourceKey? {
    guard let kind = ResourceKind(name: context.parameters.get("kind") ?? "") else { return nil }
    return ResourceKey(
      kind: kind, namespace: context.parameters.get("namespace") ?? "default",
      name: context.parameters.get("name") ?? "")
  }

  private func unknownKind(_ name: String) -> Response {
    error(
      .badRequest,
      "unknown kind '\(name)': use one of \(ResourceKind.allCases.map(\.rawValue).joined(separator: ", ")) (or vs, dr, se, we)"
    )
  }

  func noStore() -> Response {
    error(
      .conflict,
      "this control plane serves a static resource document (--resources); start it with --store DIR to edit configuration"
    )
  }
}

extension ConfigError {
  /// The error with `source` set when it has none (the request body is the source).
  func from(_ source: String) -> ConfigError {
    var copy = self
    if copy.source == nil { copy.source = source }
    return copy
  }
}
