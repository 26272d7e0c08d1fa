/// Why the load generator stopped, saying what to check.
struct LoadGeneratorError: Error, CustomStringConvertible {
  let description: String

  init(_ description: String) {
    self.description = description
  }
}
