import Foundation
import NIOCore

/// One line per request per upstream (primary and shadow) in Envoy's default format:
/// `[START] "METHOD PATH PROTOCOL" CODE FLAGS RX TX DURATION UPSTREAM_TIME "XFF" "UA" "ID" "AUTHORITY" "UPSTREAM"`.
public final class AccessLog: Sendable {
  private let handle: FileHandle?

  /// Where the lines go.
  public enum Destination: Sendable, Equatable {
    /// Standard output (the default, as Envoy's `/dev/stdout` access log).
    case standardOutput
    /// Appended to a file, created if missing.
    case file(String)
    /// Nowhere: no entry is even built.
    case disabled
  }

  /// Writes to `destination`.
  init(_ destination: Destination) throws(ProxyConfigError) {
    switch destination {
    case .disabled:
      handle = nil
    case .standardOutput:
      handle = FileHandle.standardOutput
    case .file(let path):
      if !FileManager.default.fileExists(atPath: path),
        !FileManager.default.createFile(atPath: path, contents: nil)
      {
        throw ProxyConfigError("cannot create access log '\(path)'")
      }
      guard let file = FileHandle(forWritingAtPath: path) else {
        throw ProxyConfigError("cannot open access log '\(path)' for writing")
      }
      file.seekToEndOfFile()
      handle = file
    }
  }

  /// Whether lines are written (false with `--no-access-log`): entries are only built then.
  var enabled: Bool { handle != nil }

  /// One line's fields; durations are written in milliseconds, absent values as `-`.
  struct Entry {
    var start: Date
    var method: String
    var path: String
    var code: Int
    var flags: ResponseFlags
    var bytesReceived: Int
    var bytesSent: Int
    var duration: Duration
    var upstreamTime: Duration?
    var forwardedFor: String?
    var userAgent: String?
    var requestID: String?
    var authority: String?
    var upstream: String?
  }

  private static let format = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

  /// Writes `e` as one line in the format above.
  func log(_ e: Entry) {
    guard let handle else { return }
    func quoted(_ s: String?) -> String { "\"\(s ?? "-")\"" }
    func ms(_ d: Duration) -> Int { Int(d / .milliseconds(1)) }
    let line =
      "[\(Self.format.format(e.start))] \"\(e.method) \(e.path) HTTP/1.1\" \(e.code) \(e.flags.isEmpty ? "-" : e.flags.description) "
      + "\(e.bytesReceived) \(e.bytesSent) \(ms(e.duration)) \(e.upstreamTime.map { String(ms($0)) } ?? "-") "
      + "\(quoted(e.forwardedFor)) \(quoted(e.userAgent)) \(quoted(e.requestID)) \(quoted(e.authority)) \(quoted(e.upstream))\n"
    handle.write(Data(line.utf8))
  }
}
