import EnvoyAPI
import GRPCCore
public import GRPCNIOTransportHTTP2
public import Logging
import XDSCore

/// An ADS client: one stream to the control plane, every resource type over it, ACK or NACK
/// per response, and reconnects with jittered exponential backoff. The stream is
/// `StreamAggregatedResources` (state of the world) or `DeltaAggregatedResources`
/// (incremental), as ``XDSClientConfiguration/mode`` says.
///
/// The protocol logic lives in ``ADSClientStateMachine`` and ``DeltaClientStateMachine``;
/// this actor drives the chosen one: it feeds the stream's responses in one at a time, asks
/// the ``XDSConfigConsumer`` for a verdict on each candidate, applies the accepted ones and
/// writes the requests. The last accepted configuration stays in force across disconnects.
public actor ADSClient {
  typealias DiscoveryRequest = Envoy_Service_Discovery_V3_DiscoveryRequest
  typealias DiscoveryResponse = Envoy_Service_Discovery_V3_DiscoveryResponse

  /// Where the client connects and how it retries.
  public nonisolated let configuration: XDSClientConfiguration
  let consumer: any XDSConfigConsumer
  let logger: Logger
  /// The protocol machine of the configured variant.
  var machine: ClientMachine
  var counters = XDSClientStats()
  private var running = false

  /// Creates a client; nothing connects until ``run()``.
  public init(
    configuration: XDSClientConfiguration, consumer: some XDSConfigConsumer, logger: Logger
  ) {
    self.configuration = configuration
    self.consumer = consumer
    self.logger = logger
    self.machine = ClientMachine(
      configuration.mode, node: configuration.node, runtimeLayers: configuration.runtimeLayers)
  }

  /// The last accepted configuration (empty before the first accepted response).
  public var config: XDSConfig { machine.config }

  /// Counters: updates accepted and rejected per type, connects, disconnects.
  public var stats: XDSClientStats { counters }

  /// Connects, subscribes and keeps the stream up, reconnecting after each failure, until
  /// the calling task is cancelled; then returns.
  ///
  /// Throws only when the client cannot be set up (an unresolvable address) or is
  /// already running.
  public func run() async throws {
    try await run(transport: configuration.makeTransport())
  }

  /// A transport to `configuration`'s server (``XDSClientConfiguration/makeTransport()``).
  static func transport(_ configuration: XDSClientConfiguration) throws
    -> HTTP2ClientTransport.Posix
  {
    let backoff = HTTP2ClientTransport.Config.Backoff(
      initial: configuration.initialBackoff, max: configuration.maxBackoff, multiplier: 2,
      jitter: 0.2)
    return try HTTP2ClientTransport.Posix(
      target: Self.target(host: configuration.host, port: configuration.port),
      transportSecurity: Self.transportSecurity(configuration.tls),
      config: .defaults {
        $0.backoff = backoff
        if let name = configuration.tls?.serverName { $0.http2.authority = name }
      })
  }

  /// gRPC's transport security for `tls`: plaintext without it; else the server verified
  /// against the given roots (full verification: chain and name), and the client's own
  /// certificate presented when it has one.
  static func transportSecurity(_ tls: XDSClientTLS?)
    -> HTTP2ClientTransport.Posix
    .TransportSecurity
  {
    guard let tls else { return .plaintext }
    let roots = TLSConfig.TrustRootsSource.certificates([.file(path: tls.trustRoots, format: .pem)])
    guard let certificate = tls.certificate, let key = tls.key else {
      return .tls { $0.trustRoots = roots }
    }
    return .mTLS(
      certificateChain: [.file(path: certificate, format: .pem)],
      privateKey: .file(path: key, format: .pem)
    ) { $0.trustRoots = roots }
  }

  /// ``run()`` over any gRPC transport (tests use the in-process one).
  func run(transport: some ClientTransport) async throws {
    guard !running else {
      throw RPCError(code: .failedPrecondition, message: "the ADS client is already running")
    }
    running = true
    defer { running = false }
    var backoff = ReconnectBackoff(
      initial: configuration.initialBackoff, maximum: configuration.maxBackoff)
    var random = SystemRandomNumberGenerator()
    var options = CallOptions.defaults
    options.maxResponseMessageBytes = configuration.maxResponseBytes
    try await withGRPCClient(transport: transport) { client in
      let ads = Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client(wrapping: client)
      while !Task.isCancelled {
        switch configuration.mode {
        case .sotw: await runStream(ads, options: options)
        case .delta: await runDeltaStream(ads, options: options)
        }
        if machine.streamReceivedResponse { backoff.reset() }
        let delay = backoff.next(using: &random)
        logger.debug(
          "ADS reconnect scheduled",
          metadata: ["delay": "\(delay)", "attempt": "\(backoff.attempts)"])
        do {
          try await Task.sleep(for: delay)  // the backoff timer
        } catch {
          break  // cancelled
        }
      }
    }
  }

  /// Runs one state-of-the-world stream until it ends.
  private func runStream<Transport: ClientTransport>(
    _ ads: Envoy_Service_Discovery_V3_AggregatedDiscoveryService.Client<Transport>,
    options: CallOptions
  ) async {
    await runStream(variant: .sotw, connected: machine.sotw { $0.connected() }) {
      outbound, writer in
      try await ads.streamAggregatedResources(options: options) { stream in
        for await request in outbound { try await stream.write(request) }
      } onResponse: { response in
        defer { writer.finish() }
        try await self.receive(response, writer: writer)
      }
    }
  }

  /// Runs one stream of either variant until it ends: the subscriptions of `connected` are
  /// queued before the RPC starts (`call`, which writes `outbound` and reads the responses)
  /// and written as soon as it opens.
  func runStream<Request: Sendable>(
    variant: XDSVariant, connected: [XDSClientAction<Request>],
    call: (AsyncStream<Request>, AsyncStream<Request>.Continuation) async throws -> Void
  ) async {
    let (outbound, writer) = AsyncStream.makeStream(of: Request.self)
    for case .send(let request) in connected { writer.yield(request) }
    do {
      try await call(outbound, writer)
      var metadata = endpoint
      metadata["variant"] = "\(variant.rawValue)"
      logger.warning("ADS stream closed by the server", metadata: metadata)
    } catch {
      streamFailed(error)
    }
    writer.finish()
    machine.disconnected()
    await streamEnded()
  }

  /// Logs why a stream failed, unless the client is stopping.
  func streamFailed(_ error: any Error) {
    guard !Task.isCancelled else { return }
    var metadata = endpoint
    metadata["error"] = "\(error)"
    logger.warning("ADS stream failed", metadata: metadata)
  }

  /// Counts the end of a stream that had opened, and tells the consumer.
  func streamEnded() async {
    guard counters.connected else { return }
    counters.connected = false
    counters.disconnects += 1
    await consumer.connectionStateChanged(connected: false)
  }

  /// Counts a stream the server accepted, and tells the consumer.
  func streamOpened() async {
    counters.connected = true
    counters.connects += 1
    logger.info("ADS stream open", metadata: endpoint)
    await consumer.connectionStateChanged(connected: true)
  }

  /// Handles the server's answer to a state-of-the-world RPC.
  private func receive(
    _ response: StreamingClientResponse<DiscoveryResponse>,
    writer: AsyncStream<DiscoveryRequest>.Continuation
  ) async throws {
    try await receive(
      response, writer: writer,
      describe: { message in
        [
          "type": "\(message.typeURL)", "version": "\(message.versionInfo)",
          "nonce": "\(message.nonce)", "resources": "\(message.resources.count)",
        ]
      },
      received: { response in machine.sotw { $0.received(response) } },
      validated: { rejection in machine.sotw { $0.validated(rejection: rejection) } })
  }

  /// Handles the server's answer to the RPC of either variant: its headers (connected),
  /// then each response, fed to the machine (`received`), its actions carried out, the
  /// consumer's verdicts fed back (`validated`).
  func receive<Request: Sendable, Response: Sendable>(
    _ response: StreamingClientResponse<Response>, writer: AsyncStream<Request>.Continuation,
    describe: (Response) -> Logger.Metadata,
    received: (Response) -> [XDSClientAction<Request>],
    validated: (String?) -> [XDSClientAction<Request>]
  ) async throws {
    if case .success = response.accepted { await streamOpened() }
    for try await message in response.messages {
      logger.debug("ADS response", metadata: describe(message))
      var actions = received(message)
      while !actions.isEmpty {
        actions = await perform(actions, writer: writer, validated: validated)
      }
    }
  }

  /// Carries out `actions`; returns the actions of the consumer's verdict, if one was asked.
  private func perform<Request: Sendable>(
    _ actions: [XDSClientAction<Request>], writer: AsyncStream<Request>.Continuation,
    validated: (String?) -> [XDSClientAction<Request>]
  ) async -> [XDSClientAction<Request>] {
    var next: [XDSClientAction<Request>] = []
    for action in actions {
      switch action {
      case .send(let request):
        writer.yield(request)
      case .validate(let candidate, let type):
        let rejection = await consumer.validate(candidate, changed: type)
        next += validated(rejection)
      case .apply(let config, let type):
        await apply(config, changed: type)
      case .rejected(let type, let version, let message):
        rejected(type, version: version, message: message)
      case .ignored(let typeURL, let reason):
        ignored(typeURL: typeURL, reason: reason)
      }
    }
    return next
  }

  /// Hands an accepted configuration to the consumer and counts it.
  func apply(_ config: XDSConfig, changed type: ResourceType) async {
    await consumer.apply(config)
    let version = config.versions[type] ?? ""
    counters[type].accepted += 1
    counters[type].lastAcceptedVersion = version
    logger.info(
      "xDS update accepted",
      metadata: [
        "type": "\(type.rawValue)", "version": "\(version)",
        "resources": "\(config.names(of: type).count)",
      ])
  }

  /// Counts and logs a rejected response.
  func rejected(_ type: ResourceType, version: String, message: String) {
    counters[type].rejected += 1
    counters[type].lastRejection = message
    logger.warning(
      "xDS update rejected",
      metadata: ["type": "\(type.rawValue)", "version": "\(version)", "error": "\(message)"])
  }

  /// Logs an ignored response.
  func ignored(typeURL: String, reason: String) {
    logger.notice(
      "xDS response ignored", metadata: ["type": "\(typeURL)", "reason": "\(reason)"])
  }

  /// The resolver target for `host`: an IP literal as it is, anything else through DNS.
  private static func target(host: String, port: Int) -> any ResolvableTarget {
    if host.contains(":") { return .ipv6(address: host, port: port) }
    let parts = host.split(separator: ".", omittingEmptySubsequences: false)
    let isIPv4 =
      parts.count == 4
      && parts.allSatisfy { part in
        !part.isEmpty && part.allSatisfy { ("0"..."9").contains($0) } && UInt8(part) != nil
      }
    if isIPv4 { return .ipv4(address: host, port: port) }
    return .dns(host: host, port: port)
  }

  var endpoint: Logger.Metadata {
    ["server": "\(configuration.host):\(configuration.port)", "node": "\(configuration.node.id)"]
  }
}

extension XDSClientConfiguration {
  /// A gRPC transport to the control plane: its address, TLS (and client certificate) and
  /// reconnect backoff, as the ADS client uses them; for the other services the xDS port
  /// serves (the proxy's comparison reports).
  public func makeTransport() throws -> HTTP2ClientTransport.Posix {
    try ADSClient.transport(self)
  }
}
