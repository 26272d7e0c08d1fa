"""Every resource Shadowplane serves, checked against Envoy's own rules.

An ADS client (reference stubs from xds-protos) fetches everything served for a rich
fixture. Each resource is decoded with the reference classes, checked for fields the
reference does not know, validated with protoc-gen-validate (the rules Envoy enforces on
config), as is every embedded typed_config ``Any`` (HttpConnectionManager, Router, ...),
and compared with the fixture JSON parsed by ``json_format`` into the same class.

Run with the PGV venv:  .venv-pgv/bin/python Tests/Interop/test_envoy_rules.py
The binary comes from SHADOWPLANE_BIN (default /work/main/.build/debug/shadowplane).
"""
from __future__ import annotations

import os
import sys
import unittest
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import AdsStream, TYPE_URLS, response_names, route_names_of_listeners  # noqa: E402

from google.protobuf import any_pb2, json_format  # noqa: E402
from google.protobuf import unknown_fields as pb_unknown  # noqa: E402
from protoc_gen_validate.validator import ValidationFailed, validate  # noqa: E402

ANY_NAME = "google.protobuf.Any"


def _is_repeated(field) -> bool:
    if hasattr(field, "is_repeated"):
        return field.is_repeated
    return field.label == field.LABEL_REPEATED


def walk(msg, path: str):
    """Yields (path, message) for ``msg`` and every message inside it, looking into
    ``Any`` values (yielding the unpacked message in place of the Any)."""
    if msg.DESCRIPTOR.full_name == ANY_NAME:
        inner = harness.unpack(msg)
        yield from walk(inner, f"{path}<{inner.DESCRIPTOR.full_name}>")
        return
    yield path, msg
    for field, value in msg.ListFields():
        if field.message_type is None:
            continue
        name = f"{path}.{field.name}"
        if field.message_type.GetOptions().map_entry:
            value_field = field.message_type.fields_by_name["value"]
            if value_field.message_type is not None:
                for k, v in value.items():
                    yield from walk(v, f"{name}[{k!r}]")
        elif _is_repeated(field):
            for i, v in enumerate(value):
                yield from walk(v, f"{name}[{i}]")
        else:
            yield from walk(value, name)


def embedded_anys(msg, path: str):
    """Yields (path, unpacked message) for every ``Any`` anywhere inside ``msg``."""
    for p, m in walk(msg, path):
        if p.endswith(">"):
            yield p, m


def envoy_rule_violations(msg, where: str, embedded_seen: set) -> list[str]:
    """Everything Envoy would refuse in ``msg``: fields unknown to the reference API, and
    PGV validation of the message and of every embedded typed_config. Adds the embedded
    message types to ``embedded_seen``; returns the problems (empty when none)."""
    problems = []
    for path, m in walk(msg, where):
        unknown = pb_unknown.UnknownFieldSet(m)
        if len(unknown):
            problems.append(f"{path}: fields unknown to the reference API: "
                            f"{[f.field_number for f in unknown]}")
    try:
        validate(msg)
    except ValidationFailed as e:
        problems.append(f"{where}: PGV validation failed: {e}")
    for path, inner in embedded_anys(msg, where):
        embedded_seen.add(inner.DESCRIPTOR.full_name)
        try:
            validate(inner)
        except ValidationFailed as e:
            problems.append(f"{path}: PGV validation failed: {e}")
    return problems


def fixture_message(res: dict):
    """The fixture resource (proto3 JSON with @type) parsed into its reference class."""
    return harness.unpack(json_format.ParseDict(res, any_pb2.Any()))


class EnvoyRulesTest(harness.InteropTestCase):

    @classmethod
    def setUpClass(cls) -> None:
        harness._import_reference_modules()

    def setUp(self) -> None:
        super().setUp()
        # protoc-gen-validate's generated code uses the deprecated FieldDescriptor.label.
        warnings.filterwarnings("ignore", message=r"label\(\) is deprecated",
                                category=DeprecationWarning)

    def fetch_all(self, cp) -> dict[tuple[str, str], tuple[str, any_pb2.Any]]:
        """(type, name) -> (response type_url, Any) for everything served."""
        served: dict[tuple[str, str], tuple[str, any_pb2.Any]] = {}

        def keep(short: str, resp) -> None:
            for a in resp.resources:
                key = (short, harness.resource_name(a))
                self.assertNotIn(key, served, f"{key} served twice")
                served[key] = (resp.type_url, a)

        with AdsStream(cp.xds_address, "rules-envoy") as s:
            cds = s.subscribe("CDS")
            keep("CDS", cds)
            eds_names = []
            for a in cds.resources:
                c = harness.unpack(a)
                if c.type == c.EDS:
                    eds_names.append(c.eds_cluster_config.service_name or c.name)
            eds = s.subscribe("EDS", sorted(eds_names))
            keep("EDS", eds)
            lds = s.subscribe("LDS")
            keep("LDS", lds)
            routes = route_names_of_listeners(lds)
            rds = s.subscribe("RDS", routes)
            keep("RDS", rds)
            rtds = s.subscribe("RTDS", ["rtds-layer"])
            keep("RTDS", rtds)
            self.assertEqual(response_names(eds), sorted(eds_names))
            self.assertEqual(response_names(rds), routes)

        with AdsStream(cp.xds_address, "rules-grpc") as s:
            lds = s.subscribe("LDS", ["greeter:50051"])
            keep("LDS", lds)
            routes = route_names_of_listeners(lds)
            keep("RDS", s.subscribe("RDS", routes))
            clusters = sorted({c for r in [harness.unpack(a) for a in
                                           s.received[-1].resources]
                               for vh in r.virtual_hosts for rt in vh.routes
                               for c in [rt.route.cluster] if c})
            cds = s.subscribe("CDS", clusters)
            eds = s.subscribe("EDS", clusters)
            self.assertEqual(response_names(cds), clusters)
            self.assertEqual(response_names(eds), clusters)
        return served

    def test_served_resources_follow_envoy_rules(self) -> None:
        fixture = harness.rich_fixture()
        cp = self.start_control_plane(fixture)
        served = self.fetch_all(cp)

        expected = {harness.resource_key(r): r for r in fixture}
        self.assertEqual(sorted(served), sorted(expected),
                         "served resources differ from the fixture's")

        checked_anys = set()
        for key, (type_url, a) in sorted(served.items()):
            short, name = key
            with self.subTest(resource=key):
                self.assertEqual(a.type_url, TYPE_URLS[short], "resource type_url")
                self.assertEqual(type_url, TYPE_URLS[short], "response type_url")
                msg = harness.unpack(a)
                where = f"{short} {name}"
                # Every byte understood by the reference API, and Envoy's validation rules
                # on the resource and on every typed_config.
                self.assertEqual(envoy_rule_violations(msg, where, checked_anys), [])
                # The intended values.
                want = fixture_message(expected[key])
                self.assertEqual(
                    json_format.MessageToDict(msg), json_format.MessageToDict(want),
                    f"{where}: served content differs from the fixture")
                self.assertEqual(msg, want, f"{where}: messages differ")
        self.assertIn("envoy.extensions.filters.network.http_connection_manager.v3."
                      "HttpConnectionManager", checked_anys)
        self.assertIn("envoy.extensions.filters.http.router.v3.Router", checked_anys)

        self.check_references(served)
        self.check_admin_round_trip(cp, expected)

    def check_references(self, served) -> None:
        """Envoy's cross-resource rules: the router filter is last; every RDS name, cluster
        and EDS cluster referenced is served."""
        msgs = {k: harness.unpack(a) for k, (_, a) in served.items()}
        clusters = {n for (t, n) in msgs if t == "CDS"}
        for (t, n), m in msgs.items():
            if t == "LDS":
                anys = [f.typed_config for fc in m.filter_chains for f in fc.filters]
                if m.HasField("api_listener"):
                    anys.append(m.api_listener.api_listener)
                for a in anys:
                    if a.type_url != harness.HCM_TYPE:
                        continue
                    hcm = harness.unpack(a)
                    self.assertTrue(hcm.http_filters, f"LDS {n}: no http_filters")
                    self.assertEqual(hcm.http_filters[-1].typed_config.type_url,
                                     harness.ROUTER_TYPE, f"LDS {n}: router is not last")
                    self.assertIn(("RDS", hcm.rds.route_config_name), msgs,
                                  f"LDS {n}: route {hcm.rds.route_config_name} not served")
            elif t == "RDS":
                for vh in m.virtual_hosts:
                    for rt in vh.routes:
                        if not rt.HasField("route"):
                            continue
                        refs = [rt.route.cluster] if rt.route.cluster else []
                        refs += [w.name for w in rt.route.weighted_clusters.clusters]
                        refs += [p.cluster for p in rt.route.request_mirror_policies]
                        for c in refs:
                            self.assertIn(c, clusters, f"RDS {n}: unknown cluster {c}")
            elif t == "CDS" and m.type == m.EDS:
                self.assertIn(("EDS", m.eds_cluster_config.service_name or m.name), msgs,
                              f"CDS {n}: no load assignment served")

    def check_admin_round_trip(self, cp, expected) -> None:
        """GET /api/v1/resources returns proto3 JSON the reference parser reads back to the
        same messages."""
        got = cp.get_resources()
        keys = []
        for res in got:
            key = harness.resource_key(res)
            keys.append(key)
            with self.subTest(admin_resource=key):
                try:
                    msg = fixture_message(res)
                except json_format.ParseError as e:
                    self.fail(f"GET /api/v1/resources: {key} is not valid proto3 JSON: {e}")
                self.assertEqual(msg, fixture_message(expected[key]),
                                 f"GET /api/v1/resources: {key} differs from the fixture")
        self.assertEqual(sorted(keys), sorted(expected))


if __name__ == "__main__":
    unittest.main(verbosity=2)
