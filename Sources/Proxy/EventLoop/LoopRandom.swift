/// The random source of one event loop: xoshiro256** seeded once from the system
/// generator. Like Envoy's per-thread generator it is fast and not cryptographic: it
/// draws the per-request number that weighted splits and mirror policies compare against,
/// picks hosts for the random and least-request balancers, and makes `x-request-id`s.
/// The system generator costs a `getrandom` system call per draw (and `UUID()` opens
/// `/dev/urandom`), which the request path cannot afford.
struct LoopRandom: RandomNumberGenerator {
  private var s0: UInt64
  private var s1: UInt64
  private var s2: UInt64
  private var s3: UInt64

  /// A generator seeded from the system's random source.
  init() {
    var system = SystemRandomNumberGenerator()
    self.init(seed: (system.next(), system.next(), system.next(), system.next()))
  }

  /// A generator with a fixed state (tests); an all-zero seed is replaced, as xoshiro
  /// would only ever return zero from it.
  init(seed: (UInt64, UInt64, UInt64, UInt64)) {
    if seed == (0, 0, 0, 0) {
      (s0, s1, s2, s3) = (0x9E37_79B9_7F4A_7C15, 0xBF58_476D_1CE4_E5B9, 0x94D0_49BB_1331_11EB, 1)
    } else {
      (s0, s1, s2, s3) = seed
    }
  }

  mutating func next() -> UInt64 {
    let result = (s1 &* 5).rotatedLeft(by: 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = s3.rotatedLeft(by: 45)
    return result
  }

  /// A random (version 4, RFC 9562) UUID in lowercase text, as Envoy generates for
  /// `x-request-id`.
  mutating func uuidString() -> String {
    let high = (next() & 0xFFFF_FFFF_FFFF_0FFF) | 0x0000_0000_0000_4000
    let low = (next() & 0x3FFF_FFFF_FFFF_FFFF) | 0x8000_0000_0000_0000
    return String(unsafeUninitializedCapacity: 36) { buffer in
      let digits: StaticString = "0123456789abcdef"
      var position = 0
      func put(_ value: UInt64, nibbles: Int) {
        for shift in stride(from: (nibbles - 1) * 4, through: 0, by: -4) {
          buffer[position] = digits.utf8Start[Int((value >> UInt64(shift)) & 0xF)]
          position += 1
        }
      }
      func dash() {
        buffer[position] = UInt8(ascii: "-")
        position += 1
      }
      put(high >> 32, nibbles: 8)
      dash()
      put(high >> 16, nibbles: 4)
      dash()
      put(high, nibbles: 4)
      dash()
      put(low >> 48, nibbles: 4)
      dash()
      put(low, nibbles: 12)
      return position
    }
  }
}

extension UInt64 {
  fileprivate func rotatedLeft(by count: UInt64) -> UInt64 {
    (self << count) | (self >> (64 - count))
  }
}
