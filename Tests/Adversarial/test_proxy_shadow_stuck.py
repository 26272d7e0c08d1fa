"""Issue 12, the proxy holds resources: a shadow that never gets an answer times out.

Every request to ``web`` (v1) is mirrored to two targets: ``stuck``, a black hole that
accepts connections, reads everything and never answers, and ``healthy`` (v2). The proxy
runs with ``--default-shadow-timeout 1s`` (the route has no timeout) and two event loops,
so at most 2 x 1,024 shadows may be in flight.

After 2,500 mirrored requests at 800/s (more than the 2,048 shadows that can be in
flight, but at most ~800 in flight once they time out):
- every primary request was a 200 from v1, its latency within noise of the no-mirror
  baseline (p99 <= max(3 x baseline p99, baseline p99 + 50 ms));
- the stuck shadows time out: ``cluster.stuck.upstream_rq_timeout`` grows and none is
  still active once the timeout (and a 1 s margin) has passed since the last request;
- mirroring still works: the healthy target got a shadow of every request, including
  those sent after the burst (the defect: 2,048 stuck shadows never timed out and
  mirroring silently stopped for everything after them).

Run:  .venv-interop/bin/python Tests/Adversarial/test_proxy_shadow_stuck.py
"""
from __future__ import annotations

import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import adversarial as adv  # noqa: E402
from adversarial import harness, ph, poll  # noqa: E402

HOST = "web"
SHADOW_TIMEOUT = 1.0
BURST = 2500
AFTER = 50
BASELINE = 500
THREADS = 8
# Paced so that, once shadows time out after 1 s, far fewer than 1,024 per event loop are
# in flight at any time: only stuck shadows that never end can exhaust the limit.
RATE = 800.0


class StuckShadowTest(adv.AdversarialTestCase):
    TAG = "proxy-shadow-stuck"

    def test_flags_exist(self) -> None:
        self.assert_options_exist("proxy", ["--default-shadow-timeout",
                                            "--max-shadows-per-loop"])

    def resources(self, mirrors: list[str]) -> list[dict]:
        route = adv.route_config("web-route", {
            "cluster": "web",
            "requestMirrorPolicies": [adv.mirror_policy(m) for m in mirrors]})
        return adv.proxy_resources(self.port, route, [
            adv.static_cluster("web", self.v1.port),
            adv.static_cluster("stuck", self.stuck.port),
            adv.static_cluster("healthy", self.v2.port)])

    def load(self, label: str, n: int) -> ph.LoadResult:
        res = ph.run_load(self.port, HOST, n, threads=THREADS, rate=RATE, deadline=60.0,
                          timeout=10.0)
        self.log(f"{label:<24} {res.summary()}")
        return res

    def test_stuck_shadows_time_out_and_mirroring_goes_on(self) -> None:
        self.v1 = self.start_upstream("v1")
        self.v2 = self.start_upstream("v2")
        self.stuck = self.start_upstream("stuck", "blackhole")
        self.port = harness.free_port()
        cp, proxy = self.serve_through_proxy(
            self.resources([]), self.port,
            adv.options("proxy", default_shadow_timeout=f"{SHADOW_TIMEOUT:g}s"), threads=2)
        watch = self.watch_rss(proxy, adv.PROXY_RSS_LIMIT)
        baseline = self.load("no mirror (baseline)", BASELINE)
        self.assertEqual(baseline.ok, BASELINE, baseline.bad[:3])

        code, body = cp.put_resources(self.resources(["stuck", "healthy"]))
        self.assertEqual(code, 200, body)
        client = ph.KeepAliveClient(self.port)
        self.addCleanup(client.close)
        poll(lambda: client.request("GET", "/probe", HOST).status == 200
             and self.v2.count() > 0, 15, what="the mirror policies to be in force")
        self.v2.clear()

        burst = self.load("mirrored burst", BURST)
        burst_end = time.monotonic()
        # Past the shadow timeout, the stuck shadows must be gone.
        time.sleep(SHADOW_TIMEOUT + 1.0)
        after = self.load("mirrored, after", AFTER)
        after_end = time.monotonic()
        healthy = self.v2.wait_for_count(BURST + AFTER, 10)
        # The shadows of the last requests are legitimately in flight (younger than the
        # timeout) when they end: wait, bounded by the timeout and a margin after that
        # load, for them to time out too; a stuck shadow that never ends keeps it above 0.
        try:
            poll(lambda: proxy.cluster_stats("stuck").get("upstream_rq_active", 0) == 0,
                 max(0.0, after_end + SHADOW_TIMEOUT + 1.0 - time.monotonic()),
                 what="the stuck shadows of the last requests to time out")
        except harness.PollTimeout:
            pass
        stuck = proxy.cluster_stats("stuck")
        healthy_stats = proxy.cluster_stats("healthy")
        self.log(f"healthy shadows received: {healthy} of {BURST + AFTER}; stuck cluster: "
                 f"{ {k: v for k, v in stuck.items() if v} }; black hole accepted "
                 f"{self.stuck.count()} connections; "
                 f"{time.monotonic() - burst_end:.1f} s after the burst")
        self.log(f"healthy cluster: { {k: v for k, v in healthy_stats.items() if v} }")

        self.assert_alive(proxy, "after the burst")
        self.assert_rss_below(watch, adv.PROXY_RSS_LIMIT, "proxy RSS")
        self.assertEqual((burst.ok, after.ok), (BURST, AFTER),
                         f"primary requests must all succeed: {burst.bad[:3]} {after.bad[:3]}")
        limit = max(3 * baseline.p(0.99), baseline.p(0.99) + 0.050)
        self.assertLessEqual(burst.p(0.99), limit,
                             f"primary p99 {burst.p(0.99) * 1000:.0f} ms with stuck shadows, "
                             f"baseline {baseline.p(0.99) * 1000:.0f} ms")
        self.assertEqual(healthy, BURST + AFTER,
                         "every request must still be mirrored to the healthy target")
        self.assertGreater(stuck.get("upstream_rq_timeout", 0), 0,
                           "stuck shadows must time out (cluster.stuck.upstream_rq_timeout)")
        self.assertEqual(stuck.get("upstream_rq_active", 0), 0,
                         f"no stuck shadow may outlive the {SHADOW_TIMEOUT:g} s timeout")


if __name__ == "__main__":
    unittest.main(verbosity=2)
