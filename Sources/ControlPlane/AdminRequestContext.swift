import AdminAuth
import Hummingbird
import NIOCore
import XDSCore

/// The admin API's request context: Hummingbird's core storage plus the peer's address,
/// which the write log names.
struct AdminRequestContext: AuthenticatedRequestContext, RemoteAddressRequestContext {
  var coreContext: CoreRequestContextStorage
  /// The connection (its TLS client certificate names the caller with mutual TLS).
  let channel: any Channel
  /// The client's address (nil when the channel has none, as in router tests).
  let remoteAddress: SocketAddress?
  /// Who is asking, as authentication established it (a token's name, a certificate's
  /// identity); `anonymous` while the admin API has no authentication.
  var identity = "anonymous"

  /// The client's address as `HOST:PORT` (`-` when unknown).
  var peer: String {
    guard let address = remoteAddress, let ip = address.ipAddress, let port = address.port else {
      return "-"
    }
    return HostPort(host: ip, port: port).description
  }

  init(source: ApplicationRequestContextSource) {
    coreContext = .init(source: source)
    channel = source.channel
    remoteAddress = source.channel.remoteAddress
  }
}
