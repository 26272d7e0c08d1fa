import EnvoyAPI
import ShadowCompare
import XDSCore

/// A route's comparison of its shadows (``ComparisonMetadata``), compiled: the rules the
/// comparator applies, where a baseline copy goes, and what each mirror's results are
/// counted under.
struct ComparisonPolicy: Sendable {
  let metadata: ComparisonMetadata
  let rules: ComparisonRules

  /// Reads the route's `filter_metadata["shadowplane.comparison"]`, if it has one.
  init?(_ route: Envoy_Config_Route_V3_Route, path: String) throws(ProxyConfigError) {
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
  }

  /// What the results of the mirror at `index` (of the route's mirror policies) count under.
  func key(mirror index: Int, cluster: String) -> RouteComparison.Key {
    RouteComparison.Key(
      comparison: metadata.comparison, virtualService: metadata.virtualService,
      rule: metadata.rule, primary: metadata.primary,
      shadow: index < metadata.shadows.count ? metadata.shadows[index] : cluster)
  }
}
