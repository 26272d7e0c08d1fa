/// A kubectl-style table: a header row in capitals, then one row per item, columns padded to
/// their widest cell and separated by three spaces. Empty cells print as ``placeholder``.
struct TableFormatter {
  let headers: [String]
  private(set) var rows: [[String]] = []
  /// What an empty cell shows.
  var placeholder = "-"

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
    rows.append(row.map(Self.singleLine))
  }

  mutating func append(_ cells: String...) {
    append(cells)
  }

  /// The table, one line per row with trailing spaces trimmed, ending with a newline;
  /// `header: false` leaves out the header row; `indent` starts every line.
  func render(header: Bool = true, indent: String = "") -> String {
    let shown = (header ? [headers] + rows : rows).map { row in
      row.map { $0.isEmpty ? placeholder : $0 }
    }
    var widths = Array(repeating: 0, count: headers.count)
    for row in shown {
      for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) }
    }
    let separator = "   "
    return shown.map { row in
      var line = indent
      for (index, cell) in row.enumerated() {
        if index > 0 { line += separator }
        line += cell
        if index < row.count - 1 {
          line += String(repeating: " ", count: widths[index] - cell.count)
        }
      }
      while line.last == " " { line.removeLast() }
      return line
    }.joined(separator: "\n") + "\n"
  }

  /// Line breaks would break the columns: messages are shown on one line.
  private static func singleLine(_ text: String) -> String {
    guard text.contains(where: \.isNewline) else { return text }
    return text.split(whereSeparator: \.isNewline).joined(separator: " ")
  }
}
