"""The bundled proxy under load: mirroring is fire and forget, so a slow, failing,
unreachable or silent shadow target must not cost the primary traffic anything (every
response a 200 from v1, p99 latency within noise of the no-mirror baseline), and the
shadow counters must say what happened. Then configuration churn under load: twenty
VirtualService changes (weights and mirroring) while requests flow, and not one fails.

Load: 8 client threads, each on its own keep-alive connection, paced to a fixed overall
rate (RESILIENCE_RPS, default 300) for RESILIENCE_N requests per phase (default 2000).
The shadow targets run in child processes so their work does not slow the test's own
interpreter.

Run with the interop venv:  .venv-interop/bin/python Tests/Interop/test_proxy_resilience.py
The binary comes from SHADOWPLANE_BIN (default /work/main/.build/debug/shadowplane).
"""
from __future__ import annotations

import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import proxy_harness as ph  # noqa: E402
from harness import poll  # noqa: E402

HOST = "httpbin"
SINK = "shadow-sink"
N = int(os.environ.get("RESILIENCE_N", "2000"))
RPS = float(os.environ.get("RESILIENCE_RPS", "300"))
THREADS = 8
PHASE_DEADLINE = 120.0
SETTLE = 20.0
SHADOW_KEYS = ("upstream_rq_shadow_sent", "upstream_rq_shadow_failed",
               "upstream_rq_shadow_dropped", "upstream_rq_total", "upstream_rq_2xx",
               "upstream_rq_5xx", "upstream_cx_connect_fail", "upstream_rq_active")


def log(msg: str) -> None:
    print(f"[proxy-resilience] {msg}", file=sys.stderr, flush=True)


def p99_limit(baseline_p99: float) -> float:
    """Within noise of the baseline: 3x its p99, and never less than its p99 + 20 ms."""
    return max(3.0 * baseline_p99, baseline_p99 + 0.020)


class ResilienceFixture(ph.ProxyTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.cp = self.start_store_control_plane()
        self.v1 = self.start_upstream("v1")
        self.v2 = self.start_upstream("v2")
        self.port = harness.free_port()
        self.sink_port = harness.free_port()
        self.ports = {8000: self.port, 8001: self.v1.port, 8002: self.v2.port}
        self.proxy = self.start_proxy(self.cp, threads=2)
        self.wait_synced(self.cp)
        self.apply_synced(self.cp, harness.join_documents(
            harness.manifest_with_ports("00-serviceentry.yaml", self.ports),
            harness.manifest_with_ports("01-destinationrule.yaml", self.ports),
            harness.manifest_with_ports("10-virtualservice-all-v1.yaml", self.ports)))
        poll(self.proxy.ready, 15, what="proxy /ready to say LIVE")
        client = ph.KeepAliveClient(self.port)
        try:
            poll(lambda: client.request("GET", "/warmup", self.authority).status == 200, 15,
                 what=f"the listener on {self.port} to serve httpbin")
        finally:
            client.close()

    @property
    def authority(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def sink_cluster(self) -> str:
        return f"outbound|{self.sink_port}||{SINK}"

    def sink_entry(self, endpoint_port: int) -> str:
        return ph.service_entry(SINK, SINK, self.sink_port, [(endpoint_port, {})])

    def load(self, label: str, n: int = N, **kw) -> ph.LoadResult:
        v1_before = self.v1.count()
        res = ph.run_load(self.port, self.authority, n, threads=THREADS, rate=RPS,
                          deadline=PHASE_DEADLINE, **kw)
        log(f"{label:<22} {res.summary()}")
        self.last_v1_delta = self.v1.wait_for_count(v1_before + res.ok, 5) - v1_before
        return res

    def sink_delta(self, before: dict[str, int]) -> dict[str, int]:
        after = self.proxy.cluster_stats(self.sink_cluster)
        return {k: after.get(k, 0) - (before.get(k, 0) if k != "upstream_rq_active" else 0)
                for k in SHADOW_KEYS}

    def wait_sink_idle(self, what: str) -> dict[str, int]:
        poll(lambda: self.proxy.cluster_stats(self.sink_cluster).get("upstream_rq_active", 0)
             == 0, SETTLE, what=f"the shadows to {what} to finish")
        return self.proxy.cluster_stats(self.sink_cluster)


class ProxyResilienceTest(ResilienceFixture):

    def assert_primary_clean(self, label: str, res: ph.LoadResult, n: int) -> None:
        self.assertEqual(res.errors, [], f"{label}: client errors {res.errors[:5]}")
        self.assertEqual(res.total, n, f"{label}: only {res.total} of {n} requests sent "
                                        f"within {PHASE_DEADLINE}s")
        self.assertEqual(res.ok, n, f"{label}: non-200 responses {res.bad[:5]}")
        self.assertEqual(dict(res.servers), {"v1": n}, label)
        self.assertEqual(self.last_v1_delta, n, f"{label}: v1 received {self.last_v1_delta}")

    def test_shadow_targets_do_not_hurt_the_primary(self) -> None:
        results: dict[str, ph.LoadResult] = {}
        counters: dict[str, dict[str, int]] = {}

        # Baseline: no mirror (the shadow-sink service exists, unused).
        refused_port = harness.free_port()
        self.apply_synced(self.cp, self.sink_entry(refused_port))
        results["baseline"] = base = self.load("baseline")
        self.assert_primary_clean("baseline", base, N)
        base_p99 = base.p(0.99)
        limit = p99_limit(base_p99)
        log(f"baseline p50 {base.p(0.5) * 1000:.1f} ms, p99 {base_p99 * 1000:.1f} ms -> "
            f"phase p99 limit {limit * 1000:.1f} ms")

        # Mirror every request to shadow-sink from now on.
        self.apply_synced(self.cp, ph.virtual_service(
            "httpbin", HOST, [("v1", 100)], mirror={"host": SINK}, mirror_percentage=100))

        phases = [
            ("a: sleep 1s", "sleep=1"),
            ("b: status 500", "status=500"),
            ("c: refused", None),
            ("d: blackhole", "blackhole"),
        ]
        failures = []
        blackhole = None
        for label, mode in phases:
            if mode is None:
                sink, endpoint = None, harness.free_port()
            else:
                sink = self.start_process_upstream(label.split(":")[0] + "-sink", mode)
                endpoint = sink.port
            self.apply_synced(self.cp, self.sink_entry(endpoint))
            before = self.proxy.cluster_stats(self.sink_cluster)
            res = self.load(f"mirror -> {label}")
            results[label] = res
            with self.subTest(phase=label):
                try:
                    self.assert_primary_clean(label, res, N)
                    p99 = res.p(0.99)
                    self.assertLessEqual(
                        p99, limit, f"{label}: primary p99 {p99 * 1000:.1f} ms exceeds "
                                    f"{limit * 1000:.1f} ms (baseline p99 "
                                    f"{base_p99 * 1000:.1f} ms)")
                    if mode == "blackhole":
                        blackhole = (sink, before)
                        counters[label] = self.check_blackhole(sink, before)
                    else:
                        counters[label] = self.check_shadows(label, mode, sink, before)
                except AssertionError as e:
                    failures.append(str(e))
                    raise

        if blackhole is not None:
            # The black hole goes away: its connections close, every hung shadow fails
            # and nothing stays active.
            sink, before = blackhole
            in_flight = self.proxy.cluster_stats(self.sink_cluster)
            sink.stop()
            after = self.wait_sink_idle("the stopped black hole")
            hung = in_flight.get("upstream_rq_active", 0)
            failed = (after.get("upstream_rq_shadow_failed", 0)
                      - in_flight.get("upstream_rq_shadow_failed", 0))
            log(f"black hole stopped: {hung} hung shadows -> {failed} failed, "
                f"active now {after.get('upstream_rq_active', 0)}")
            with self.subTest(phase="d: blackhole closed"):
                self.assertEqual(failed, hung)

        log("phase summary (primary latency; shadow-sink counter deltas):")
        for label, res in results.items():
            log(f"  {label:<16} p50 {res.p(0.5) * 1000:6.1f} ms  p99 {res.p(0.99) * 1000:6.1f} "
                f"ms  max {res.p(1.0) * 1000:6.1f} ms  ok {res.ok}/{res.total}  "
                f"{counters.get(label, '')}")

    def check_shadows(self, label: str, mode: str | None, sink, before: dict) -> dict:
        after = self.wait_sink_idle(label)
        d = {k: after.get(k, 0) - before.get(k, 0) for k in SHADOW_KEYS}
        d["upstream_rq_active"] = after.get("upstream_rq_active", 0)
        received = sink.wait_for_count(d["upstream_rq_shadow_sent"], 10) if sink else 0
        d["sink_received"] = received
        log(f"{label}: shadow-sink counters {d}")
        # Every request was mirrored: sent or dropped over the in-flight bound.
        self.assertEqual(d["upstream_rq_shadow_sent"] + d["upstream_rq_shadow_dropped"], N, d)
        self.assertGreater(d["upstream_rq_shadow_sent"], 0, d)
        if mode is None:  # connection refused
            self.assertEqual(d["upstream_rq_shadow_failed"], d["upstream_rq_shadow_sent"], d)
            self.assertGreater(d["upstream_cx_connect_fail"], 0, d)
        else:
            self.assertEqual(d["upstream_rq_shadow_failed"], 0, d)
            self.assertEqual(received, d["upstream_rq_shadow_sent"], d)
            key = "upstream_rq_5xx" if mode == "status=500" else "upstream_rq_2xx"
            self.assertEqual(d[key], d["upstream_rq_shadow_sent"], d)
        return d

    def check_blackhole(self, sink, before: dict) -> dict:
        d = self.sink_delta(before)
        d["sink_connections"] = sink.wait_for_count(d["upstream_rq_shadow_sent"], 10)
        log(f"d: blackhole: shadow-sink counters {d}")
        self.assertEqual(d["upstream_rq_shadow_sent"] + d["upstream_rq_shadow_dropped"], N, d)
        self.assertGreater(d["upstream_rq_shadow_sent"], 0, d)
        # Nothing answers and the route has no timeout: the shadows hang, none failed yet.
        self.assertEqual(d["upstream_rq_shadow_failed"], 0, d)
        self.assertEqual(d["upstream_rq_active"], d["upstream_rq_shadow_sent"], d)
        return d


class ProxyChurnTest(ResilienceFixture):

    def test_config_churn_under_load(self) -> None:
        variants = []
        for weights in ([("v1", 100), ("v2", 0)], [("v1", 50), ("v2", 50)],
                        [("v1", 0), ("v2", 100)]):
            for mirror in (True, False):
                variants.append((weights, mirror))
        applies = 20
        stop = threading.Event()
        applied: list[tuple[int, float]] = []
        apply_errors: list[str] = []
        stats_before = self.proxy.stats()

        def churn():
            i = 0
            try:
                while i < applies and not stop.is_set():
                    weights, mirror = variants[i % len(variants)]
                    text = ph.virtual_service(
                        "httpbin", HOST, weights,
                        mirror={"host": HOST, "subset": "v2"} if mirror else None,
                        mirror_percentage=100 if mirror else None)
                    t0 = time.monotonic()
                    try:
                        self.apply_synced(self.cp, text)
                    except AssertionError as e:
                        apply_errors.append(f"apply {i}: {e}")
                        return
                    applied.append((i, time.monotonic() - t0))
                    i += 1
                    time.sleep(0.15)
            finally:
                stop.set()

        def steady_load():
            # Keeps requests flowing for as long as the churn lasts (bounded).
            return ph.run_load(self.port, self.authority, N * 4, threads=THREADS, rate=RPS,
                               stop=stop, deadline=PHASE_DEADLINE)

        t = threading.Thread(target=churn, name="churn", daemon=True)
        holder: dict = {}
        loader = threading.Thread(target=lambda: holder.setdefault("res", steady_load()),
                                  daemon=True)
        loader.start()
        time.sleep(0.5)
        t.start()
        t.join(PHASE_DEADLINE)
        stop.set()
        loader.join(PHASE_DEADLINE + 20)
        res = holder.get("res")
        self.assertIsNotNone(res, "the load did not finish")
        stats_after = self.proxy.stats()
        log(f"churn: {len(applied)} applies, apply+sync "
            f"p50 {harness.percentile([s for _, s in applied], 0.5) * 1000:.0f} ms, "
            f"max {max((s for _, s in applied), default=0) * 1000:.0f} ms")
        log(f"churn load: {res.summary()}")
        deltas = {k: stats_after.get(k, 0) - stats_before.get(k, 0)
                  for k in ("http.no_route", "http.no_cluster", "control_plane.update_accepted",
                            "control_plane.update_rejected")}
        log(f"churn proxy counters: {deltas}")
        self.assertEqual(apply_errors, [])
        self.assertEqual(len(applied), applies)
        self.assertEqual(res.errors, [], f"client errors during churn: {res.errors[:5]}")
        self.assertEqual(res.total, res.ok, f"non-200 responses during churn: {res.bad[:5]}")
        self.assertGreater(res.ok, 500, "too little traffic flowed during the churn")
        self.assertGreater(res.servers.get("v1", 0), 0)
        self.assertGreater(res.servers.get("v2", 0), 0)
        self.assertEqual(deltas["http.no_route"], 0)
        self.assertEqual(deltas["http.no_cluster"], 0)
        self.assertEqual(deltas["control_plane.update_rejected"], 0)
        self.assertGreaterEqual(deltas["control_plane.update_accepted"], applies)


if __name__ == "__main__":
    unittest.main(verbosity=2)
