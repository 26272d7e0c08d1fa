import EnvoyAPI
import ShadowCompare
import XDSCore

/// A route's comparison of its shadows (``ComparisonMetadata``), compiled: the rules the
/// comparator applies, where a baseline copy goes, and what each mirror's results are
/// counted under.
struct ComparisonPolicy: Sendable {
  let metadata: ComparisonMetadata
  let rules: ComparisonRules
  /// What each mirror policy's results count under, by its position (computed once: every
  /// request on the route needs them, compared or skipped).
  let keys: [RouteComparison.Key]

  /// Reads the route's `filter_metadata["shadowplane.comparison"]`, if it has one; `mirrors`
  /// are the clusters of the route's mirror policies, in order.
  init?(_ route: Envoy_Config_Route_V3_Route, path: String, mirrors: [String] = [])
    throws(ProxyConfigError)
  {
    guard let value = route.metadata.filterMetadata[ComparisonMetadata.filterName] else {
      return nil
    }
    let metadata: ComparisonMetadata
    do {
      metadata = try ComparisonMetadata(value)
    } catch {
      throw ProxyConfigError("\(path).metadata.filter_metadata: \(error)")
    }
    var patterns: [JSONPathPattern] = []
    for (index, text) in metadata.ignoredPaths.enumerated() {
      do {
        patterns.append(try JSONPathPattern(parsing: text))
      } catch {
        throw ProxyConfigError(
          "\(path).metadata.filter_metadata[\(ComparisonMetadata.filterName)].ignored_paths[\(index)]: \(error)"
        )
      }
    }
    self.metadata = metadata
    self.rules = ComparisonRules(
      compareStatus: metadata.status, headers: metadata.headers,
      body: BodyComparison(rawValue: metadata.body.rawValue) ?? .auto,
      ignoredHeaders: Set(metadata.ignoredHeaders), ignoredPaths: patterns,
      maxBodyBytes: metadata.maxBodyBytes, keepSamples: metadata.keepSamples)
    keys = mirrors.enumerated().map { index, cluster in
      RouteComparison.Key(
        comparison: metadata.comparison, virtualService: metadata.virtualService,
        rule: metadata.rule, primary: metadata.primary,
        shadow: index < metadata.shadows.count ? metadata.shadows[index] : cluster)
    }
  }

  /// What the results of the mirror at `index` (of the route's mirror policies) count under.
  func key(mirror index: Int, cluster: String) -> RouteComparison.Key {
    guard index < keys.count else {
      return RouteComparison.Key(
        comparison: metadata.comparison, virtualService: metadata.virtualService,
        rule: metadata.rule, primary: metadata.primary,
        shadow: index < metadata.shadows.count ? metadata.shadows[index] : cluster)
    }
    return keys[index]
  }
}
