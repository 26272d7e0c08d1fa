/// A listener as the proxy binds it.
struct ListenerSpec: Sendable, Equatable {
  let name: String
  let host: String
  let port: Int
  /// The route table requests on this listener use (an RDS name, or the inline table's).
  let routeTable: String
}
