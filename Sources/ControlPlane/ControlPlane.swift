import AdminAuth
import ConfigStore
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import Logging
public import MeshConfig
import Metrics
public import Prometheus
public import ServiceLifecycle
import Translator
public import XDS
public import XDSCache
public import XDSCore

/// The control plane: serves xDS from the snapshot cache and the admin API beside it.
///
/// Its resources come either from the config store (Istio-style YAML, translated on every
/// revision) or from a static document of Envoy resources. A library type: it hands its
/// services to the caller, which runs them in a `ServiceGroup` and owns signals
/// (service-lifecycle, "Adopting ServiceLifecycle in libraries").
public struct ControlPlane: Sendable {
  /// Where the served resources come from.
  public enum Source: Sendable, Equatable {
    /// A config store directory of Istio-style YAML, one file per resource, translated on
    /// every revision (created if missing).
    case store(directory: String)
    /// A resource document of Envoy resources (`{"resources": [...]}`) served to every node
    /// as is, replaceable with `PUT /api/v1/resources`.
    case resources(file: String)
  }

  /// Bounds that keep a hostile or careless client, operator or file from costing
  /// unbounded time or memory. Every one has a flag and a metric
  /// (`shadowplane_limit_refusals_total{limit}`); the README's "Limits and timeouts" lists them.
  public struct Limits: Sendable {
    /// Bounds on one configuration input (apply, delete, a store file).
    public var decode = DecodeLimits()
    /// The largest admin request body, in bytes. Default 64 MiB.
    public var maxAdminBodyBytes = 64 << 20
    /// Bounds on each xDS stream (node size, NACK messages kept).
    public var stream = XDSServer.Limits()
    /// The largest xDS request message, in bytes: a larger one ends its stream
    /// (RESOURCE_EXHAUSTED) before it is decoded. Default 4 MiB, gRPC's own default (Envoy's
    /// requests are small; a NACK's `error_detail` is the only large part).
    public var maxXDSRequestBytes = 4 << 20
    /// Streams per HTTP/2 connection to the xDS port, advertised as
    /// SETTINGS_MAX_CONCURRENT_STREAMS. Default 100 (Envoy's and gRPC's usual value).
    public var maxConcurrentStreams = 100
    /// On shutdown: how long open xDS streams keep being served before they are ended, so
    /// that clients move to another control plane. Default 5 s.
    public var drainPeriod: Duration = .seconds(5)
    /// Readers of `GET /api/v1/events` (the console) at once. Default 32.
    public var maxEventStreams = 32
    /// Events buffered per reader of `GET /api/v1/events`; beyond, the oldest are dropped
    /// and the reader reloads. Default 4096.
    public var eventBuffer = 4096
    /// Bounds on the proxies' comparison reports (reporters, compared routes).
    public var comparisons = ComparisonAggregator.Limits()

    /// The defaults.
    public init() {}
  }

  /// Where and what to serve.
  public struct Configuration: Sendable {
    /// The xDS gRPC server's address (port 0: an ephemeral port).
    public var xdsAddress: HostPort
    /// The admin HTTP API's address (port 0: an ephemeral port).
    public var adminAddress: HostPort
    /// Where the resources come from.
    public var source: Source
    /// How many pushed snapshots `history` and `diff` keep. Default 100.
    public var historyRetention = 100
    /// Bounds on inputs and streams.
    public var limits = Limits()
    /// TLS on the xDS port (mutual when a client CA is given: every stream must then claim
    /// the node id its certificate names); nil serves plaintext.
    public var xdsTLS: TLSFiles?
    /// TLS on the admin port (mutual when a client CA is given: a client certificate with an
    /// operator's SPIFFE id authenticates); nil serves plaintext.
    public var adminTLS: TLSFiles?
    /// Bearer tokens of the admin API (`--admin-token-file`).
    public var adminTokenFile: String?
    /// Serve on non-loopback addresses without TLS and authentication. Off by default:
    /// then such a bind refuses to start, saying what to add.
    public var insecure = false
    /// Host names the admin API answers to besides loopback names and its bound address
    /// (`--admin-allowed-hosts`); see ``AdminGuard``.
    public var allowedAdminHosts: [String] = []

    /// Serves `source` on the two addresses, with the default history retention.
    public init(xdsAddress: HostPort, adminAddress: HostPort, source: Source) {
      self.xdsAddress = xdsAddress
      self.adminAddress = adminAddress
      self.source = source
    }
  }

  /// Where and what to serve.
  public let configuration: Configuration
  /// The snapshots served, per node group.
  public let cache = SnapshotCache()
  /// Every connected client and what it was sent.
  public let ledger: StatusLedger
  /// What happens to streams and revisions, for `GET /api/v1/events`.
  public let events: AdminEventHub
  /// The proxies' comparison reports, aggregated (`GET /api/v1/comparisons`).
  public let comparisons: ComparisonAggregator
  let registry: PrometheusCollectorRegistry
  let logger: Logger

  /// - Parameter registry: where metrics are collected for `/metrics`; bootstrap
  ///   swift-metrics with a `PrometheusMetricsFactory` over the same registry.
  public init(
    configuration: Configuration, registry: PrometheusCollectorRegistry,
    logger: Logger = Logger(label: "shadowplane.control-plane")
  ) {
    self.configuration = configuration
    self.registry = registry
    self.logger = logger
    events = AdminEventHub(
      maxReaders: configuration.limits.maxEventStreams,
      bufferSize: configuration.limits.eventBuffer)
    ledger = StatusLedger(events: events)
    comparisons = ComparisonAggregator(limits: configuration.limits.comparisons)
  }

  /// Opens the source and puts its first snapshot in the cache (so no client ever sees an
  /// empty configuration), then returns the services that serve it: the xDS server, the
  /// admin API and, for a store, the translation of each new revision and the watch of the
  /// store's directory. Run them in one `ServiceGroup`; its graceful shutdown stops them.
  public func makeServices() async throws(ControlPlaneError) -> [any Service] {
    let history = ConfigHistory(retention: configuration.historyRetention, events: events)
    LimitRefusal.registerAll()
    try refuseIfExposed()
    let (authentication, server) = try admin()
    var services: [any Service] = []
    var store: FileConfigStore?
    switch configuration.source {
    case .store(let directory):
      let opened = try await openStore(directory, history: history)
      services.append(
        TranslationService(store: opened, cache: cache, history: history, logger: logger))
      services.append(StoreWatchService(store: opened))
      store = opened
    case .resources(let file):
      try await loadResources(file, history: history)
    }
    let (security, authorizer) = try xdsSecurity()
    let xds = XDSServer(
      cache: cache, ledger: ledger, limits: configuration.limits.stream, authorizeNode: authorizer,
      logger: Logger(label: "shadowplane.xds"))
    let reports = ComparisonReportServer(
      aggregator: comparisons, limits: configuration.limits.stream, authorizeNode: authorizer,
      logger: Logger(label: "shadowplane.comparisons"))
    let grpc = GRPCServerService(
      address: configuration.xdsAddress, services: xds.services + [reports],
      maxConcurrentStreams: configuration.limits.maxConcurrentStreams,
      maxRequestBytes: configuration.limits.maxXDSRequestBytes,
      drainPeriod: configuration.limits.drainPeriod,
      endStreams: { [cache] in await cache.endAllWatches() }, security: security, logger: logger)
    let auditTrail = AuditTrail(
      directory: store?.directory, logger: Logger(label: "shadowplane.audit"))
    let admin = AdminRouter(
      cache: cache, ledger: ledger, registry: registry, logger: logger, store: store,
      history: history, auditTrail: auditTrail, limits: configuration.limits,
      boundHost: configuration.adminAddress.host,
      allowedHosts: configuration.allowedAdminHosts, authentication: authentication,
      events: events, comparisons: comparisons)
    let logger = self.logger
    let app = Application(
      router: admin.router(),
      server: server,
      configuration: .init(
        address: .hostname(configuration.adminAddress.host, port: configuration.adminAddress.port),
        serverName: "shadowplane"),
      onServerRunning: { channel in
        let port = channel.localAddress?.port ?? 0
        let host = channel.localAddress?.ipAddress ?? "?"
        logger.info("admin API listening on \(HostPort(host: host, port: port))")
      },
      logger: Logger(label: "shadowplane.admin"))
    // Last, so that it stops first: the event streams end before the admin server waits
    // for its requests to finish.
    return [grpc, app] + services + [EventStreamsService(events: events)]
  }

  /// The xDS port's security and, with mutual TLS, the check of each stream's node against
  /// its connection's certificate (``NodeIdentityPolicy``).
  private func xdsSecurity() throws(ControlPlaneError) -> (
    GRPCServerService.Security, XDSServer.NodeAuthorizer?
  ) {
    guard let files = configuration.xdsTLS else { return (.plaintext, nil) }
    let context: ReloadingTLSContext
    do {
      context = try ReloadingTLSContext(files, logger: logger)
    } catch {
      throw ControlPlaneError(
        code: .tlsUnavailable, message: "cannot serve xDS over TLS", cause: error)
    }
    let identities = PeerIdentities()
    let ledger = self.ledger
    let logger = self.logger
    let security = GRPCServerService.Security.tls(context, identities) { peer, reason in
      logger.warning(
        "xDS connection refused", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
      Metrics.Counter(label: "shadowplane_xds_refused_total").increment()
      Task { await ledger.refused(StreamRefusal(nodeID: nil, peer: peer, reason: reason)) }
    }
    guard files.clientCA != nil else { return (security, nil) }
    let policy = NodeIdentityPolicy(identities: identities)
    return (security, { node, peer in policy.authorize(node, peer: peer) })
  }

  /// Secure by default off loopback: an address other machines can reach needs TLS and
  /// authentication (xDS: mutual TLS; admin: TLS and tokens or client certificates), else
  /// the control plane refuses to start, saying what to add, unless `insecure` is set; then
  /// it warns at every start.
  private func refuseIfExposed() throws(ControlPlaneError) {
    var missing: [String] = []
    if !configuration.xdsAddress.isLoopback, configuration.xdsTLS?.clientCA == nil {
      missing.append(
        "xDS on \(configuration.xdsAddress) has no mutual TLS: add --xds-tls-cert, --xds-tls-key and --xds-client-ca (shadowplane certs init DIR makes them)"
      )
    }
    if let problem = adminSecurity.exposure(of: "the admin API") { missing.append(problem) }
    guard !missing.isEmpty else { return }
    guard configuration.insecure else {
      throw ControlPlaneError(
        code: .insecureBind,
        message: "refusing to serve off loopback without security: "
          + missing.joined(separator: "; ") + " (or pass --insecure to serve anyway)")
    }
    for problem in missing {
      logger.warning(
        "--insecure: \(problem); anyone who can reach it can read and change the mesh")
    }
  }

  /// The admin API's flags.
  private var adminSecurity: AdminSecurity {
    AdminSecurity(
      address: configuration.adminAddress, tls: configuration.adminTLS,
      tokenFile: configuration.adminTokenFile, insecure: configuration.insecure)
  }

  /// The admin API's authentication and server.
  private func admin() throws(ControlPlaneError) -> (
    AdminAuthenticator<AdminRequestContext>.Configuration, HTTPServerBuilder
  ) {
    do throws(AdminSecurity.Failure) {
      return try adminSecurity.prepare(open: AdminRouter.consolePaths.union(["/healthz"]))
    } catch {
      let code: ControlPlaneError.Code =
        if case .tls = error { .tlsUnavailable } else { .credentialsUnavailable }
      throw ControlPlaneError(code: code, message: error.message, cause: error.cause)
    }
  }

  /// Opens the store and translates its first revision into the cache.
  private func openStore(_ directory: String, history: ConfigHistory)
    async throws(ControlPlaneError)
    -> FileConfigStore
  {
    let opened: FileConfigStore
    do {
      opened = try FileConfigStore(
        directory: directory, limits: configuration.limits.decode,
        logger: Logger(label: "shadowplane.store"))
    } catch {
      throw ControlPlaneError(
        code: .storeUnavailable, message: "cannot open the store '\(directory)'", cause: error)
    }
    let count = await opened.list(kind: nil).count
    logger.info(
      "config store opened",
      metadata: ["directory": "\(opened.directory)", "resources": "\(count)"])
    let first = await opened.snapshot()
    let snapshot: Snapshot
    do {
      snapshot = try await TranslationSnapshot.build(
        Translator.translate(first), revision: first.revision)
    } catch {
      throw ControlPlaneError(
        code: .translationFailed, message: "cannot translate revision \(first.revision)",
        cause: error)
    }
    await cache.setSnapshot(snapshot)
    await history.record(snapshot)
    return opened
  }

  /// Reads the static resource document into the cache.
  private func loadResources(_ path: String, history: ConfigHistory) async throws(ControlPlaneError)
  {
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw ControlPlaneError(
        code: .resourcesUnreadable, message: "cannot read resources file '\(path)'", cause: error)
    }
    let resources: [VersionedResource]
    let snapshot: Snapshot
    do {
      resources = try ResourceDocument.decode(data)
      snapshot = try Snapshot(resources: resources, revision: 1)
    } catch {
      throw ControlPlaneError(code: .resourcesInvalid, message: path, cause: error)
    }
    await cache.setSnapshot(snapshot)
    await history.record(snapshot)
    logger.info(
      "serving resources", metadata: ["file": "\(path)", "resources": "\(resources.count)"])
  }
}
