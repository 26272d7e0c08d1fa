"""Issue 12, the control plane hangs or balloons: YAML aliases are expanded under a budget
(``--max-yaml-nodes``, default 1,000,000 nodes after expansion), so a few hundred bytes
cannot cost exponential CPU or memory.

- Nested aliases used as mapping keys (``? *l9 : 1``, l9 expanding to 9^10 nodes): the
  defect hashed every key's expansion for duplicate detection (exponential CPU; two at once
  made ``/healthz``, config reads and xDS time out for 40 s+).
- The billion laughs with a sequence at the root: the defect expanded it, every leaf
  becoming an error record (RSS ~230 MB/s, 6.3 GB after 27 s).

Each, two at once, POSTed to ``/api/v1/config/apply``: every apply is answered 400 within a
few seconds with ``YAML expands to more than N nodes (aliases)``, counted in
``shadowplane_limit_refusals_total{limit="yaml_nodes"}``; ``/healthz`` (polled every 100 ms)
always answers within 1 s; the control plane's RSS stays under 300 MB. The same bombs saved
as files in the watched store directory are logged and ignored, the control plane healthy.

Run:  .venv-interop/bin/python Tests/Adversarial/test_cp_yaml_bombs.py
"""
from __future__ import annotations

import json
import os
import re
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import adversarial as adv  # noqa: E402
from adversarial import harness, ph, poll  # noqa: E402

# How long an apply of a bomb may take to be refused ("within a few seconds").
REFUSAL_TIME = 5.0
# The client gives up on an apply after this long (the defect never answers).
POST_TIMEOUT = 12.0
LIMIT_MESSAGE = re.compile(r"expands to more than \d+ nodes")


def nested_alias_keys_bomb(levels: int = 10, width: int = 9) -> bytes:
    """A resource whose spec holds l0 = [a x width], l_i = [*l_(i-1) x width], and the
    mapping key ``? *l(levels-1)`` (width^levels nodes once expanded)."""
    lines = ["apiVersion: networking.istio.io/v1", "kind: ServiceEntry",
             "metadata: {name: keys}", "spec:",
             "  l0: &l0 [" + ",".join(["a"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"  l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * width) + "]")
    lines.append(f"  ? *l{levels - 1} : 1")
    lines.append(f"  ? [*l{levels - 1}, *l{levels - 2}] : 2")
    return ("\n".join(lines) + "\n").encode()


def sequence_root_bomb(levels: int = 9, width: int = 9) -> bytes:
    """The billion laughs with a sequence at the root: width^levels leaves."""
    lines = ["- &a0 [" + ",".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"- &a{i} [" + ",".join([f"*a{i - 1}"] * width) + "]")
    return ("\n".join(lines) + "\n").encode()


def stored_names(cp: harness.StoreControlPlane) -> list[str]:
    return sorted(r["metadata"]["name"] for r in cp.get_config_json()["items"])


class YamlBombTest(adv.AdversarialTestCase):
    TAG = "yaml-bombs"

    def test_flags_exist(self) -> None:
        self.assert_options_exist("control-plane", ["--max-yaml-nodes",
                                                    "--max-apply-documents",
                                                    "--max-admin-body-bytes"])

    def attack(self, label: str, bodies: list[bytes]) -> None:
        """POSTs ``bodies`` at once and checks everything the docstring promises."""
        cp = self.start_cp(hard_stop=True)
        good = ph.service_entry("good", "good", 9080, [(9081, {})])
        cp.apply_ok(good)
        watch = self.watch_rss(cp, adv.CP_RSS_LIMIT)
        probe = self.probe_healthz(cp)
        results: list = [None] * len(bodies)

        def post(i: int) -> None:
            t0 = time.monotonic()
            try:
                code, raw = harness.http_send("POST", cp.admin_url + "/api/v1/config/apply",
                                              bodies[i], timeout=POST_TIMEOUT)
            except Exception as e:  # noqa: BLE001 - recorded
                code, raw = None, repr(e).encode()
            results[i] = (code, raw, time.monotonic() - t0)

        threads = [threading.Thread(target=post, args=(i,), daemon=True)
                   for i in range(len(bodies))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(POST_TIMEOUT + 5)
        # A moment more of probing after the answers: the work must not go on behind them.
        time.sleep(1.0)
        for i, r in enumerate(results):
            code, raw, took = r if r else (None, b"(no answer)", None)
            self.log(f"{label} #{i} ({len(bodies[i])} bytes): {code} after "
                     f"{took if took is None else round(took, 2)} s: {raw[:160]!r}")
        self.assert_rss_below(watch, adv.CP_RSS_LIMIT, f"{label}: control plane RSS")
        self.assert_alive(cp, f"{label}: the control plane")
        self.assert_responsive(probe, adv.HEALTHZ_LIMIT, f"{label}: /healthz")
        for i, r in enumerate(results):
            self.assertIsNotNone(r, f"{label} #{i}: no answer")
            code, raw, took = r
            self.assertEqual(code, 400, f"{label} #{i}: {raw[:300]!r}")
            self.assertLess(took, REFUSAL_TIME, f"{label} #{i}: answered after {took:.1f} s")
            self.assertRegex(raw.decode("utf-8", "replace"), LIMIT_MESSAGE,
                             f"{label} #{i}: the error must name the limit")
        # Nothing changed, reads and xDS work, the refusals are counted.
        self.assertEqual(stored_names(cp), ["good"])
        with harness.AdsStream(cp.xds_address, "after-bomb") as s:
            s.subscribe("CDS", timeout=5)
        refused = harness.metric_value(cp.metrics(), "shadowplane_limit_refusals_total",
                                       limit="yaml_nodes")
        self.assertGreaterEqual(refused or 0, len(bodies), "refusals counted as yaml_nodes")

    def test_nested_alias_keys_two_at_once(self) -> None:
        bomb = nested_alias_keys_bomb()
        self.attack("nested alias keys", [bomb, bomb])

    def test_sequence_root_alias_bomb_two_at_once(self) -> None:
        bomb = sequence_root_bomb()
        self.attack("sequence-root alias bomb", [bomb, bomb])

    def test_documents_per_apply_and_body_size_are_bounded(self) -> None:
        """``--max-apply-documents 100``: 101 documents -> 400 naming the count, nothing
        applied. ``--max-admin-body-bytes 1048576``: a 2 MB body -> 413. Both counted."""
        cp = self.start_cp(adv.options("control-plane", max_apply_documents="100",
                                       max_admin_body_bytes=str(adv.MB)))
        docs = harness.join_documents(*[ph.service_entry(f"se-{i}", f"se-{i}.example", 9080,
                                                         [(9081, {})]) for i in range(101)])
        code, body = cp.apply(docs)
        self.log(f"101 documents: {code} {str(body)[:200]}")
        self.assertEqual(code, 400, f"101 documents with a limit of 100: {str(body)[:300]}")
        self.assertIn("101", json.dumps(body), "the error names the count")
        self.assertEqual(stored_names(cp), [])
        big = b"# padding\n" * (2 * adv.MB // 10)
        code, _, raw = adv.raw_exchange(cp.admin_port, (
            f"POST /api/v1/config/apply HTTP/1.1\r\nHost: 127.0.0.1:{cp.admin_port}\r\n"
            f"Content-Type: application/yaml\r\nContent-Length: {len(big)}\r\n"
            f"Connection: close\r\n\r\n").encode() + big)
        self.log(f"a {len(big)}-byte body: {code} {raw[:200]!r}")
        self.assertEqual(code, 413, raw[:300])
        text = cp.metrics()
        for limit in ("apply_documents", "admin_body_bytes"):
            self.assertGreaterEqual(harness.metric_value(
                text, "shadowplane_limit_refusals_total", limit=limit) or 0, 1, limit)

    def test_bombs_saved_in_the_store_directory(self) -> None:
        """Both bombs written into the watched store: each logged (naming its file) and
        ignored; the last good configuration keeps serving; healthy throughout."""
        cp = self.start_cp(hard_stop=True)
        cp.apply_ok(ph.service_entry("good", "good", 9080, [(9081, {})]))
        watch = self.watch_rss(cp, adv.CP_RSS_LIMIT)
        probe = self.probe_healthz(cp)
        files = {"serviceentry_default_keys.yaml": nested_alias_keys_bomb(),
                 "bomb_sequence.yaml": sequence_root_bomb()}
        cpu_before = adv.cpu_seconds(cp.proc.pid)
        for name, data in files.items():
            harness.write_file_atomically(cp.store_path(name), data)
        logged = {}
        for name in files:
            try:
                logged[name] = poll(lambda: watch.exceeded or cp.proc.poll() is not None or any(
                    name in line for line in cp.log_lines()), 10,
                    what=f"a log line naming {name}")
            except harness.PollTimeout as e:
                logged[name] = e
        time.sleep(1.0)
        if cp.proc.poll() is None:
            self.log(f"the control plane used {adv.cpu_seconds(cp.proc.pid) - cpu_before:.1f} s "
                     f"of CPU since the bombs were saved")
        self.assert_rss_below(watch, adv.CP_RSS_LIMIT, "control plane RSS")
        self.assert_alive(cp, "after the bombs were saved in the store")
        self.assert_responsive(probe, adv.HEALTHZ_LIMIT, "/healthz")
        for name, seen in logged.items():
            self.assertIs(seen, True, f"{name} must be reported in the log: {seen}")
            line = next(l for l in cp.log_lines() if name in l)
            self.assertRegex(line, LIMIT_MESSAGE, f"the log line must name the limit: {line}")
        self.assertEqual(stored_names(cp), ["good"])


if __name__ == "__main__":
    unittest.main(verbosity=2)
