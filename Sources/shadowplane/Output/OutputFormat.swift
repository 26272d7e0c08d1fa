import ArgumentParser

/// `-o table|json|yaml`.
enum OutputFormat: String, CaseIterable, ExpressibleByArgument {
  case table, json, yaml
}

/// `-o/--output`, shared by the commands that show resources (`get`, `proxy-config`): a
/// table for people, or the server's JSON (or the same as YAML) for tools.
struct OutputOptions: ParsableArguments {
  @Option(
    name: [.customShort("o"), .customLong("output")], help: "Output format: table, json or yaml.")
  var output: OutputFormat = .table
}
