import Hummingbird
import NIOCore

/// The admin API's request context: Hummingbird's core storage plus the peer's address,
/// which the write log names.
struct AdminRequestContext: RequestContext, RemoteAddressRequestContext {
  var coreContext: CoreRequestContextStorage
  /// The client's address (nil when the channel has none, as in router tests).
  let remoteAddress: SocketAddress?

  init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
    remoteAddress = source.channel.remoteAddress
  }
}
