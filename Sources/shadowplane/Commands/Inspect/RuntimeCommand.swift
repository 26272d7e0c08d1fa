import AdminAPI
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

  /// `/api/v1/runtime/KEY`.
  static func path(_ key: String) -> String {
    "/api/v1/runtime/" + AdminClient.segment(key)
  }

  /// `runtime get [KEY]`.
  struct Get: OneShotCommand {
    static let configuration = CommandConfiguration(
      abstract: "Show the runtime overrides (or one).")

    @Argument(help: "A runtime key, e.g. mirror.default.httpbin.http0.0.")
    var key: String?

    @OptionGroup var server: ServerOptions

    func execute() async throws {
      let overrides = try await server.client().request(
        .get, "/api/v1/runtime", as: RuntimeOverrides.self)
      if let key {
        guard let value = overrides.values[key] else {
          throw CommandFailure(
            "runtime key \(key) is not set (its mirror policies use their default fractions)")
        }
        Console.line(value)
        return
      }
      guard !overrides.values.isEmpty else {
        Console.error("No runtime overrides: every mirror policy uses its default fraction.")
        return
      }
      Console.write(Self.table(overrides))
    }

    /// `KEY  VALUE`, one row per override, sorted by key.
    static func table(_ overrides: RuntimeOverrides) -> String {
      var table = TableFormatter("KEY", "VALUE")
      for (key, value) in overrides.values.sorted(by: { $0.key < $1.key }) {
        table.append(key, value)
      }
      return table.render()
    }
  }

  /// `runtime set KEY VALUE`.
  struct Set: OneShotCommand {
    static let configuration = CommandConfiguration(
      abstract: "Set a runtime value: a percentage (90, 12.5) or N/HUNDRED|TEN_THOUSAND|MILLION.")

    @Argument var key: String
    @Argument var value: String
    @OptionGroup var server: ServerOptions

    func execute() async throws {
      let overrides = try await server.client().request(
        .put, RuntimeCommand.path(key), body: Data(value.utf8), as: RuntimeOverrides.self)
      Console.line("\(key) = \(value) (revision \(overrides.revision.map(String.init) ?? "?"))")
    }
  }

  /// `runtime unset KEY`.
  struct Unset: OneShotCommand {
    static let configuration = CommandConfiguration(abstract: "Remove a runtime override.")

    @Argument var key: String
    @OptionGroup var server: ServerOptions

    func execute() async throws {
      _ = try await server.client().request(
        .delete, RuntimeCommand.path(key), as: RuntimeOverrides.self)
      Console.line("\(key) unset")
    }
  }
}
