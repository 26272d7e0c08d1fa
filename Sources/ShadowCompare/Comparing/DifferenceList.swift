/// Differences collected up to a limit.
struct DifferenceList {
  let limit: Int
  private(set) var differences: [Difference] = []

  init(limit: Int) {
    self.limit = limit
  }

  var isFull: Bool { differences.count >= limit }

  mutating func append(_ difference: Difference) {
    guard !isFull else { return }
    differences.append(difference)
  }
}
