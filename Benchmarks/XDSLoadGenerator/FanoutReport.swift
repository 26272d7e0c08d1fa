/// The figures of one fan-out run, printed as one JSON line (snake_case keys). Times in
/// milliseconds are from `t0`, taken just before the change is POSTed, unless named
/// otherwise; memory in KiB; CPU in seconds.
struct FanoutReport: Codable, Sendable {
  var streams: Int
  /// `sotw` or `delta`.
  var mode: String
  /// Streams connecting (started, not yet ready) at once during the ramp.
  var connectConcurrency: Int
  /// From the first stream started to every stream holding every required type.
  var connectS: Double
  /// Control-plane CPU spent while the streams connected.
  var cpuSConnect: Double

  /// Control-plane RSS before any stream, once idle with every stream connected, and once
  /// idle after the push.
  var rssBaselineKB: Int
  var rssIdleKB: Int
  var rssAfterPushKB: Int
  /// (idle − baseline) / streams, and (after push − baseline) / streams.
  var kbPerIdleStream: Double
  var kbPerStreamAfterPush: Double

  /// How long the `POST /api/v1/config/apply` took to answer.
  var applyHTTPMs: Double
  /// The first and the last stream to receive the change, and the percentiles over all.
  var receiveFirstMs: Double
  var receiveAllMs: Double
  var receiveP50Ms: Double
  var receiveP99Ms: Double
  /// When the streams applied the change and wrote their ACK.
  var ackAllMs: Double
  var ackP50Ms: Double
  var ackP99Ms: Double
  /// When the control plane's CPU went idle after the push (100 ms sampling), all ACKs
  /// recorded in its ledger (checked right after, see `serverSynced`).
  var serverAckAllMs: Double
  /// Whether `GET /api/v1/status` showed every stream SYNCED on the new route version.
  var serverSynced: Bool
  /// Streams the status ledger showed SYNCED on the new route version.
  var serverSyncedStreams: Int
  /// How long one `GET /api/v1/status` took, and its size.
  var statusFetchMs: Double
  var statusBytes: Int
  /// The control plane's own push latency for RDS (snapshot built to response written),
  /// from its `/metrics` histogram: responses counted, their mean, and the bucket bound
  /// the slowest falls under.
  var serverRDSPushes: Int
  var serverRDSPushMeanMs: Double
  var serverRDSPushMaxLEMs: Double?
  /// RDS bytes the control plane sent for the change, per stream.
  var rdsBytesPerStream: Double

  /// Control-plane CPU from t0 until it went idle again (the whole push: translation,
  /// responses, ACK handling), and from t0 until the last stream ACKed.
  var cpuSPerPush: Double
  var cpuSToAckAll: Double
  /// The load generator's own CPU from t0 until the last stream ACKed (it shares the
  /// machine).
  var loadgenCPUSPerPush: Double
  /// CPU other processes took over the same span, all cores: a busy machine slows the push.
  var otherCPUSToAckAll: Double

  /// The route versions before and after the change.
  var routeVersionBefore: String
  var routeVersionAfter: String
  /// Problems seen: stream ends, route changes nobody made, more than one new version.
  var errors: [String]

  enum CodingKeys: String, CodingKey {
    case streams, mode
    case connectConcurrency = "connect_concurrency"
    case connectS = "connect_s"
    case cpuSConnect = "cpu_s_connect"
    case rssBaselineKB = "rss_baseline_kb"
    case rssIdleKB = "rss_idle_kb"
    case rssAfterPushKB = "rss_after_push_kb"
    case kbPerIdleStream = "kb_per_idle_stream"
    case kbPerStreamAfterPush = "kb_per_stream_after_push"
    case applyHTTPMs = "apply_http_ms"
    case receiveFirstMs = "receive_first_ms"
    case receiveAllMs = "receive_all_ms"
    case receiveP50Ms = "receive_p50_ms"
    case receiveP99Ms = "receive_p99_ms"
    case ackAllMs = "ack_all_ms"
    case ackP50Ms = "ack_p50_ms"
    case ackP99Ms = "ack_p99_ms"
    case serverAckAllMs = "server_ack_all_ms"
    case serverSynced = "server_synced"
    case serverSyncedStreams = "server_synced_streams"
    case statusFetchMs = "status_fetch_ms"
    case statusBytes = "status_bytes"
    case serverRDSPushes = "server_rds_pushes"
    case serverRDSPushMeanMs = "server_rds_push_mean_ms"
    case serverRDSPushMaxLEMs = "server_rds_push_max_le_ms"
    case rdsBytesPerStream = "rds_bytes_per_stream"
    case cpuSPerPush = "cpu_s_per_push"
    case cpuSToAckAll = "cpu_s_to_ack_all"
    case loadgenCPUSPerPush = "loadgen_cpu_s_per_push"
    case otherCPUSToAckAll = "other_cpu_s_to_ack_all"
    case routeVersionBefore = "route_version_before"
    case routeVersionAfter = "route_version_after"
    case errors
  }
}
