/// A kubectl-style table: a header row in capitals, then one row per item, columns padded to
/// their widest cell and separated by three spaces. Empty cells print as `-`.
struct TableFormatter {
  let headers: [String]
  private(set) var rows: [[String]] = []

  init(_ headers: String...) {
    self.headers = headers
  }

  init(headers: [String]) {
    self.headers = headers
  }

  /// Adds a row; missing cells are empty, extra cells are dropped.
  mutating func append(_ cells: [String]) {
    var row = Array(cells.prefix(headers.count))
    row += Array(repeating: "", count: headers.count - row.count)
    rows.append(row.map { $0.isEmpty ? "-" : Self.singleLine($0) })
  }

  mutating func append(_ cells: String...) {
    append(cells)
  }

  /// The table, one line per row with trailing spaces trimmed, ending with a newline.
  func render() -> String {
    var widths = headers.map(\.count)
    for row in rows {
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    let separator = "   "
    return ([headers] + rows).map { row in
      var line = ""
      for (index, cell) in row.enumerated() {
        if index > 0 { line += separator }
        line += cell
        if index < row.count - 1 { line += String(repeating: " ", count: widths[index] - cell.count) }
      }
      return line
    }.joined(separator: "\n") + "\n"
  }

  /// Line breaks would break the columns: messages are shown on one line.
  private static func singleLine(_ text: String) -> String {
    guard text.contains(where: \.isNewline) else { return text }
    return text.split(whereSeparator: \.isNewline).joined(separator: " ")
  }
}
