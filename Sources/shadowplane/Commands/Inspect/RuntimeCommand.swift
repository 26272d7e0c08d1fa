import ArgumentParser
import Foundation

/// `shadowplane runtime get [KEY]` / `runtime set KEY VALUE` / `runtime unset KEY`: the
/// runtime overrides every proxy receives as the RTDS layer `shadowplane` (a mirror
/// fraction changes with no route push).
struct RuntimeCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "runtime",
    abstract: "Read or change runtime values (e.g. mirror fractions) for every proxy.",
    subcommands: [Get.self, Set.self, Unset.self])

  struct Get: OneShotCommand {
    static let configuration = CommandConfiguration(abstract: "Show the runtime overrides (or one).")

    @Argument(help: "A runtime key, e.g. mirror.default.httpbin.http0.0.")
    var key: String?

    @OptionGroup var server: ServerOptions

    func execute() async throws {
      let values = try await server.client().get("/api/v1/runtime")["values"]
      var pairs: [(String, JSONValue)] = []
      if case .object(let members)? = values { pairs = members.map { ($0.key, $0.value) }.sorted { $0.0 < $1.0 } }
      if let key {
        guard let value = pairs.first(where: { $0.0 == key })?.1 else {
          throw CommandFailure("runtime key \(key) is not set (its mirror policies use their default fractions)")
        }
        Console.line(value.displayText)
        return
      }
      guard !pairs.isEmpty else {
        Console.error("No runtime overrides: every mirror policy uses its default fraction.")
        return
      }
      var table = TableFormatter("KEY", "VALUE")
      for (name, value) in pairs { table.append(name, value.displayText) }
      Console.write(table.render())
    }
  }

  struct Set: OneShotCommand {
    static let configuration = CommandConfiguration(
      abstract: "Set a runtime value: a percentage (90, 12.5) or N/HUNDRED|TEN_THOUSAND|MILLION.")

    @Argument var key: String
    @Argument var value: String
    @OptionGroup var server: ServerOptions

    func execute() async throws {
      let client = try server.client()
      let result = try await client.json(
        "PUT", "/api/v1/runtime/" + AdminClient.segment(key), body: Data(value.utf8))
      Console.line("\(key) = \(value) (revision \(result["revision"]?.displayText ?? "?"))")
    }
  }

  struct Unset: OneShotCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a runtime override.")

    @Argument var key: String
    @OptionGroup var server: ServerOptions

    func execute() async throws {
      _ = try await server.client().json("DELETE", "/api/v1/runtime/" + AdminClient.segment(key))
      Console.line("\(key) unset")
    }
  }
}
