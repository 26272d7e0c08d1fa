extension ProtocolDetector {
  /// Which protocol a downstream connection speaks, read from its first bytes: the HTTP/2
  /// connection preface (RFC 9113, 3.4: a client with prior knowledge of HTTP/2 starts with
  /// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`) means HTTP/2; a mismatch at any byte means
  /// HTTP/1.1 (no HTTP/1.1 method starts with `PRI `, so `GET`, `POST`, ... are told apart
  /// at their first or second byte). The request headers timeout bounds the wait: a client
  /// that sends nothing, or a preface too slowly, is closed. Envoy's HTTP connection manager
  /// with `codec_type: AUTO` detects the preface the same way.
  ///
  /// No bytes and no clock here: the ``ProtocolDetector`` keeps the bytes read so far (to
  /// pass them on unchanged) and runs the timer.
  struct StateMachine: Equatable {
    /// The connection preface of HTTP/2 with prior knowledge (RFC 9113, 3.4).
    static let preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    /// What the driver does after an event.
    enum Action: Equatable {
      /// Nothing yet: keep reading.
      case none
      /// The connection is active: start the request headers timer.
      case startTimer
      /// The protocol is known: stop the timer, set the pipeline up for it, and pass the
      /// bytes read so far on to it, unchanged.
      case decided(DownstreamProtocol)
      /// The request headers timeout passed before the protocol was known: close
      /// (counted `http.downstream_rq_header_timeout`, as a client that sends nothing is).
      case expire
      /// The listener is draining before the protocol was known: close (nothing was asked).
      case close
    }

    private enum State: Equatable {
      /// Not yet active.
      case initial
      /// Active; `matched` bytes read so far, all of them the preface's first ones.
      case reading(matched: Int)
      /// The protocol is known (or the connection expired or closed): later events change
      /// nothing.
      case done
    }

    private var state = State.initial

    /// The connection became active: the timer starts.
    mutating func accepted() -> Action {
      guard state == .initial else { return .none }
      state = .reading(matched: 0)
      return .startTimer
    }

    /// `bytes` were read (after those of earlier reads). The first byte that differs from
    /// the preface decides HTTP/1.1; the preface's last byte decides HTTP/2.
    mutating func received(_ bytes: some Sequence<UInt8>) -> Action {
      guard case .reading(var matched) = state else { return .none }
      for byte in bytes {
        guard byte == Self.preface[matched] else {
          state = .done
          return .decided(.http1)
        }
        matched += 1
        if matched == Self.preface.count {
          state = .done
          return .decided(.http2)
        }
      }
      state = .reading(matched: matched)
      return .none
    }

    /// The request headers timer fired while the protocol was still unknown.
    mutating func timerFired() -> Action {
      guard case .reading = state else { return .none }
      state = .done
      return .expire
    }

    /// The listener is draining (NIO's `ChannelShouldQuiesceEvent`) while the protocol is
    /// still unknown.
    mutating func drained() -> Action {
      guard case .reading = state else { return .none }
      state = .done
      return .close
    }

    /// The connection closed before the protocol was known: nothing more happens.
    mutating func closed() -> Action {
      state = .done
      return .none
    }
  }
}

/// The HTTP version a downstream connection speaks.
enum DownstreamProtocol: Equatable, Sendable {
  /// HTTP/1.1 (and 1.0): ``DownstreamHandler``.
  case http1
  /// HTTP/2 over cleartext with prior knowledge (h2c): one ``HTTP2StreamHandler`` per stream.
  case http2
}
