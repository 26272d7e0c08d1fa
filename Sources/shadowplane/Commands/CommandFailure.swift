/// Why a command failed, as the lines to print after `error: ` (the server's own messages
/// where it sent some).
struct CommandFailure: Error {
  var lines: [String]

  init(_ message: String) {
    lines = [message]
  }

  init(lines: [String]) {
    self.lines = lines.isEmpty ? ["failed"] : lines
  }
}

extension CommandFailure: CustomStringConvertible {
  /// The lines, one per line (as the demo prints a failure).
  var description: String { lines.joined(separator: "\n") }
}
