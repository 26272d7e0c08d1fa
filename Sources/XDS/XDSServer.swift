public import EnvoyAPI
public import GRPCCore
public import Logging
public import XDSCache
import XDSCore

/// The xDS gRPC services (ADS and the per-type streams) over one cache and one ledger.
///
/// Register ``services`` with a `GRPCServer`; every service shares the same
/// ``SnapshotCache`` and ``StatusLedger``.
public struct XDSServer: Sendable {
  /// Bounds on what one stream's client may send.
  public struct Limits: Sendable, Equatable {
    /// The longest `node.id` and `node.cluster`, in bytes: a stream naming a longer one is
    /// refused (INVALID_ARGUMENT). Default 1,024 (`--max-node-id-bytes`).
    public var maxNodeIDBytes = 1024
    /// The largest serialized `node` (metadata, locality, extensions), in bytes. Default
    /// 64 KiB (`--max-node-metadata-bytes`).
    public var maxNodeBytes = 64 << 10
    /// The longest NACK message kept (ledger, history, log), in bytes; the rest is cut.
    /// Default 4,096 (`--max-error-detail-bytes`).
    public var maxErrorDetailBytes = 4096

    /// The defaults.
    public init() {}
  }

  /// Whether a client may claim a node: with mutual TLS, the node id its certificate names.
  public enum NodeAuthorization: Sendable, Equatable {
    case allowed
    /// Refused (PERMISSION_DENIED), saying why.
    case denied(String)
  }

  /// Decides whether the client at `peer` (gRPC's address name) may claim `node`.
  public typealias NodeAuthorizer =
    @Sendable (_ node: Envoy_Config_Core_V3_Node, _ peer: String) -> NodeAuthorization

  /// The snapshots served.
  public let cache: SnapshotCache
  /// Every connected client and what it was sent.
  public let ledger: StatusLedger
  /// Bounds on each stream's client.
  public let limits: Limits
  /// Checks each stream's node against its client's identity; nil allows every node.
  public let authorizeNode: NodeAuthorizer?
  let logger: Logger

  /// Services over `cache`, recording into `ledger`.
  public init(
    cache: SnapshotCache, ledger: StatusLedger, limits: Limits = Limits(),
    authorizeNode: NodeAuthorizer? = nil, logger: Logger = Logger(label: "shadowplane.xds")
  ) {
    self.cache = cache
    self.ledger = ledger
    self.limits = limits
    self.authorizeNode = authorizeNode
    self.logger = logger
  }

  /// ADS plus the LDS, RDS, CDS, EDS and RTDS services, each with its state-of-the-world
  /// (`Stream…`) and incremental (`Delta…`) method.
  public var services: [any RegistrableRPCService] {
    [
      AggregatedService(server: self), ListenerService(server: self), RouteService(server: self),
      ClusterService(server: self), EndpointService(server: self), RuntimeService(server: self),
    ]
  }

  /// A state-of-the-world stream of `kind`, carried out by ``SotWStream``.
  func stream(
    _ kind: StreamKind,
    _ request: StreamingServerRequest<Envoy_Service_Discovery_V3_DiscoveryRequest>,
    _ context: ServerContext
  ) -> StreamingServerResponse<Envoy_Service_Discovery_V3_DiscoveryResponse> {
    serve(kind, request, context, machine: SotWStreamStateMachine.self, perform: SotWStream.perform)
  }

  /// An incremental stream serving `types`, carried out by a ``DeltaStream``.
  func deltaStream(
    _ kind: StreamKind,
    _ request: StreamingServerRequest<Envoy_Service_Discovery_V3_DeltaDiscoveryRequest>,
    _ context: ServerContext
  ) -> StreamingServerResponse<Envoy_Service_Discovery_V3_DeltaDiscoveryResponse> {
    serve(
      kind, request, context, machine: DeltaStreamStateMachine.self, perform: DeltaStream.perform)
  }

  /// A stream of either variant, driven by an ``XDSStreamDriver`` over `machine`.
  private func serve<Machine: XDSStreamMachine, Response: Sendable>(
    _ kind: StreamKind, _ request: StreamingServerRequest<Machine.Request>,
    _ context: ServerContext, machine: Machine.Type,
    perform:
      @escaping @Sendable ([Machine.Action], StreamBookkeeper, RPCWriter<Response>) async throws ->
      Void
  ) -> StreamingServerResponse<Response> {
    let driver = XDSStreamDriver<Machine, Response>(
      cache: cache, ledger: ledger, logger: logger, limits: limits, authorizeNode: authorizeNode,
      kind: kind, perform: perform)
    return StreamingServerResponse { writer in
      try await driver.run(
        requests: request.messages, writer: writer, metadata: request.metadata,
        peer: context.remotePeer)
      return [:]
    }
  }
}

typealias DiscoveryRequest = Envoy_Service_Discovery_V3_DiscoveryRequest
typealias DiscoveryResponse = Envoy_Service_Discovery_V3_DiscoveryResponse
typealias DeltaDiscoveryRequest = Envoy_Service_Discovery_V3_DeltaDiscoveryRequest
typealias DeltaDiscoveryResponse = Envoy_Service_Discovery_V3_DeltaDiscoveryResponse

struct AggregatedService: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.ServiceProtocol {
  let server: XDSServer
  func streamAggregatedResources(
    request: StreamingServerRequest<DiscoveryRequest>, context: ServerContext
  ) async throws -> StreamingServerResponse<DiscoveryResponse> {
    server.stream(.ads, request, context)
  }

  func deltaAggregatedResources(
    request: StreamingServerRequest<DeltaDiscoveryRequest>, context: ServerContext
  ) async throws -> StreamingServerResponse<DeltaDiscoveryResponse> {
    server.deltaStream(.ads, request, context)
  }
}

struct ListenerService: Envoy_Service_Listener_V3_ListenerDiscoveryService.ServiceProtocol {
  let server: XDSServer
  func streamListeners(
    request: StreamingServerRequest<DiscoveryRequest>, context: ServerContext
  ) async throws -> StreamingServerResponse<DiscoveryResponse> {
    server.stream(.lds, request, context)
  }

  func deltaListeners(
    request: StreamingServerRequest<DeltaDiscoveryRequest>, context: ServerContext
  ) async throws -> StreamingServerResponse<DeltaDiscoveryResponse> {
    server.deltaStream(.lds, request, context)
  }
}

struct RouteService: Envoy_Service_Route_V3_RouteDiscoveryService.ServiceProtocol {
  let server: XDSServer
  func streamRoutes(
    request: StreamingServerRequest<DiscoveryRequest>, context: ServerContext
  ) async throws -> StreamingServerResponse<DiscoveryResponse> {
    server.stream(.rds, request, context)
  }

  func deltaRoutes(
    request: StreamingServerRequest<DeltaDiscoveryRequest>, context: ServerContext
  ) async throws -> StreamingServerResponse<DeltaDiscoveryResponse> {
    server.deltaStream(.rds, request, context)
  }
}

struct ClusterService: Envoy_Service_Cluster_V3_ClusterDiscoveryService.ServiceProtocol {
  let server: XDSServer
  func streamClusters(
    request: StreamingServerRequest<DiscoveryRequest>, context: ServerContext
  ) async throws -> StreamingServerResponse<DiscoveryResponse> {
    server.stream(.cds, request, context)
  }

  func deltaClusters(
    request: StreamingServerRequest<DeltaDiscoveryRequest>, context: ServerContext
  ) async throws -> StreamingServerResponse<DeltaDiscoveryResponse> {
    server.deltaStream(.cds, request, context)
  }
}

struct EndpointService: Envoy_Service_Endpoint_V3_EndpointDiscoveryService.ServiceProtocol {
  let server: XDSServer
  func streamEndpoints(
    request: StreamingServerRequest<DiscoveryRequest>, context: ServerContext
  ) async throws -> StreamingServerResponse<DiscoveryResponse> {
    server.stream(.eds, request, context)
  }

  func deltaEndpoints(
    request: StreamingServerRequest<DeltaDiscoveryRequest>, context: ServerContext
  ) async throws -> StreamingServerResponse<DeltaDiscoveryResponse> {
    server.deltaStream(.eds, request, context)
  }
}

struct RuntimeService: Envoy_Service_Runtime_V3_RuntimeDiscoveryService.ServiceProtocol {
  let server: XDSServer
  func streamRuntime(
    request: StreamingServerRequest<DiscoveryRequest>, context: ServerContext
  ) async throws -> StreamingServerResponse<DiscoveryResponse> {
    server.stream(.rtds, request, context)
  }

  func deltaRuntime(
    request: StreamingServerRequest<DeltaDiscoveryRequest>, context: ServerContext
  ) async throws -> StreamingServerResponse<DeltaDiscoveryResponse> {
    server.deltaStream(.rtds, request, context)
  }
}
