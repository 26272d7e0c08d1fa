import ArgumentParser
import ControlPlane
import Logging
import MeshConfig
import Proxy
import Testing
import XDSCore

@testable import shadowplane

/// The message ArgumentParser prints for `arguments` to `command` (nil when they parse):
/// parse errors, option type errors and `validate()` errors alike.
func refusal<Command: ParsableCommand>(_ command: Command.Type, _ arguments: [String]) -> String? {
  do {
    _ = try command.parse(arguments)
    return nil
  } catch {
    return command.message(for: error)
  }
}

/// `Command.parse([...])` for every command: defaults, option types, `validate()`.
@Suite struct ParsingTests {
  @Test func everyCommandIsASubcommand() throws {
    let cases: [([String], any ParsableCommand.Type)] = [
      (["control-plane", "--store", "s"], ControlPlaneCommand.self),
      (["proxy", "--node-id", "n"], ProxyCommand.self),
      (["apply", "-f", "x.yaml"], ApplyCommand.self),
      (["delete", "vs", "x"], DeleteCommand.self),
      (["get", "vs"], GetCommand.self),
      (["proxy-status"], ProxyStatusCommand.self),
      (["proxy-config", "all", "n"], ProxyConfigCommand.self),
      (["history"], HistoryCommand.self),
      (["diff", "1", "2"], DiffCommand.self),
      (["runtime", "get"], RuntimeCommand.Get.self),
      (["runtime", "set", "k", "1"], RuntimeCommand.Set.self),
      (["runtime", "unset", "k"], RuntimeCommand.Unset.self),
      (["demo"], DemoCommand.self),
    ]
    for (arguments, type) in cases {
      let command = try Shadowplane.parseAsRoot(arguments)
      #expect(Swift.type(of: command) == type, "\(arguments)")
    }
  }

  // MARK: control-plane

  @Test func controlPlaneDefaults() throws {
    let command = try ControlPlaneCommand.parse(["--store", "/tmp/store"])
    #expect(command.source == .store(directory: "/tmp/store"))
    #expect(command.xdsAddress == HostPort(host: "127.0.0.1", port: 18000))
    #expect(command.adminAddress == HostPort(host: "127.0.0.1", port: 18001))
    #expect(command.historySize == 100)
    #expect(command.logging.logLevel == .info)
  }

  @Test func controlPlaneAddressesAndStaticMode() throws {
    let command = try ControlPlaneCommand.parse([
      "--resources", "r.json", "--xds-address", "0.0.0.0:0", "--admin-address", "[::1]:9901",
      "--history-size", "3", "--log-level", "debug",
    ])
    #expect(command.source == .resources(file: "r.json"))
    #expect(command.xdsAddress == HostPort(host: "0.0.0.0", port: 0))
    #expect(command.adminAddress == HostPort(host: "::1", port: 9901))
    #expect(command.historySize == 3)
    #expect(command.logging.logLevel == .debug)
  }

  @Test func controlPlaneRefusals() {
    #expect(
      refusal(ControlPlaneCommand.self, [])
        == "give --store DIR (Istio-style YAML) or --resources FILE (Envoy resources)")
    #expect(
      refusal(ControlPlaneCommand.self, ["--store", "s", "--resources", "r"])
        == "--resources and --store are exclusive: serve a static document or a store")
    #expect(
      refusal(ControlPlaneCommand.self, ["--store", "s", "--history-size", "0"])
        == "--history-size must be at least 1")
    #expect(
      refusal(ControlPlaneCommand.self, ["--store", "s", "--xds-address", "nohost"])?
        .contains("'nohost' is invalid for '--xds-address") == true)
    #expect(
      refusal(ControlPlaneCommand.self, ["--store", "s", "--admin-address", "h:99999"]) != nil)
    #expect(refusal(ControlPlaneCommand.self, ["--store", "s", "--log-level", "loud"]) != nil)
  }

  // MARK: proxy

  @Test func proxyDefaults() throws {
    let command = try ProxyCommand.parse(["--node-id", "edge-1"])
    #expect(command.nodeId == "edge-1")
    #expect(command.nodeCluster == "shadowplane")
    #expect(command.xdsServer == HostPort(host: "127.0.0.1", port: 18000))
    #expect(command.adminAddress == HostPort(host: "127.0.0.1", port: 15000))
    #expect(command.xdsMode == .delta)
    #expect(command.threads == nil)
    #expect(command.accessLogDestination == .standardOutput)
  }

  @Test func proxyOptions() throws {
    let command = try ProxyCommand.parse([
      "--node-id", "n", "--xds-server", "cp.example:18000", "--xds-mode", "sotw",
      "--threads", "2", "--access-log", "/tmp/access.log",
    ])
    #expect(command.xdsServer == HostPort(host: "cp.example", port: 18000))
    #expect(command.xdsMode == .sotw)
    #expect(command.threads == 2)
    #expect(command.accessLogDestination == .file("/tmp/access.log"))
    #expect(
      try ProxyCommand.parse(["--node-id", "n", "--no-access-log"]).accessLogDestination
        == .disabled)
  }

  @Test func proxyHTTP2Limits() throws {
    let defaults = try ProxyCommand.parse(["--node-id", "n"]).limits.limits
    #expect(defaults.http2MaxConcurrentStreams == 100)
    #expect(defaults.http2InitialStreamWindowBytes == 65_536)
    #expect(defaults.http2InitialConnectionWindowBytes == 1 << 20)
    let limits = try ProxyCommand.parse([
      "--node-id", "n", "--http2-max-concurrent-streams", "8",
      "--http2-initial-stream-window-bytes", "65535",
      "--http2-initial-connection-window-bytes", "2147483647",
    ]).limits.limits
    #expect(limits.http2MaxConcurrentStreams == 8)
    #expect(limits.http2InitialStreamWindowBytes == 65_535)
    #expect(limits.http2InitialConnectionWindowBytes == 2_147_483_647)
    #expect(
      refusal(ProxyCommand.self, ["--node-id", "n", "--http2-initial-stream-window-bytes", "100"])
        == "--http2-initial-stream-window-bytes must be in 65535...2147483647, got 100")
    #expect(
      refusal(
        ProxyCommand.self, ["--node-id", "n", "--http2-initial-connection-window-bytes", "1"])
        != nil)
    #expect(
      refusal(ProxyCommand.self, ["--node-id", "n", "--http2-max-concurrent-streams", "0"])
        == "--http2-max-concurrent-streams must be in 1...2147483647, got 0")
  }

  @Test func proxyRefusals() {
    #expect(refusal(ProxyCommand.self, [])?.contains("--node-id") == true)
    #expect(
      refusal(ProxyCommand.self, ["--node-id", "n", "--access-log", "f", "--no-access-log"])
        == "--access-log and --no-access-log are exclusive")
    #expect(
      refusal(ProxyCommand.self, ["--node-id", "n", "--threads", "0"])
        == "--threads must be at least 1")
    #expect(refusal(ProxyCommand.self, ["--node-id", "n", "--xds-mode", "incremental"]) != nil)
    #expect(refusal(ProxyCommand.self, ["--node-id", "n", "--xds-server", "cp"]) != nil)
  }

  @Test func proxySecurityOptions() throws {
    let plain = try ProxyCommand.parse(["--node-id", "n"])
    #expect(plain.security.xdsTLS == nil && plain.security.admin.adminTLS == nil)
    let command = try ProxyCommand.parse([
      "--node-id", "n", "--xds-ca", "ca.pem", "--xds-cert", "n.pem", "--xds-key", "n-key.pem",
      "--xds-server-name", "cp.mesh", "--admin-token-file", "tokens", "--admin-tls-cert",
      "a.pem", "--admin-tls-key", "a-key.pem", "--admin-client-ca", "ca.pem", "--insecure",
    ])
    #expect(
      command.security.xdsTLS
        == XDSClientTLS(
          trustRoots: "ca.pem", certificate: "n.pem", key: "n-key.pem", serverName: "cp.mesh"))
    #expect(
      command.security.admin.adminTLS
        == TLSFiles(certificate: "a.pem", key: "a-key.pem", clientCA: "ca.pem"))
    #expect(command.security.admin.adminTokenFile == "tokens")
    #expect(command.security.admin.insecure)
    // TLS without a client certificate: server verified, nothing presented.
    #expect(
      try ProxyCommand.parse(["--node-id", "n", "--xds-ca", "ca.pem"]).security.xdsTLS
        == XDSClientTLS(trustRoots: "ca.pem"))
  }

  @Test func proxySecurityRefusals() {
    let cases: [([String], String)] = [
      (["--xds-cert", "c"], "--xds-cert needs --xds-key"),
      (["--xds-key", "k"], "--xds-key needs --xds-cert"),
      (["--xds-cert", "c", "--xds-key", "k"], "--xds-cert and --xds-key need --xds-ca"),
      (["--xds-server-name", "cp"], "--xds-server-name needs --xds-ca"),
      (["--admin-tls-cert", "c"], "--admin-tls-cert needs --admin-tls-key"),
      (["--admin-client-ca", "ca"], "--admin-client-ca needs --admin-tls-cert"),
    ]
    for (arguments, message) in cases {
      let refused = refusal(ProxyCommand.self, ["--node-id", "n"] + arguments)
      #expect(refused?.hasPrefix(message) == true, "\(arguments): \(refused ?? "accepted")")
    }
  }

  @Test func certsIssue() throws {
    #expect(try CertsIssueCommand.parse(["d", "--node-id", "n"]).nodeId == "n")
    let server = try CertsIssueCommand.parse(["d", "--server", "--dns", "cp", "--ip", "10.0.0.1"])
    #expect(server.server && server.dnsNames == ["cp"] && server.ipAddresses == ["10.0.0.1"])
    #expect(
      refusal(CertsIssueCommand.self, ["d"]) == "give --node-id ID, --operator NAME or --server")
    #expect(
      refusal(CertsIssueCommand.self, ["d", "--server", "--node-id", "n"])
        == "--node-id, --operator and --server are exclusive")
    #expect(
      refusal(CertsIssueCommand.self, ["d", "--node-id", "n", "--dns", "x"])
        == "--dns and --ip go with --server")
  }

  // MARK: --server

  @Test func serverOption() throws {
    #expect(try ProxyStatusCommand.parse([]).server.server == nil)
    let bare = try ProxyStatusCommand.parse(["--server", "127.0.0.1:9"])
    #expect(bare.server.server?.base == "http://127.0.0.1:9")
    let url = try ProxyStatusCommand.parse(["--server", "https://cp.example/admin//"])
    #expect(url.server.server?.base == "https://cp.example/admin")
    #expect(
      refusal(ProxyStatusCommand.self, ["--server", "ftp://cp"])
        == "The value 'ftp://cp' is invalid for '--server <url>'")
  }

  @Test func serverFromTheEnvironment() throws {
    let options = try ProxyStatusCommand.parse([]).server
    #expect(try options.resolvedServer(environment: [:]) == .default)
    #expect(AdminServer.default.base == "http://127.0.0.1:18001")
    #expect(
      try options.resolvedServer(environment: ["SHADOWPLANE_SERVER": "10.0.0.1:18001"]).base
        == "http://10.0.0.1:18001")
    #expect(try options.resolvedServer(environment: ["SHADOWPLANE_SERVER": ""]) == .default)
    #expect(throws: CommandFailure.self) {
      try options.resolvedServer(environment: ["SHADOWPLANE_SERVER": "ftp://x"])
    }
    let given = try ProxyStatusCommand.parse(["--server", "h:1"]).server
    #expect(
      try given.resolvedServer(environment: ["SHADOWPLANE_SERVER": "other:2"]).base == "http://h:1")
  }

  // MARK: apply, delete, get

  @Test func apply() throws {
    #expect(try ApplyCommand.parse(["-f", "-"]).filename == "-")
    #expect(try ApplyCommand.parse(["--filename", "dir"]).filename == "dir")
    #expect(refusal(ApplyCommand.self, [])?.contains("--filename") == true)
  }

  @Test func kindNames() throws {
    let names: [(String, ResourceKind)] = [
      ("vs", .virtualService), ("virtualservice", .virtualService),
      ("virtualservices", .virtualService), ("VirtualService", .virtualService),
      ("dr", .destinationRule), ("destinationrules", .destinationRule),
      ("se", .serviceEntry), ("ServiceEntry", .serviceEntry),
      ("we", .workloadEntry), ("workloadentries", .workloadEntry),
    ]
    for (name, kind) in names {
      #expect(try GetCommand.parse([name]).kind == kind, "\(name)")
      #expect(ResourceKind(argument: name) == kind, "\(name)")
    }
    #expect(ResourceKind.allValueStrings.contains("vs"))
    #expect(ResourceKind.allValueStrings.contains("workloadentry"))
  }

  @Test func unknownKindIsRefusedWithTheAcceptedNames() {
    let accepted =
      "use one of virtualservice (vs), destinationrule (dr), serviceentry (se), workloadentry (we), "
      + "shadowcomparison (sc)"
    #expect(
      refusal(GetCommand.self, ["virtualthing"])
        == "The value 'virtualthing' is invalid for '<kind>': unknown kind 'virtualthing': \(accepted)"
    )
    #expect(refusal(DeleteCommand.self, ["bogus", "x"])?.contains("unknown kind 'bogus'") == true)
  }

  @Test func get() throws {
    let all = try GetCommand.parse(["vs"])
    #expect(all.name == nil)
    #expect(all.namespace == nil)
    #expect(all.format.output == .table)
    let one = try GetCommand.parse(["dr", "httpbin", "-n", "team-a", "-o", "yaml"])
    #expect(one.kind == .destinationRule)
    #expect(one.name == "httpbin")
    #expect(one.namespace == "team-a")
    #expect(one.format.output == .yaml)
    #expect(try GetCommand.parse(["se", "--output", "json"]).format.output == .json)
    #expect(refusal(GetCommand.self, ["vs", "-o", "xml"]) != nil)
    #expect(refusal(GetCommand.self, [])?.contains("<kind>") == true)
  }

  @Test func deleteTargets() throws {
    #expect(try DeleteCommand.parse(["-f", "vs.yaml"]).target == .manifests("vs.yaml"))
    #expect(
      try DeleteCommand.parse(["vs", "httpbin"]).target
        == .resource(ResourceKey(kind: .virtualService, namespace: "default", name: "httpbin")))
    #expect(
      try DeleteCommand.parse(["se", "db", "-n", "data"]).target
        == .resource(ResourceKey(kind: .serviceEntry, namespace: "data", name: "db")))
  }

  @Test func deleteRefusals() {
    #expect(refusal(DeleteCommand.self, []) == "give -f FILE, or KIND NAME")
    #expect(refusal(DeleteCommand.self, ["vs"]) == "give -f FILE, or KIND NAME")
    #expect(
      refusal(DeleteCommand.self, ["-f", "x.yaml", "vs", "httpbin"])
        == "give either -f FILE or KIND NAME, not both")
  }

  // MARK: inspection

  @Test func proxyStatus() throws {
    #expect(try ProxyStatusCommand.parse([]).node == nil)
    #expect(try ProxyStatusCommand.parse(["edge-1"]).node == "edge-1")
  }

  @Test func proxyConfig() throws {
    let command = try ProxyConfigCommand.parse(["routes", "edge-1"])
    #expect(command.section == .routes)
    #expect(command.node == "edge-1")
    #expect(command.format.output == .table)
    #expect(try ProxyConfigCommand.parse(["all", "n", "-o", "json"]).format.output == .json)
    #expect(
      ProxyConfigCommand.Section.all.types == [.listener, .route, .cluster, .endpoint, .runtime])
    #expect(refusal(ProxyConfigCommand.self, ["secrets", "n"])?.contains("'secrets'") == true)
    #expect(refusal(ProxyConfigCommand.self, ["all"])?.contains("<node>") == true)
  }

  @Test func history() throws {
    let command = try HistoryCommand.parse(["edge-1", "--limit", "5"])
    #expect(command.node == "edge-1")
    #expect(command.limit == 5)
    #expect(try HistoryCommand.parse([]).limit == nil)
    #expect(refusal(HistoryCommand.self, ["--limit", "0"]) == "--limit must be at least 1")
    #expect(refusal(HistoryCommand.self, ["--limit", "many"]) != nil)
  }

  @Test func diff() throws {
    let command = try DiffCommand.parse(["3", "7"])
    #expect((command.from, command.to) == (3, 7))
    #expect(refusal(DiffCommand.self, ["3"])?.contains("<to>") == true)
    #expect(refusal(DiffCommand.self, ["3", "latest"]) != nil)
  }

  @Test func runtime() throws {
    let set = try #require(
      try Shadowplane.parseAsRoot(["runtime", "set", "mirror.a", "12.5"]) as? RuntimeCommand.Set)
    #expect((set.key, set.value) == ("mirror.a", "12.5"))
    let get = try #require(try Shadowplane.parseAsRoot(["runtime", "get"]) as? RuntimeCommand.Get)
    #expect(get.key == nil)
    #expect(refusal(RuntimeCommand.Set.self, ["k"]) != nil)
    #expect(RuntimeCommand.path("a b|c") == "/api/v1/runtime/a%20b%7Cc")
  }

  @Test func demo() throws {
    let command = try DemoCommand.parse(["--requests", "40", "--venv", "/tmp/v"])
    #expect(command.requests == 40)
    #expect(command.venv == "/tmp/v")
    #expect(try DemoCommand.parse([]).requests == 200)
  }
}
