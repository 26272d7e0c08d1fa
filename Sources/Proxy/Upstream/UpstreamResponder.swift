import NIOCore
import NIOHTTP1

/// One upstream exchange as its sender sees it: the connection the request goes out on,
/// then the response's parts, or why there is none. The pool's `send` drives it for the
/// primary request (``ForwardedRequest``) and its shadows (``ShadowRequest``) alike. Every
/// call comes on the pool's event loop. A responder that gives up before its request got a
/// connection withdraws it from the pool (``UpstreamPool/withdraw(_:)``).
protocol UpstreamResponder: AnyObject {
  /// Whether the request still wants sending. One that ended while its connection was
  /// being made (route timeout, client gone) says no, and the new connection goes idle in
  /// the pool instead of carrying a request nobody waits for.
  var awaitsConnection: Bool { get }
  /// The request is about to go out on `connection`. The responder keeps it: to abandon it
  /// (timeout, client gone), to release it to the pool when the response ends, and to tell
  /// a reused connection's failure (likely closed by the upstream while idle) from a new
  /// one's. Called before anything is written, so a write that fails at once already
  /// finds the connection known.
  func upstreamAttached(_ connection: UpstreamConnection)
  /// No connection could be made (refused, unreachable, connect timeout).
  func upstreamConnectFailed(_ error: any Error)
  /// The cluster's circuit breakers refused the request (`max_pending_requests` or
  /// `max_requests`): it was not sent, and Envoy answers 503 with `x-envoy-overloaded`.
  func upstreamOverflow()
  /// The response head.
  func upstreamHead(_ head: HTTPResponseHead)
  /// A chunk of the response body.
  func upstreamBody(_ body: ByteBuffer)
  /// The response ended; the connection may carry another request.
  func upstreamEnd()
  /// The upstream's bytes read so far have been delivered (flush what they produced).
  func upstreamReadComplete()
  /// The connection failed or closed before the response ended.
  func upstreamFailed(_ error: any Error)
}
