import AdminAPI
import AsyncHTTPClient
import Foundation
import MeshConfig
import NIOCore
import NIOHTTP1
import NIOSSL

/// A client for the control plane's admin HTTP API (`AdminRouter` in ControlPlane).
///
/// Answers are decoded into the API's own Codable types (module `AdminAPI`) with the
/// decoder the server's encoder is paired with. Every failure comes back as a
/// ``CommandFailure`` holding what to show the user: the server's own messages (an
/// `ErrorResponse`) for a refused request, or what went wrong reaching the server.
struct AdminClient: Sendable {
  /// The HTTP methods the admin API uses.
  enum Method: String, Sendable {
    case get = "GET"
    case post = "POST"
    case put = "PUT"
    case delete = "DELETE"
  }

  /// An answer: its status and body.
  struct Response: Sendable {
    var status: Int
    var body: Data

    var isSuccess: Bool { (200..<300).contains(status) }
  }

  /// How a request proves who sends it, and which server certificates it trusts.
  struct Credentials: Sendable {
    /// `Authorization: Bearer TOKEN`.
    var token: String?
    /// For https: the trusted CA and the client certificate (mutual TLS); nil uses the
    /// system's trust store.
    var tls: TLSConfiguration?

    /// No token, the system's trust store.
    static let none = Credentials(token: nil, tls: nil)
  }

  /// The server's base URL.
  let server: AdminServer
  /// The credentials sent with every request.
  var credentials = Credentials.none

  /// How long to wait for an answer; the admin API answers from memory, so a long wait means
  /// something is wrong.
  static let timeout: TimeInterval = 30
  /// The HTTP client: AsyncHTTPClient's defaults, except that a refused or failed connection
  /// fails the request at once (by default it is retried until the request times out, so a
  /// control plane that is down would cost the whole timeout). Process-wide like
  /// `HTTPClient.shared`, so it is never shut down.
  static let client: HTTPClient = {
    var configuration = HTTPClient.Configuration()
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.timeout.connect = .seconds(10)
    return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
  }()

  /// The largest answer read (a 10,000-node status is about 20 MB).
  static let maxAnswerBytes = 256 << 20

  /// Sends a request and returns the answer whatever its status.
  func send(
    _ method: Method, _ path: String, query: [(String, String)] = [], body: Data? = nil,
    contentType: String = "application/yaml"
  ) async throws(CommandFailure) -> Response {
    let url = try url(path, query: query)
    var request = HTTPClientRequest(url: url.absoluteString)
    request.method = HTTPMethod(rawValue: method.rawValue)
    request.headers.add(name: "accept", value: "application/json")
    if let token = credentials.token {
      request.headers.add(name: "authorization", value: "Bearer \(token)")
    }
    if let body {
      request.body = .bytes(ByteBuffer(bytes: body))
      request.headers.add(name: "content-type", value: contentType)
    }
    request.tlsConfiguration = credentials.tls
    do {
      let response = try await Self.client.execute(
        request, timeout: .seconds(Int64(Self.timeout)))
      let bytes = try await response.body.collect(upTo: Self.maxAnswerBytes)
      return Response(status: Int(response.status.code), body: Data(bytes.readableBytesView))
    } catch {
      throw CommandFailure(
        "cannot reach the control plane at \(server) (\(Self.describe(error))); "
          + "is it running? Point --server or \(ServerOptions.environmentVariable) at its admin address"
      )
    }
  }

  /// Sends a request and returns the body of a successful answer; any other status fails
  /// with the server's messages, each problem passed through `relabel` (e.g. to name the
  /// file it came from).
  func fetch(
    _ method: Method = .get, _ path: String, query: [(String, String)] = [], body: Data? = nil,
    relabel: (ConfigError) -> ConfigError = { $0 }
  ) async throws(CommandFailure) -> Data {
    let response = try await send(method, path, query: query, body: body)
    guard response.isSuccess else {
      throw Self.failure(response, method: method, path: path, relabel: relabel)
    }
    return response.body
  }

  /// Sends a request and decodes the successful answer as `Answer`.
  func request<Answer: Decodable>(
    _ method: Method = .get, _ path: String, query: [(String, String)] = [], body: Data? = nil,
    relabel: (ConfigError) -> ConfigError = { $0 }, as type: Answer.Type = Answer.self
  ) async throws(CommandFailure) -> Answer {
    let data = try await fetch(method, path, query: query, body: body, relabel: relabel)
    return try Self.decode(type, from: data, what: "\(method.rawValue) \(path)")
  }

  /// `GET` returning text (YAML), ending with a newline unless empty.
  func text(_ path: String, query: [(String, String)] = []) async throws(CommandFailure) -> String {
    let text = String(decoding: try await fetch(.get, path, query: query), as: UTF8.self)
    return text.isEmpty || text.hasSuffix("\n") ? text : text + "\n"
  }

  /// Decodes an admin API answer with `AdminJSON`'s decoder; any `JSONValue` in it keeps the
  /// member order and number text of `body` (see `JSONValue+Codable.swift`). `what` names
  /// the request in the failure.
  static func decode<Answer: Decodable>(
    _ type: Answer.Type, from body: Data, what: String
  ) throws(CommandFailure) -> Answer {
    let decoder = AdminJSON.decoder()
    decoder.userInfo[JSONValue.documentKey] = try? JSONValue(parsing: body)
    do {
      return try decoder.decode(type, from: body)
    } catch {
      throw CommandFailure("\(what): cannot read the control plane's answer (\(describe(error)))")
    }
  }

  /// Path segments are percent-encoded one by one (node ids and names may hold `|` or `:`).
  static func segment(_ text: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "/?#")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
  }

  /// `/api/v1/config/KIND/NAMESPACE/NAME`: one resource of the config store.
  static func configPath(_ key: ResourceKey) -> String {
    "/api/v1/config/"
      + [key.kind.rawValue, key.namespace, key.name].map(segment).joined(separator: "/")
  }

  private func url(_ path: String, query: [(String, String)]) throws(CommandFailure) -> URL {
    var text = server.base + path
    if !query.isEmpty {
      var allowed = CharacterSet.urlQueryAllowed
      allowed.remove(charactersIn: "&=+?#")
      text +=
        "?"
        + query.map { name, value in
          name + "=" + (value.addingPercentEncoding(withAllowedCharacters: allowed) ?? value)
        }.joined(separator: "&")
    }
    guard let url = URL(string: text) else {
      throw CommandFailure("cannot build a URL from \(text)")
    }
    return url
  }

  /// A transport or decoding error in a few words.
  private static func describe(_ error: any Error) -> String {
    switch error {
    case let clientError as HTTPClientError
    where clientError == .deadlineExceeded || clientError == .connectTimeout:
      return "timed out after \(Int(timeout))s"
    case _
    where "\(error)".contains("Connection refused") || "\(error)".contains("connectionRefused"):
      return "connection refused"
    case DecodingError.dataCorrupted(let context):
      return "not the JSON expected: \(context.debugDescription)"
    case DecodingError.keyNotFound(let key, let context):
      return "\(path(context.codingPath + [key])) is missing"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      return "\(path(context.codingPath)): \(context.debugDescription)"
    default:
      return "\(error)"
    }
  }

  /// `resources[0].before`.
  private static func path(_ codingPath: [any CodingKey]) -> String {
    codingPath.map { key in key.intValue.map { "[\($0)]" } ?? "." + key.stringValue }
      .joined().drop { $0 == "." }.description
  }
}
