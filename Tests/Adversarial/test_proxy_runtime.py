"""Issue 12, crashes: runtime values the bundled proxy cannot use must never crash it.

- ``POST /runtime_modify?mirror.default.web.http0.0=1e20`` (the defect: SIGILL in
  ``RuntimeValue.fraction``, ``UInt64(1e20)``) is beyond the range every runtime value is
  checked against (at most 2^53: XDSCore's ``RuntimeValue``, the bound that also NACKs
  1e300 in an RTDS layer below): refused with 400 naming the key, and the proxy lives. A
  finite value above 100 % within that range (1e15) is accepted and means "always", as in
  Envoy: the next mirrored request is served and mirrored.
- ``POST /runtime_modify?any.key=inf`` (and -inf, nan, -1, 1e400) is refused with 400
  naming the key, counted ``runtime.admin_rejected``; ``GET /runtime`` still answers (the
  defect: the value was taken and ``/runtime`` crashed converting it to Int64).
- An RTDS layer holding an unusable value (1e300 as a number, or as a FractionalPercent
  numerator) is NACKed naming the key, the last good layer stays in force (the mirror
  fraction it set still applies) and ``runtime.load_error`` counts it. A scripted ADS
  server delivers the layer, so this holds whatever the control plane validates.
- The same layer through Shadowplane's own static mode (``PUT /api/v1/resources``): either
  the control plane refuses it (400 naming the key, LIMITS-SPEC.md) or the proxy NACKs it
  (the ledger shows the NACK naming the key); never a crash.

Run:  .venv-interop/bin/python Tests/Adversarial/test_proxy_runtime.py
"""
from __future__ import annotations

import json
import os
import sys
import unittest
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import adversarial as adv  # noqa: E402
from adversarial import harness, ph, poll  # noqa: E402
import fake_xds  # noqa: E402

KEY = "mirror.default.web.http0.0"
HOST = "web"
WAIT = 10.0


class ProxyRuntimeTest(adv.AdversarialTestCase):
    TAG = "proxy-runtime"

    # -- fixtures -------------------------------------------------------------------------

    def mirrored_store_setup(self) -> None:
        """Store-mode control plane; ``web`` on a free port P: v1 primary, mirrored to v2 at
        1 % (runtime key ``KEY``); the proxy synced and serving."""
        self.cp = self.start_cp()
        self.v1 = self.start_upstream("v1")
        self.v2 = self.start_upstream("v2")
        self.port = harness.free_port()
        self.proxy = self.start_proxy_with(self.cp.xds_address, self.NODE_ID)
        self.wait_synced(self.cp)
        self.apply_synced(self.cp, harness.join_documents(
            ph.service_entry(HOST, HOST, self.port, [(self.v1.port, {"version": "v1"}),
                                                     (self.v2.port, {"version": "v2"})]),
            ph.destination_rule(HOST, HOST),
            ph.virtual_service(HOST, HOST, [("v1", 100)], mirror={"host": HOST, "subset": "v2"},
                               mirror_percentage=1)))
        self.client = ph.KeepAliveClient(self.port, timeout=5)
        self.addCleanup(self.client.close)
        poll(lambda: self.client.request("GET", "/warmup", HOST).status == 200, 15,
             what=f"the proxy to serve {HOST} on {self.port}")

    def runtime_modify(self, proxy: ph.Proxy, key: str, value: str) -> tuple[int, bytes]:
        url = proxy.admin_url + "/runtime_modify?" + urllib.parse.urlencode({key: value})
        try:
            return harness.http_send("POST", url, b"", "text/plain", timeout=5)
        except Exception as e:  # noqa: BLE001 - a crashing proxy resets the connection
            return -1, repr(e).encode()

    def try_request(self, client: ph.KeepAliveClient, path: str = "/mirrored"):
        try:
            return client.request("GET", path, HOST)
        except Exception as e:  # noqa: BLE001 - recorded; the assertions say what it means
            return e

    def assert_served_and_mirrored(self, proxy: ph.Proxy, client: ph.KeepAliveClient,
                                   shadow, what: str) -> None:
        before = shadow.count()
        r = self.try_request(client)
        self.assert_alive(proxy, f"{what}: after a mirrored request",
                          grace=3.0 if isinstance(r, Exception) else 0.0)
        self.assertIsInstance(r, ph.Response, f"{what}: the request failed: {r!r}")
        self.assertEqual(r.status, 200, f"{what}: {r!r}")
        got = shadow.wait_for_count(before + 1, WAIT)
        self.assertGreater(got, before, f"{what}: the request was not mirrored "
                                        f"(a fraction above 100 % means always)")

    # -- the admin endpoint ---------------------------------------------------------------

    def test_runtime_modify_above_100_percent_means_always(self) -> None:
        """1e20 (beyond 2^53, the bound of every runtime value) is refused naming the key and
        the proxy lives; 1e15 is finite, non-negative and in range: accepted, read as
        "always"; the mirrored request that follows is served, mirrored, and the proxy
        lives."""
        self.mirrored_store_setup()
        code, body = self.runtime_modify(self.proxy, KEY, "1e20")
        self.assert_alive(self.proxy, f"after runtime_modify {KEY}=1e20",
                          grace=3.0 if code == -1 else 0.0)
        self.assertEqual(code, 400, f"POST /runtime_modify {KEY}=1e20: {code} {body[:300]!r}")
        self.assertIn(KEY.encode(), body, "the refusal must name the key")
        code, body = self.runtime_modify(self.proxy, KEY, "1e15")
        self.assertEqual(code, 200, f"POST /runtime_modify {KEY}=1e15: {code} {body[:300]!r}")
        self.assert_served_and_mirrored(self.proxy, self.client, self.v2,
                                        f"after runtime_modify {KEY}=1e15")
        self.assertEqual(self.runtime_modify(self.proxy, KEY, "125000/MILLION")[0], 200)
        self.assert_alive(self.proxy, "after a valid runtime_modify")

    def test_runtime_modify_refuses_non_finite_and_negative(self) -> None:
        """inf, -inf, nan, -1 and 1e400 (overflows to inf) are refused with 400 naming the
        key; /runtime keeps answering without them; runtime.admin_rejected counts them."""
        self.mirrored_store_setup()
        values = ("inf", "-inf", "nan", "-1", "1e400")
        seen = {}
        for i, value in enumerate(values):
            key = f"any.key{i}"
            code, body = self.runtime_modify(self.proxy, key, value)
            try:
                rt_code, rt_body = self.proxy.get("/runtime")
            except Exception as e:  # noqa: BLE001
                rt_code, rt_body = -1, repr(e).encode()
            seen[value] = (code, body[:200], rt_code)
            self.log(f"runtime_modify {key}={value}: {code} {body[:120]!r}; GET /runtime {rt_code}")
            self.assert_alive(self.proxy, f"after runtime_modify {key}={value} and GET /runtime",
                              grace=3.0 if rt_code != 200 else 0.0)
            self.assertEqual(rt_code, 200, f"GET /runtime after {key}={value}: {rt_body[:300]!r}")
            self.assertNotIn(key, json.loads(rt_body).get("entries", {}),
                             f"{key}={value} must not be taken")
        for value, (code, body, _) in seen.items():
            self.assertEqual(code, 400, f"runtime_modify of {value!r} must be refused: {body!r}")
            self.assertIn(b"any.key", body, f"the refusal of {value!r} must name the key")
        stats = self.proxy.stats()
        self.assertGreaterEqual(stats.get("runtime.admin_rejected", 0), len(values),
                                {k: v for k, v in stats.items() if k.startswith("runtime.")})
        # The mirror still works with its configured fraction after all that.
        self.assertEqual(self.runtime_modify(self.proxy, KEY, "100")[0], 200)
        self.assert_served_and_mirrored(self.proxy, self.client, self.v2, "after the refusals")

    # -- RTDS -----------------------------------------------------------------------------

    def scripted_setup(self) -> None:
        """The proxy (state of the world) on a scripted ADS server: listener on P, every
        request to ``web`` (v1), mirrored to ``shadow`` (v2) at runtime key ``KEY``, whose
        layer ``shadowplane`` says 100 (always); ACKed and serving."""
        self.fake = fake_xds.FakeAds()
        self.addCleanup(self.fake.stop)
        self.v1 = self.start_upstream("v1")
        self.v2 = self.start_upstream("v2")
        self.port = harness.free_port()
        self.fake.set("CDS", [adv.static_cluster("web", self.v1.port),
                              adv.static_cluster("shadow", self.v2.port)])
        self.fake.set("LDS", [harness.tcp_listener("web-listener", "127.0.0.1", self.port,
                                                   "web-route")])
        self.fake.set("RDS", [adv.mirror_route("web-route", "web", "shadow", KEY)])
        self.fake.set("RTDS", [harness.runtime_layer("shadowplane", {KEY: 100})])
        self.proxy = self.start_proxy_with(self.fake.address, self.NODE_ID,
                                           extra_args=["--xds-mode", "sotw"])
        good = self.fake.version("RTDS")
        self.fake.wait_for(lambda r: r.type == "RTDS" and r.kind == "ACK" and r.version == good,
                           WAIT, "the proxy to ACK the good runtime layer")
        self.client = ph.KeepAliveClient(self.port, timeout=5)
        self.addCleanup(self.client.close)
        poll(lambda: self.client.request("GET", "/warmup", HOST).status == 200, 15,
             what=f"the proxy to serve on {self.port}")
        self.assert_served_and_mirrored(self.proxy, self.client, self.v2, "with the good layer")

    def push_bad_layer(self, layer: dict, what: str) -> None:
        """Pushes ``layer`` and asserts: the proxy lives (also through a mirrored request),
        NACKs that version naming KEY, keeps the good layer (KEY still 100, still
        mirroring) and counts runtime.load_error."""
        bad = None
        self.fake.set("RTDS", [harness.runtime_layer("shadowplane", layer)])
        version = self.fake.version("RTDS")
        try:
            bad = self.fake.wait_for(
                lambda r: r.type == "RTDS" and r.kind in ("ACK", "NACK") and (
                    r.kind == "NACK" or r.version == version),
                WAIT, f"the proxy to ACK or NACK the layer with {what}")
        except harness.PollTimeout:
            pass
        self.assert_alive(self.proxy, f"after receiving a runtime layer with {what}")
        self.assert_served_and_mirrored(self.proxy, self.client, self.v2,
                                        f"after a runtime layer with {what}")
        self.assertIsNotNone(bad, f"the proxy neither ACKed nor NACKed the layer with {what}: "
                                  f"{self.fake.requests('RTDS')}")
        self.assertEqual(bad.kind, "NACK", f"a runtime layer with {what} must be NACKed: {bad}")
        self.assertIn(KEY, bad.error or "", f"the NACK must name the key: {bad}")
        entry = self.proxy.runtime().get(KEY) or {}
        self.assertEqual((entry.get("final_value"), entry.get("layer")), ("100", "shadowplane"),
                         f"the last good layer must stay in force: {entry}")
        stats = self.proxy.stats()
        self.assertGreaterEqual(stats.get("runtime.load_error", 0), 1,
                                {k: v for k, v in stats.items() if k.startswith("runtime.")})

    def test_rtds_number_out_of_range_is_nacked(self) -> None:
        self.scripted_setup()
        self.push_bad_layer({KEY: 1e300}, "1e300 as a number")

    def test_rtds_fraction_numerator_out_of_range_is_nacked(self) -> None:
        self.scripted_setup()
        self.push_bad_layer({KEY: {"numerator": 1e300, "denominator": "MILLION"}},
                            "a FractionalPercent numerator of 1e300")

    def rtds_status(self, cp: harness.ControlPlane) -> dict:
        """The ledger's RTDS status of this test's proxy."""
        return ((cp.latest_stream(self.NODE_ID) or {}).get("types") or {}).get("RTDS") or {}

    def test_static_control_plane_layer_never_crashes_the_proxy(self) -> None:
        """Shadowplane's static mode: a layer with 1e300 put with PUT /api/v1/resources is
        refused with 400 naming the key, or, if served, NACKed by the proxy (the ledger
        names the key); the proxy keeps serving and mirroring with the good layer."""
        self.v1 = self.start_upstream("v1")
        self.v2 = self.start_upstream("v2")
        self.port = harness.free_port()
        good = [adv.static_cluster("web", self.v1.port),
                adv.static_cluster("shadow", self.v2.port),
                harness.tcp_listener("web-listener", "127.0.0.1", self.port, "web-route"),
                adv.mirror_route("web-route", "web", "shadow", KEY),
                harness.runtime_layer("shadowplane", {KEY: 100})]
        cp = self.start_cp(store=False, resources=good)
        proxy = self.start_proxy_with(cp.xds_address, self.NODE_ID)
        self.wait_synced(cp)
        client = ph.KeepAliveClient(self.port, timeout=5)
        self.addCleanup(client.close)
        poll(lambda: client.request("GET", "/warmup", HOST).status == 200, 15,
             what=f"the proxy to serve on {self.port}")
        self.assert_served_and_mirrored(proxy, client, self.v2, "with the good layer")

        bad = good[:-1] + [harness.runtime_layer("shadowplane", {KEY: 1e300})]
        before = self.rtds_status(cp).get("sentVersion")
        code, body = cp.put_resources(bad)
        self.log(f"PUT /api/v1/resources with {KEY}: 1e300 -> {code} {json.dumps(body)[:200]}")
        if code == 200:
            try:
                poll(lambda: self.rtds_status(cp).get("sentVersion") != before and
                     self.rtds_status(cp).get("state") in ("SYNCED", "NACK"), WAIT,
                     what="the proxy to ACK or NACK the new layer")
            except harness.PollTimeout:
                pass
        self.assert_alive(proxy, "after the control plane took a layer with 1e300")
        self.assert_served_and_mirrored(proxy, client, self.v2, "after the layer with 1e300")
        if code == 200:
            rtds = self.rtds_status(cp)
            self.assertEqual(rtds.get("state"), "NACK",
                             f"served unvalidated, the layer must at least be NACKed: {rtds}")
            self.assertIn(KEY, json.dumps(rtds.get("lastNack")), rtds)
        else:
            self.assertEqual(code, 400, body)
            self.assertIn(KEY, json.dumps(body), "the refusal must name the key")


if __name__ == "__main__":
    unittest.main(verbosity=2)
