import AdminAuth
import Hummingbird
import NIOCore

/// The proxy admin API's request context: Hummingbird's storage, the connection (whose TLS
/// client certificate can name an operator) and the caller authentication found.
struct ProxyAdminContext: AuthenticatedRequestContext {
  var coreContext: CoreRequestContextStorage
  let channel: any Channel
  var identity = "anonymous"

  init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
    channel = source.channel
  }
}
