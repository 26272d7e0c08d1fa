// libyaml's event API (Yams's C module): Yams composes whole node trees and checks
// duplicate mapping keys by hashing them, both of which multiply with every alias. Counting
// events first is linear in the input and tells the true size before anything expands.
import CYaml

/// The size of a YAML text once its aliases are expanded, counted from libyaml's events
/// without expanding anything: every alias adds the size of the node its anchor names.
///
/// A 600-byte document of nested aliases (`a: &a [x, x]`, `b: &b [*a, *a]`, …) expands to
/// billions of nodes; composing it, or hashing alias keys (`? *b : 1`) for duplicate
/// detection, takes exponential time and memory. The count stops at `limit`, so it costs at
/// most one pass over the events.
enum YAMLExpansion {
  /// The expanded node count of `text`, or nil if it exceeds `limit` (the count stops
  /// there). A syntax error ends the count early with what was counted; composing the text
  /// then reports the error.
  static func nodeCount(of text: String, limit: Int) -> Int? {
    var parser = yaml_parser_t()
    guard yaml_parser_initialize(&parser) == 1 else { return 0 }
    defer { yaml_parser_delete(&parser) }
    var bytes = Array(text.utf8)
    return bytes.withUnsafeMutableBufferPointer { buffer -> Int? in
      yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
      var counter = Counter(limit: limit)
      while true {
        var event = yaml_event_t()
        guard yaml_parser_parse(&parser, &event) == 1 else { return counter.total }
        defer { yaml_event_delete(&event) }
        if event.type == YAML_STREAM_END_EVENT { return counter.total }
        guard counter.take(event) else { return nil }
      }
    }
  }

  /// The running count: one frame per open sequence or mapping, the size of every anchor.
  private struct Counter {
    let limit: Int
    /// Nodes counted so far: in finished nodes and in the collections still open.
    private(set) var total = 0
    /// Open collections: their anchor and their size so far (themselves included).
    private var open: [(anchor: String?, size: Int)] = []
    /// Expanded size by anchor, in the current document (anchors do not cross documents).
    private var anchors: [String: Int] = [:]

    init(limit: Int) { self.limit = limit }

    /// Counts one event; false once the limit is passed.
    mutating func take(_ event: yaml_event_t) -> Bool {
      switch event.type {
      case YAML_DOCUMENT_START_EVENT:
        anchors = [:]
        return true
      case YAML_SCALAR_EVENT:
        return finished(1, anchor: Self.name(event.data.scalar.anchor), counted: false)
      case YAML_ALIAS_EVENT:
        // An undefined alias is the composer's error to report; count it as one node.
        let size = Self.name(event.data.alias.anchor).flatMap { anchors[$0] } ?? 1
        return finished(size, anchor: nil, counted: false)
      case YAML_SEQUENCE_START_EVENT:
        open.append((Self.name(event.data.sequence_start.anchor), 1))
        return grow(by: 1)
      case YAML_MAPPING_START_EVENT:
        open.append((Self.name(event.data.mapping_start.anchor), 1))
        return grow(by: 1)
      case YAML_SEQUENCE_END_EVENT, YAML_MAPPING_END_EVENT:
        guard let closed = open.popLast() else { return true }
        return finished(closed.size, anchor: closed.anchor, counted: true)
      default:
        return true
      }
    }

    /// A node of `size` is complete: its anchor remembers the size, and the collection
    /// around it grows by it. `counted` says whether `total` already holds it (a closed
    /// collection was counted as it filled).
    private mutating func finished(_ size: Int, anchor: String?, counted: Bool) -> Bool {
      if let anchor { anchors[anchor] = size }
      if !open.isEmpty {
        let (grown, overflow) = open[open.count - 1].size.addingReportingOverflow(size)
        guard !overflow else { return false }
        open[open.count - 1].size = grown
      }
      return counted || grow(by: size)
    }

    private mutating func grow(by size: Int) -> Bool {
      let (grown, overflow) = total.addingReportingOverflow(size)
      guard !overflow, grown <= limit else { return false }
      total = grown
      return true
    }

    private static func name(_ anchor: UnsafeMutablePointer<yaml_char_t>?) -> String? {
      anchor.map { String(cString: UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self)) }
    }
  }
}
