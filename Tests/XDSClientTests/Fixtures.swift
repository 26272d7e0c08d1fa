import TestSupport

/// The shared Envoy fixtures, under the name the client's tests use.
typealias Fixtures = EnvoyFixtures
