public import Foundation

/// How the admin API writes and reads its JSON: ISO 8601 dates, sorted keys, pretty
/// printed, slashes unescaped. The control plane encodes with ``encoder()`` and the CLI
/// decodes with ``decoder()``, so both sides agree by construction.
public enum AdminJSON {
  /// The encoder of every admin API answer.
  public static func encoder() -> JSONEncoder {
    let encoder = JSONEncoder()
    encoder.dateEncodingStrategy = .iso8601
    encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
    return encoder
  }

  /// The decoder for admin API answers.
  public static func decoder() -> JSONDecoder {
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    return decoder
  }
}
