import Dispatch
import Foundation
import MeshConfig
import ShadowCompare
import Synchronization

#if canImport(Glibc)
  import Glibc
#endif

/// The demo's processes and steps.
final class Demo: @unchecked Sendable {
  /// The two versions of httpbin.
  enum Version: String, CaseIterable {
    case v1, v2
  }

  /// The loopback ports of one run, each free when the run starts.
  struct Ports {
    var xds: Int
    var admin: Int
    var proxyAdmin: Int
    /// The proxy's listener, where the demo's requests go.
    var service: Int
    var httpbin: [Version: Int]

    /// Free ports for everything.
    static func free() throws -> Ports {
      Ports(
        xds: try DemoHTTP.freePort(), admin: try DemoHTTP.freePort(),
        proxyAdmin: try DemoHTTP.freePort(), service: try DemoHTTP.freePort(),
        httpbin: [.v1: try DemoHTTP.freePort(), .v2: try DemoHTTP.freePort()])
    }

    /// The port of httpbin `version`.
    func port(_ version: Version) -> Int { httpbin[version] ?? 0 }
  }

  /// Access log lines of the demo's own requests, per version.
  struct Counts {
    var v1: Int
    var v2: Int

    static func - (lhs: Counts, rhs: Counts) -> Counts {
      Counts(v1: lhs.v1 - rhs.v1, v2: lhs.v2 - rhs.v2)
    }
  }

  // Mutated only on the main task before the signal handler can run, then read; the
  // signal handler only reads `children` through `stopAll`, which tolerates repeats.
  private var children: [Process] = []
  private let work: URL
  /// Set first thing on SIGINT/SIGTERM: a step failing because the handler is stopping its
  /// processes is the interruption, not a failure.
  private let interruptedFlag = Atomic<Bool>(false)
  var interrupted: Bool { interruptedFlag.load(ordering: .acquiring) }
  private let venv: String
  private let halfRequests: Int
  private let binary = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
  /// Set at the start of ``run()``.
  private(set) var ports = Ports(xds: 0, admin: 0, proxyAdmin: 0, service: 0, httpbin: [:])

  init(venv: String, halfRequests: Int) throws {
    let absolute =
      venv.hasPrefix("/") ? venv : FileManager.default.currentDirectoryPath + "/" + venv
    self.venv = (absolute as NSString).standardizingPath
    self.halfRequests = max(halfRequests, 20)
    work = FileManager.default.temporaryDirectory.appendingPathComponent(
      "shadowplane-demo-\(getpid())")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
  }

  /// Stops every child and exits with 130 on SIGINT or SIGTERM (the sources must be kept).
  func cleanUpOnSignals() -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { [self] in
        interruptedFlag.store(true, ordering: .releasing)
        say("\nInterrupted: stopping every process the demo started.")
        stopAll()
        exit(130)
      }
      source.resume()
      return source
    }
  }

  func run() throws {
    try ensureHTTPBin()
    ports = try .free()
    try Self.v2Application.write(
      to: work.appendingPathComponent("demo_v2.py"), atomically: true, encoding: .utf8)
    let server = "http://127.0.0.1:\(ports.admin)"

    step(
      "Starting two versions of httpbin (gunicorn, access logs on), the control plane and the bundled proxy."
    )
    for version in Version.allCases {
      // Children inherit a blocked signal mask from this process; Python clears it before
      // exec'ing gunicorn so that SIGTERM stops it (and its workers) gracefully.
      try start(
        venv + "/bin/python",
        [
          "-c",
          "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])",
          venv + "/bin/gunicorn",
          "-b", "127.0.0.1:\(ports.port(version))", "--workers", "2", "--access-logfile",
          log(version.rawValue).path,
          "--access-logformat", "\(version) %(h)s \"%(r)s\" %(s)s host=%({host}i)s",
          "--chdir", work.path, version == .v1 ? "httpbin:app" : "demo_v2:app",
        ], output: "\(version)-gunicorn.err")
    }
    try start(
      binary,
      [
        "control-plane", "--store", work.appendingPathComponent("store").path,
        "--xds-address", "127.0.0.1:\(ports.xds)", "--admin-address", "127.0.0.1:\(ports.admin)",
      ], output: "control-plane.log")
    try start(
      binary,
      [
        "proxy", "--xds-server", "127.0.0.1:\(ports.xds)", "--node-id", "demo-proxy",
        "--admin-address", "127.0.0.1:\(ports.proxyAdmin)", "--access-log", log("proxy").path,
        // Every request of the demo compared (by default a sample of 50 a second per loop).
        "--comparison-report-interval", "1s", "--max-comparisons-per-second-per-loop", "1000",
      ], output: "proxy.log")
    try waitFor("the control plane") {
      try DemoHTTP.request("GET", port: self.ports.admin, path: "/healthz").status == 200
    }
    for version in Version.allCases {
      try waitFor("httpbin \(version)") {
        try DemoHTTP.request("GET", port: self.ports.port(version), path: "/status/200").status
          == 200
      }
    }
    say(
      "  control plane admin \(server), xDS 127.0.0.1:\(ports.xds); proxy listening on 127.0.0.1:\(ports.service) for host httpbin"
    )
    say("  watch it live in the web console: \(server)/")

    step(
      "Describing httpbin (ServiceEntry, v1 and v2 endpoints) and its subsets (DestinationRule), and sending all traffic to v1."
    )
    try apply(
      serviceEntry() + "\n---\n" + Self.destinationRule + "\n---\n" + virtualService(mirror: nil),
      server: server,
      equivalent: [
        "00-serviceentry.yaml", "01-destinationrule.yaml", "10-virtualservice-all-v1.yaml",
      ])
    try waitFor("the proxy to route httpbin") { try self.get(path: "/status/200").status == 200 }
    let allToV1 = try exchange(10, label: "all to v1", waitingFor: "the access logs") {
      $0.v1 >= 10
    }
    say("  v1 received \(allToV1.v1) requests, v2 received \(allToV1.v2).")

    step(
      "Mirroring: every request still goes to v1, and a copy of each goes to v2 with Host httpbin-shadow."
    )
    try apply(
      virtualService(mirror: 100), server: server, equivalent: ["11-virtualservice-mirror.yaml"])
    try waitForProxyConfig(containing: "requestMirrorPolicies")
    let full = try exchange(10, label: "mirror 100 %", waitingFor: "the shadows") { $0.v2 >= 10 }
    say(
      "  v1 received \(full.v1) requests; v2 received \(full.v2) mirrored copies (100 %), Host httpbin-shadow:\(ports.service)."
    )

    step("Mirroring half of the requests (mirrorPercentage 50).")
    try apply(
      virtualService(mirror: 50), server: server, equivalent: ["12-virtualservice-mirror-50.yaml"])
    try waitForProxyConfig(containing: "500000")
    let half = try exchange(
      halfRequests, label: "mirror 50 %", showLogs: false, waitingFor: "the access logs"
    ) {
      $0.v1 >= self.halfRequests
    }
    say(
      "  v1 received \(half.v1) of \(halfRequests) requests; v2 received \(half.v2) mirrored copies (\(Int((Double(half.v2) / Double(halfRequests) * 100).rounded())) %, expected about 50 %)."
    )
    try compareVersions(server: server)
    say("\nDone. Logs are in \(work.path). Stopping every process the demo started.")
  }

  /// v2 here is httpbin with one change (`demo_v2.py`): on POST /anything, the `total` it
  /// echoes is one more than was sent. The comparison finds exactly that, while what varies
  /// between any two answers (the shadow's Host, request ids) is learned from the baseline.
  static let v2Application = """
    # httpbin as v2 of the demo: one difference from v1, on one path.
    import json
    from httpbin import app as httpbin_app

    def app(environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST" or environ.get("PATH_INFO") != "/anything":
            return httpbin_app(environ, start_response)
        captured = {}
        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
        data = json.loads(b"".join(httpbin_app(environ, capture)))
        if isinstance(data.get("json"), dict) and isinstance(data["json"].get("total"), int):
            data["json"]["total"] += 1
        body = (json.dumps(data, indent=2) + "\\n").encode()
        headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
        start_response(captured["status"], headers + [("Content-Length", str(len(body)))])
        return [body]

    """

  /// The last step: a ShadowComparison, mixed traffic, and `shadowplane compare`.
  private func compareVersions(server: String) throws {
    step(
      "Comparing v2 with v1: every request mirrored again, v2's answers compared with v1's (a ShadowComparison, with a baseline copy to v1)."
    )
    try apply(
      virtualService(mirror: 100) + "\n---\n" + Self.shadowComparison, server: server,
      equivalent: ["11-virtualservice-mirror.yaml", "20-shadowcomparison.yaml"])
    try waitForProxyConfig(containing: "shadowplane.comparison")
    let count = 100
    say(
      "  sending \(count) requests through the proxy: GET /get and POST /anything with a JSON body, in turn"
    )
    for index in 0..<count {
      let response =
        index % 2 == 0
        ? try get(path: "/get?demo=compare&n=\(index)")
        : try DemoHTTP.request(
          "POST", port: ports.service, path: "/anything?demo=compare&n=\(index)",
          host: "httpbin:\(ports.service)", body: "{\"total\": \(index), \"item\": \"demo\"}",
          contentType: "application/json")
      guard response.status == 200 else {
        throw DemoHTTP.Failure(
          description: "request \(index) got \(response.status): \(response.body)")
      }
    }
    var routes: [RouteComparison] = []
    try waitFor("the proxy's comparison report") {
      let response = try DemoHTTP.request(
        "GET", port: self.ports.admin, path: "/api/v1/comparisons?virtualService=httpbin")
      routes =
        (try? AdminClient.decode(
          CompareCommand.Answer.self, from: Data(response.body.utf8), what: "comparisons"))?
        .comparisons ?? []
      return routes.first.map { $0.summary.compared >= count } ?? false
    }
    say("  $ shadowplane compare httpbin --server \(server)")
    for line in CompareCommand.render(routes, samples: 1).split(
      separator: "\n", omittingEmptySubsequences: false)
    {
      say("  " + line)
    }
  }

  /// `manifests/httpbin/20-shadowcomparison.yaml`.
  static let shadowComparison = """
    apiVersion: shadowplane.io/v1alpha1
    kind: ShadowComparison
    metadata: {name: httpbin, namespace: default}
    spec:
      virtualService: httpbin
      compare: {status: true, headers: [content-type], body: auto}
      ignore: {headers: [date]}
      baseline: {host: httpbin, subset: v1}
    """

  // MARK: steps

  private var stepNumber = 0
  private func step(_ text: String) {
    stepNumber += 1
    say("\n[\(stepNumber)] \(text)")
  }

  private func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
  }

  /// Applies `yaml` (the `equivalent` manifests of manifests/httpbin, on this run's ports)
  /// and prints what the control plane did.
  private func apply(_ yaml: String, server: String, equivalent: [String]) throws {
    for file in equivalent {
      say("  $ shadowplane apply -f manifests/httpbin/\(file) --server \(server)")
    }
    let path = "/api/v1/config/apply"
    let response = try DemoHTTP.request("POST", port: ports.admin, path: path, body: yaml)
    guard response.status == 200 else {
      throw DemoHTTP.Failure(description: "apply failed: \(response.body)")
    }
    let result = try AdminClient.decode(
      ApplyResult.self, from: Data(response.body.utf8), what: "POST \(path)")
    for change in result.changes { say("  \(change.resource) \(change.action.rawValue)") }
  }

  private func get(path: String) throws -> DemoHTTP.Response {
    try DemoHTTP.request("GET", port: ports.service, path: path, host: "httpbin:\(ports.service)")
  }

  /// Sends `count` requests through the proxy, waits until what the access logs gained
  /// satisfies `arrived`, and returns the gain. A short run then shows the new log lines; a
  /// long one (`showLogs: false`) waits instead for the mirrored copies to stop arriving
  /// (shadows are fire and forget, so they may trail the responses).
  private func exchange(
    _ count: Int, label: String, showLogs: Bool = true, waitingFor what: String,
    until arrived: @escaping (Counts) -> Bool
  ) throws -> Counts {
    let before = counts()
    say("  sending \(count) requests: GET http://httpbin:\(ports.service)/get through the proxy")
    let tag = label.replacingOccurrences(of: " ", with: "-").replacingOccurrences(
      of: "%", with: "pct")
    for index in 0..<count {
      let response = try get(path: "/get?demo=\(tag)&n=\(index)")
      guard response.status == 200 else {
        throw DemoHTTP.Failure(
          description: "request \(index) got \(response.status): \(response.body)")
      }
    }
    try waitFor(what) { arrived(self.counts() - before) }
    if showLogs {
      self.showLogs(since: before)
    } else {
      try settle { self.counts().v2 }
    }
    return counts() - before
  }

  private func waitForProxyConfig(containing text: String) throws {
    try waitFor("the proxy to apply the new routes") {
      try DemoHTTP.request("GET", port: self.ports.proxyAdmin, path: "/config_dump").body.contains(
        text)
    }
  }

  private func log(_ name: String) -> URL { work.appendingPathComponent("\(name)-access.log") }

  /// The demo's own requests in an access log (readiness probes are left out).
  private func lines(_ version: Version) -> [String] {
    ((try? String(contentsOf: log(version.rawValue), encoding: .utf8)) ?? "").split(separator: "\n")
      .filter { $0.contains("demo=") }.map(String.init)
  }

  private func counts() -> Counts { Counts(v1: lines(.v1).count, v2: lines(.v2).count) }

  private func showLogs(since: Counts) {
    for (version, start) in [(Version.v1, since.v1), (.v2, since.v2)] {
      let new = Array(lines(version).dropFirst(start))
      say("  --- \(version) access log (\(new.count) new lines) ---")
      for line in new.prefix(10) { say("  " + line) }
    }
  }

  /// Polls `condition` (a state this process can only observe by asking) for up to 30 s.
  private func waitFor(_ what: String, _ condition: () throws -> Bool) throws {
    let deadline = Date().addingTimeInterval(30)
    var last: (any Error)?
    while Date() < deadline {
      do { if try condition() { return } } catch { last = error }
      Thread.sleep(forTimeInterval: 0.1)
    }
    throw DemoHTTP.Failure(
      description:
        "timed out waiting for \(what)\(last.map { ": \($0)" } ?? "") (logs in \(work.path))")
  }

  /// Waits until `value` stops changing for half a second (shadows are fire and forget).
  private func settle(_ value: () -> Int) throws {
    var last = value()
    var stableSince = Date()
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline {
      Thread.sleep(forTimeInterval: 0.1)
      let now = value()
      if now != last {
        last = now
        stableSince = Date()
      } else if Date().timeIntervalSince(stableSince) > 0.5 {
        return
      }
    }
  }

  // MARK: processes

  private func start(_ path: String, _ arguments: [String], output: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.currentDirectoryURL = work
    let file = work.appendingPathComponent(output)
    _ = FileManager.default.createFile(atPath: file.path, contents: nil)
    let handle = try FileHandle(forWritingTo: file)
    process.standardOutput = handle
    process.standardError = handle
    try process.run()
    children.append(process)
  }

  /// SIGTERM to every child, then SIGKILL to those still running after 3 s.
  func stopAll() {
    for child in children where child.isRunning { child.terminate() }
    let deadline = Date().addingTimeInterval(3)
    while children.contains(where: \.isRunning), Date() < deadline {
      Thread.sleep(forTimeInterval: 0.05)
    }
    for child in children where child.isRunning { kill(child.processIdentifier, SIGKILL) }
    for child in children { child.waitUntilExit() }
  }

  private func ensureHTTPBin() throws {
    if FileManager.default.isExecutableFile(atPath: venv + "/bin/gunicorn") { return }
    say("Installing httpbin and gunicorn from PyPI into \(venv) (first run only)...")
    for (tool, arguments) in [
      ("python3", ["-m", "venv", venv]),
      (
        venv + "/bin/pip",
        ["install", "-q", "--disable-pip-version-check", "httpbin==0.10.4", "gunicorn==27.0.1"]
      ),
    ] {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [tool] + arguments
      try process.run()
      process.waitUntilExit()
      guard process.terminationStatus == 0 else {
        throw DemoHTTP.Failure(
          description:
            "could not install httpbin and gunicorn into \(venv) (`\(tool) \(arguments.joined(separator: " "))` failed); the demo needs Python 3 with venv and access to PyPI"
        )
      }
    }
  }
}
