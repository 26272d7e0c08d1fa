import Hummingbird
import ShadowCompare
import XDS

/// `GET /api/v1/comparisons[?virtualService=[NAMESPACE/]NAME]`: the proxies' shadow
/// comparison results, aggregated per rule and mirror, each with its verdict
/// (``ComparisonsResponse``).
extension AdminRouter {
  func addComparisonRoutes(to router: Router<AdminRequestContext>) {
    router.get("/api/v1/comparisons") { request, _ in
      let filter = request.uri.queryParameters["virtualService"].map { name in
        name.contains("/") ? String(name) : "default/\(name)"
      }
      return try json(
        ComparisonsResponse(
          reporters: await comparisons.reporters,
          comparisons: await comparisons.comparisons(virtualService: filter)))
    }
  }
}

/// The answer of `GET /api/v1/comparisons`.
struct ComparisonsResponse: Encodable {
  /// Proxies whose reports are current.
  var reporters: Int
  var comparisons: [RouteComparison]
}
