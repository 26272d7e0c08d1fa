import Yams

/// One document of a YAML stream: its root node, or why it could not be parsed.
struct YAMLDocument {
  /// What the document holds.
  enum Content {
    case node(Node)
    /// A syntax error, described with its line and column in the whole input.
    case invalid(String)
    /// More nodes, once aliases are expanded, than the input may hold: never composed.
    case tooLarge
  }

  /// Position among the input's non-empty documents, from 0: errors call it `document[index]`.
  let index: Int
  /// Lines of the input before the part this document was parsed from: add it to a node's
  /// `mark.line` to get the line in the whole input.
  let lineOffset: Int
  let content: Content
}

/// Splits a YAML stream (or a JSON text) into documents.
///
/// The text is cut at `---` lines before parsing, so that a syntax error in one document does
/// not hide the documents after it: each part is parsed on its own and error positions are
/// shifted back to lines of the whole input. Documents holding nothing (or only `null`) are
/// skipped and not counted.
enum YAMLDocuments {
  /// The documents of `text`; the parts are counted first (``YAMLExpansion``) and the
  /// first whose expanded size would pass what is left of `maxNodes` ends the list as
  /// `.tooLarge`, uncomposed.
  static func parse(_ text: String, maxNodes: Int = .max) -> [YAMLDocument] {
    var documents: [YAMLDocument] = []
    var nodesLeft = maxNodes
    for chunk in chunks(of: looksLikeJSON(text) ? detabbed(text) : text) {
      let lineOffset = chunk.firstLine - 1
      guard let size = YAMLExpansion.nodeCount(of: chunk.text, limit: nodesLeft) else {
        documents.append(
          YAMLDocument(index: documents.count, lineOffset: lineOffset, content: .tooLarge))
        return documents
      }
      nodesLeft -= size
      var nodes: YamlSequence<Node>
      do {
        nodes = try Yams.compose_all(yaml: chunk.text)
      } catch {
        documents.append(
          YAMLDocument(
            index: documents.count, lineOffset: lineOffset,
            content: .invalid(describe(error, lineOffset: lineOffset))))
        continue
      }
      while let node = nodes.next() {
        if node.scalar != nil, node.resolvedTagName == .null { continue }
        documents.append(
          YAMLDocument(index: documents.count, lineOffset: lineOffset, content: .node(node)))
      }
      if let error = nodes.error {
        documents.append(
          YAMLDocument(
            index: documents.count, lineOffset: lineOffset,
            content: .invalid(describe(error, lineOffset: lineOffset))))
      }
    }
    return documents
  }

  /// A part of the input that starts at a `---` line (or at the top), with its first line number.
  private struct Chunk {
    var firstLine: Int
    var text: String
  }

  /// Cuts the input before each `---` line. A part holding only blank lines, comments and
  /// directives (`%YAML 1.2`) belongs with the document that follows it.
  private static func chunks(of text: String) -> [Chunk] {
    let lines = text.split(omittingEmptySubsequences: false) {
      $0 == "\n" || $0 == "\r\n" || $0 == "\r"
    }
    var chunks: [Chunk] = []
    var current: [Substring] = []
    var currentStart = 1
    var currentIsPreamble = true
    for (offset, line) in lines.enumerated() {
      if isDocumentStart(line), !currentIsPreamble {
        chunks.append(Chunk(firstLine: currentStart, text: current.joined(separator: "\n")))
        current = []
        currentIsPreamble = true
      }
      if current.isEmpty { currentStart = offset + 1 }
      current.append(line)
      if !isPreamble(line) { currentIsPreamble = false }
    }
    if !current.isEmpty {
      chunks.append(Chunk(firstLine: currentStart, text: current.joined(separator: "\n")))
    }
    return chunks
  }

  /// `---` alone or followed by a space: YAML's document start marker.
  private static func isDocumentStart(_ line: Substring) -> Bool {
    guard line.hasPrefix("---") else { return false }
    let rest = line.dropFirst(3)
    return rest.isEmpty || rest.first == " " || rest.first == "\t"
  }

  /// A line that opens no content: blank, a comment or a directive.
  private static func isPreamble(_ line: Substring) -> Bool {
    let trimmed = line.drop { $0 == " " || $0 == "\t" }
    return trimmed.isEmpty || trimmed.hasPrefix("#") || line.hasPrefix("%")
  }

  /// JSON input starts with `{` or `[`.
  private static func looksLikeJSON(_ text: String) -> Bool {
    guard let first = text.first(where: { !$0.isWhitespace }) else { return false }
    return first == "{" || first == "["
  }

  /// libyaml refuses tabs where JSON allows them; in valid JSON a tab can only be whitespace
  /// (a string holds it as `\t`), so a space keeps the meaning and every column.
  private static func detabbed(_ text: String) -> String {
    String(text.map { $0 == "\t" ? " " : $0 })
  }

  /// A parser error as `invalid YAML at line L, column C: problem (context)`, lines counted in
  /// the whole input.
  private static func describe(_ error: any Error, lineOffset: Int) -> String {
    guard let error = error as? YamlError else { return "invalid YAML: \(error)" }
    func position(_ mark: Mark) -> String {
      "line \(mark.line + lineOffset), column \(mark.column)"
    }
    switch error {
    case .scanner(let context, let problem, let mark, _),
      .parser(let context, let problem, let mark, _),
      .composer(let context, let problem, let mark, _):
      var message = "invalid YAML at \(position(mark)): \(problem)"
      if let context {
        message += " (\(context.text) at \(position(context.mark)))"
      }
      return message
    case .duplicatedKeysInMapping(let duplicates, let context):
      let keys = duplicates.map(\.debugDescription).joined(separator: ", ")
      return "invalid YAML at \(position(context.mark)): duplicate key \(keys)"
    case .reader(let problem, _, _, _):
      return "invalid input: \(problem)"
    default:
      return "invalid YAML: \(error)"
    }
  }
}
