/// Checks runtime overrides before they are stored.
enum RuntimeValue {
  static let denominators: Set<String> = ["HUNDRED", "TEN_THOUSAND", "MILLION"]

  /// What is wrong with `key` = `value`, or nil. Keys are dotted names
  /// (`mirror.default.httpbin.http0.0`); values a percentage in 0...100 or `N/DENOMINATOR`.
  static func problem(key: String, value: String?) -> String? {
    let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")
    guard !key.isEmpty, key.count <= 256, key.allSatisfy({ allowed.contains($0) }) else {
      return "invalid key '\(key)': use letters, digits, '.', '_' and '-' (e.g. mirror.default.httpbin.http0.0)"
    }
    guard let value else { return nil }
    if let number = Double(value) {
      return (0...100).contains(number) ? nil : "must be a percentage between 0 and 100, got \(value)"
    }
    let parts = value.split(separator: "/")
    if parts.count == 2, UInt32(parts[0]) != nil, denominators.contains(String(parts[1])) { return nil }
    return "must be a percentage (e.g. 12.5) or N/HUNDRED, N/TEN_THOUSAND or N/MILLION, got '\(value)'"
  }
}
