import Foundation

/// Standard output and standard error for the one-shot commands.
enum Console {
  /// Writes `text` and a newline to standard error.
  static func error(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
  }

  /// Writes `text` to standard output as is (tables and documents bring their own newline).
  static func write(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
  }

  /// Writes `text` and a newline to standard output.
  static func line(_ text: String) {
    write(text + "\n")
  }
}
