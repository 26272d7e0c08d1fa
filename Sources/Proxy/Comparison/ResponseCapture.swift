import NIOCore
import NIOHTTP1
import ShadowCompare

/// One response being captured for a comparison: its status and headers, and its body up
/// to the comparison's bound (beyond it, only counted and hashed, ``BodyCapture``).
struct ResponseCapture {
  private var status = 0
  private var headers: [Header] = []
  private var body: BodyCapture
  private let started: NIODeadline

  init(limit: Int, started: NIODeadline) {
    body = BodyCapture(limit: limit)
    self.started = started
  }

  /// The body bytes held in memory now (none once the body went over the bound).
  var heldBytes: Int { body.exceededLimit ? 0 : body.totalBytes }

  mutating func head(status: Int, headers: HTTPHeaders) {
    self.status = status
    self.headers = headers.map { Header(name: $0.name.lowercased(), value: $0.value) }
  }

  mutating func append(_ chunk: ByteBuffer) {
    chunk.withUnsafeReadableBytes { body.append($0) }
  }

  /// The whole response, its latency measured to `now`.
  func finish(at now: NIODeadline) -> CapturedResponse {
    CapturedResponse(
      status: status, headers: headers, body: body.finish(),
      latency: .nanoseconds((now - started).nanoseconds))
  }
}
