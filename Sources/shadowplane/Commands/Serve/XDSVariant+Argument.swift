public import ArgumentParser
public import XDSCore

/// `proxy --xds-mode sotw|delta`: the variant's raw value is its command-line name.
extension XDSVariant: ExpressibleByArgument {}
