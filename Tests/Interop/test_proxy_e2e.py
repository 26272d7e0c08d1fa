"""The bundled proxy end to end: Istio YAML applied to a store-mode control plane reaches
``shadowplane proxy`` over ADS, and real HTTP/1.1 traffic through the proxy lands where
the configuration says — routing, weighted splits, mirroring (Host ``-shadow``,
``x-envoy-internal``, same x-request-id, body intact), runtime overrides of the mirror
fraction, and NACKs the control plane can see.

Run with the interop venv:  .venv-interop/bin/python Tests/Interop/test_proxy_e2e.py
The binary comes from SHADOWPLANE_BIN (default /work/main/.build/debug/shadowplane).
"""
from __future__ import annotations

import json
import hashlib
import os
import random
import socket
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import proxy_harness as ph  # noqa: E402
from harness import poll  # noqa: E402

HOST = "httpbin"
RUNTIME_KEY = "mirror.default.httpbin.http0.0"
SHADOW_WAIT = 30.0
SDS = 4.0


def log(msg: str) -> None:
    print(f"[proxy-e2e] {msg}", file=sys.stderr, flush=True)


class ProxyFixture(ph.ProxyTestCase):
    """Store-mode control plane, upstreams v1 and v2, the proxy (node ``proxy-e2e``), and
    the httpbin ServiceEntry + DestinationRule on a free port P."""

    def setUp(self) -> None:
        super().setUp()
        self.cp = self.start_store_control_plane()
        self.v1 = self.start_upstream("v1")
        self.v2 = self.start_upstream("v2")
        self.port = harness.free_port()
        self.ports = {8000: self.port, 8001: self.v1.port, 8002: self.v2.port}
        self.proxy = self.start_proxy(self.cp)
        self.wait_synced(self.cp)  # connected, the empty configuration ACKed
        self.apply_synced(self.cp, harness.join_documents(
            harness.manifest_with_ports("00-serviceentry.yaml", self.ports),
            harness.manifest_with_ports("01-destinationrule.yaml", self.ports)))
        poll(self.proxy.ready, 15, what="proxy /ready to say LIVE")
        self.client = ph.KeepAliveClient(self.port)
        self.addCleanup(self.client.close)
        poll(lambda: self.client.request("GET", "/warmup", self.authority).status == 200, 15,
             what=f"the listener on {self.port} to serve httpbin")
        self.settle_and_clear()

    @property
    def authority(self) -> str:
        return f"{HOST}:{self.port}"

    @property
    def v1_cluster(self) -> str:
        return f"outbound|{self.port}|v1|{HOST}"

    @property
    def v2_cluster(self) -> str:
        return f"outbound|{self.port}|v2|{HOST}"

    def settle_and_clear(self) -> None:
        """Waits for requests in flight (shadows included) to end, then forgets them."""
        def idle():
            s = self.proxy.stats()
            return all(v == 0 for k, v in s.items() if k.endswith(".upstream_rq_active"))
        poll(idle, 15, what="no upstream request active")
        self.v1.clear()
        self.v2.clear()

    def apply_vs(self, text: str) -> dict:
        return self.apply_synced(self.cp, text)

    def manifest(self, name: str) -> str:
        return harness.manifest_with_ports(name, self.ports)

    def wait_shadows(self, before: dict[str, int], cluster: str, up) -> int:
        """Waits (bounded) until every shadow the proxy counted as sent since ``before``
        has reached ``up`` and none is active; returns the number of shadows sent."""
        def done():
            s = self.proxy.cluster_stats(cluster)
            sent = s.get("upstream_rq_shadow_sent", 0) - before.get("upstream_rq_shadow_sent", 0)
            if s.get("upstream_rq_active", 0) == 0 and up.count() >= sent:
                return (sent,)
            return None
        return poll(done, SHADOW_WAIT, what=f"the shadows to {cluster} to arrive")[0]

    def send(self, n: int, authorities: list[str] | None = None, method: str = "GET",
             path: str = "/get") -> dict[str, tuple[str, ph.Response]]:
        """``n`` requests on the keep-alive connection (authorities alternating); returns
        {x-request-id: (authority sent, response)}."""
        authorities = authorities or [self.authority]
        out = {}
        for i in range(n):
            rid = str(uuid.uuid4())
            authority = authorities[i % len(authorities)]
            r = self.client.request(method, f"{path}?i={i}", authority, {"x-request-id": rid})
            out[rid] = (authority, r)
        return out


class ProxyE2ETest(ProxyFixture):

    def test_all_to_v1(self) -> None:
        self.apply_vs(self.manifest("10-virtualservice-all-v1.yaml"))
        n = 200
        sent = self.send(n, [self.authority, HOST])
        bad = {rid: r for rid, (_, r) in sent.items()
               if r.status != 200 or r.json().get("server") != "v1"}
        self.assertEqual(bad, {}, "every response must be a 200 from v1")
        self.v1.wait_for_count(n, 5)
        time.sleep(0.5)  # anything stray would arrive by now
        self.assertEqual(self.v1.count(), n)
        self.assertEqual(self.v2.count(), 0, self.v2.requests[:3])
        by_id = {r["x_request_id"]: r for r in self.v1.requests}
        self.assertEqual(set(by_id), set(sent))
        for rid, (authority, _) in sent.items():
            self.assertEqual(by_id[rid]["host"], authority, "v1 must see the Host as sent")
        s = self.proxy.cluster_stats(self.v1_cluster)
        self.assertGreaterEqual(s.get("upstream_rq_2xx", 0), n, s)
        log(f"all-v1: {n}/{n} from v1, v2 got 0")

    def test_pipelined_requests_answered_in_order(self) -> None:
        """Requests pipelined in one TCP write (a POST with a body among them) are all
        forwarded and answered in the order sent, on the same connection."""
        self.apply_vs(self.manifest("10-virtualservice-all-v1.yaml"))
        paths = [f"/anything/pipelined-{i}" for i in range(6)]
        wire = b""
        for i, path in enumerate(paths):
            if i == 2:
                body = b"x" * 70000
                wire += (f"POST {path} HTTP/1.1\r\nHost: {self.authority}\r\n"
                         f"Content-Length: {len(body)}\r\n\r\n").encode() + body
            else:
                wire += f"GET {path} HTTP/1.1\r\nHost: {self.authority}\r\n\r\n".encode()
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as sock:
            sock.sendall(wire)
            reader = sock.makefile("rb")
            seen = []
            for _ in paths:
                status = reader.readline().split()
                self.assertEqual(status[1], b"200", status)
                length = None
                while (line := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                self.assertIsNotNone(length, "the upstream's responses carry a length")
                seen.append(json.loads(reader.read(length))["path"])
        self.assertEqual(seen, paths, "responses must come back in the order of the requests")
        log(f"pipelining: {len(paths)} requests in one write, answered in order")

    def test_weighted_90_10(self) -> None:
        self.apply_vs(ph.virtual_service("httpbin", HOST, [("v1", 90), ("v2", 10)]))
        n = 2000
        res = ph.run_load(self.port, self.authority, n, threads=4)
        log(f"weighted 90/10: {res.summary()}")
        self.assertEqual(res.errors, [], res.errors[:5])
        self.assertEqual(res.ok, n, res.bad)
        v2 = res.servers.get("v2", 0)
        v1 = res.servers.get("v1", 0)
        self.assertEqual(v1 + v2, n, dict(res.servers))
        lo, hi = harness.binomial_bounds(n, 0.10, SDS)
        log(f"weighted 90/10: v2 share {v2 / n:.4f} (count {v2}, 4 sd bounds "
            f"[{lo:.0f}, {hi:.0f}])")
        self.assertGreater(v1, 0)
        self.assertGreater(v2, 0)
        self.assertTrue(lo <= v2 <= hi, f"v2 got {v2} of {n}; expected within [{lo:.0f}, {hi:.0f}]")
        self.assertEqual(self.v1.wait_for_count(v1, 5), v1)
        self.assertEqual(self.v2.wait_for_count(v2, 5), v2)

    def test_mirror_100(self) -> None:
        self.apply_vs(self.manifest("11-virtualservice-mirror.yaml"))
        n = 200
        before = self.proxy.cluster_stats(self.v2_cluster)
        sent = self.send(n, [self.authority, HOST], method="GET")
        self.assertEqual({rid: r for rid, (_, r) in sent.items()
                          if r.status != 200 or r.json().get("server") != "v1"}, {},
                         "every response must be a 200 from v1 (the shadow's never reaches "
                         "the client)")
        got = self.v2.wait_for_count(n, SHADOW_WAIT)
        self.assertEqual(got, n, f"v2 received {got} shadows of {n} requests")
        self.wait_shadows(before, self.v2_cluster, self.v2)
        time.sleep(0.3)
        self.assertEqual(self.v2.count(), n, "one shadow per request, no more")
        self.assertEqual(self.v1.count(), n)
        primaries = {r["x_request_id"]: r for r in self.v1.requests}
        shadows = {r["x_request_id"]: r for r in self.v2.requests}
        self.assertEqual(set(primaries), set(sent))
        self.assertEqual(set(shadows), set(sent), "shadows must keep the x-request-id")
        wrong = []
        for rid, (authority, _) in sent.items():
            want_host = (f"{HOST}-shadow:{self.port}" if authority == self.authority
                         else f"{HOST}-shadow")
            sh = shadows[rid]
            if (sh["host"], sh["x_envoy_internal"], sh["method"], sh["path"]) != (
                    want_host, "true", "GET", primaries[rid]["path"]):
                wrong.append((authority, sh))
            if primaries[rid]["host"] != authority:
                wrong.append((authority, primaries[rid]))
        self.assertEqual(wrong[:5], [], f"{len(wrong)} wrong shadows/primaries")
        after = self.proxy.cluster_stats(self.v2_cluster)
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in
                 ("upstream_rq_shadow_sent", "upstream_rq_shadow_failed",
                  "upstream_rq_shadow_dropped")}
        log(f"mirror 100 %: v1 {self.v1.count()}, v2 shadows {self.v2.count()}, stats {delta}")
        self.assertEqual(delta, {"upstream_rq_shadow_sent": n, "upstream_rq_shadow_failed": 0,
                                 "upstream_rq_shadow_dropped": 0})

        # Without an x-request-id from the client, the proxy makes one; the shadow carries
        # the same one as its primary.
        self.settle_and_clear()
        m = 20
        for i in range(m):
            r = self.client.request("GET", f"/noid/{i}", self.authority)
            self.assertEqual(r.status, 200, r)
        self.assertEqual(self.v2.wait_for_count(m, SHADOW_WAIT), m)
        primaries = {r["path"]: r for r in self.v1.requests}
        shadows = {r["path"]: r for r in self.v2.requests}
        self.assertEqual(set(shadows), {f"/noid/{i}" for i in range(m)})
        for path, sh in shadows.items():
            self.assertTrue(primaries[path]["x_request_id"], primaries[path])
            self.assertEqual(sh["x_request_id"], primaries[path]["x_request_id"], path)

    def measure_mirror_fraction(self, n: int) -> tuple[int, dict]:
        before = self.proxy.cluster_stats(self.v2_cluster)
        res = ph.run_load(self.port, self.authority, n, threads=4)
        self.assertEqual(res.errors, [], res.errors[:5])
        self.assertEqual(res.ok, n, res.bad)
        self.assertEqual(dict(res.servers), {"v1": n})
        sent = self.wait_shadows(before, self.v2_cluster, self.v2)
        after = self.proxy.cluster_stats(self.v2_cluster)
        delta = {k: after.get(k, 0) - before.get(k, 0) for k in
                 ("upstream_rq_shadow_sent", "upstream_rq_shadow_failed",
                  "upstream_rq_shadow_dropped")}
        shadows = self.v2.count()
        self.assertEqual(shadows, sent, f"shadows received {shadows} != sent {sent}")
        self.assertEqual(self.v1.wait_for_count(n, 5), n)
        return shadows, {"load": res.summary(), **delta}

    def test_mirror_25(self) -> None:
        self.apply_vs(ph.virtual_service("httpbin", HOST, [("v1", 100)],
                                         mirror={"host": HOST, "subset": "v2"},
                                         mirror_percentage=25))
        n = 2000
        shadows, info = self.measure_mirror_fraction(n)
        lo, hi = harness.binomial_bounds(n, 0.25, SDS)
        log(f"mirror 25 %: {shadows}/{n} = {shadows / n:.4f} (bounds [{lo:.0f}, {hi:.0f}]) "
            f"{info}")
        self.assertTrue(lo <= shadows <= hi,
                        f"{shadows} shadows of {n}; expected within [{lo:.0f}, {hi:.0f}]")
        self.assertEqual(info["upstream_rq_shadow_failed"], 0)
        self.assertEqual(info["upstream_rq_shadow_dropped"], 0)

    def test_runtime_override_without_route_push(self) -> None:
        self.apply_vs(ph.virtual_service("httpbin", HOST, [("v1", 100)],
                                         mirror={"host": HOST, "subset": "v2"},
                                         mirror_percentage=25))
        versions_before = self.versions(self.cp)
        accepted_before = self.proxy.stats()["control_plane.update_accepted"]
        self.proxy.runtime_modify(RUNTIME_KEY, 90)
        entry = poll(lambda: self.proxy.runtime().get(RUNTIME_KEY), 5,
                     what=f"/runtime to show {RUNTIME_KEY}")
        self.assertEqual(entry.get("final_value"), "90", entry)
        self.assertEqual(entry.get("layer"), "admin", entry)
        n = 1000
        shadows, info = self.measure_mirror_fraction(n)
        lo, hi = harness.binomial_bounds(n, 0.90, SDS)
        log(f"runtime override 90: {shadows}/{n} = {shadows / n:.4f} "
            f"(bounds [{lo:.0f}, {hi:.0f}]) {info}")
        self.assertTrue(lo <= shadows <= hi,
                        f"{shadows} shadows of {n} after the override to 90; "
                        f"expected within [{lo:.0f}, {hi:.0f}]")
        versions_after = self.versions(self.cp)
        self.assertEqual(versions_after["RDS"], versions_before["RDS"],
                         "a runtime override must not need a route push")
        self.assertEqual(versions_after, versions_before)
        self.assertEqual(self.proxy.stats()["control_plane.update_accepted"], accepted_before,
                         "the proxy must not have taken any xDS update")

        # 0 turns the mirror off, still without a push.
        self.settle_and_clear()
        self.proxy.runtime_modify(RUNTIME_KEY, 0)
        poll(lambda: self.proxy.runtime().get(RUNTIME_KEY, {}).get("final_value") == "0", 5,
             what=f"/runtime to show {RUNTIME_KEY} = 0")
        shadows, info = self.measure_mirror_fraction(300)
        log(f"runtime override 0: {shadows}/300 shadows {info}")
        self.assertEqual(shadows, 0)
        self.assertEqual(self.versions(self.cp), versions_before)
        self.assertEqual(self.proxy.stats()["control_plane.update_accepted"], accepted_before)

    def test_post_body_intact(self) -> None:
        self.apply_vs(self.manifest("11-virtualservice-mirror.yaml"))
        rng = random.Random(20261125)
        bodies = {
            "64KiB": os.urandom(64 * 1024),
            "1MiB": os.urandom(1024 * 1024),
        }
        chunked_body = os.urandom(100 * 1024 + 17)
        sent = {}
        for label, body in bodies.items():
            rid = f"body-{label}-{uuid.uuid4()}"
            r = self.client.request("POST", f"/post/{label}", self.authority,
                                    {"x-request-id": rid,
                                     "Content-Type": "application/octet-stream"}, body=body)
            self.assertEqual(r.status, 200, r)
            sent[rid] = body
        # Chunked: odd chunk sizes, Transfer-Encoding: chunked, no Content-Length.
        chunks, pos = [], 0
        while pos < len(chunked_body):
            size = rng.randint(1, 9000)
            chunks.append(chunked_body[pos:pos + size])
            pos += size
        rid = f"body-chunked-{uuid.uuid4()}"
        r = self.client.request("POST", "/post/chunked", self.authority,
                                {"x-request-id": rid, "Transfer-Encoding": "chunked",
                                 "Content-Type": "application/octet-stream"},
                                body=iter(chunks), chunked=True)
        self.assertEqual(r.status, 200, r)
        sent[rid] = chunked_body
        self.assertEqual(self.v2.wait_for_count(len(sent), SHADOW_WAIT), len(sent))
        primaries = {x["x_request_id"]: x for x in self.v1.requests}
        shadows = {x["x_request_id"]: x for x in self.v2.requests}
        for rid, body in sent.items():
            digest = hashlib.sha256(body).hexdigest()
            for where, rec in (("v1", primaries.get(rid)), ("v2 shadow", shadows.get(rid))):
                self.assertIsNotNone(rec, f"{rid} did not reach {where}")
                self.assertEqual((rec["method"], rec["body_len"], rec["body_sha256"]),
                                 ("POST", len(body), digest), f"{rid} at {where}: {rec}")
            self.assertEqual(shadows[rid]["host"], f"{HOST}-shadow:{self.port}")
        log(f"bodies intact at v1 and the v2 shadow: "
            f"{ {rid.split('-')[1]: len(b) for rid, b in sent.items()} }")

    def test_no_shadow_when_the_primary_has_no_upstream(self) -> None:
        # Envoy mirrors only requests that get an upstream: with no healthy host for the
        # primary (here a subset no endpoint carries) the client gets 503 and no shadow is
        # sent (ENVOY-SEMANTICS: "No shadow when the request gets no upstream at all").
        self.apply_synced(self.cp, ph.destination_rule("httpbin", HOST,
                                                       subsets=("v1", "v2", "v3")))
        self.apply_vs(ph.virtual_service("httpbin", HOST, [("v3", 100)],
                                         mirror={"host": HOST, "subset": "v2"},
                                         mirror_percentage=100))
        v3_cluster = f"outbound|{self.port}|v3|{HOST}"
        before = self.proxy.cluster_stats(self.v2_cluster)
        n = 20
        sent = self.send(n, [self.authority], path="/no-upstream")
        self.assertEqual([r.status for _, r in sent.values()], [503] * n,
                         [r for _, r in sent.values()][:3])
        self.assertEqual(self.proxy.cluster_stats(v3_cluster).get("upstream_cx_none_healthy"),
                         n)
        time.sleep(1.0)  # a shadow, if one was sent, lands well within this
        after = self.proxy.cluster_stats(self.v2_cluster)
        shadows_sent = (after.get("upstream_rq_shadow_sent", 0)
                        - before.get("upstream_rq_shadow_sent", 0))
        log(f"no upstream for the primary: {n} x 503; shadows sent {shadows_sent}, "
            f"received by v2 {self.v2.count()}")
        self.assertEqual((shadows_sent, self.v2.count()), (0, 0),
                         "requests that get no upstream must not be mirrored")
        self.assertEqual(self.v1.count(), 0)

    def test_nack_listener_cannot_bind(self) -> None:
        self.apply_vs(self.manifest("10-virtualservice-all-v1.yaml"))
        blocked_port = harness.free_port()
        holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(holder.close)
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("0.0.0.0", blocked_port))
        holder.listen(8)
        rejected_before = self.proxy.stats().get("control_plane.update_rejected", 0)
        lds_before = self.versions(self.cp)["LDS"][0]
        self.cp.apply_ok(ph.service_entry("blocked", "blocked", blocked_port,
                                          [(self.v1.port, {"version": "v1"})]))

        def lds_nack():
            st = self.cp.latest_stream(self.NODE_ID)
            lds = st["types"]["LDS"]
            return lds if lds.get("state") == "NACK" else None
        lds = poll(lds_nack, ph.SYNC_TIMEOUT, what="LDS to be NACKed by the proxy")
        message = (lds.get("lastNack") or {}).get("message", "")
        log(f"LDS NACK: {message!r}")
        self.assertIn("cannot bind", message)
        self.assertIn(str(blocked_port), message)
        self.assertNotEqual(lds.get("sentVersion"), lds_before)
        self.assertEqual(lds.get("ackedVersion"), lds_before,
                         "the proxy keeps (and reports) the previous listener version")
        self.assertGreater(self.proxy.stats().get("control_plane.update_rejected", 0),
                           rejected_before)
        # The previous listener keeps serving.
        sent = self.send(20, [self.authority])
        self.assertEqual([r.status for _, r in sent.values()], [200] * 20)
        fresh = ph.KeepAliveClient(self.port)
        try:
            self.assertEqual(fresh.request("GET", "/after-nack", HOST).status, 200)
        finally:
            fresh.close()
        listeners = [l["name"] for c in self.proxy.config_dump()["configs"]
                     if c["@type"].endswith("ListenersConfigDump")
                     for l in c["dynamic_listeners"]]
        self.assertEqual(listeners, [f"0.0.0.0_{self.port}"])
        self.assertTrue(self.proxy.ready())


class ProxyStaticNackTest(ph.ProxyTestCase):
    """Static-mode control planes serving resources the proxy must refuse."""

    def fixture(self, port: int, upstream_port: int, hcm_extra: dict | None = None,
                routes: list[dict] | None = None) -> list[dict]:
        route = harness.simple_route("r", ["*"], "c", vhost="all")
        if routes is not None:
            route["virtualHosts"][0]["routes"] = routes
        return [
            harness.eds_cluster("c"),
            harness.load_assignment("c", [("127.0.0.1", upstream_port)]),
            harness.tcp_listener(f"0.0.0.0_{port}", "0.0.0.0", port, "r", **(hcm_extra or {})),
            route,
        ]

    def wait_nack(self, cp, type_: str) -> dict:
        def nacked():
            st = cp.latest_stream(self.NODE_ID)
            t = st["types"][type_]
            return t if t.get("state") == "NACK" else None
        return poll(nacked, ph.SYNC_TIMEOUT, what=f"{type_} to be NACKed by the proxy")

    def test_unsupported_http_filter(self) -> None:
        up = self.start_upstream("v1")
        port = harness.free_port()
        cors = {"name": "envoy.filters.http.cors",
                "typedConfig": {"@type": harness.ROUTER_TYPE}}
        bad = self.fixture(port, up.port,
                           {"httpFilters": [cors, harness.router_filter()]})
        cp = self.start_control_plane(bad)
        proxy = self.start_proxy(cp)
        lds = self.wait_nack(cp, "LDS")
        message = (lds.get("lastNack") or {}).get("message", "")
        log(f"LDS NACK (cors filter): {message!r}")
        self.assertIn("unsupported HTTP filter", message)
        self.assertIn("envoy.filters.http.cors", message)
        self.assertGreater(proxy.stats().get("control_plane.update_rejected", 0), 0)
        self.assertFalse(proxy.ready())
        self.assertFalse(harness.tcp_accepts(port), "a rejected listener must not be bound")
        # The fixed listener is accepted and serves.
        status, body = cp.put_resources(self.fixture(port, up.port))
        self.assertEqual(status, 200, body)
        poll(proxy.ready, ph.SYNC_TIMEOUT, what="the fixed listener to be accepted")
        client = ph.KeepAliveClient(port)
        self.addCleanup(client.close)
        r = poll(lambda: (lambda r: r if r.status == 200 else None)(
            client.request("GET", "/", "anything")), 10, what="the fixed listener to serve")
        self.assertEqual(r.json()["server"], "v1")
        self.wait_synced(cp)

    def test_bad_route_regex(self) -> None:
        up = self.start_upstream("v1")
        port = harness.free_port()
        routes = [{"name": "bad-regex", "match": {"safeRegex": {"regex": "([a-z"}},
                   "route": {"cluster": "c"}},
                  {"name": "rest", "match": {"prefix": "/"}, "route": {"cluster": "c"}}]
        cp = self.start_control_plane(self.fixture(port, up.port, routes=routes))
        proxy = self.start_proxy(cp)
        rds = self.wait_nack(cp, "RDS")
        message = (rds.get("lastNack") or {}).get("message", "")
        log(f"RDS NACK (regex): {message!r}")
        self.assertIn("([a-z", message)
        self.assertIn("regex", message)
        self.assertGreater(proxy.stats().get("control_plane.update_rejected", 0), 0)


class UnixSocketUpstreamTest(ph.ProxyTestCase):
    """A ServiceEntry endpoint (or WorkloadEntry) at ``unix:///path``: the control plane
    serves it as Envoy's pipe address, and the proxy connects to the socket."""

    def test_requests_reach_an_upstream_on_a_unix_socket(self) -> None:
        import http.server
        import socketserver
        import tempfile
        import threading

        directory = tempfile.mkdtemp(prefix="shadowplane-uds-")
        path = os.path.join(directory, "web.sock")
        seen: list[str] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                seen.append(self.headers.get("Host", ""))
                body = b"from the unix socket\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def address_string(self) -> str:  # a Unix peer has no address
                return "unix"

            def log_message(self, *args) -> None:
                pass

        server = socketserver.ThreadingUnixStreamServer(path, Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.addCleanup(lambda: (server.shutdown(), server.server_close(),
                                 __import__("shutil").rmtree(directory, ignore_errors=True)))
        cp = self.start_store_control_plane()
        self.start_proxy(cp)
        self.wait_synced(cp)
        port = harness.free_port()
        self.apply_synced(cp, ph.resource("ServiceEntry", "uds", {
            "hosts": ["uds.local"], "location": "MESH_INTERNAL", "resolution": "STATIC",
            "ports": [{"number": port, "name": "http", "protocol": "HTTP"}],
            "endpoints": [{"address": f"unix://{path}"}]}))
        served = json.loads(harness.http_send(
            "GET", cp.admin_url + f"/api/v1/nodes/{self.NODE_ID}/config")[1])
        assignment = next(r for r in served["resources"]
                          if r.get("clusterName") == f"outbound|{port}||uds.local")
        endpoint = assignment["endpoints"][0]["lbEndpoints"][0]["endpoint"]
        self.assertEqual(endpoint["address"], {"pipe": {"path": path}})
        client = ph.KeepAliveClient(port)
        self.addCleanup(client.close)
        response = poll(lambda: (lambda r: r if r.status == 200 else None)(
            client.request("GET", "/hello", "uds.local")), 15, what="the listener to serve")
        self.assertEqual(response.body, b"from the unix socket\n")
        for i in range(20):
            self.assertEqual(client.request("GET", f"/again/{i}", "uds.local").status, 200)
        self.assertEqual(len(seen), 21)
        self.assertEqual(set(seen), {"uds.local"})


if __name__ == "__main__":
    unittest.main(verbosity=2)
