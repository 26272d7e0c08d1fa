import NIOCore
import NIOHTTP1

/// Receives one upstream response.
protocol UpstreamResponder: AnyObject {
  func upstreamHead(_ head: HTTPResponseHead)
  func upstreamBody(_ body: ByteBuffer)
  func upstreamEnd()
  /// The upstream's bytes read so far have been delivered (flush what they produced).
  func upstreamReadComplete()
  /// The connection failed or closed before the response ended.
  func upstreamFailed(_ error: any Error)
}
