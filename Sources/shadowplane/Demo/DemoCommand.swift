import ArgumentParser
import Dispatch
import Foundation

/// `shadowplane demo`: the whole story on loopback, one command. Starts a control plane on
/// a temporary store, the bundled proxy and two versions of httpbin, then routes all
/// traffic to v1, mirrors every request to v2, and mirrors half of them.
struct DemoCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Run the mirroring demo end to end (control plane, proxy, httpbin v1 and v2).")

  @Option(help: "Where httpbin and gunicorn are installed (created on first run).")
  var venv: String = ProcessInfo.processInfo.environment["SHADOWPLANE_DEMO_VENV"] ?? ".venv-demo"

  @Option(help: "Requests sent in the 50 % step.")
  var requests: Int = 200

  func run() async throws {
    let demo = try Demo(venv: venv, halfRequests: requests)
    let signals = demo.cleanUpOnSignals()
    defer { signals.forEach { $0.cancel() } }
    do {
      try demo.run()
      demo.stopAll()
    } catch {
      demo.stopAll()
      FileHandle.standardError.write(Data("demo failed: \(error)\n".utf8))
      throw ExitCode(1)
    }
  }
}

/// The demo's processes and steps.
final class Demo: @unchecked Sendable {
  // Mutated only on the main task before the signal handler can run, then read; the
  // signal handler only reads `children` through `stopAll`, which tolerates repeats.
  private var children: [Process] = []
  private let work: URL
  private let venv: String
  private let halfRequests: Int
  private let binary = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
  private var ports: [String: Int] = [:]

  init(venv: String, halfRequests: Int) throws {
    let absolute = venv.hasPrefix("/") ? venv : FileManager.default.currentDirectoryPath + "/" + venv
    self.venv = (absolute as NSString).standardizingPath
    self.halfRequests = max(halfRequests, 20)
    work = FileManager.default.temporaryDirectory.appendingPathComponent("shadowplane-demo-\(getpid())")
    try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
  }

  func cleanUpOnSignals() -> [any DispatchSourceSignal] {
    [SIGINT, SIGTERM].map { number in
      let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
      source.setEventHandler { [self] in
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
    for name in ["xds", "admin", "proxyAdmin", "service", "v1", "v2"] { ports[name] = try DemoHTTP.freePort() }
    let admin = ports["admin"]!, service = ports["service"]!
    let server = "http://127.0.0.1:\(admin)"

    step("Starting two versions of httpbin (gunicorn, access logs on), the control plane and the bundled proxy.")
    for version in ["v1", "v2"] {
      // Children inherit a blocked signal mask from this process; Python clears it before
      // exec'ing gunicorn so that SIGTERM stops it (and its workers) gracefully.
      try start(venv + "/bin/python", [
        "-c", "import os, signal, sys; signal.pthread_sigmask(signal.SIG_SETMASK, []); os.execv(sys.argv[1], sys.argv[1:])",
        venv + "/bin/gunicorn",
        "-b", "127.0.0.1:\(ports[version]!)", "--workers", "2", "--access-logfile", log(version).path,
        "--access-logformat", "\(version) %(h)s \"%(r)s\" %(s)s host=%({host}i)s", "httpbin:app",
      ], output: "\(version)-gunicorn.err")
    }
    try start(binary, ["control-plane", "--store", work.appendingPathComponent("store").path,
      "--xds-address", "127.0.0.1:\(ports["xds"]!)", "--admin-address", "127.0.0.1:\(admin)"], output: "control-plane.log")
    try start(binary, ["proxy", "--xds-server", "127.0.0.1:\(ports["xds"]!)", "--node-id", "demo-proxy",
      "--admin-address", "127.0.0.1:\(ports["proxyAdmin"]!)", "--access-log", log("proxy").path], output: "proxy.log")
    try waitFor("the control plane") { try DemoHTTP.request("GET", port: admin, path: "/healthz").status == 200 }
    for version in ["v1", "v2"] {
      try waitFor("httpbin \(version)") { try DemoHTTP.request("GET", port: self.ports[version]!, path: "/status/200").status == 200 }
    }
    say("  control plane admin \(server), xDS 127.0.0.1:\(ports["xds"]!); proxy listening on 127.0.0.1:\(service) for host httpbin")

    step("Describing httpbin (ServiceEntry, v1 and v2 endpoints) and its subsets (DestinationRule), and sending all traffic to v1.")
    try apply(serviceEntry() + "\n---\n" + Self.destinationRule + "\n---\n" + virtualService(mirror: nil), server: server,
      equivalent: ["00-serviceentry.yaml", "01-destinationrule.yaml", "10-virtualservice-all-v1.yaml"])
    try waitFor("the proxy to route httpbin") { try self.get(path: "/status/200").status == 200 }
    var before = counts()
    try send(10, label: "all to v1")
    try waitFor("the access logs") { self.counts().v1 >= before.v1 + 10 }
    showLogs(since: before)
    let allToV1 = counts()
    say("  v1 received \(allToV1.v1 - before.v1) requests, v2 received \(allToV1.v2 - before.v2).")

    step("Mirroring: every request still goes to v1, and a copy of each goes to v2 with Host httpbin-shadow.")
    try apply(virtualService(mirror: 100), server: server, equivalent: ["11-virtualservice-mirror.yaml"])
    try waitForProxyConfig(containing: "requestMirrorPolicies")
    before = counts()
    try send(10, label: "mirror 100 %")
    try waitFor("the shadows") { self.counts().v2 >= before.v2 + 10 }
    showLogs(since: before)
    let full = counts()
    say("  v1 received \(full.v1 - before.v1) requests; v2 received \(full.v2 - before.v2) mirrored copies (100 %), Host httpbin-shadow:\(service).")

    step("Mirroring half of the requests (mirrorPercentage 50).")
    try apply(virtualService(mirror: 50), server: server, equivalent: ["12-virtualservice-mirror-50.yaml"])
    try waitForProxyConfig(containing: "500000")
    before = counts()
    try send(halfRequests, label: "mirror 50 %", quiet: true)
    try waitFor("the access logs") { self.counts().v1 >= before.v1 + self.halfRequests }
    try settle { self.counts().v2 }
    let half = counts()
    let mirrored = half.v2 - before.v2
    say("  v1 received \(half.v1 - before.v1) of \(halfRequests) requests; v2 received \(mirrored) mirrored copies (\(Int((Double(mirrored) / Double(halfRequests) * 100).rounded())) %, expected about 50 %).")
    say("\nDone. Logs are in \(work.path). Stopping every process the demo started.")
  }

  // MARK: steps

  private var stepNumber = 0
  private func step(_ text: String) {
    stepNumber += 1
    say("\n[\(stepNumber)] \(text)")
  }

  private func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
  }

  /// Applies `yaml` (the `equivalent` manifests of manifests/httpbin, on this run's ports).
  private func apply(_ yaml: String, server: String, equivalent: [String]) throws {
    for file in equivalent { say("  $ shadowplane apply -f manifests/httpbin/\(file) --server \(server)") }
    let response = try DemoHTTP.request("POST", port: ports["admin"]!, path: "/api/v1/config/apply", body: yaml)
    guard response.status == 200 else { throw DemoHTTP.Failure(description: "apply failed: \(response.body)") }
    if let data = response.body.data(using: .utf8),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let changes = object["changes"] as? [[String: Any]]
    {
      for change in changes { say("  \(change["resource"] ?? "") \(change["action"] ?? "")") }
    }
  }

  private func get(path: String) throws -> DemoHTTP.Response {
    try DemoHTTP.request("GET", port: ports["service"]!, path: path, host: "httpbin:\(ports["service"]!)")
  }

  private func send(_ count: Int, label: String, quiet: Bool = false) throws {
    say("  sending \(count) requests: GET http://httpbin:\(ports["service"]!)/get through the proxy")
    for index in 0..<count {
      let response = try get(path: "/get?demo=\(label.replacingOccurrences(of: " ", with: "-").replacingOccurrences(of: "%", with: "pct"))&n=\(index)")
      guard response.status == 200 else { throw DemoHTTP.Failure(description: "request \(index) got \(response.status): \(response.body)") }
    }
  }

  private func waitForProxyConfig(containing text: String) throws {
    try waitFor("the proxy to apply the new routes") {
      try DemoHTTP.request("GET", port: self.ports["proxyAdmin"]!, path: "/config_dump").body.contains(text)
    }
  }

  private func log(_ name: String) -> URL { work.appendingPathComponent("\(name)-access.log") }

  /// The demo's own requests in an access log (readiness probes are left out).
  private func lines(_ name: String) -> [String] {
    ((try? String(contentsOf: log(name), encoding: .utf8)) ?? "").split(separator: "\n")
      .filter { $0.contains("demo=") }.map(String.init)
  }

  private func counts() -> (v1: Int, v2: Int) { (lines("v1").count, lines("v2").count) }

  private func showLogs(since: (v1: Int, v2: Int)) {
    for (name, start) in [("v1", since.v1), ("v2", since.v2)] {
      let new = Array(lines(name).dropFirst(start))
      say("  --- \(name) access log (\(new.count) new lines) ---")
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
    throw DemoHTTP.Failure(description: "timed out waiting for \(what)\(last.map { ": \($0)" } ?? "") (logs in \(work.path))")
  }

  /// Waits until `value` stops changing for half a second (shadows are fire and forget).
  private func settle(_ value: () -> Int) throws {
    var last = value()
    var stableSince = Date()
    let deadline = Date().addingTimeInterval(10)
    while Date() < deadline {
      Thread.sleep(forTimeInterval: 0.1)
      let now = value()
      if now != last { last = now; stableSince = Date() } else if Date().timeIntervalSince(stableSince) > 0.5 { return }
    }
  }

  // MARK: processes

  private func start(_ path: String, _ arguments: [String], output: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.currentDirectoryURL = work
    let file = work.appendingPathComponent(output)
    FileManager.default.createFile(atPath: file.path, contents: nil)
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
    while children.contains(where: \.isRunning), Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    for child in children where child.isRunning { kill(child.processIdentifier, SIGKILL) }
    for child in children { child.waitUntilExit() }
  }

  private func ensureHTTPBin() throws {
    if FileManager.default.isExecutableFile(atPath: venv + "/bin/gunicorn") { return }
    say("Installing httpbin and gunicorn from PyPI into \(venv) (first run only)...")
    for (tool, arguments) in [("python3", ["-m", "venv", venv]), (venv + "/bin/pip", ["install", "-q", "--disable-pip-version-check", "httpbin==0.10.4", "gunicorn==27.0.1"])] {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
      process.arguments = [tool] + arguments
      try process.run()
      process.waitUntilExit()
      guard process.terminationStatus == 0 else {
        throw DemoHTTP.Failure(description: "could not install httpbin and gunicorn into \(venv) (`\(tool) \(arguments.joined(separator: " "))` failed); the demo needs Python 3 with venv and access to PyPI")
      }
    }
  }

  // MARK: configuration (the manifests in manifests/httpbin, on this run's ports)

  private func serviceEntry() -> String {
    """
    apiVersion: networking.istio.io/v1
    kind: ServiceEntry
    metadata: {name: httpbin, namespace: default}
    spec:
      hosts: [httpbin]
      location: MESH_INTERNAL
      resolution: STATIC
      ports: [{number: \(ports["service"]!), name: http, protocol: HTTP}]
      endpoints:
      - {address: 127.0.0.1, ports: {http: \(ports["v1"]!)}, labels: {version: v1}}
      - {address: 127.0.0.1, ports: {http: \(ports["v2"]!)}, labels: {version: v2}}
    """
  }

  static let destinationRule = """
    apiVersion: networking.istio.io/v1
    kind: DestinationRule
    metadata: {name: httpbin, namespace: default}
    spec:
      host: httpbin
      subsets:
      - {name: v1, labels: {version: v1}}
      - {name: v2, labels: {version: v2}}
    """

  private func virtualService(mirror percent: Int?) -> String {
    var text = """
      apiVersion: networking.istio.io/v1
      kind: VirtualService
      metadata: {name: httpbin, namespace: default}
      spec:
        hosts: [httpbin]
        http:
        - route:
          - destination: {host: httpbin, subset: v1}
            weight: 100
      """
    if let percent {
      text += "\n    mirror: {host: httpbin, subset: v2}\n    mirrorPercentage: {value: \(percent).0}"
    }
    return text
  }
}
