import Foundation
import MeshConfig

/// The text given to `apply -f` or `delete -f`: a file, every manifest in a directory, or
/// standard input (`-`), sent to the control plane as one multi-document request.
///
/// The server names the input `request` in its errors; ``relabel(_:)`` puts the file back:
/// for a directory, a `document[N]` field and `line N` in the message are mapped to the file
/// holding that document and its own numbering, and a problem of a named resource to the
/// file that defines it.
struct ManifestInput {
  /// One file of the input and where it sits in the concatenated text.
  struct Part {
    var label: String
    /// Line of the concatenated text holding the part's first line.
    var firstLine: Int
    var lineCount: Int
    /// Index (in the concatenated text) of the part's first document.
    var firstDocument: Int
    var documentCount: Int
  }

  /// The path given, or `<stdin>`.
  let label: String
  let text: String
  let parts: [Part]
  /// The file that holds each resource (`VirtualService default/httpbin`); the last one when
  /// several do, as the last one is applied.
  let origins: [String: String]

  /// The file name endings read from a directory.
  static let extensions = ["yaml", "yml", "json"]

  /// Reads `path` (`-` for standard input).
  static func read(_ path: String) throws(CommandFailure) -> ManifestInput {
    if path == "-" {
      let data = FileHandle.standardInput.readDataToEndOfFile()
      return ManifestInput(
        label: "<stdin>", files: [("<stdin>", String(decoding: data, as: UTF8.self))])
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw CommandFailure("\(path): no such file or directory")
    }
    guard isDirectory.boolValue else {
      return ManifestInput(label: path, files: [(path, try contents(of: path))])
    }
    let names: [String]
    do {
      names = try FileManager.default.contentsOfDirectory(atPath: path)
    } catch {
      throw CommandFailure("\(path): cannot list the directory: \(error.localizedDescription)")
    }
    let manifests = names.filter { name in
      !name.hasPrefix(".") && extensions.contains((name as NSString).pathExtension.lowercased())
    }.sorted()
    guard !manifests.isEmpty else {
      throw CommandFailure(
        "\(path): no \(extensions.map { "*." + $0 }.joined(separator: ", ")) files in the directory"
      )
    }
    var files: [(String, String)] = []
    for name in manifests {
      let file = (path as NSString).appendingPathComponent(name)
      files.append((file, try contents(of: file)))
    }
    return ManifestInput(label: path, files: files)
  }

  private static func contents(of path: String) throws(CommandFailure) -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw CommandFailure("\(path): cannot read the file")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw CommandFailure("\(path): not UTF-8 text")
    }
    return text
  }

  /// Joins the files with `---` lines between them.
  init(label: String, files: [(label: String, text: String)]) {
    self.label = label
    var text = ""
    var parts: [Part] = []
    var origins: [String: String] = [:]
    var line = 1
    var document = 0
    for (index, file) in files.enumerated() {
      if files.count > 1 {
        for name in MeshConfigDecoder.resourceNames(in: file.text) { origins[name] = file.label }
      }
      if index > 0 {
        text += "---\n"
        line += 1
      }
      let body = file.text.hasSuffix("\n") || file.text.isEmpty ? file.text : file.text + "\n"
      let lines = body.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
      let documents = Self.countDocuments(lines)
      parts.append(
        Part(
          label: file.label, firstLine: line, lineCount: lines.count, firstDocument: document,
          documentCount: documents))
      text += body
      line += lines.count
      document += documents
    }
    self.text = text
    self.parts = parts
    self.origins = origins
  }

  /// The number of documents the server will count in these lines: parts between `---` lines
  /// that hold more than blank lines, comments and directives (MeshConfig's YAML reader
  /// skips the empty ones and does not number them).
  private static func countDocuments(_ lines: some Collection<Substring>) -> Int {
    var count = 0
    var hasContent = false
    for line in lines {
      let trimmed = line.drop { $0 == " " || $0 == "\t" }
      let isMarker =
        line.hasPrefix("---") && (line.count == 3 || [" ", "\t"].contains(line.dropFirst(3).first))
      if isMarker {
        if hasContent { count += 1 }
        hasContent = !line.dropFirst(3).trimmingCharacters(in: .whitespaces).isEmpty
        continue
      }
      if trimmed.isEmpty || trimmed.hasPrefix("#") || line.hasPrefix("%") || line == "..." {
        continue
      }
      hasContent = true
    }
    return count + (hasContent ? 1 : 0)
  }

  /// Sends the manifests to `path` (`/api/v1/config/apply` or `/api/v1/config/delete`), where
  /// they are taken all or nothing; the problems the server finds are put back in the files
  /// they came from (``relabel(_:)``).
  func submit(to path: String, with client: AdminClient) async throws(CommandFailure)
    -> ApplyResult
  {
    var result: ApplyResult = try await client.request(
      .post, path, body: Data(text.utf8), relabel: relabel)
    result.warnings = result.warnings.map(relabel)
    return result
  }

  /// `problem` with its source (the server says `request`) replaced by the file it is in.
  func relabel(_ problem: ConfigError) -> ConfigError {
    guard problem.source == nil || problem.source == "request" else { return problem }
    var problem = problem
    problem.source = label
    let field = problem.field
    if !field.hasPrefix("document["), let resource = problem.resource, let file = origins[resource]
    {
      problem.source = file
      return problem
    }
    guard parts.count > 1, field.hasPrefix("document[") else { return problem }
    let digits = field.dropFirst("document[".count).prefix { $0.isNumber }
    guard let index = Int(digits), field.dropFirst("document[".count + digits.count).hasPrefix("]"),
      let part = parts.first(where: {
        index >= $0.firstDocument && index < $0.firstDocument + $0.documentCount
      })
    else { return problem }
    problem.source = part.label
    problem.field =
      "document[\(index - part.firstDocument)]"
      + field.dropFirst("document[".count + digits.count + 1)
    problem.message = Self.shiftingLines(in: problem.message, of: part)
    return problem
  }

  /// Rewrites `line N` of the concatenated text as the line of `part`.
  private static func shiftingLines(in message: String, of part: Part) -> String {
    var result = ""
    var rest = Substring(message)
    while let range = rest.range(of: "line ") {
      result += rest[..<range.upperBound]
      rest = rest[range.upperBound...]
      let digits = rest.prefix { $0.isNumber }
      if let line = Int(digits), line >= part.firstLine, line < part.firstLine + part.lineCount {
        result += String(line - part.firstLine + 1)
        rest = rest.dropFirst(digits.count)
      }
    }
    return result + rest
  }
}
