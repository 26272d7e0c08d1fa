/// Samples parsed from the Prometheus text exposition format (`GET /metrics`).
struct PrometheusText: Sendable {
  /// One sample: `name{label="value",...} number`.
  struct Sample: Sendable {
    var name: String
    var labels: [String: String]
    var value: Double
  }

  let samples: [Sample]

  /// Parses `text`; comment lines and lines that do not parse are skipped.
  init(_ text: String) {
    var samples: [Sample] = []
    for line in text.split(separator: "\n") where !line.hasPrefix("#") {
      guard let space = line.lastIndex(of: " "),
        let value = Double(line[line.index(after: space)...])
      else { continue }
      let series = line[..<space]
      var labels: [String: String] = [:]
      let name: Substring
      if let open = series.firstIndex(of: "{"), series.hasSuffix("}") {
        name = series[..<open]
        let body = series[series.index(after: open)..<series.index(before: series.endIndex)]
        // Label values here never hold commas or quotes (types, variants, bucket bounds).
        for pair in body.split(separator: ",") {
          let parts = pair.split(separator: "=", maxSplits: 1)
          guard parts.count == 2 else { continue }
          labels[String(parts[0])] = String(parts[1].filter { $0 != "\"" })
        }
      } else {
        name = series
      }
      samples.append(Sample(name: String(name), labels: labels, value: value))
    }
    self.samples = samples
  }

  /// The sum of the samples named `name` whose labels include `matching`.
  func total(_ name: String, _ matching: [String: String] = [:]) -> Double {
    samples.filter { sample in
      sample.name == name && matching.allSatisfy { sample.labels[$0.key] == $0.value }
    }.reduce(0) { $0 + $1.value }
  }

  /// The cumulative bucket counts of histogram `name` whose labels include `matching`, by
  /// upper bound in the histogram's unit (`+Inf` as infinity), ascending.
  func buckets(_ name: String, _ matching: [String: String] = [:]) -> [(
    bound: Double, count: Double
  )] {
    var counts: [Double: Double] = [:]
    for sample in samples where sample.name == name + "_bucket" {
      guard matching.allSatisfy({ sample.labels[$0.key] == $0.value }),
        let le = sample.labels["le"]
      else { continue }
      let bound = le == "+Inf" ? Double.infinity : Double(le)
      guard let bound else { continue }
      counts[bound, default: 0] += sample.value
    }
    return counts.sorted { $0.key < $1.key }.map { (bound: $0.key, count: $0.value) }
  }
}
