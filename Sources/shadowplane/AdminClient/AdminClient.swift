import Foundation

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// A client for the control plane's admin HTTP API (see `AdminAPI` in ControlPlane).
///
/// Every failure comes back as a ``CommandFailure`` holding what to show the user: the
/// server's own messages (`{"errors": [...]}` or `{"error": "..."}`) for a rejected request,
/// or what went wrong reaching the server.
struct AdminClient: Sendable {
  /// The server's base URL, without a trailing slash.
  let base: String

  /// How long to wait for an answer; the admin API answers from memory, so a long wait means
  /// something is wrong.
  static let timeout: TimeInterval = 30

  /// Accepts `http://host:port[/prefix]`, `https://...`, or a bare `host:port` (taken as http).
  init(server: String) throws(CommandFailure) {
    var text = server.trimmingCharacters(in: .whitespaces)
    if !text.contains("://") { text = "http://" + text }
    while text.hasSuffix("/") { text.removeLast() }
    guard let url = URL(string: text), let scheme = url.scheme?.lowercased(),
      scheme == "http" || scheme == "https", let host = url.host, !host.isEmpty
    else {
      throw CommandFailure(
        "invalid --server '\(server)': expected a URL like \(ServerOptions.defaultServer)")
    }
    base = text
  }

  /// An answer: its status and body.
  struct Response: Sendable {
    var status: Int
    var body: Data

    var isSuccess: Bool { (200..<300).contains(status) }
  }

  /// Sends a request and returns the answer whatever its status.
  func send(
    _ method: String, _ path: String, query: [(String, String)] = [], body: Data? = nil,
    contentType: String = "application/yaml"
  ) async throws(CommandFailure) -> Response {
    let url = try url(path, query: query)
    var request = URLRequest(url: url, timeoutInterval: Self.timeout)
    request.httpMethod = method
    if let body {
      request.httpBody = body
      request.setValue(contentType, forHTTPHeaderField: "Content-Type")
    }
    request.setValue("application/json", forHTTPHeaderField: "Accept")
    do {
      let (data, response) = try await URLSession.shared.data(for: request)
      let status = (response as? HTTPURLResponse)?.statusCode ?? 0
      return Response(status: status, body: data)
    } catch {
      throw CommandFailure(
        "cannot reach the control plane at \(base) (\(Self.describe(error))); "
          + "is it running? Point --server or SHADOWPLANE_SERVER at its admin address")
    }
  }

  /// Sends a request and parses a successful JSON answer; any other status fails with the
  /// server's message.
  func json(
    _ method: String, _ path: String, query: [(String, String)] = [], body: Data? = nil
  ) async throws(CommandFailure) -> JSONValue {
    let response = try await send(method, path, query: query, body: body)
    guard response.isSuccess else { throw failure(response, method: method, path: path) }
    do {
      return try JSONValue(parsing: response.body)
    } catch {
      throw CommandFailure("\(method) \(path): the control plane answered with \(error)")
    }
  }

  /// `GET` returning JSON.
  func get(_ path: String, query: [(String, String)] = []) async throws(CommandFailure) -> JSONValue
  {
    try await json("GET", path, query: query)
  }

  /// `GET` returning text (YAML).
  func getText(_ path: String, query: [(String, String)] = []) async throws(CommandFailure)
    -> String
  {
    let response = try await send("GET", path, query: query)
    guard response.isSuccess else { throw failure(response, method: "GET", path: path) }
    return String(decoding: response.body, as: UTF8.self)
  }

  /// The failure a non-2xx answer stands for: the server's messages when it sent some.
  /// `relabel` adjusts each reported problem (e.g. to name the file it came from).
  func failure(
    _ response: Response, method: String, path: String,
    relabel: (ConfigProblem) -> ConfigProblem = { $0 }
  ) -> CommandFailure {
    if let body = try? JSONValue(parsing: response.body) {
      let problems = body["errors"].elements.map { relabel(ConfigProblem($0)).description }
      if !problems.isEmpty { return CommandFailure(lines: problems) }
      if let message = body["error"]?.string { return CommandFailure(message) }
    }
    let text = String(decoding: response.body, as: UTF8.self).trimmingCharacters(
      in: .whitespacesAndNewlines)
    if response.status == 404, text.isEmpty {
      return CommandFailure(
        "\(method) \(path): not found (404); this control plane may predate the endpoint")
    }
    let detail = text.isEmpty ? "" : ": " + String(text.prefix(500))
    return CommandFailure("\(method) \(path): HTTP \(response.status)\(detail)")
  }

  /// Path segments are percent-encoded one by one (node ids and names may hold `|` or `:`).
  static func segment(_ text: String) -> String {
    var allowed = CharacterSet.urlPathAllowed
    allowed.remove(charactersIn: "/?#")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
  }

  private func url(_ path: String, query: [(String, String)]) throws(CommandFailure) -> URL {
    var text = base + path
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

  private static func describe(_ error: any Error) -> String {
    if let urlError = error as? URLError {
      switch urlError.code {
      case .cannotConnectToHost: return "connection refused"
      case .timedOut: return "timed out after \(Int(timeout))s"
      case .cannotFindHost: return "unknown host"
      default: break
      }
    }
    return error.localizedDescription
  }
}

/// One error or warning as the admin API reports it: `source`, `resource`, `field` (a path
/// like `spec.http[0].route`), `message` and `severity`.
struct ConfigProblem: CustomStringConvertible {
  var source: String?
  var resource: String?
  var field: String?
  var message: String
  var severity: String?

  init(_ json: JSONValue) {
    source = json["source"]?.string
    resource = json["resource"]?.string
    field = json["field"]?.string
    message = json["message"]?.string ?? json.displayText
    severity = json["severity"]?.string
  }

  /// `source: resource: field: message`, leaving out the parts the server did not send.
  var description: String {
    ([source, resource, field].compactMap { $0 }.filter { !$0.isEmpty } + [message])
      .joined(separator: ": ")
  }

  /// Without the source, as warnings are shown: `resource: field: message`.
  var withoutSource: String {
    ([resource, field].compactMap { $0 }.filter { !$0.isEmpty } + [message]).joined(separator: ": ")
  }
}
