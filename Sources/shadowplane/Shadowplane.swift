import ArgumentParser

/// The `shadowplane` command: control plane, proxy and operator tooling.
struct Shadowplane: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "shadowplane",
    abstract: "An Envoy-compatible xDS control plane for traffic mirroring.",
    subcommands: [
      ControlPlaneCommand.self, ProxyCommand.self, ApplyCommand.self, DeleteCommand.self,
      GetCommand.self, ProxyStatusCommand.self, ProxyConfigCommand.self, HistoryCommand.self,
      DiffCommand.self, RuntimeCommand.self, CompareCommand.self, AuditCommand.self,
      CertsCommand.self, DemoCommand.self,
    ])
}
