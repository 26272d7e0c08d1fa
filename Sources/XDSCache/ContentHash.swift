import Crypto
package import Foundation

/// Content-derived version strings: the same bytes give the same version on every run and
/// every replica, so a reconnecting client that already has a version gets nothing redundant.
package enum ContentHash {
  /// The first 16 hex digits (64 bits) of the SHA-256 of `data`.
  package static func version(of data: Data) -> String {
    hex(SHA256.hash(data: data))
  }

  /// The version of a set of resources: a hash over their sorted `name`/`version` pairs.
  package static func version(ofNamed pairs: [(name: String, version: String)]) -> String {
    var text: [UInt8] = []
    text.reserveCapacity(pairs.reduce(0) { $0 + $1.name.utf8.count + $1.version.utf8.count + 2 })
    for pair in pairs.sorted(by: { $0.name < $1.name }) {
      text += pair.name.utf8
      text.append(0)
      text += pair.version.utf8
      text.append(0x0A)
    }
    return hex(SHA256.hash(data: text))
  }

  private static func hex(_ digest: SHA256.Digest) -> String {
    digest.withUnsafeBytes { bytes in
      String(unsafeUninitializedCapacity: 16) { out in
        let digits: StaticString = "0123456789abcdef"
        for i in 0..<8 {
          out[2 * i] = digits.utf8Start[Int(bytes[i] >> 4)]
          out[2 * i + 1] = digits.utf8Start[Int(bytes[i] & 0x0F)]
        }
        return 16
      }
    }
  }
}
