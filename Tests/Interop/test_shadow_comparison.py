"""Shadow comparison end to end (ShadowComparison): real httpbin v1 and v2 under gunicorn
behind the bundled proxy, every request mirrored to v2 and a baseline copy sent to v1; the
proxy compares, reports to the control plane, and `GET /api/v1/comparisons` and
`shadowplane compare` say whether v2 answers like v1.

- Identical versions: 2,000 mixed requests (several httpbin endpoints, GET and POST with JSON
  bodies) compare as `match` at least 99.5 % of the time, with no ignore rules: what differs
  between two answers of v1 (request ids, the shadow's Host, uuids) is learned from the
  baseline, and no finding is reported.
- A v2 that changes one JSON field on one endpoint, answers 500 on another and 50 ms later
  on a third (httpbin_variant.py) is reported with exactly those three findings, each with
  the number of requests to its endpoint (within 1 %), and nothing else.

Needs the demo venv (httpbin, gunicorn): scripts/setup makes it.
Run: .venv-interop/bin/python Tests/Interop/test_shadow_comparison.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import envoy_harness as eh  # noqa: E402
import harness  # noqa: E402
import proxy_harness as ph  # noqa: E402
from harness import poll  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEMO_VENV = os.environ.get("SHADOWPLANE_DEMO_VENV", os.path.join(ROOT, ".venv-demo"))
REQUESTS = int(os.environ.get("COMPARISON_REQUESTS", "2000"))
# GET /get, POST /anything, GET /headers, GET /uuid, GET /json, POST /post, in turn.
ENDPOINTS = 6


class Gunicorn:
    """httpbin (or its variant) under gunicorn on a free loopback port."""

    def __init__(self, app: str, name: str):
        self.port = harness.free_port()
        self.name = name
        self.proc = subprocess.Popen(
            [os.path.join(DEMO_VENV, "bin", "gunicorn"), "--bind", f"127.0.0.1:{self.port}",
             "--workers", "2", "--threads", "8", "--worker-class", "gthread",
             "--chdir", HERE, "--log-level", "warning", app],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def wait(self) -> None:
        import urllib.request

        def up():
            if self.proc.poll() is not None:
                raise AssertionError(f"gunicorn {self.name} exited with {self.proc.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/status/200", timeout=1):
                    return True
            except OSError:
                return None
        poll(up, 30, interval=0.1, what=f"gunicorn {self.name} to serve")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def service(host: str, port: int, v1: int, v2: int) -> str:
    return harness.join_documents(
        ph.service_entry(host, host, port, [(v1, {"version": "v1"}), (v2, {"version": "v2"})]),
        ph.destination_rule(host, host),
        ph.resource("VirtualService", host, {"hosts": [host], "http": [{
            "name": "all",
            "route": [{"destination": {"host": host, "subset": "v1"}}],
            "mirror": {"host": host, "subset": "v2"}}]}),
        ph.to_yaml({"apiVersion": "shadowplane.io/v1alpha1", "kind": "ShadowComparison",
                    "metadata": {"name": host, "namespace": "default"},
                    "spec": {"virtualService": host,
                             "compare": {"status": True, "headers": ["content-type"], "body": "auto"},
                             "baseline": {"host": host, "subset": "v1"}}}))


def send_mix(port: int, authority: str, total: int, threads: int = 8) -> dict[str, int]:
    """``total`` requests through the proxy, the endpoints in turn; returns the count sent to
    each (`METHOD /path`). Every answer must be v1's: 200."""
    counts: dict[str, int] = {}
    lock = threading.Lock()
    errors: list[str] = []

    def worker(index: int) -> None:
        client = ph.KeepAliveClient(port, timeout=20)
        try:
            for n in range(index, total, threads):
                kind = n % ENDPOINTS
                body = None
                headers = None
                if kind == 0:
                    method, path = "GET", f"/get?n={n}"
                elif kind == 1:
                    method, path = "POST", "/anything"
                    body = json.dumps({"total": n, "items": [{"id": n, "qty": n % 7}]})
                    headers = {"Content-Type": "application/json"}
                elif kind == 2:
                    method, path = "GET", "/headers"
                elif kind == 3:
                    method, path = "GET", "/uuid"
                elif kind == 4:
                    method, path = "GET", "/json"
                else:
                    method, path = "POST", "/post"
                    body = json.dumps({"order": n, "note": "shadow test"})
                    headers = {"Content-Type": "application/json"}
                response = client.request(method, path, authority, headers=headers, body=body)
                key = f"{method} {path.split('?')[0]}"
                with lock:
                    counts[key] = counts.get(key, 0) + 1
                    if response.status != 200:
                        errors.append(f"{key}: {response.status}")
        finally:
            client.close()

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(300)
    if errors:
        raise AssertionError(f"{len(errors)} primary answers were not 200: {errors[:5]}")
    return counts


class ShadowComparisonTest(ph.ProxyTestCase):
    NODE_ID = "comparison-proxy"

    @classmethod
    def setUpClass(cls) -> None:
        if not os.path.exists(os.path.join(DEMO_VENV, "bin", "gunicorn")):
            raise AssertionError(f"no gunicorn in {DEMO_VENV}: run scripts/setup")

    def start_gunicorn(self, app: str, name: str) -> Gunicorn:
        g = Gunicorn(app, name)
        self.addCleanup(g.stop)
        return g

    def comparisons(self, cp, virtual_service: str) -> list[dict]:
        code, body = harness.http_json(
            "GET", cp.admin_url + f"/api/v1/comparisons?virtualService={virtual_service}")
        self.assertEqual(code, 200, body)
        return body["comparisons"]

    def wait_compared(self, cp, virtual_service: str, at_least: int) -> dict:
        def check():
            routes = self.comparisons(cp, virtual_service)
            if len(routes) != 1:
                return None
            summary = routes[0]["summary"]
            done = sum(summary["counts"].values()) + summary.get("skipped", 0)
            return routes[0] if done >= at_least else None
        return poll(check, 60, interval=0.5,
                    what=f"{at_least} comparisons of {virtual_service} to be reported")

    def test_identical_versions_match_and_a_changed_v2_is_reported_exactly(self) -> None:
        v1 = self.start_gunicorn("httpbin:app", "v1")
        v2_same = self.start_gunicorn("httpbin:app", "v2-same")
        v2_changed = self.start_gunicorn("httpbin_variant:app", "v2-changed")
        for g in (v1, v2_same, v2_changed):
            g.wait()
        cp = self.start_store_control_plane()
        # Every request compared (the default samples 250 per second per event loop).
        proxy = self.start_proxy(cp, access_log=False,
                                 extra_args=["--comparison-report-interval", "500ms",
                                             "--max-comparisons-per-second-per-loop", "100000"])
        self.wait_synced(cp)
        same_port, changed_port = harness.free_port(), harness.free_port()
        self.apply_synced(cp, harness.join_documents(
            service("same", same_port, v1.port, v2_same.port),
            service("changed", changed_port, v1.port, v2_changed.port)))
        poll(proxy.ready, 15, what="proxy /ready")
        for port, host in ((same_port, "same"), (changed_port, "changed")):
            client = ph.KeepAliveClient(port)
            poll(lambda: client.request("GET", "/status/204", f"{host}:{port}").status == 204, 15,
                 what=f"{host} to be served")
            client.close()

        started = time.monotonic()
        sent_same = send_mix(same_port, f"same:{same_port}", REQUESTS)
        sent_changed = send_mix(changed_port, f"changed:{changed_port}", REQUESTS)
        print(f"[comparison] {2 * REQUESTS} requests in {time.monotonic() - started:.1f} s",
              file=sys.stderr)
        # The warm-up request (/status/204) was compared too.
        same = self.wait_compared(cp, "default/same", REQUESTS + 1)
        changed = self.wait_compared(cp, "default/changed", REQUESTS + 1)

        for route in (same, changed):
            print(f"[comparison] {route['virtualService']}: {route['verdict']}", file=sys.stderr)
        # Identical versions: at least 99.5 % match, no finding, the noise learned.
        summary = same["summary"]
        compared = sum(summary["counts"].values())
        matches = summary["counts"].get("match", 0)
        detail = json.dumps({k: summary[k] for k in ("counts", "skipped")}) + "\n" + same["verdict"]
        self.assertGreaterEqual(compared, REQUESTS, detail)
        self.assertGreaterEqual(matches / compared, 0.995, detail)
        self.assertEqual(summary.get("skipped", 0), 0, detail)
        self.assertIn("v2 answers like v1", same["verdict"])
        self.assertTrue(any("Host" in path for path in summary["noise"]["paths"]),
                        f"the shadow's Host should be learned as noise: {summary['noise']}")

        # The changed v2: exactly three findings, with the counts of their endpoints.
        verdict = changed["verdict"]
        self.assertIn("status 500 vs 200 on GET /headers", verdict)
        self.assertIn("body $.json.total differs on POST /anything", verdict)
        self.assertIn("on GET /json", verdict)
        self.assertEqual(same["findings"], [])
        reported = changed["findings"]
        self.assertEqual(len(reported), 3, json.dumps(reported, indent=1))
        by_kind = {f["kind"]: f for f in reported}
        self.assertEqual(set(by_kind), {"status_mismatch", "body_mismatch", "latency"},
                         json.dumps(reported, indent=1))
        self.assertEqual(by_kind["status_mismatch"]["request"], {"method": "GET", "path": "/headers"})
        self.assertEqual(by_kind["body_mismatch"]["request"], {"method": "POST", "path": "/anything"})
        self.assertEqual(by_kind["body_mismatch"]["detail"], "$.json.total")
        self.assertEqual(by_kind["latency"]["request"], {"method": "GET", "path": "/json"})
        for kind, endpoint in (("status_mismatch", "GET /headers"),
                               ("body_mismatch", "POST /anything"), ("latency", "GET /json")):
            expected = sent_changed[endpoint]
            self.assertLessEqual(abs(by_kind[kind]["count"] - expected), max(1, expected // 100),
                                 f"{kind}: {by_kind[kind]['count']} of {expected} {endpoint}")

        # The same on the proxy's own metrics, and from the CLI.
        code, body = proxy.get("/stats/prometheus")
        self.assertEqual(code, 200)
        metrics = body.decode()
        self.assertIn('shadowplane_shadow_comparisons_total{virtual_service="default/changed",rule="all",result="status_mismatch"}', metrics)
        cli = subprocess.run(
            [harness.shadowplane_bin(), "compare", "changed", "--server", cp.admin_url],
            capture_output=True, text=True, timeout=30)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertIn("status 500 vs 200 on GET /headers", cli.stdout)
        self.assertIn("status_mismatch", cli.stdout)
        cp_metrics = cp.metrics()
        value = harness.metric_value(cp_metrics, "shadowplane_shadow_comparisons_total",
                                     virtual_service="default/changed", rule="all",
                                     result="status_mismatch")
        self.assertEqual(value, changed["summary"]["counts"]["status_mismatch"])

    def test_envoy_accepts_the_comparison_metadata(self) -> None:
        """The same resources served to real Envoy: every type ACKed, nothing rejected, the
        route metadata (with the baseline cluster) in its config dump."""
        if not eh.envoy_available():
            self.fail(eh.skip_reason())
        cp = self.start_store_control_plane()
        port = harness.free_port()
        body = cp.apply_ok(service("compared", port, harness.free_port(), harness.free_port()))
        envoy = eh.Envoy(cp.xds_port, "comparison-envoy")
        self._planes.append(envoy)
        self.addCleanup(envoy.cleanup)
        envoy.start()
        envoy.wait_ready()

        def synced():
            st = cp.latest_stream("comparison-envoy")
            types = st["types"] if st else {}
            return types if all(types.get(t, {}).get("state") == "SYNCED"
                                for t in ("CDS", "EDS", "LDS", "RDS")) else None
        poll(synced, 20, what="Envoy to ACK every type")
        rejected = {k: v for k, v in eh.update_counters(envoy.stats()).items()
                    if v and (k.endswith(".update_rejected") or k.endswith(".update_failure"))
                    and not k.startswith("cluster.xds.")}
        self.assertEqual(rejected, {}, f"Envoy rejected updates (revision {body['revision']})")
        routes = [r for rc in envoy.dynamic()["RDS"].values()
                  for vh in rc["resource"]["virtual_hosts"] for r in vh["routes"]]
        compared = [r["metadata"]["filter_metadata"]["shadowplane.comparison"]
                    for r in routes if "metadata" in r]
        self.assertEqual(len(compared), 1, routes)
        self.assertEqual(compared[0]["baseline_cluster"], f"outbound|{port}|v1|compared")
        self.assertEqual(compared[0]["headers"], ["content-type"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
