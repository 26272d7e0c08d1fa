import EnvoyAPI
import SwiftProtobuf

/// A header to add to a request or response.
struct HeaderMutation: Sendable, Equatable {
  let name: String
  let value: String
  /// true: replace any existing value; false: append another.
  let overwrite: Bool
  let onlyIfAbsent: Bool

  init(_ option: Envoy_Config_Core_V3_HeaderValueOption) {
    name = option.header.key.lowercased()
    value = option.header.value
    switch option.appendAction {
    case .overwriteIfExistsOrAdd, .overwriteIfExists:
      overwrite = true
      onlyIfAbsent = false
    case .addIfAbsent:
      overwrite = false
      onlyIfAbsent = true
    default:
      // The deprecated `append` wins when set (false means overwrite).
      overwrite = option.hasAppend ? !option.append.value : false
      onlyIfAbsent = false
    }
  }
}
