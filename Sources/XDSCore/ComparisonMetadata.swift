public import SwiftProtobuf

/// What a route's shadows are compared on: the contract between the translator, which writes
/// it into `Route.metadata.filter_metadata["shadowplane.comparison"]` from a ShadowComparison,
/// and the bundled proxy, which reads it. Envoy accepts and ignores filter metadata under a
/// name no filter of it uses, so the same routes stay valid for Envoy.
public struct ComparisonMetadata: Sendable, Equatable {
  /// The filter metadata key.
  public static let filterName = "shadowplane.comparison"

  /// How bodies are compared (`ShadowComparison.spec.compare.body`).
  public enum Body: String, Sendable, CaseIterable {
    case auto, json, bytes, none
  }

  /// The ShadowComparison: `namespace/name`.
  public var comparison: String
  /// The VirtualService compared: `namespace/name`.
  public var virtualService: String
  /// The http rule: its name, or `http<i>` when unnamed (as in mirror runtime keys).
  public var rule: String
  /// What the primary is called in verdicts: its destination's subset, else its host.
  public var primary: String
  /// What each mirror is called, in the order of the route's `request_mirror_policies`.
  public var shadows: [String]
  public var status: Bool
  /// Lower-case header names.
  public var headers: [String]
  public var body: Body
  public var ignoredHeaders: [String]
  public var ignoredPaths: [String]
  /// The cluster a baseline copy goes to, if any.
  public var baselineCluster: String?
  public var maxBodyBytes: Int
  public var keepSamples: Int

  public init(
    comparison: String, virtualService: String, rule: String, primary: String, shadows: [String],
    status: Bool = true, headers: [String] = [], body: Body = .auto,
    ignoredHeaders: [String] = [], ignoredPaths: [String] = [], baselineCluster: String? = nil,
    maxBodyBytes: Int = 262_144, keepSamples: Int = 50
  ) {
    self.comparison = comparison
    self.virtualService = virtualService
    self.rule = rule
    self.primary = primary
    self.shadows = shadows
    self.status = status
    self.headers = headers
    self.body = body
    self.ignoredHeaders = ignoredHeaders
    self.ignoredPaths = ignoredPaths
    self.baselineCluster = baselineCluster
    self.maxBodyBytes = maxBodyBytes
    self.keepSamples = keepSamples
  }

  /// The largest `maxBodyBytes` and `keepSamples` a proxy takes.
  public static let maxBodyBytesLimit = 16 * 1024 * 1024
  public static let keepSamplesLimit = 1000

  /// Why metadata could not be read: the field and what is wrong with it.
  public struct Invalid: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var problem: String
    public var description: String { "\(filterName).\(field): \(problem)" }

    public init(field: String, problem: String) {
      self.field = field
      self.problem = problem
    }
  }

  private enum Field: String, CaseIterable {
    case comparison
    case virtualService = "virtual_service"
    case rule, primary, shadows, status, headers
    case body
    case ignoredHeaders = "ignored_headers"
    case ignoredPaths = "ignored_paths"
    case baselineCluster = "baseline_cluster"
    case maxBodyBytes = "max_body_bytes"
    case keepSamples = "keep_samples"
  }

  /// The metadata as a protobuf Struct.
  public var structValue: Google_Protobuf_Struct {
    var fields: [String: Google_Protobuf_Value] = [
      Field.comparison.rawValue: .init(stringValue: comparison),
      Field.virtualService.rawValue: .init(stringValue: virtualService),
      Field.rule.rawValue: .init(stringValue: rule),
      Field.primary.rawValue: .init(stringValue: primary),
      Field.shadows.rawValue: Self.list(shadows),
      Field.status.rawValue: .init(boolValue: status),
      Field.headers.rawValue: Self.list(headers),
      Field.body.rawValue: .init(stringValue: body.rawValue),
      Field.ignoredHeaders.rawValue: Self.list(ignoredHeaders),
      Field.ignoredPaths.rawValue: Self.list(ignoredPaths),
      Field.maxBodyBytes.rawValue: .init(numberValue: Double(maxBodyBytes)),
      Field.keepSamples.rawValue: .init(numberValue: Double(keepSamples)),
    ]
    if let baselineCluster {
      fields[Field.baselineCluster.rawValue] = .init(stringValue: baselineCluster)
    }
    return Google_Protobuf_Struct(fields: fields)
  }

  private static func list(_ strings: [String]) -> Google_Protobuf_Value {
    Google_Protobuf_Value(
      listValue: Google_Protobuf_ListValue(values: strings.map { .init(stringValue: $0) }))
  }

  /// Reads metadata written by ``structValue`` (or by hand, for Envoy users): every field of
  /// the right type, no unknown field, numbers within their bounds.
  public init(_ value: Google_Protobuf_Struct) throws(Invalid) {
    for name in value.fields.keys.sorted() where Field(rawValue: name) == nil {
      throw Invalid(field: name, problem: "unknown field")
    }
    func string(_ field: Field, required: Bool = true) throws(Invalid) -> String? {
      guard let entry = value.fields[field.rawValue] else {
        if required { throw Invalid(field: field.rawValue, problem: "required") }
        return nil
      }
      guard case .stringValue(let text)? = entry.kind else {
        throw Invalid(field: field.rawValue, problem: "must be a string")
      }
      return text
    }
    func strings(_ field: Field) throws(Invalid) -> [String] {
      guard let entry = value.fields[field.rawValue] else { return [] }
      guard case .listValue(let list)? = entry.kind else {
        throw Invalid(field: field.rawValue, problem: "must be a list of strings")
      }
      var result: [String] = []
      for (index, item) in list.values.enumerated() {
        guard case .stringValue(let text)? = item.kind else {
          throw Invalid(field: "\(field.rawValue)[\(index)]", problem: "must be a string")
        }
        result.append(text)
      }
      return result
    }
    func count(_ field: Field, default fallback: Int, limit: Int, minimum: Int) throws(Invalid)
      -> Int
    {
      guard let entry = value.fields[field.rawValue] else { return fallback }
      guard case .numberValue(let number)? = entry.kind, number == number.rounded(),
        number >= Double(minimum), number <= Double(limit)
      else {
        throw Invalid(
          field: field.rawValue, problem: "must be a whole number between \(minimum) and \(limit)")
      }
      return Int(number)
    }
    comparison = try string(.comparison)!
    virtualService = try string(.virtualService)!
    rule = try string(.rule)!
    primary = try string(.primary) ?? ""
    shadows = try strings(.shadows)
    if let entry = value.fields[Field.status.rawValue] {
      guard case .boolValue(let flag)? = entry.kind else {
        throw Invalid(field: Field.status.rawValue, problem: "must be a boolean")
      }
      status = flag
    } else {
      status = true
    }
    headers = try strings(.headers).map { $0.lowercased() }
    let bodyText = try string(.body, required: false) ?? Body.auto.rawValue
    guard let body = Body(rawValue: bodyText) else {
      throw Invalid(
        field: Field.body.rawValue,
        problem:
          "\(bodyText.debugDescription) is not one of \(Body.allCases.map(\.rawValue).joined(separator: ", "))"
      )
    }
    self.body = body
    ignoredHeaders = try strings(.ignoredHeaders).map { $0.lowercased() }
    ignoredPaths = try strings(.ignoredPaths)
    baselineCluster = try string(.baselineCluster, required: false)
    maxBodyBytes = try count(
      .maxBodyBytes, default: 262_144, limit: Self.maxBodyBytesLimit, minimum: 1)
    keepSamples = try count(.keepSamples, default: 50, limit: Self.keepSamplesLimit, minimum: 0)
  }
}
