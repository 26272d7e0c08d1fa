import Testing

@testable import Proxy

@Suite struct LoopRandomTests {
  @Test func requestIDsAreVersion4UUIDsInLowercase() {
    var random = LoopRandom()
    var seen = Set<String>()
    for _ in 0..<10_000 {
      let id = random.uuidString()
      let groups = id.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
      #expect(groups.map(\.count) == [8, 4, 4, 4, 12], "\(id)")
      #expect(id.allSatisfy { "0123456789abcdef-".contains($0) }, "\(id)")
      #expect(groups[2].first == "4", "version nibble of \(id)")
      #expect("89ab".contains(groups[3].first!), "variant nibble of \(id)")
      seen.insert(id)
    }
    #expect(seen.count == 10_000)
  }

  @Test func drawsAreUniformEnoughForPercentages() {
    // 100 buckets of 100,000 draws: each within 6 standard deviations of 1,000.
    var random = LoopRandom(seed: (1, 2, 3, 4))
    var buckets = [Int](repeating: 0, count: 100)
    for _ in 0..<100_000 { buckets[Int(random.next() % 100)] += 1 }
    let sd = (100_000 * 0.01 * 0.99).squareRoot()
    #expect(buckets.allSatisfy { abs(Double($0) - 1_000) < 6 * sd }, "\(buckets)")
  }

  @Test func anAllZeroSeedStillDraws() {
    var random = LoopRandom(seed: (0, 0, 0, 0))
    #expect((0..<4).map { _ in random.next() }.contains { $0 != 0 })
  }
}
