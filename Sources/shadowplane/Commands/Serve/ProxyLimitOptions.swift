import ArgumentParser
import Proxy

/// The bundled proxy's bounds and timeouts (README, "Limits and timeouts"); what each
/// refuses is counted in the proxy's `/stats` (Envoy's names). A duration of 0 disables
/// its timeout.
struct ProxyLimitOptions: ParsableArguments {
  @Option(
    help:
      "How long a request head may take: from accept for a connection's first request, from its first byte for later ones (408, or a close when nothing came)."
  )
  var requestHeadersTimeout = DurationArgument(ProxyLimits().requestHeadersTimeout)

  @Option(help: "How long a client connection may stay open with no request in flight.")
  var idleTimeout = DurationArgument(ProxyLimits().idleTimeout)

  @Option(help: "The most header fields a request may have (431 beyond).")
  var maxRequestHeaders = ProxyLimits().maxRequestHeaders

  @Option(help: "The largest request head, in KiB (431 beyond).")
  var maxRequestHeadersKb = ProxyLimits().maxRequestHeadersKB

  @Option(
    help:
      "HTTP/2: the most streams a client may have open on one connection (SETTINGS_MAX_CONCURRENT_STREAMS; the connection closes beyond)."
  )
  var http2MaxConcurrentStreams = ProxyLimits().http2MaxConcurrentStreams

  @Option(help: "HTTP/2: each request stream's initial flow-control window, in bytes.")
  var http2InitialStreamWindowBytes = ProxyLimits().http2InitialStreamWindowBytes

  @Option(help: "HTTP/2: a connection's flow-control window, in bytes.")
  var http2InitialConnectionWindowBytes = ProxyLimits().http2InitialConnectionWindowBytes

  @Option(help: "The largest request body buffered, in bytes (413 beyond).")
  var maxRequestBodyBytes = ProxyLimits().maxRequestBodyBytes

  @Option(help: "How long a shadow (mirrored request) may take when its route sets no timeout.")
  var defaultShadowTimeout = DurationArgument(ProxyLimits().defaultShadowTimeout)

  @Option(help: "Shadows in flight per event loop (more are dropped).")
  var maxShadowsPerLoop = ProxyLimits().maxShadowsPerLoop

  @Option(help: "Idle keep-alive connections kept per upstream host per event loop.")
  var maxIdlePerHost = ProxyLimits().maxIdlePerHost

  @Option(help: "Compared requests (ShadowComparison) in flight per event loop (more are skipped).")
  var maxComparisonsPerLoop = ProxyLimits().maxComparisonsPerLoop

  @Option(
    help:
      "Compared requests that may start per second per event loop (more are mirrored uncompared, counted as skipped)."
  )
  var maxComparisonsPerSecondPerLoop = ProxyLimits().maxComparisonsPerSecondPerLoop

  @Option(
    help: "Response body bytes the compared requests of one event loop may hold (more are skipped)."
  )
  var maxComparisonBytesPerLoop = ProxyLimits().maxComparisonBytesPerLoop

  func validate() throws {
    let positive: [(String, Int)] = [
      ("--max-request-headers", maxRequestHeaders),
      ("--max-request-headers-kb", maxRequestHeadersKb),
      ("--max-request-body-bytes", maxRequestBodyBytes),
      ("--max-shadows-per-loop", maxShadowsPerLoop), ("--max-idle-per-host", maxIdlePerHost),
      ("--max-comparisons-per-loop", maxComparisonsPerLoop),
      ("--max-comparisons-per-second-per-loop", maxComparisonsPerSecondPerLoop),
      ("--max-comparison-bytes-per-loop", maxComparisonBytesPerLoop),
    ]
    for (flag, value) in positive where value < 1 {
      throw ValidationError("\(flag) must be at least 1, got \(value)")
    }
    // RFC 9113, 6.5.2 and 6.9.2: a window is at most 2^31 - 1; Envoy's floor is the
    // protocol's initial 65,535 bytes.
    let windows: [(String, Int)] = [
      ("--http2-initial-stream-window-bytes", http2InitialStreamWindowBytes),
      ("--http2-initial-connection-window-bytes", http2InitialConnectionWindowBytes),
    ]
    for (flag, value) in windows where !(65_535...Int(Int32.max)).contains(value) {
      throw ValidationError("\(flag) must be in 65535...2147483647, got \(value)")
    }
    if !(1...Int(Int32.max)).contains(http2MaxConcurrentStreams) {
      throw ValidationError(
        "--http2-max-concurrent-streams must be in 1...2147483647, got \(http2MaxConcurrentStreams)"
      )
    }
    let durations: [(String, DurationArgument)] = [
      ("--request-headers-timeout", requestHeadersTimeout), ("--idle-timeout", idleTimeout),
      ("--default-shadow-timeout", defaultShadowTimeout),
    ]
    for (flag, value) in durations where value.duration < .zero {
      throw ValidationError("\(flag) must not be negative, got \(value)")
    }
  }

  /// The limits these options set.
  var limits: ProxyLimits {
    var limits = ProxyLimits()
    limits.requestHeadersTimeout = requestHeadersTimeout.duration
    limits.idleTimeout = idleTimeout.duration
    limits.maxRequestHeaders = maxRequestHeaders
    limits.maxRequestHeadersKB = maxRequestHeadersKb
    limits.maxRequestBodyBytes = maxRequestBodyBytes
    limits.http2MaxConcurrentStreams = http2MaxConcurrentStreams
    limits.http2InitialStreamWindowBytes = http2InitialStreamWindowBytes
    limits.http2InitialConnectionWindowBytes = http2InitialConnectionWindowBytes
    limits.defaultShadowTimeout = defaultShadowTimeout.duration
    limits.maxShadowsPerLoop = maxShadowsPerLoop
    limits.maxIdlePerHost = maxIdlePerHost
    limits.maxComparisonsPerLoop = maxComparisonsPerLoop
    limits.maxComparisonsPerSecondPerLoop = maxComparisonsPerSecondPerLoop
    limits.maxComparisonBytesPerLoop = maxComparisonBytesPerLoop
    return limits
  }
}
