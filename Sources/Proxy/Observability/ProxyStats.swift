import Atomics

/// Proxy-wide counters, by Envoy's names (`http.<listener>.*` without the stat prefix,
/// `runtime.*`, xDS updates). Every refusal of a limit in ``ProxyLimits`` is counted here.
final class ProxyStats: Sendable {
  let downstreamRequests = ManagedAtomic<Int>(0)
  let noRoute = ManagedAtomic<Int>(0)
  let noCluster = ManagedAtomic<Int>(0)
  /// Request heads not complete within the request headers timeout (408, or a close when
  /// not a byte had come).
  let requestHeaderTimeouts = ManagedAtomic<Int>(0)
  /// Connections closed after the idle timeout with no request in flight.
  let idleTimeouts = ManagedAtomic<Int>(0)
  /// Request heads over the header count or size limit (431).
  let requestHeaderOverflows = ManagedAtomic<Int>(0)
  /// Request bodies over the buffer limit (413).
  let requestsTooLarge = ManagedAtomic<Int>(0)
  /// Requests refused as malformed by the proxy (400: two `Host` headers).
  let badRequests = ManagedAtomic<Int>(0)
  /// Connections whose bytes were not HTTP/1.1 (400 and close), or broke HTTP/2's rules
  /// (a connection error: GOAWAY and close).
  let protocolErrors = ManagedAtomic<Int>(0)
  /// Connections that spoke HTTP/2 (h2c, detected by the connection preface).
  let http2Connections = ManagedAtomic<Int>(0)
  /// HTTP/2 header blocks over the size limit (the connection closes) or the field count
  /// limit (the stream is reset).
  let http2HeaderOverflows = ManagedAtomic<Int>(0)
  /// HTTP/2 connections closed for opening more streams than SETTINGS_MAX_CONCURRENT_STREAMS.
  let http2TooManyStreams = ManagedAtomic<Int>(0)
  let xdsUpdatesAccepted = ManagedAtomic<Int>(0)
  let xdsUpdatesRejected = ManagedAtomic<Int>(0)
  /// RTDS layers refused (a value the proxy cannot use: NACKed, the last good layer kept),
  /// and RTDS layer sets put in force.
  let runtimeLoadErrors = ManagedAtomic<Int>(0)
  let runtimeLoadSuccesses = ManagedAtomic<Int>(0)
  /// `POST /runtime_modify` values refused (400).
  let runtimeAdminRejected = ManagedAtomic<Int>(0)
  /// Admin requests refused for want of a credential (401) or of the write role (403).
  let adminAuthRefusals = ManagedAtomic<Int>(0)
  /// Comparison reports the control plane took, and those that failed (it was away).
  let comparisonReportsSent = ManagedAtomic<Int>(0)
  let comparisonReportsFailed = ManagedAtomic<Int>(0)

  var counters: [(String, Int)] {
    [
      ("http.downstream_rq_total", downstreamRequests), ("http.no_route", noRoute),
      ("http.no_cluster", noCluster),
      ("http.downstream_rq_header_timeout", requestHeaderTimeouts),
      ("http.downstream_cx_idle_timeout", idleTimeouts),
      ("http.downstream_rq_header_overflow", requestHeaderOverflows),
      ("http.downstream_rq_too_large", requestsTooLarge),
      ("http.downstream_rq_bad_request", badRequests),
      ("http.downstream_cx_protocol_error", protocolErrors),
      ("http.downstream_cx_http2_total", http2Connections),
      ("http2.header_overflow", http2HeaderOverflows),
      ("http2.too_many_streams", http2TooManyStreams),
      ("control_plane.update_accepted", xdsUpdatesAccepted),
      ("control_plane.update_rejected", xdsUpdatesRejected),
      ("runtime.load_error", runtimeLoadErrors), ("runtime.load_success", runtimeLoadSuccesses),
      ("runtime.admin_rejected", runtimeAdminRejected),
      ("admin.auth_refused", adminAuthRefusals),
      ("comparison.reports_sent", comparisonReportsSent),
      ("comparison.reports_failed", comparisonReportsFailed),
    ].map { ($0.0, $0.1.load(ordering: .relaxed)) }
  }
}
