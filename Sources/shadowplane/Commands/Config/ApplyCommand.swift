import ArgumentParser

/// `shadowplane apply -f FILE|DIR|-`: create or update Istio resources in the config store.
struct ApplyCommand: OneShotCommand {
  static let configuration = CommandConfiguration(
    commandName: "apply",
    abstract: "Create or update resources from YAML or JSON (all or nothing).",
    discussion: """
      A directory means every *.yaml, *.yml and *.json file in it, in name order, applied \
      together: if any resource is invalid, nothing changes. Validation errors and warnings \
      are printed as the control plane reports them, with the field path.
      """)

  @Option(
    name: [.customShort("f"), .customLong("filename")],
    help: "A file, a directory, or - for standard input.")
  var filename: String

  @OptionGroup var server: ServerOptions

  func execute() async throws {
    let client = try server.client()
    try await ManifestInput.read(filename).submit(to: "/api/v1/config/apply", with: client)
      .report()
  }
}
