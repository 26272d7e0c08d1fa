extension String {
  /// The string padded with spaces to `width` characters (followed by one space if already
  /// as long), so that a label column stays a column.
  func padded(to width: Int) -> String {
    count >= width ? self + " " : self + String(repeating: " ", count: width - count)
  }
}
