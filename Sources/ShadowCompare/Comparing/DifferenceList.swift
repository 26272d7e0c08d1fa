/// Differences collected up to a limit, leaving out learned noise before it counts (so noise
/// never crowds a real difference out of the list).
struct DifferenceList {
  let limit: Int
  let noise: NoiseModel?
  private(set) var differences: [Difference] = []

  init(limit: Int, noise: NoiseModel? = nil) {
    self.limit = limit
    self.noise = noise
  }

  var isFull: Bool { differences.count >= limit }

  mutating func append(_ difference: Difference) {
    guard !isFull, noise?.isNoise(difference) != true else { return }
    differences.append(difference)
  }
}
