"""`shadowplane runtime set` changes a mirror fraction on every running proxy through the
RTDS layer `shadowplane`, within a second, with no route push: measured with real traffic
through the bundled proxy (10 % → 90 %), and checked in the push history.

Run with the interop venv:  .venv-interop/bin/python Tests/Interop/test_runtime_rtds.py
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import proxy_harness as ph  # noqa: E402
from harness import poll  # noqa: E402
import test_proxy_e2e as e2e  # noqa: E402
from test_proxy_e2e import HOST, RUNTIME_KEY, SDS, ProxyFixture, log  # noqa: E402


class RuntimeThroughRTDSTest(ProxyFixture):
    measure_mirror_fraction = e2e.ProxyE2ETest.measure_mirror_fraction

    def cli(self, *args: str) -> str:
        done = subprocess.run([harness.shadowplane_bin(), *args, "--server", self.cp.admin_url],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(done.returncode, 0, done.stdout + done.stderr)
        return done.stdout

    def test_runtime_set_moves_the_mirror_fraction_without_a_route_push(self) -> None:
        self.apply_vs(ph.virtual_service("httpbin", HOST, [("v1", 100)],
                                         mirror={"host": HOST, "subset": "v2"},
                                         mirror_percentage=10))
        n = 1000
        shadows, info = self.measure_mirror_fraction(n)
        lo, hi = harness.binomial_bounds(n, 0.10, SDS)
        log(f"mirror 10 %: {shadows}/{n} {info}")
        self.assertTrue(lo <= shadows <= hi, f"{shadows} of {n}, expected within [{lo:.0f}, {hi:.0f}]")

        versions_before = self.versions(self.cp)
        rtds_before = self.rtds_version()
        history_before = self.history()
        self.settle_and_clear()
        started = time.monotonic()
        out = self.cli("runtime", "set", RUNTIME_KEY, "90")
        self.assertIn(f"{RUNTIME_KEY} = 90", out)
        entry = poll(lambda: (self.proxy.runtime().get(RUNTIME_KEY) or {}).get("final_value") == "90" or None,
                     5, interval=0.01, what=f"the proxy's /runtime to show {RUNTIME_KEY} = 90")
        elapsed = time.monotonic() - started
        log(f"runtime set reached the proxy in {elapsed * 1000:.0f} ms")
        self.assertTrue(entry)
        self.assertLess(elapsed, 1.0, "the new fraction must be in force within one second")
        self.assertEqual(self.proxy.runtime()[RUNTIME_KEY]["layer"], "shadowplane")

        shadows, info = self.measure_mirror_fraction(n)
        lo, hi = harness.binomial_bounds(n, 0.90, SDS)
        log(f"after runtime set 90: {shadows}/{n} {info}")
        self.assertTrue(lo <= shadows <= hi, f"{shadows} of {n}, expected within [{lo:.0f}, {hi:.0f}]")

        # Only RTDS moved: the routes were not pushed again.
        versions_after = self.versions(self.cp)
        for t in ("CDS", "EDS", "LDS", "RDS"):
            self.assertEqual(versions_after[t], versions_before[t], f"{t} must not be pushed")
        self.assertNotEqual(self.rtds_version(), rtds_before, "the override travels as RTDS")
        new_entries = [e for e in self.history() if e["id"] not in {h["id"] for h in history_before}]
        self.assertTrue(new_entries, "the runtime change must be in the history")
        for e in new_entries:
            types = {c["type"] for c in e["changes"]} | {p["type"] for p in e["nodes"]}
            self.assertEqual(types, {"RTDS"}, f"only RTDS may be pushed: {e}")
        self.assertIn("ACK", {p["state"] for e in new_entries for p in e["nodes"]})
        self.assertIn("90", self.cli("runtime", "get", RUNTIME_KEY))

        # Unsetting restores the route's default fraction, still without a route push.
        self.settle_and_clear()
        self.cli("runtime", "unset", RUNTIME_KEY)
        poll(lambda: RUNTIME_KEY not in self.proxy.runtime() or None, 5, what="the override to go")
        shadows, _ = self.measure_mirror_fraction(n)
        lo, hi = harness.binomial_bounds(n, 0.10, SDS)
        self.assertTrue(lo <= shadows <= hi, f"{shadows} of {n} after unset")
        self.assertEqual(self.versions(self.cp)["RDS"], versions_before["RDS"])

    def test_invalid_runtime_values_are_refused(self) -> None:
        for value in ("150", "-1", "often", "3/THOUSAND"):
            done = subprocess.run([harness.shadowplane_bin(), "runtime", "set", "--server", self.cp.admin_url,
                                   "--", RUNTIME_KEY, value], capture_output=True, text=True, timeout=30)
            self.assertEqual(done.returncode, 1, done.stdout)
            self.assertIn("runtime " + RUNTIME_KEY, done.stderr)
        self.assertNotIn(RUNTIME_KEY, self.cli("runtime", "get") + "")

    def rtds_version(self) -> str | None:
        stream = self.cp.latest_stream(self.NODE_ID) or {}
        return stream.get("types", {}).get("RTDS", {}).get("sentVersion")

    def history(self) -> list[dict]:
        status, body = harness.http_json("GET", self.cp.admin_url + "/api/v1/history?limit=1000")
        self.assertEqual(status, 200)
        return body["entries"]


if __name__ == "__main__":
    unittest.main(verbosity=2)
