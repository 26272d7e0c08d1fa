import Atomics
import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2

/// One HTTP/2 stream of a downstream connection (h2c): it reads the request (HEADERS, then
/// DATA frames buffered as an HTTP/1.1 body is, up to ``ProxyLimits/maxRequestBodyBytes``,
/// 413 beyond), forwards it as a ``ForwardedRequest`` (the same routing, retries, timeouts,
/// shadows and access log as HTTP/1.1), and is its ``DownstreamResponseWriter``: the head
/// as a HEADERS frame without connection-specific fields (RFC 9113, 8.2.2), the body as DATA
/// frames, a clean end as an empty DATA frame with END_STREAM, and a response that breaks
/// off as RST_STREAM (NO_ERROR, the code Envoy's codec resets a stream with,
/// `reasonToReset`), never as a clean end. Streams are independent: each has its own
/// handler, so many requests of one connection are in flight at once.
///
/// A head with more fields than ``ProxyLimits/maxRequestHeaders`` resets the stream, counted
/// `http2.header_overflow` (Envoy's codec resets such a stream and counts the same); a head
/// over ``ProxyLimits/maxRequestHeadersKB`` never gets here (the connection's
/// SETTINGS_MAX_HEADER_LIST_SIZE, enforced by swift-nio-http2 while decoding).
final class HTTP2StreamHandler: ChannelInboundHandler {
  typealias InboundIn = HTTP2Frame.FramePayload
  typealias OutboundOut = HTTP2Frame.FramePayload

  private enum State {
    /// Waiting for the request's HEADERS.
    case awaitingHead
    /// The head arrived; its body is arriving (DATA frames until END_STREAM).
    case receivingBody(HTTPRequestHead, RequestBodyBuffer)
    /// The request is whole and set going; its response is being written.
    case forwarding(ForwardedRequest)
    /// The response ended, or the stream was reset: nothing more is read or written.
    case done
  }

  /// The listener that accepted the connection (its route table is looked up).
  let listener: String
  let loop: LoopContext
  private let forward: DownstreamHandler.Forward
  private var state = State.awaitingHead
  private var context: ChannelHandlerContext?

  init(
    listener: String, loop: LoopContext,
    forward: @escaping DownstreamHandler.Forward = { $0.start() }
  ) {
    self.listener = listener
    self.loop = loop
    self.forward = forward
  }

  func handlerAdded(context: ChannelHandlerContext) {
    self.context = context
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    self.context = nil
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    switch (unwrapInboundIn(data), state) {
    case (.headers(let headers), .awaitingHead):
      guard
        headers.headers.count(where: { !$0.name.hasPrefix(":") }) <= loop.limits.maxRequestHeaders
      else {
        loop.stats.http2HeaderOverflows.wrappingIncrement(ordering: .relaxed)
        reset(context: context)
        return
      }
      guard let head = Self.requestHead(headers.headers) else {
        // swift-nio-http2 validates the pseudo-header fields before this; a head without
        // them cannot be routed.
        loop.stats.protocolErrors.wrappingIncrement(ordering: .relaxed)
        reset(context: context)
        return
      }
      state = .receivingBody(head, RequestBodyBuffer(limit: loop.limits.maxRequestBodyBytes))
      if headers.endStream { requestComplete(context: context) }
    case (.headers(let trailers), .receivingBody):
      // Trailers end the request; they are not forwarded (HTTP/1.1 upstream).
      if trailers.endStream { requestComplete(context: context) }
    case (.data(let data), .receivingBody(let head, var body)):
      if case .byteBuffer(var chunk) = data.data {
        state = .done  // no copy of the buffer while it grows
        body.append(&chunk)
      }
      state = .receivingBody(head, body)
      if data.endStream { requestComplete(context: context) }
    case (.rstStream, _):
      downstreamClosed()
    default:
      break
    }
  }

  /// The stream closed (reset by the client, or the connection went away): the request in
  /// flight is abandoned, as when an HTTP/1.1 client closes.
  func channelInactive(context: ChannelHandlerContext) {
    downstreamClosed()
    context.fireChannelInactive()
  }

  /// Stream errors (the stream is reset by swift-nio-http2) end the request like a reset.
  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    downstreamClosed()
  }

  private func downstreamClosed() {
    if case .forwarding(let request) = state {
      state = .done
      request.downstreamClosed()
    } else {
      state = .done
    }
  }

  private func requestComplete(context: ChannelHandlerContext) {
    guard case .receivingBody(let head, let body) = state else { return }
    let request = ForwardedRequest(
      writer: self, listener: listener, loop: loop, head: head, body: body.body,
      remoteAddress: context.channel.remoteAddress?.ipAddress ?? "-")
    state = .forwarding(request)
    request.begin(bodyTooLarge: body.tooLarge, forward: forward)
  }

  private func reset(context: ChannelHandlerContext) {
    state = .done
    context.writeAndFlush(wrapOutboundOut(.rstStream(.noError)), promise: nil)
  }

  /// The request head of an HTTP/2 header block (RFC 9113, 8.3.1): `:method`, `:path`, and
  /// `:authority` as the `host` field (replacing any `host` the client also sent, as Envoy
  /// does); the regular fields follow; the version is 2.0. Nil without `:method` or `:path`.
  static func requestHead(_ block: HPACKHeaders) -> HTTPRequestHead? {
    guard let method = block.first(name: ":method"), let path = block.first(name: ":path") else {
      return nil
    }
    var headers = HTTPHeaders()
    headers.reserveCapacity(block.count)
    let authority = block.first(name: ":authority")
    if let authority { headers.add(name: "host", value: authority) }
    for field in block where !field.name.hasPrefix(":") {
      if authority != nil, field.name == "host" { continue }
      headers.add(name: field.name, value: field.value)
    }
    return HTTPRequestHead(
      version: .http2, method: HTTPMethod(rawValue: method), uri: path, headers: headers)
  }

  /// A response head as an HTTP/2 header block: `:status` first, then the fields with
  /// lower-case names, without the connection-specific ones HTTP/2 forbids (RFC 9113,
  /// 8.2.2: `connection`, `keep-alive`, `proxy-connection`, `transfer-encoding`, `upgrade`,
  /// and `te`; ``UpstreamRequestHead/isHopByHop(_:)`` names them, `trailer` aside, which
  /// HTTP/2 keeps).
  static func responseHeaders(status: HTTPResponseStatus, headers: HTTPHeaders) -> HPACKHeaders {
    var block = HPACKHeaders()
    block.reserveCapacity(headers.count + 1)
    block.add(name: ":status", value: String(status.code))
    for (name, value) in headers {
      let lower = name.lowercased()
      if UpstreamRequestHead.isHopByHop(lower), lower != "trailer" { continue }
      block.add(name: lower, value: trimmed(value))
    }
    return block
  }

  /// `value` without leading or trailing spaces and tabs. HTTP/1.1 does not count them as
  /// part of a field value (RFC 9112, 5), but NIO's parser keeps a trailing one (a Python
  /// server's `Server: name ` has one); HTTP/2 forbids them (RFC 9113, 8.2.1) and clients
  /// reject the whole response. Most values have none and are returned as they are.
  static func trimmed(_ value: String) -> String {
    let utf8 = value.utf8
    func blank(_ byte: UInt8?) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    guard blank(utf8.first) || blank(utf8.last) else { return value }
    var bytes = utf8[...]
    while blank(bytes.first) { bytes = bytes.dropFirst() }
    while blank(bytes.last) { bytes = bytes.dropLast() }
    return String(decoding: bytes, as: UTF8.self)
  }
}

extension HTTP2StreamHandler: DownstreamResponseWriter {
  private var writing: Bool {
    if case .forwarding = state { context != nil } else { false }
  }

  func writeResponseHead(status: HTTPResponseStatus, headers: HTTPHeaders) {
    guard writing, let context else { return }
    let block = Self.responseHeaders(status: status, headers: headers)
    context.write(wrapOutboundOut(.headers(.init(headers: block))), promise: nil)
  }

  func writeResponseBody(_ chunk: ByteBuffer) {
    guard writing, let context else { return }
    context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(chunk)))), promise: nil)
  }

  func flushResponse() {
    guard writing else { return }
    context?.flush()
  }

  /// A complete response ends the stream (an empty DATA frame with END_STREAM); one that
  /// broke off resets it (RST_STREAM), so the client never takes it for whole.
  func endResponse(_ end: ResponseEnd) {
    guard writing, let context else { return }
    state = .done
    switch end {
    case .complete:
      context.writeAndFlush(
        wrapOutboundOut(.data(.init(data: .byteBuffer(ByteBuffer()), endStream: true))),
        promise: nil)
    case .reset:
      context.writeAndFlush(wrapOutboundOut(.rstStream(.noError)), promise: nil)
    }
  }
}
