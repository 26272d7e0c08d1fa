"""Incremental (delta) xDS behaviour of Shadowplane, driven by a hand-written delta ADS client
built on the reference stubs from xds-protos (``DeltaAggregatedResources`` and the per-type
``Delta*`` methods).

Run with the interop venv:  .venv-interop/bin/python Tests/Interop/test_delta_protocol.py
The binary comes from SHADOWPLANE_BIN (default /work/main/.build/debug/shadowplane).
"""
from __future__ import annotations

import os
import sys
import unittest
from typing import Iterable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import TYPE_URLS, SHORT_NAMES, poll  # noqa: E402

SILENCE = 1.5
NACK_MESSAGE = "interop: delta update rejected on purpose"
TYPES = ("CDS", "EDS", "LDS", "RDS")


def describe(resp) -> str:
    short = SHORT_NAMES.get(resp.type_url, resp.type_url)
    return (f"{short} nonce={resp.nonce} version={resp.system_version_info} "
            f"+{names(resp)} -{sorted(resp.removed_resources)}")


def names(resp) -> list[str]:
    return sorted(r.name for r in resp.resources)


class DeltaStream(harness.XdsStream):
    """A delta xDS stream driven from the test thread (``harness.XdsStream`` with the
    ``Delta*`` methods: ``"ads"`` is DeltaAggregatedResources, ``"CDS"``/``"EDS"``/``"LDS"``/
    ``"RDS"``/``"RTDS"`` the per-type ones). ``held`` tracks, per type, the resource versions
    this client holds (what it would report on reconnect)."""

    def __init__(self, address: str, node_id: str, method: str = "ads"):
        from envoy.config.core.v3 import base_pb2
        from envoy.service.discovery.v3 import discovery_pb2
        self._pb2 = discovery_pb2
        self.held: dict[str, dict[str, str]] = {t: {} for t in TYPE_URLS}
        self._node_sent = False
        super().__init__(address, base_pb2.Node(id=node_id, cluster="interop",
                                                user_agent_name="shadowplane-delta-interop",
                                                user_agent_version="1.0"),
                         method, delta=True)

    def describe(self, resp) -> str:
        return describe(resp)

    # -- requests ---------------------------------------------------------------------

    def request(self, type_: str, subscribe: Iterable[str] = (), unsubscribe: Iterable[str] = (),
                initial: dict[str, str] | None = None, nonce: str = "",
                error: str | None = None) -> None:
        """Sends a DeltaDiscoveryRequest; the node goes on the stream's first only."""
        from google.rpc import status_pb2
        req = self._pb2.DeltaDiscoveryRequest(
            type_url=TYPE_URLS.get(type_, type_), resource_names_subscribe=list(subscribe),
            resource_names_unsubscribe=list(unsubscribe), response_nonce=nonce)
        if initial:
            req.initial_resource_versions.update(initial)
        if not self._node_sent:
            req.node.CopyFrom(self.node)
            self._node_sent = True
        if error is not None:
            req.error_detail.CopyFrom(status_pb2.Status(code=3, message=error))
        self.send(req)

    def ack(self, resp) -> None:
        """Applies ``resp`` to what this client holds and ACKs it."""
        held = self.held[SHORT_NAMES[resp.type_url]]
        for name in resp.removed_resources:
            held.pop(name, None)
        for r in resp.resources:
            held[r.name] = r.version
        self.request(resp.type_url, nonce=resp.nonce)

    def nack(self, resp, message: str) -> None:
        self.request(resp.type_url, nonce=resp.nonce, error=message)

    # -- responses --------------------------------------------------------------------

    def recv(self, timeout: float = 10.0, type_: str | None = None):
        item = self.next_response(timeout, type_, what="delta xDS")
        check_response(item)
        if type_ is not None and item.type_url != TYPE_URLS[type_]:
            raise AssertionError(f"expected a {type_} response, got {describe(item)}")
        return item

    def recv_all(self, count: int, timeout: float = 10.0, ack: bool = True) -> list:
        """The next ``count`` responses, each ACKed (with ``ack``)."""
        got = []
        try:
            for _ in range(count):
                resp = self.recv(timeout=timeout)
                got.append(resp)
                if ack:
                    self.ack(resp)
        except AssertionError as e:
            raise AssertionError(f"{e}; got so far: {[describe(r) for r in got]}") from None
        return got

    def expect_silence(self, seconds: float = SILENCE, why: str = "") -> None:
        super().expect_silence(seconds, why)

    def subscribe(self, type_: str, subscribe: Iterable[str] = (), ack: bool = True,
                  initial: dict[str, str] | None = None):
        """Subscribes (``subscribe``, or legacy wildcard if empty), waits for the answer and
        ACKs it."""
        self.request(type_, subscribe, initial=initial)
        resp = self.recv(type_=type_)
        if ack:
            self.ack(resp)
        return resp


def check_response(resp) -> None:
    """What every delta response must satisfy: a nonce, named and versioned resources whose
    bodies are of the response's type and carry the same name, no name both updated and
    removed, no repeats."""
    if not resp.nonce:
        raise AssertionError(f"delta response without a nonce: {describe(resp)}")
    seen = set()
    for r in resp.resources:
        if not r.name or not r.version:
            raise AssertionError(f"resource without name or version in {describe(resp)}")
        if r.resource.type_url != resp.type_url:
            raise AssertionError(f"resource {r.name} is a {r.resource.type_url} in "
                                 f"{describe(resp)}")
        if harness.resource_name(r.resource) != r.name:
            raise AssertionError(f"resource {r.name} holds "
                                 f"{harness.resource_name(r.resource)!r}")
        if r.name in seen:
            raise AssertionError(f"{r.name} repeated in {describe(resp)}")
        seen.add(r.name)
    both = seen & set(resp.removed_resources)
    if both:
        raise AssertionError(f"{sorted(both)} both updated and removed in {describe(resp)}")


def find(resources: list[dict], short: str, name: str) -> dict:
    for r in resources:
        if harness.resource_key(r) == (short, name):
            return r
    raise KeyError((short, name))


def sync_all(stream: DeltaStream) -> dict[str, object]:
    """Subscribes as Envoy does over delta ADS: CDS wildcard (legacy: no names), EDS by the
    cluster names, LDS wildcard (``*``), RDS by the route name; ACKs each answer."""
    out = {}
    out["CDS"] = stream.subscribe("CDS")
    out["EDS"] = stream.subscribe("EDS", names(out["CDS"]))
    out["LDS"] = stream.subscribe("LDS", ["*"])
    out["RDS"] = stream.subscribe("RDS", ["main-route"])
    return out


class DeltaProtocolTest(harness.InteropTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.fixture = harness.ads_fixture()
        self.cp = self.start_control_plane(self.fixture)

    def stream(self, node_id: str, method: str = "ads") -> DeltaStream:
        s = DeltaStream(self.cp.xds_address, node_id, method=method)
        self.addCleanup(s.close)
        return s

    def put(self, resources: list[dict]) -> None:
        code, body = self.cp.put_resources(resources)
        self.assertEqual(code, 200, body)

    def wait_state(self, node_id: str, states: dict[str, str], timeout: float = 10.0) -> dict:
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
        s = self.stream("delta-a")
        got = sync_all(s)
        self.assertEqual(names(got["CDS"]), ["cluster-a", "greeter"], describe(got["CDS"]))
        self.assertEqual(names(got["EDS"]), ["cluster-a", "greeter"], describe(got["EDS"]))
        # The gRPC api_listener is only for clients that name it.
        self.assertEqual(names(got["LDS"]), ["0.0.0.0_8080"], describe(got["LDS"]))
        self.assertEqual(names(got["RDS"]), ["main-route"], describe(got["RDS"]))
        for resp in got.values():
            self.assertEqual(list(resp.removed_resources), [], describe(resp))
        nonces = [r.nonce for r in got.values()]
        self.assertEqual(len(set(nonces)), 4, f"nonces are not fresh per response: {nonces}")
        s.expect_silence(SILENCE, "configuration unchanged and everything ACKed")

        st = self.wait_state("delta-a", {t: "SYNCED" for t in TYPES})
        self.assertEqual(st["variant"], "delta")
        self.assertEqual(st["streamKind"], "ADS")
        self.assertEqual(st["nodeCluster"], "interop")
        self.assertIn("shadowplane-delta-interop", st.get("userAgent", ""))
        for t in TYPES:
            self.assertEqual(st["types"][t].get("ackedVersion"), got[t].system_version_info, t)
        self.assertEqual(st["types"]["CDS"]["subscription"], {"wildcard": True, "names": []})
        self.assertEqual(st["types"]["LDS"]["subscription"]["wildcard"], True)
        self.assertEqual(sorted(st["types"]["EDS"]["subscription"]["names"]),
                         ["cluster-a", "greeter"])

    # (b) ---------------------------------------------------------------------------------

    def test_b_config_changes_arrive_as_deltas(self) -> None:
        s = self.stream("delta-b")
        sync_all(s)
        self.wait_state("delta-b", {t: "SYNCED" for t in TYPES})

        # Changed: cluster-a's timeout. Only cluster-a, then its (unchanged) load assignment
        # so that Envoy can finish warming the updated cluster.
        changed = harness.ads_fixture()
        find(changed, "CDS", "cluster-a")["connectTimeout"] = "2s"
        self.put(changed)
        seq = [(SHORT_NAMES[r.type_url], names(r), sorted(r.removed_resources))
               for r in s.recv_all(2)]
        self.assertEqual(seq, [("CDS", ["cluster-a"], []), ("EDS", ["cluster-a"], [])])
        s.expect_silence(SILENCE, "nothing else changed")

        # Added: cluster-b and its load assignment; the route moves to it. The client asks
        # for the new load assignment, as Envoy does after seeing the cluster.
        added = [r for r in changed if harness.resource_key(r) != ("RDS", "main-route")] + [
            harness.eds_cluster("cluster-b"),
            harness.load_assignment("cluster-b", [("127.0.0.1", 10002)]),
            harness.simple_route("main-route", ["*"], "cluster-b", vhost="main"),
        ]
        self.put(added)
        seq = [(SHORT_NAMES[r.type_url], names(r), sorted(r.removed_resources))
               for r in s.recv_all(2)]
        self.assertEqual(seq, [("CDS", ["cluster-b"], []), ("RDS", ["main-route"], [])])
        s.request("EDS", ["cluster-b"])
        eds = s.recv(type_="EDS")
        self.assertEqual((names(eds), list(eds.removed_resources)), (["cluster-b"], []))
        s.ack(eds)
        s.expect_silence(SILENCE, "added resources sent once")

        # Removed: cluster-a and its load assignment, after the route left it: removals
        # only, clusters then endpoints, after any additions.
        removed = [r for r in added if harness.resource_key(r) not in
                   (("CDS", "cluster-a"), ("EDS", "cluster-a"))]
        self.put(removed)
        seq = [(SHORT_NAMES[r.type_url], names(r), sorted(r.removed_resources))
               for r in s.recv_all(2)]
        self.assertEqual(seq, [("CDS", [], ["cluster-a"]), ("EDS", [], ["cluster-a"])])
        s.expect_silence(SILENCE, "removals sent once")
        st = self.wait_state("delta-b", {t: "SYNCED" for t in TYPES})
        self.assertEqual(s.held["CDS"].keys(), {"cluster-b", "greeter"})

    # (c) ---------------------------------------------------------------------------------

    def test_c_unsubscribed_names_get_no_more_updates(self) -> None:
        s = self.stream("delta-c")
        sync_all(s)
        self.wait_state("delta-c", {t: "SYNCED" for t in TYPES})
        s.request("EDS", unsubscribe=["greeter"])
        s.expect_silence(SILENCE, "an unsubscription needs no answer")
        st = self.wait_state("delta-c", {"EDS": "SYNCED"})
        self.assertEqual(st["types"]["EDS"]["subscription"]["names"], ["cluster-a"])

        moved = harness.ads_fixture()
        find(moved, "EDS", "greeter")["endpoints"][0]["lbEndpoints"][0]["endpoint"][
            "address"]["socketAddress"]["portValue"] = 10051
        self.put(moved)
        s.expect_silence(SILENCE, "greeter's load assignment is no longer subscribed")

        find(moved, "EDS", "cluster-a")["endpoints"][0]["lbEndpoints"][0]["endpoint"][
            "address"]["socketAddress"]["portValue"] = 10003
        self.put(moved)
        (eds,) = s.recv_all(1)
        self.assertEqual((SHORT_NAMES[eds.type_url], names(eds)), ("EDS", ["cluster-a"]))
        s.expect_silence(SILENCE, "only cluster-a's load assignment changed")

    # (d) ---------------------------------------------------------------------------------

    def test_d_reconnect_with_initial_resource_versions(self) -> None:
        first = self.stream("delta-d")
        sync_all(first)
        self.wait_state("delta-d", {t: "SYNCED" for t in TYPES})
        held = {t: dict(first.held[t]) for t in TYPES}
        self.assertEqual(sorted(held["EDS"]), ["cluster-a", "greeter"])
        first.close()
        poll(lambda: not self.cp.streams_of("delta-d"), 10,
             what="the closed stream to leave /api/v1/status")

        # Same configuration: nothing is resent.
        second = self.stream("delta-d")
        second.request("CDS", initial=held["CDS"])
        second.request("EDS", sorted(held["EDS"]), initial=held["EDS"])
        second.request("LDS", ["*"], initial=held["LDS"])
        second.request("RDS", ["main-route"], initial=held["RDS"])
        second.expect_silence(SILENCE, "the client holds every current version")
        st = self.wait_state("delta-d", {t: "SYNCED" for t in TYPES})
        self.assertEqual(st["variant"], "delta")
        second.close()
        poll(lambda: not self.cp.streams_of("delta-d"), 10,
             what="the second stream to leave /api/v1/status")

        # Changed while away: cluster-a's endpoints; greeter removed (cluster, load
        # assignment, and the api_listener and route that named it).
        changed = [r for r in harness.ads_fixture() if harness.resource_key(r) not in (
            ("CDS", "greeter"), ("EDS", "greeter"), ("LDS", "greeter:50051"),
            ("RDS", "greeter-route"))]
        find(changed, "EDS", "cluster-a")["endpoints"][0]["lbEndpoints"][0]["endpoint"][
            "address"]["socketAddress"]["portValue"] = 10009
        self.put(changed)
        third = self.stream("delta-d")
        third.held = {t: dict(v) for t, v in held.items()}
        third.request("CDS", initial=held["CDS"])
        cds = third.recv(type_="CDS")
        third.ack(cds)
        self.assertEqual((names(cds), list(cds.removed_resources)), ([], ["greeter"]))
        third.request("EDS", ["cluster-a"], unsubscribe=[], initial=held["EDS"])
        eds = third.recv(type_="EDS")
        third.ack(eds)
        # greeter was held but not asked for again: it is not this stream's business.
        self.assertEqual((names(eds), list(eds.removed_resources)), (["cluster-a"], []))
        third.request("LDS", ["*"], initial=held["LDS"])
        third.request("RDS", ["main-route"], initial=held["RDS"])
        third.expect_silence(SILENCE, "listeners and routes did not change")
        st = self.wait_state("delta-d", {t: "SYNCED" for t in TYPES})
        self.assertEqual(st["types"]["EDS"]["ackedVersion"], eds.system_version_info)

    # (e) ---------------------------------------------------------------------------------

    def test_e_nack_shows_in_status(self) -> None:
        metrics = self.cp.metrics()
        nacks_before = harness.metric_value(metrics, "shadowplane_xds_nacks_total",
                                            type="CDS") or 0.0
        s = self.stream("delta-e")
        cds = s.subscribe("CDS")
        self.wait_state("delta-e", {"CDS": "SYNCED"})

        changed = harness.ads_fixture()
        find(changed, "CDS", "cluster-a")["connectTimeout"] = "3s"
        self.put(changed)
        pushed = s.recv(type_="CDS")
        self.assertEqual(names(pushed), ["cluster-a"], describe(pushed))
        s.nack(pushed, NACK_MESSAGE)

        st = self.wait_state("delta-e", {"CDS": "NACK"})
        self.assertEqual(st["variant"], "delta")
        nack = st["types"]["CDS"].get("lastNack")
        self.assertIsNotNone(nack, f"status has no lastNack: {st}")
        self.assertEqual(nack.get("message"), NACK_MESSAGE)
        self.assertEqual(nack.get("version"), pushed.system_version_info)
        self.assertEqual(st["types"]["CDS"].get("ackedVersion"), cds.system_version_info)
        s.expect_silence(SILENCE, "the NACKed version must not be resent")

        poll(lambda: (harness.metric_value(self.cp.metrics(), "shadowplane_xds_nacks_total",
                                           type="CDS") or 0) >= nacks_before + 1,
             10, what="shadowplane_xds_nacks_total to count the NACK")
        metrics = self.cp.metrics()
        self.assertGreater(harness.metric_value(metrics, "shadowplane_xds_bytes_sent_total",
                                                type="CDS", variant="delta") or 0, 0)
        self.assertGreaterEqual(
            harness.metric_value(metrics, "shadowplane_xds_resources_sent_total",
                                 type="CDS", variant="delta") or 0, 3)

        # A fixed version is pushed and ACKed: SYNCED again.
        find(changed, "CDS", "cluster-a")["connectTimeout"] = "4s"
        self.put(changed)
        fixed = s.recv(type_="CDS")
        self.assertEqual(names(fixed), ["cluster-a"], describe(fixed))
        s.ack(fixed)
        self.wait_state("delta-e", {"CDS": "SYNCED"})

    # (f) ---------------------------------------------------------------------------------

    def test_f_unknown_names_and_stale_nonces(self) -> None:
        s = self.stream("delta-f")
        eds = s.subscribe("EDS", ["cluster-a", "nope"])
        self.assertEqual(names(eds), ["cluster-a"])
        self.assertEqual(list(eds.removed_resources), ["nope"])
        # A subscription with a nonce the server never sent: the ACK part is ignored, the
        # subscription is not (delta requests are deltas).
        s.request("EDS", ["greeter"], nonce="not-a-nonce-42", error="stale rejection")
        more = s.recv(type_="EDS")
        self.assertEqual((names(more), list(more.removed_resources)), (["greeter"], []))
        s.ack(more)
        st = self.wait_state("delta-f", {"EDS": "SYNCED"})
        self.assertNotIn("lastNack", st["types"]["EDS"], "a stale NACK was recorded")
        self.assertEqual(sorted(st["types"]["EDS"]["subscription"]["names"]),
                         ["cluster-a", "greeter", "nope"])
        # Explicitly subscribing again to a name it holds: sent anyway.
        s.request("EDS", ["cluster-a"])
        again = s.recv(type_="EDS")
        self.assertEqual(names(again), ["cluster-a"])

    # (g) ---------------------------------------------------------------------------------

    def test_g_per_type_delta_services(self) -> None:
        for method, subscribe, expected in (("CDS", [], ["cluster-a", "greeter"]),
                                            ("EDS", ["greeter"], ["greeter"]),
                                            ("LDS", ["greeter:50051"], ["greeter:50051"]),
                                            ("RDS", ["main-route"], ["main-route"]),
                                            ("RTDS", ["rtds-layer"], ["rtds-layer"])):
            node = f"delta-g-{method.lower()}"
            with DeltaStream(self.cp.xds_address, node, method=method) as s:
                resp = s.subscribe(method, subscribe)
                self.assertEqual(names(resp), expected, describe(resp))
                st = self.wait_state(node, {method: "SYNCED"})
                self.assertEqual((st["streamKind"], st["variant"]), (method, "delta"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
