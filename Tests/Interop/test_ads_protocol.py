"""xDS protocol behaviour of Shadowplane, driven by a hand-written ADS client built on the
reference stubs from xds-protos.

Run with the interop venv:  .venv-interop/bin/python Tests/Interop/test_ads_protocol.py
The binary comes from SHADOWPLANE_BIN (default /work/main/.build/debug/shadowplane).
"""
from __future__ import annotations

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import AdsStream, describe, poll, response_names, route_names_of_listeners  # noqa: E402

SILENCE = 1.5
NACK_MESSAGE = "interop: rejected on purpose"
TYPES = ("CDS", "EDS", "LDS", "RDS")


def sync_all(stream: AdsStream) -> dict[str, tuple[str, list[str]]]:
    """Subscribes like Envoy does: CDS wildcard, EDS by the cluster names, LDS wildcard, RDS
    by the route names, ACKing each response. Returns type -> (version, requested names)."""
    out: dict[str, tuple[str, list[str]]] = {}
    cds = stream.subscribe("CDS")
    out["CDS"] = (cds.version_info, [])
    clusters = response_names(cds)
    eds = stream.subscribe("EDS", clusters)
    out["EDS"] = (eds.version_info, clusters)
    lds = stream.subscribe("LDS")
    out["LDS"] = (lds.version_info, [])
    routes = route_names_of_listeners(lds)
    rds = stream.subscribe("RDS", routes)
    out["RDS"] = (rds.version_info, routes)
    return out


def find(resources: list[dict], short: str, name: str) -> dict:
    """The fixture resource of type ``short`` named ``name`` (to edit in place)."""
    for r in resources:
        if harness.resource_key(r) == (short, name):
            return r
    raise KeyError((short, name))


class AdsProtocolTest(harness.InteropTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.cp = self.start_control_plane(harness.ads_fixture())

    def stream(self, node_id: str, method: str = "ads") -> AdsStream:
        s = AdsStream(self.cp.xds_address, node_id, method=method)
        self.addCleanup(s.close)
        return s

    def wait_state(self, node_id: str, states: dict[str, str], timeout: float = 10.0) -> dict:
        """Waits until the newest stream of ``node_id`` shows ``states`` (type -> state)."""
        def check():
            st = self.cp.latest_stream(node_id)
            if st is None:
                return None
            got = {t: st.get("types", {}).get(t, {}).get("state") for t in states}
            return st if got == states else None
        try:
            return poll(check, timeout, what=f"status of {node_id} to be {states}")
        except harness.PollTimeout as e:
            raise AssertionError(f"{e}\nstatus now: {self.cp.streams_of(node_id)}") from None

    # (a) ---------------------------------------------------------------------------------

    def test_a_subscribe_ack_then_quiet(self) -> None:
        s = self.stream("ads-a")
        s.request("CDS")
        cds = s.recv(type_="CDS")
        self.assertEqual(response_names(cds), ["cluster-a", "greeter"], describe(cds))
        self.assertTrue(cds.version_info, "CDS response without version_info")
        self.assertTrue(cds.nonce, "CDS response without a nonce")
        s.ack(cds)

        s.request("EDS", ["cluster-a", "greeter"])
        eds = s.recv(type_="EDS")
        self.assertEqual(response_names(eds), ["cluster-a", "greeter"], describe(eds))
        s.ack(eds, ["cluster-a", "greeter"])

        s.request("LDS")
        lds = s.recv(type_="LDS")
        self.assertEqual(response_names(lds), ["0.0.0.0_8080"], describe(lds))
        s.ack(lds)
        routes = route_names_of_listeners(lds)
        self.assertEqual(routes, ["main-route"])

        s.request("RDS", routes)
        rds = s.recv(type_="RDS")
        self.assertEqual(response_names(rds), ["main-route"], describe(rds))
        s.ack(rds, routes)

        nonces = [r.nonce for r in (cds, eds, lds, rds)]
        self.assertEqual(len(set(nonces)), 4, f"nonces are not fresh per response: {nonces}")

        s.expect_silence(SILENCE, "configuration unchanged and everything ACKed")
        st = self.wait_state("ads-a", {t: "SYNCED" for t in TYPES})
        self.assertEqual(st["streamKind"], "ADS")
        self.assertEqual(st["variant"], "sotw")
        self.assertEqual(st["nodeCluster"], "interop")
        self.assertIn("shadowplane-interop", st.get("userAgent", ""))
        for t, resp in zip(TYPES, (cds, eds, lds, rds)):
            self.assertEqual(st["types"][t].get("ackedVersion"), resp.version_info, t)
            self.assertEqual(st["types"][t].get("sentVersion"), resp.version_info, t)
            self.assertEqual(st["types"][t].get("sentResources"), len(resp.resources), t)
        self.assertEqual(st["types"]["CDS"].get("subscription", {}).get("wildcard"), True)
        self.assertEqual(st["types"]["EDS"].get("subscription", {}).get("wildcard"), False)
        self.assertEqual(sorted(st["types"]["EDS"].get("subscription", {}).get("names", [])),
                         ["cluster-a", "greeter"])

    # (b) ---------------------------------------------------------------------------------

    def test_b_nack(self) -> None:
        before = harness.metric_value(self.cp.metrics(), "shadowplane_xds_nacks_total",
                                      type="CDS") or 0.0
        s = self.stream("ads-b")
        s.request("CDS")
        cds = s.recv(type_="CDS")
        s.nack(cds, NACK_MESSAGE)

        st = self.wait_state("ads-b", {"CDS": "NACK"})
        nack = st["types"]["CDS"].get("lastNack")
        self.assertIsNotNone(nack, f"status has no lastNack: {st}")
        self.assertEqual(nack.get("message"), NACK_MESSAGE)
        self.assertEqual(nack.get("version"), cds.version_info)
        self.assertTrue(nack.get("at"), f"lastNack without a time: {nack}")

        def counted():
            value = harness.metric_value(self.cp.metrics(), "shadowplane_xds_nacks_total",
                                         type="CDS")
            return value is not None and value >= before + 1
        try:
            poll(counted, 10, what="shadowplane_xds_nacks_total to count the NACK")
        except harness.PollTimeout as e:
            lines = [line for line in self.cp.metrics().splitlines() if "nack" in line]
            raise AssertionError(f"{e}\nnack lines in /metrics: {lines}") from None
        self.assertEqual(
            harness.metric_value(self.cp.metrics(), "shadowplane_xds_nacks_total", type="CDS"),
            before + 1)

        s.expect_silence(SILENCE, "the NACKed version must not be resent")

        # A newer version is still pushed after a NACK.
        code, body = self.cp.put_resources(harness.ads_fixture(cluster="cluster-b"))
        self.assertEqual(code, 200, body)
        newer = s.recv(type_="CDS")
        self.assertNotEqual(newer.version_info, cds.version_info, describe(newer))
        self.assertIn("cluster-b", response_names(newer))

    # (c) ---------------------------------------------------------------------------------

    def test_c_reconnect_with_known_versions(self) -> None:
        first = self.stream("ads-c")
        versions = sync_all(first)
        self.wait_state("ads-c", {t: "SYNCED" for t in TYPES})
        first_id = self.cp.latest_stream("ads-c")["streamID"]
        first.close()
        poll(lambda: not self.cp.streams_of("ads-c"), 10,
             what="the closed stream to leave /api/v1/status")

        second = self.stream("ads-c")
        for t in TYPES:
            version, names = versions[t]
            second.request(t, names, version=version)
        second.expect_silence(SILENCE, "the client already holds every version it reported")

        st = self.wait_state("ads-c", {t: "SYNCED" for t in TYPES})
        self.assertNotEqual(st["streamID"], first_id, "status still shows the first stream")
        for t in TYPES:
            self.assertEqual(st["types"][t].get("ackedVersion"), versions[t][0], t)

    # (d) ---------------------------------------------------------------------------------

    def test_d_stale_nonce_ignored(self) -> None:
        s = self.stream("ads-d")
        first = s.subscribe("EDS", ["cluster-a"])
        self.assertEqual(response_names(first), ["cluster-a"])
        # Widen the subscription with the current nonce: answered.
        s.request("EDS", ["cluster-a", "greeter"], version=first.version_info, nonce=first.nonce)
        second = s.recv(type_="EDS")
        self.assertEqual(response_names(second), ["cluster-a", "greeter"], describe(second))
        self.assertNotEqual(second.nonce, first.nonce)
        s.ack(second, ["cluster-a", "greeter"])
        self.wait_state("ads-d", {"EDS": "SYNCED"})

        # A request with the superseded nonce that would narrow the subscription: ignored.
        s.request("EDS", ["cluster-a"], version=first.version_info, nonce=first.nonce)
        s.expect_silence(SILENCE, "request with a stale nonce")
        # A NACK with the superseded nonce: ignored too (not recorded).
        s.request("EDS", ["cluster-a", "greeter"], version=first.version_info,
                  nonce=first.nonce, error="stale rejection")
        # A nonce never sent.
        s.request("EDS", ["greeter"], version=second.version_info, nonce="not-a-nonce-42")
        s.expect_silence(SILENCE, "requests with stale or unknown nonces")
        st = self.wait_state("ads-d", {"EDS": "SYNCED"})
        self.assertNotIn("lastNack", st["types"]["EDS"], "a stale NACK was recorded")
        self.assertEqual(st["types"]["EDS"].get("ackedVersion"), second.version_info)
        self.assertEqual(sorted(st["types"]["EDS"].get("subscription", {}).get("names", [])),
                         ["cluster-a", "greeter"], "a stale request changed the subscription")

    # (e) ---------------------------------------------------------------------------------

    def test_e_push_order_make_before_break(self) -> None:
        s = self.stream("ads-e")
        for t in TYPES:
            s.subscribe(t)
        self.wait_state("ads-e", {t: "SYNCED" for t in TYPES})
        s.expect_silence(0.5, "everything ACKed")

        code, body = self.cp.put_resources(harness.ads_fixture(cluster="cluster-b", port=10002))
        self.assertEqual(code, 200, body)

        got = []
        try:
            while True:
                resp = s.recv(timeout=10)
                got.append(resp)
                s.ack(resp)
                if resp.type_url == harness.TYPE_URLS["CDS"] and len(got) > 1:
                    break
        except AssertionError as e:
            raise AssertionError(
                f"{e}; responses so far: {[describe(r) for r in got]}") from None
        s.expect_silence(SILENCE, "after the final CDS of the push")

        seq = [(harness.SHORT_NAMES[r.type_url], response_names(r)) for r in got]
        expected = [
            ("CDS", ["cluster-a", "cluster-b", "greeter"]),
            ("EDS", ["cluster-b", "greeter"]),
            ("RDS", ["greeter-route", "main-route"]),
            ("CDS", ["cluster-b", "greeter"]),
        ]
        self.assertEqual(seq, expected,
                         "push order / contents differ (listeners unchanged, so no LDS)")
        rds = harness.unpack(got[2].resources[[harness.resource_name(a) for a in
                                               got[2].resources].index("main-route")])
        self.assertEqual(rds.virtual_hosts[0].routes[0].route.cluster, "cluster-b")
        self.assertNotEqual(got[0].version_info, got[3].version_info)
        self.wait_state("ads-e", {t: "SYNCED" for t in TYPES})

    def test_e2_eds_resent_after_cds_push(self) -> None:
        s = self.stream("ads-e2")
        cds = s.subscribe("CDS")
        eds = s.subscribe("EDS", ["cluster-a", "greeter"])
        self.wait_state("ads-e2", {"CDS": "SYNCED", "EDS": "SYNCED"})

        changed = harness.ads_fixture()
        find(changed, "CDS", "cluster-a")["connectTimeout"] = "2s"
        code, body = self.cp.put_resources(changed)
        self.assertEqual(code, 200, body)
        cds2 = s.recv(type_="CDS")
        s.ack(cds2)
        self.assertNotEqual(cds2.version_info, cds.version_info)
        eds2 = s.recv(type_="EDS")
        s.ack(eds2, ["cluster-a", "greeter"])
        self.assertEqual(eds2.version_info, eds.version_info,
                         "load assignments did not change, so neither should their version")
        self.assertNotEqual(eds2.nonce, eds.nonce)
        self.assertEqual(response_names(eds2), ["cluster-a", "greeter"])
        s.expect_silence(SILENCE, "after CDS + EDS")

    def test_e3_full_push_order(self) -> None:
        s = self.stream("ads-e3")
        sync_all(s)
        s.subscribe("RTDS", ["rtds-layer"])
        self.wait_state("ads-e3", {t: "SYNCED" for t in (*TYPES, "RTDS")})

        changed = harness.ads_fixture(port=10009)  # EDS changes
        find(changed, "CDS", "cluster-a")["connectTimeout"] = "3s"
        find(changed, "LDS", "0.0.0.0_8080")["address"]["socketAddress"]["portValue"] = 8081
        find(changed, "RDS", "main-route")["virtualHosts"][0]["domains"] = ["example.com"]
        find(changed, "RTDS", "rtds-layer")["layer"] = {"feature.enabled": False}
        code, body = self.cp.put_resources(changed)
        self.assertEqual(code, 200, body)
        got = []
        try:
            for _ in range(5):
                resp = s.recv(timeout=10)
                got.append(resp)
        except AssertionError as e:
            raise AssertionError(f"{e}; got {[describe(r) for r in got]}") from None
        self.assertEqual([harness.SHORT_NAMES[r.type_url] for r in got],
                         ["CDS", "EDS", "LDS", "RDS", "RTDS"],
                         f"ADS push order: {[describe(r) for r in got]}")
        self.assertEqual(response_names(got[0]), ["cluster-a", "greeter"])
        self.assertEqual(response_names(got[2]), ["0.0.0.0_8080"])
        s.expect_silence(SILENCE, "after one response per type")

    def test_e4_listener_make_before_break(self) -> None:
        s = self.stream("ads-e4")
        lds = s.subscribe("LDS")
        s.subscribe("RDS", ["main-route"])
        self.wait_state("ads-e4", {"LDS": "SYNCED", "RDS": "SYNCED"})

        changed = harness.ads_fixture()
        find(changed, "LDS", "0.0.0.0_8080")["name"] = "0.0.0.0_9090"
        code, body = self.cp.put_resources(changed)
        self.assertEqual(code, 200, body)
        first = s.recv(type_="LDS")
        s.ack(first)
        second = s.recv(type_="LDS")
        s.ack(second)
        self.assertEqual(response_names(first), ["0.0.0.0_8080", "0.0.0.0_9090"],
                         f"make step: {describe(first)}")
        self.assertEqual(response_names(second), ["0.0.0.0_9090"],
                         f"break step: {describe(second)}")
        self.assertNotEqual(second.version_info, lds.version_info)
        s.expect_silence(SILENCE, "route unchanged, nothing else to send")

    # (f) ---------------------------------------------------------------------------------

    def test_f_api_listener_only_when_named(self) -> None:
        wildcard = self.stream("ads-f-wildcard")
        lds = wildcard.subscribe("LDS")
        self.assertNotIn("greeter:50051", response_names(lds),
                         f"api_listener sent to a wildcard subscriber: {describe(lds)}")
        self.assertIn("0.0.0.0_8080", response_names(lds))

        named = self.stream("ads-f-named")
        lds_named = named.subscribe("LDS", ["greeter:50051"])
        self.assertEqual(response_names(lds_named), ["greeter:50051"], describe(lds_named))
        listener = harness.unpack(lds_named.resources[0])
        self.assertTrue(listener.HasField("api_listener"))

        # Explicit "*" is wildcard too: still without the api_listener.
        star = self.stream("ads-f-star")
        lds_star = star.subscribe("LDS", ["*"])
        self.assertEqual(response_names(lds_star), ["0.0.0.0_8080"], describe(lds_star))

    # (g) ---------------------------------------------------------------------------------

    def test_g_versions_equal_across_processes(self) -> None:
        with self.stream("ads-g") as s:
            first = sync_all(s)
        self.cp.stop()
        other = self.start_control_plane(harness.ads_fixture(), name="control-plane-2")
        with AdsStream(other.xds_address, "ads-g") as s2:
            second = sync_all(s2)
        self.assertEqual(second, first, "same resources, different versions across processes")

    # (h) ---------------------------------------------------------------------------------

    def test_h_same_content_no_push(self) -> None:
        s = self.stream("ads-h")
        for t in TYPES:
            s.subscribe(t)
        self.wait_state("ads-h", {t: "SYNCED" for t in TYPES})
        # The same resources, listed in another order: same content, same versions.
        code, body = self.cp.put_resources(list(reversed(harness.ads_fixture())))
        self.assertEqual(code, 200, body)
        s.expect_silence(SILENCE, "PUT of identical content")

    # per-type streams --------------------------------------------------------------------

    def test_i_per_type_streams(self) -> None:
        with AdsStream(self.cp.xds_address, "ads-i", method="CDS") as cds:
            resp = cds.subscribe("CDS")
            self.assertEqual(response_names(resp), ["cluster-a", "greeter"])
            cds.expect_silence(0.5)
        with AdsStream(self.cp.xds_address, "ads-i", method="RTDS") as rtds:
            resp = rtds.subscribe("RTDS", ["rtds-layer"])
            self.assertEqual(response_names(resp), ["rtds-layer"])
            layer = harness.unpack(resp.resources[0]).layer
            self.assertEqual(layer["feature.enabled"], True)

    # admin API ---------------------------------------------------------------------------

    def test_j_admin_api(self) -> None:
        code, _ = self.cp.get("/healthz")
        self.assertEqual(code, 200)
        served = self.cp.get_resources()
        keys = sorted(harness.resource_key(r) for r in served)
        self.assertEqual(keys, sorted(harness.resource_key(r) for r in harness.ads_fixture()))

        s = self.stream("ads-j")
        cds = s.subscribe("CDS")
        # Metrics exist once there is something to count (swift-metrics creates them lazily).
        harness.poll(lambda: harness.metric_value(self.cp.metrics(), "shadowplane_xds_pushes_total",
                                                  type="CDS"), 10,
                     what="shadowplane_xds_pushes_total{type=\"CDS\"} in /metrics")
        # An invalid body is rejected with 400 and changes nothing.
        code, body = self.cp.put_resources(b'{"resources": [{"@type": "nope"}]}')
        self.assertEqual(code, 400, body)
        self.assertIsInstance(body, dict)
        self.assertIn("error", body)
        code, body = self.cp.put_resources(b"not json")
        self.assertEqual(code, 400, body)
        s.expect_silence(SILENCE, "rejected PUTs must not change the configuration")
        self.assertEqual(sorted(harness.resource_key(r) for r in self.cp.get_resources()), keys)
        self.assertEqual(response_names(cds), ["cluster-a", "greeter"])

    def test_k_put_keeps_what_it_accepts(self) -> None:
        """A PUT is either rejected (400) or served as sent.

        Here: an HttpConnectionManager with an HTTP filter whose typed_config type Shadowplane has no schema for (CORS here) must not
        be accepted and then served with its content dropped."""
        listener = harness.tcp_listener("0.0.0.0_8080", "0.0.0.0", 8080, "main-route")
        hcm = listener["filterChains"][0]["filters"][0]["typedConfig"]
        hcm["httpFilters"].insert(0, {
            "name": "envoy.filters.http.cors",
            "typedConfig": {"@type": "type.googleapis.com/envoy.extensions.filters.http.cors.v3.Cors"},
        })
        resources = [r for r in harness.ads_fixture()
                     if harness.resource_key(r) != ("LDS", "0.0.0.0_8080")] + [listener]
        code, body = self.cp.put_resources(resources)
        if code == 400:
            self.assertIn("error", body)
            return
        self.assertEqual(code, 200, body)
        served = [r for r in self.cp.get_resources()
                  if harness.resource_key(r) == ("LDS", "0.0.0.0_8080")]
        self.assertEqual(len(served), 1)
        served_hcm = served[0]["filterChains"][0]["filters"][0]["typedConfig"]
        self.assertEqual(
            served_hcm, hcm,
            "PUT accepted (200) but GET /api/v1/resources serves a different "
            "HttpConnectionManager")
        with self.stream("ads-k") as s:
            lds = s.subscribe("LDS")
            (got,) = [harness.unpack(a) for a in lds.resources
                      if harness.resource_name(a) == "0.0.0.0_8080"]
            sent_hcm = harness.unpack(got.filter_chains[0].filters[0].typed_config)
            self.assertEqual(sent_hcm.stat_prefix, "ingress_http",
                             f"LDS serves a different HttpConnectionManager: {sent_hcm}")
            self.assertEqual(len(sent_hcm.http_filters), 2, str(sent_hcm))


if __name__ == "__main__":
    unittest.main(verbosity=2)
