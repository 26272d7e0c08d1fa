"""Issue 12, crashes: a runtime value is validated everywhere it enters the control plane,
so an unusable one can never reach (and crash) the fleet.

- ``PUT /api/v1/runtime/KEY`` with 1e300, inf, nan, -1, 101, 5/FOO, 4294967296/MILLION
  (N does not fit a UInt32): 400 naming the key and the value, nothing stored; valid
  values (12.5, 125000/MILLION, 0, 100) accepted.
- A hand-edited ``.runtime.json`` holding ``{"mirror.default.web.http0.0": "1e300"}`` (and
  one good key) in the store, then a restart: the control plane starts, logs the bad key,
  serves the good key and not the bad one over RTDS; a proxy attached to it survives a
  mirrored request (the defect: served unvalidated, every proxy crashed on its first
  mirrored request, again after each restart).
- Static mode: ``PUT /api/v1/resources`` with a Runtime layer holding 1e300 is refused
  with 400 naming the key (what is served does not change); a ``--resources`` file holding
  it at start is either refused (the process exits naming the key) or served without it.

Run:  .venv-interop/bin/python Tests/Adversarial/test_cp_runtime_values.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import adversarial as adv  # noqa: E402
from adversarial import harness, ph, poll  # noqa: E402

KEY = "mirror.default.web.http0.0"
GOOD_KEY = "mirror.default.other.http0.0"
HOST = "web"
BAD_VALUES = ("1e300", "inf", "nan", "-1", "101", "5/FOO", "4294967296/MILLION", "-5/HUNDRED")
GOOD_VALUES = ("12.5", "125000/MILLION", "0", "100")


def served_layer(cp: harness.ControlPlane) -> dict:
    """The RTDS layer ``shadowplane`` as a client receives it (proto3 JSON of its Struct)."""
    from google.protobuf import json_format
    with harness.AdsStream(cp.xds_address, "runtime-reader") as s:
        resp = s.subscribe("RTDS", ["shadowplane"])
        layers = [json_format.MessageToDict(harness.unpack(r)) for r in resp.resources]
    return layers[0].get("layer", {}) if layers else {}


class ControlPlaneRuntimeValuesTest(adv.AdversarialTestCase):
    TAG = "cp-runtime"

    def test_admin_api_refuses_unusable_values(self) -> None:
        cp = self.start_cp()
        url = cp.admin_url + "/api/v1/runtime/" + KEY
        for value in BAD_VALUES:
            with self.subTest(value=value):
                code, body = harness.http_send("PUT", url, value.encode(), "text/plain")
                self.assertEqual(code, 400, f"PUT {KEY} = {value}: {body[:300]!r}")
                self.assertIn(KEY.encode(), body, "the refusal names the key")
                self.assertIn(value.lower().encode(), body.lower(), "the refusal names the value")
        code, body = harness.http_json("GET", cp.admin_url + "/api/v1/runtime")
        self.assertEqual(body.get("values"), {}, "nothing refused may be stored")
        for value in GOOD_VALUES:
            code, body = harness.http_send("PUT", url, value.encode(), "text/plain")
            self.assertEqual(code, 200, f"PUT {KEY} = {value} must be accepted: {body[:300]!r}")
        # The CLI goes through the same check.
        done = subprocess.run([harness.shadowplane_bin(), "runtime", "set", "--server",
                               cp.admin_url, "--", KEY, "1e300"],
                              capture_output=True, text=True, timeout=30)
        self.assertNotEqual(done.returncode, 0, done.stdout)
        self.assertIn(KEY, done.stderr)

    def test_hand_edited_runtime_file_is_checked_at_start(self) -> None:
        store = tempfile.TemporaryDirectory(prefix="shadowplane-adv-store-")
        self.addCleanup(store.cleanup)
        v1 = self.start_upstream("v1")
        v2 = self.start_upstream("v2")
        port = harness.free_port()
        first = self.start_cp(store_dir=store.name, name="control-plane-1")
        first.apply_ok(harness.join_documents(
            ph.service_entry(HOST, HOST, port, [(v1.port, {"version": "v1"}),
                                                (v2.port, {"version": "v2"})]),
            ph.destination_rule(HOST, HOST),
            ph.virtual_service(HOST, HOST, [("v1", 100)], mirror={"host": HOST, "subset": "v2"},
                               mirror_percentage=1)))
        first.stop()
        # The operator edits the overrides by hand, then restarts the control plane.
        with open(os.path.join(store.name, ".runtime.json"), "w") as f:
            json.dump({KEY: "1e300", GOOD_KEY: "50"}, f)
        cp = self.start_cp(store_dir=store.name, name="control-plane-2")
        self.assert_alive(cp, "after starting on a store with a bad runtime value")
        # The fleet: a proxy attached to it survives mirrored traffic.
        proxy = self.start_proxy_with(cp.xds_address, self.NODE_ID)
        self.wait_synced(cp)
        client = ph.KeepAliveClient(port, timeout=5)
        self.addCleanup(client.close)
        try:
            poll(lambda: proxy.proc.poll() is not None
                 or client.request("GET", "/mirrored", HOST).status == 200, 15,
                 what=f"the proxy to serve {HOST} (or to die trying)")
            for _ in range(20):
                client.request("GET", "/mirrored", HOST)
        except Exception as e:  # noqa: BLE001 - the assertion below says what happened
            self.log(f"request failed: {e!r}")
        self.assert_alive(proxy, "after mirrored requests", grace=3.0)

        # What it serves: the good key, not the bad one, which it logged.
        layer = served_layer(cp)
        self.log(f"RTDS layer served after the restart: {layer}")
        self.assertNotIn(KEY, layer, "an unusable runtime value must not be served over RTDS")
        self.assertEqual(layer.get(GOOD_KEY), 50, "the good values are still served")
        poll(lambda: any(KEY in line for line in cp.log_lines()), 5,
             what=f"a log line naming the skipped key {KEY}")

    def test_static_resources_refuse_unusable_runtime_values(self) -> None:
        good = [harness.runtime_layer("shadowplane", {KEY: 50})]
        cp = self.start_cp(store=False, resources=good)
        code, body = cp.put_resources([harness.runtime_layer("shadowplane", {KEY: 1e300})])
        self.assertEqual(code, 400, f"PUT /api/v1/resources with {KEY}: 1e300 -> {code} {body}")
        self.assertIn(KEY, json.dumps(body), "the refusal names the key")
        self.assertEqual(served_layer(cp), {KEY: 50}, "what is served must not change")

    def test_static_resources_file_with_unusable_value_at_start(self) -> None:
        cp = harness.ControlPlane([harness.runtime_layer("shadowplane", {KEY: 1e300})],
                                  name="control-plane")
        self._planes.append(cp)
        self.addCleanup(cp.cleanup)
        try:
            cp.start(timeout=20)
        except AssertionError as e:  # refused at start: it must say which key
            self.assertIn(KEY, str(e), "a refused --resources file must name the key")
            return
        layer = served_layer(cp)
        self.assertNotIn(KEY, layer, f"an unusable value must not be served: {layer}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
