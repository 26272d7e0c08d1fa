import AdminAPI
import AdminAuth
import ConfigStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MeshConfig
import Metrics
import NIOCore
import NIOFoundationEssentialsCompat
import Prometheus
import XDS
import XDSCache
import XDSCore

/// The control plane's admin HTTP API (JSON), and the web console (`AdminRouter+Console`).
///
/// - `GET /healthz`: 200 while serving.
/// - `GET /metrics`: Prometheus text.
/// - `GET /api/v1/status[/NODE]`: the status ledger (every connected xDS client).
/// - `GET /api/v1/nodes/NODE/config`: the resources served to NODE, as a resource document.
/// - `GET /api/v1/resources`, `PUT /api/v1/resources`: the served Envoy resources (static
///   mode), as a resource document; a rejected PUT changes nothing.
/// - `GET /api/v1/comparisons`: the proxies' shadow comparisons, with verdicts.
struct AdminRouter: Sendable {
  let cache: SnapshotCache
  let ledger: StatusLedger
  let registry: PrometheusCollectorRegistry
  let logger: Logger
  /// The config store, when the control plane serves one (`--store`); nil in static mode.
  let store: (any ConfigStore)?
  /// Snapshots pushed, for `/api/v1/history` and `/api/v1/diff`.
  let history: ConfigHistory
  /// Every write, for `GET /api/v1/audit`.
  let auditTrail: AuditTrail
  /// Bounds on request bodies and on the configuration they hold.
  let limits: ControlPlane.Limits
  /// The admin API's bound host and the extra `Host` names it answers to.
  let boundHost: String
  let allowedHosts: [String]
  /// Who may read and who may write.
  let authentication: AdminAuthenticator<AdminRequestContext>.Configuration
  /// What happens to streams and revisions, for `GET /api/v1/events`.
  let events: AdminEventHub
  /// The proxies' comparison reports, for `/api/v1/comparisons`.
  let comparisons: ComparisonAggregator
  /// Revisions of static mode's `PUT /api/v1/resources` (the store numbers its own).
  let staticRevision = StaticRevision()

  func router() -> Router<AdminRequestContext> {
    let router = Router(context: AdminRequestContext.self)
    router.add(
      middleware: AdminGuard(
        allowedHosts: AdminGuard.allowedHosts(boundHost: boundHost, extra: allowedHosts),
        logger: logger))
    router.add(
      middleware: AdminAuthenticator(authentication) { status in
        Metrics.Counter(
          label: "shadowplane_admin_auth_refusals_total", dimensions: [("status", "\(status.code)")]
        ).increment()
      })
    router.get("/healthz") { _, _ in "ok\n" }
    router.get("/metrics") { _, _ in
      Response(
        status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
        body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer())))
    }
    router.get("/api/v1/status") { _, _ in try await json(ledger.all()) }
    router.get("/api/v1/refusals") { _, _ in try await json(ledger.recentRefusals()) }
    router.get("/api/v1/status/:node") { _, context in
      let node = try context.parameters.require("node")
      return try await json(ledger.clients(ofNode: node))
    }
    router.get("/api/v1/nodes/:node/config") { _, context in
      let node = try context.parameters.require("node")
      guard let snapshot = await cache.snapshot(forNode: node) else {
        return error(.notFound, "no snapshot is served to node '\(node)'")
      }
      // What the node's streams subscribe to (an Envoy never gets the api_listeners of
      // proxyless gRPC clients); everything its snapshot holds while none is connected.
      let streams = await ledger.clients(ofNode: node)
      let served = snapshot.allResources.filter { resource in
        streams.isEmpty
          || streams.contains { $0.types[resource.type]?.subscription?.includes(resource) ?? false }
      }
      return try document(served)
    }
    router.get("/api/v1/resources") { _, _ in
      let snapshot = await cache.snapshot(forNode: SnapshotCache.defaultGroup)
      return try document(snapshot?.allResources ?? [])
    }
    router.get("/api/v1/audit") { request, _ in
      let limit = request.uri.queryParameters["limit"].flatMap { Int($0) } ?? 100
      return try await json(auditTrail.recent(limit: limit))
    }
    router.put("/api/v1/resources") { request, context in
      if store != nil {
        return self.error(
          .conflict, "resources come from the config store (--store); use /api/v1/config/apply")
      }
      let body = try await self.body(of: request)
      let resources: [VersionedResource]
      let snapshot: Snapshot
      do {
        resources = try ResourceDocument.decode(Data(buffer: body))
        snapshot = try Snapshot(resources: resources, revision: await staticRevision.next())
      } catch {
        logger.warning("rejected resources", metadata: ["error": "\(error)"])
        return self.error(.badRequest, "\(error)")
      }
      await cache.setSnapshot(snapshot)
      await history.record(snapshot)
      logger.info("resources replaced", metadata: ["resources": "\(resources.count)"])
      await audit(.replaceResources, ["\(resources.count) resources"], snapshot.revision, context)
      return try json(["resources": resources.count], revision: snapshot.revision)
    }
    addConfigRoutes(to: router)
    addHistoryRoutes(to: router)
    addRuntimeRoutes(to: router)
    addConsoleRoutes(to: router)
    addComparisonRoutes(to: router)
    return router
  }

  private func document(_ resources: [VersionedResource]) throws -> Response {
    let data = try ResourceDocument.encode(resources)
    return Response(
      status: .ok, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }

  /// `value` as the admin API's JSON; a write's answer carries the revision it produced.
  func json(
    _ value: some Encodable, status: HTTPResponse.Status = .ok, revision: Int64? = nil
  ) throws -> Response {
    let data = try AdminJSON.encoder().encode(value)
    var headers: HTTPFields = [.contentType: "application/json"]
    if let revision { headers[.shadowplaneRevision] = String(revision) }
    return Response(
      status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }

  /// Records a write in the audit trail, with the identity and address of who made it.
  func audit(
    _ action: AuditRecord.Action, _ resources: [String], _ revision: Int64,
    _ context: AdminRequestContext
  ) async {
    await auditTrail.record(
      AuditRecord(
        identity: context.identity, source: context.peer,
        action: action, resources: resources, revision: revision))
  }

  /// A request's body, at most `--max-admin-body-bytes` (413 beyond, counted).
  func body(of request: Request) async throws -> ByteBuffer {
    do {
      return try await request.body.collect(upTo: limits.maxAdminBodyBytes)
    } catch is NIOTooManyBytesError {
      LimitRefusal.adminBodyBytes.count()
      throw HTTPError(
        .contentTooLarge,
        message:
          "request body larger than \(limits.maxAdminBodyBytes) bytes (the control plane's --max-admin-body-bytes)"
      )
    }
  }

  /// The answer to a refused configuration change: 400 for invalid input (and, counted,
  /// for one over a size bound), 404 for a missing resource, 500 when the store failed.
  func refused(_ errors: ConfigErrors, source: String? = "request") throws -> Response {
    let status: HTTPResponse.Status
    switch errors.reason {
    case .invalid: status = .badRequest
    case .notFound: status = .notFound
    case .storage: status = .internalServerError
    case .exceeded(let limit):
      status = .badRequest
      switch limit {
      case .yamlNodes: LimitRefusal.yamlNodes.count()
      case .resources: LimitRefusal.applyDocuments.count()
      }
    }
    let problems = source.map { source in errors.errors.map { $0.from(source) } } ?? errors.errors
    return try json(ErrorResponse(errors: problems), status: status)
  }

  func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
    let data = (try? JSONEncoder().encode(ErrorResponse(message: message))) ?? Data()
    return Response(
      status: status, headers: [.contentType: "application/json"],
      body: .init(byteBuffer: ByteBuffer(bytes: data)))
  }
}

/// Numbers the snapshots of static mode (1 is the file loaded at start).
actor StaticRevision {
  private var value: Int64 = 1
  func next() -> Int64 {
    value += 1
    return value
  }
}
