public import ArgumentParser
public import MeshIdentity

/// `--role read|write`.
extension OperatorRole: ExpressibleByArgument {}
