"""The Envoy resources translated from the httpbin scenario manifests, checked against
Envoy's own rules.

For each scenario variant (ServiceEntry + DestinationRule + one of the three
VirtualServices in manifests/httpbin, and the mirror with the ShadowComparison), a
store-mode control plane is given the manifests
through POST /api/v1/config/apply. Everything it serves over ADS (CDS and LDS wildcard, the
api_listener ``httpbin:8000`` by name, RDS ``8000``, EDS by the cluster names) is decoded
with the reference classes, checked for fields they do not know, validated with
protoc-gen-validate (the rules Envoy enforces), as is every embedded typed_config
(HttpConnectionManager, Router), and checked for the translated values that matter.

Run with the PGV venv:  .venv-pgv/bin/python Tests/Interop/test_envoy_rules_manifests.py
The binary comes from SHADOWPLANE_BIN (default /work/main/.build/debug/shadowplane).
"""
from __future__ import annotations

import os
import sys
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import AdsStream, TYPE_URLS, describe, response_names  # noqa: E402
import test_envoy_rules as rules  # noqa: E402  (not its TestCase: unittest would run it here)
from test_envoy_rules import fixture_message  # noqa: E402

from google.protobuf import json_format  # noqa: E402

DEFAULT_CLUSTER = "outbound|8000||httpbin"
V1 = "outbound|8000|v1|httpbin"
V2 = "outbound|8000|v2|httpbin"
CLUSTERS = sorted([DEFAULT_CLUSTER, V1, V2])
ROUTE = "8000"
API_LISTENER = "httpbin:8000"
RUNTIME_KEY = "mirror.default.httpbin.http0.0"

# VirtualService manifest -> the mirror policies of its route: (cluster, numerator,
# denominator, runtime_key).
VARIANTS = {
    "10-virtualservice-all-v1.yaml": [],
    "11-virtualservice-mirror.yaml": [(V2, 1000000, "MILLION", RUNTIME_KEY)],
    "12-virtualservice-mirror-50.yaml": [(V2, 500000, "MILLION", RUNTIME_KEY)],
}


class EnvoyRulesManifestsTest(harness.InteropTestCase):

    @classmethod
    def setUpClass(cls) -> None:
        harness._import_reference_modules()

    def setUp(self) -> None:
        super().setUp()
        # protoc-gen-validate's generated code uses the deprecated FieldDescriptor.label.
        warnings.filterwarnings("ignore", message=r"label\(\) is deprecated",
                                category=DeprecationWarning)

    def fetch_all(self, cp) -> dict:
        """(type, name) -> Any for everything served, fetched as Envoy and as a proxyless
        gRPC client would."""
        served: dict = {}

        def keep(short: str, resp) -> None:
            self.assertEqual(resp.type_url, TYPE_URLS[short], describe(resp))
            for a in resp.resources:
                key = (short, harness.resource_name(a))
                self.assertNotIn(key, served, f"{key} served twice")
                served[key] = a

        with AdsStream(cp.xds_address, "rules-manifests-envoy") as s:
            cds = s.subscribe("CDS")
            self.assertEqual(response_names(cds), CLUSTERS, describe(cds))
            keep("CDS", cds)
            eds_names = sorted(harness.unpack(a).eds_cluster_config.service_name
                               or harness.unpack(a).name for a in cds.resources)
            eds = s.subscribe("EDS", eds_names)
            self.assertEqual(response_names(eds), eds_names, describe(eds))
            keep("EDS", eds)
            lds = s.subscribe("LDS")
            self.assertEqual(response_names(lds), ["0.0.0.0_8000"],
                             "wildcard LDS (the api_listener only goes to named requests)")
            keep("LDS", lds)
            routes = harness.route_names_of_listeners(lds)
            self.assertEqual(routes, [ROUTE])
            rds = s.subscribe("RDS", routes)
            self.assertEqual(response_names(rds), routes, describe(rds))
            keep("RDS", rds)
            # The RTDS layer named in manifests/envoy/bootstrap.yaml's layered_runtime.
            rtds = s.subscribe("RTDS", ["shadowplane"])
            self.assertEqual(response_names(rtds), ["shadowplane"], describe(rtds))
            keep("RTDS", rtds)

        with AdsStream(cp.xds_address, "rules-manifests-grpc") as s:
            lds = s.subscribe("LDS", [API_LISTENER])
            self.assertEqual(response_names(lds), [API_LISTENER], describe(lds))
            keep("LDS", lds)
            self.assertEqual(harness.route_names_of_listeners(lds), [ROUTE])
        return served

    def check_envoy_rules(self, served: dict) -> set:
        """Unknown fields, PGV on each resource and each embedded typed_config; returns the
        embedded message types seen."""
        checked_anys = set()
        for (short, name), a in sorted(served.items()):
            where = f"{short} {name}"
            msg = harness.unpack(a)
            self.assertEqual(rules.envoy_rule_violations(msg, where, checked_anys), [])
        return checked_anys

    def check_translation(self, served: dict, mirrors: list) -> None:
        msgs = {k: harness.unpack(a) for k, a in served.items()}
        self.assertEqual(sorted(msgs), sorted(
            [("CDS", c) for c in CLUSTERS] + [("EDS", c) for c in CLUSTERS]
            + [("LDS", "0.0.0.0_8000"), ("LDS", API_LISTENER), ("RDS", ROUTE),
               ("RTDS", "shadowplane")]))

        # Clusters: EDS over ADS, the DestinationRule's connect timeout.
        for c in CLUSTERS:
            cluster = msgs[("CDS", c)]
            self.assertEqual(cluster.type, cluster.EDS, c)
            self.assertTrue(cluster.eds_cluster_config.eds_config.HasField("ads"), c)
            self.assertEqual(cluster.eds_cluster_config.service_name or c, c)
            self.assertEqual(cluster.connect_timeout.ToTimedelta().total_seconds(), 1.0, c)

        # Endpoints: the subsets pick the endpoints by their version label.
        def ports(c):
            cla = msgs[("EDS", c)]
            return sorted(ep.endpoint.address.socket_address.port_value
                          for loc in cla.endpoints for ep in loc.lb_endpoints)
        self.assertEqual(ports(V1), [8001])
        self.assertEqual(ports(V2), [8002])
        self.assertEqual(ports(DEFAULT_CLUSTER), [8001, 8002])

        # Listeners: both HCMs read RDS 8000 over ADS, the router filter last.
        listener = msgs[("LDS", "0.0.0.0_8000")]
        self.assertEqual(listener.address.socket_address.address, "0.0.0.0")
        self.assertEqual(listener.address.socket_address.port_value, 8000)
        hcms = [harness.unpack(f.typed_config) for fc in listener.filter_chains
                for f in fc.filters]
        self.assertEqual(len(hcms), 1)
        api = msgs[("LDS", API_LISTENER)]
        self.assertTrue(api.HasField("api_listener"))
        self.assertEqual(api.api_listener.api_listener.type_url, harness.HCM_TYPE)
        hcms.append(harness.unpack(api.api_listener.api_listener))
        for hcm in hcms:
            self.assertEqual(hcm.rds.route_config_name, ROUTE)
            self.assertTrue(hcm.rds.config_source.HasField("ads"))
            self.assertEqual(hcm.http_filters[-1].typed_config.type_url, harness.ROUTER_TYPE)

        # Routes: the VirtualService's rule, then "default".
        rc = msgs[("RDS", ROUTE)]
        self.assertEqual([vh.name for vh in rc.virtual_hosts], ["httpbin:8000"])
        vh = rc.virtual_hosts[0]
        self.assertEqual(list(vh.domains), ["httpbin", "httpbin:8000"])
        self.assertEqual(len(vh.routes), 2, [r.name for r in vh.routes])
        rule, default = vh.routes
        self.assertEqual(default.name, "default")
        self.assertEqual(default.route.cluster, DEFAULT_CLUSTER)
        self.assertEqual(default.match.prefix, "/")
        self.assertFalse(default.route.request_mirror_policies)
        self.assertEqual(rule.route.cluster, V1)
        self.assertEqual(rule.match.prefix, "/")
        got = []
        for p in rule.route.request_mirror_policies:
            f = p.runtime_fraction
            got.append((p.cluster, f.default_value.numerator,
                        f.default_value.DenominatorType.Name(f.default_value.denominator),
                        f.runtime_key))
            self.assertTrue(p.HasField("trace_sampled"), "trace_sampled is not set")
            self.assertFalse(p.trace_sampled.value, "trace_sampled should be false")
        self.assertEqual(got, mirrors)

    def check_admin_round_trip(self, cp, served: dict) -> None:
        """GET /api/v1/resources is proto3 JSON that parses back to what ADS served."""
        got = {}
        for res in cp.get_resources():
            key = harness.resource_key(res)
            try:
                got[key] = fixture_message(res)
            except json_format.ParseError as e:
                self.fail(f"GET /api/v1/resources: {key} is not valid proto3 JSON: {e}")
        self.assertEqual(sorted(got), sorted(served))
        for key, a in served.items():
            self.assertEqual(got[key], harness.unpack(a), f"{key}: admin JSON differs from ADS")

    def test_shadow_comparison_follows_envoy_rules(self) -> None:
        """The mirror with 20-shadowcomparison.yaml: the route carries the comparison as
        filter metadata, and everything still passes Envoy's rules."""
        cp = self.start_store_control_plane(name="control-plane[comparison]")
        cp.apply_ok(harness.join_documents(
            harness.read_manifest("00-serviceentry.yaml"),
            harness.read_manifest("01-destinationrule.yaml"),
            harness.read_manifest("11-virtualservice-mirror.yaml"),
            harness.read_manifest("20-shadowcomparison.yaml")))
        served = self.fetch_all(cp)
        self.check_envoy_rules(served)
        self.check_translation(served, VARIANTS["11-virtualservice-mirror.yaml"])
        rule = harness.unpack(served[("RDS", ROUTE)]).virtual_hosts[0].routes[0]
        metadata = json_format.MessageToDict(
            rule.metadata.filter_metadata["shadowplane.comparison"])
        self.assertEqual(metadata["virtual_service"], "default/httpbin")
        self.assertEqual(metadata["baseline_cluster"], V1)
        self.assertEqual(metadata["shadows"], ["v2"])

    def test_scenario_variants_follow_envoy_rules(self) -> None:
        for vs_manifest, mirrors in VARIANTS.items():
            with self.subTest(variant=vs_manifest):
                cp = self.start_store_control_plane(name=f"control-plane[{vs_manifest}]")
                cp.apply_ok(harness.join_documents(
                    harness.read_manifest("00-serviceentry.yaml"),
                    harness.read_manifest("01-destinationrule.yaml"),
                    harness.read_manifest(vs_manifest)))
                served = self.fetch_all(cp)
                checked = self.check_envoy_rules(served)
                self.assertIn("envoy.extensions.filters.network.http_connection_manager.v3."
                              "HttpConnectionManager", checked)
                self.assertIn("envoy.extensions.filters.http.router.v3.Router", checked)
                # Envoy's cross-resource rules (router last, every reference served).
                rules.EnvoyRulesTest.check_references(
                    self, {k: (TYPE_URLS[k[0]], a) for k, a in served.items()})
                self.check_translation(served, mirrors)
                self.check_admin_round_trip(cp, served)
                cp.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
