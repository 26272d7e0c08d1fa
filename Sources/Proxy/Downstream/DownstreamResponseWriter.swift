import NIOCore
import NIOHTTP1

/// How a forwarded request's response ends.
enum ResponseEnd: Equatable {
  /// The response is whole: the stream is done and the connection may carry on (HTTP/1.1:
  /// when the request and the listener allow keep-alive).
  case complete
  /// The response broke off after its head had gone (the upstream reset, the route
  /// timeout). Envoy can then only reset the stream; over HTTP/1.1 the connection closes.
  case reset
}

/// Where a forwarded request's response goes, one part at a time: the head, body chunks,
/// flushes, and the end. The downstream protocol's framing is the writer's: the
/// ``DownstreamHandler`` (HTTP/1.1, one request at a time) answers in the request's version
/// and adds `connection: close` when the connection will not be kept; an HTTP/2 stream
/// would write HEADERS and DATA frames and reset the stream. A writer takes the parts of
/// one response at a time, in order: a head, bodies and flushes, then one end.
protocol DownstreamResponseWriter: AnyObject {
  /// The response head: status and end-to-end headers (the writer adds its framing).
  func writeResponseHead(status: HTTPResponseStatus, headers: HTTPHeaders)
  /// A chunk of the response body (written; flushed by ``flushResponse()`` or the end).
  func writeResponseBody(_ chunk: ByteBuffer)
  /// What was written so far goes out (the upstream's read that produced it ended).
  func flushResponse()
  /// The response ends (flushed); nothing more is written for this request.
  func endResponse(_ end: ResponseEnd)
}
