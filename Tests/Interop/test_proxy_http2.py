"""The bundled proxy over HTTP/2 cleartext with prior knowledge (h2c), against real HTTP/2
clients (curl and nghttp2's ``nghttp`` and ``h2load``, all on libnghttp2; ``h2raw`` from
the adversarial suite for what a conforming client never does): the same listener port
serves HTTP/1.1 and h2c; routing, a weighted split and 100 % mirroring behave as over
HTTP/1.1, the upstreams (and the shadows, ``Host: NAME-shadow``) are reached over HTTP/1.1;
many concurrent streams on one connection; a POST body arrives intact at the primary and
the shadow; the SETTINGS advertised, a client that opens too many streams, the header
limits, the drain when the listener goes away; and an 80/20 split with a 50 % mirror under h2load through real Envoy and through
our proxy, counts compared (skipped without Envoy).

Run with the interop venv:  .venv-interop/bin/python Tests/Interop/test_proxy_http2.py
The binary comes from SHADOWPLANE_BIN (default /work/main/.build/debug/shadowplane);
``nghttp``/``h2load`` come from Debian's nghttp2-client (``scripts/setup``).
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import struct
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, os.pardir, "Adversarial"))

import harness  # noqa: E402
import h2raw  # noqa: E402
import proxy_harness as ph  # noqa: E402
# A module, so its test classes are not collected here. Importing it sets
# SHADOWPLANE_XDS_MODE to sotw unless given (the proxies here then use state of the world).
import test_envoy_live as live  # noqa: E402
from test_proxy_e2e import HOST, SDS, SHADOW_WAIT, ProxyFixture  # noqa: E402

CLIENT_TIMEOUT = 60


def log(msg: str) -> None:
    print(f"[proxy-http2] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], stdin: bytes | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=CLIENT_TIMEOUT)


def curl_h2(port: int, path: str, authority: str, data_file: str | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, str, bytes]:
    """One request over h2c with prior knowledge: (status, HTTP version, body)."""
    cmd = ["curl", "-sS", "--http2-prior-knowledge", "-o", "-", "-w", "\n%{http_code} %{http_version}",
           "-H", f"Host: {authority}", f"http://127.0.0.1:{port}{path}"]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if data_file:
        cmd += ["--data-binary", f"@{data_file}", "-H", "Content-Type: application/octet-stream"]
    done = run(cmd)
    if done.returncode != 0:
        raise AssertionError(f"curl failed ({done.returncode}): {done.stderr.decode()[:500]}")
    body, _, tail = done.stdout.rpartition(b"\n")
    status, version = tail.decode().split()
    return int(status), version, body


# nghttp -s: " id  responseEnd requestStart  process code size request path"
NGHTTP_TIMING = re.compile(rb"^\s*\d+\s+\+\S+\s+\+\S+\s+\S+\s+(\d{3})\s+\S+\s+(\S+)\s*$", re.M)


def nghttp(port: int, paths: list[str], authority: str, data_file: str | None = None,
           max_streams: int | None = None) -> dict[str, int]:
    """Every path as a stream of ONE h2c connection (nghttp sends them concurrently, up to
    the server's SETTINGS_MAX_CONCURRENT_STREAMS): {path: status}."""
    cmd = ["nghttp", "-n", "-s", "-H", f":authority: {authority}"]
    if data_file:
        cmd += ["-d", data_file]
    if max_streams:
        cmd += ["-M", str(max_streams)]
    cmd += [f"http://127.0.0.1:{port}{p}" for p in paths]
    done = run(cmd)
    if done.returncode != 0:
        raise AssertionError(f"nghttp failed ({done.returncode}): "
                             f"{done.stderr.decode()[:500]} {done.stdout.decode()[:500]}")
    return {m.group(2).decode(): int(m.group(1)) for m in NGHTTP_TIMING.finditer(done.stdout)}


def h2load(port: int, path: str, authority: str, n: int, clients: int, streams: int) -> dict:
    """h2load's summary: requests done/succeeded/failed and 2xx."""
    done = run(["h2load", "-n", str(n), "-c", str(clients), "-m", str(streams),
                "-H", f":authority: {authority}", f"http://127.0.0.1:{port}{path}"])
    out = done.stdout.decode()
    if done.returncode != 0:
        raise AssertionError(f"h2load failed ({done.returncode}): {out[-800:]} "
                             f"{done.stderr.decode()[-500:]}")
    req = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, "
                    r"(\d+) failed, (\d+) errored", out)
    codes = re.search(r"status codes: (\d+) 2xx", out)
    proto = re.search(r"Application protocol: (\S+)", out)
    if not req or not codes:
        raise AssertionError(f"unexpected h2load output:\n{out}")
    return {"total": int(req.group(1)), "done": int(req.group(2)),
            "succeeded": int(req.group(3)), "failed": int(req.group(4)),
            "errored": int(req.group(5)), "2xx": int(codes.group(1)),
            "protocol": proto.group(1) if proto else "?", "summary": out[-600:]}


@unittest.skipUnless(shutil.which("nghttp") and shutil.which("h2load") and shutil.which("curl"),
                     "needs nghttp and h2load (Debian nghttp2-client, scripts/setup) and curl")
class ProxyHTTP2Test(ProxyFixture):

    def http2_connections(self) -> int:
        return self.proxy.stats().get("http.downstream_cx_http2_total", 0)

    def test_routing_over_h2c_and_http1_on_the_same_port(self) -> None:
        self.apply_vs(self.manifest("10-virtualservice-all-v1.yaml"))
        before = self.http2_connections()
        status, version, body = curl_h2(self.port, "/get?over=h2", self.authority,
                                        headers={"x-request-id": "h2-one"})
        self.assertEqual((status, version), (200, "2"), body[:200])
        self.assertIn(b'"server": "v1"', body)
        # The same port still speaks HTTP/1.1.
        r = self.client.request("GET", "/get?over=http1", self.authority)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["server"], "v1")
        self.assertEqual(self.http2_connections() - before, 1)
        self.v1.wait_for_count(2, 5)
        by_path = {rec["path"]: rec for rec in self.v1.requests}
        h2 = by_path["/get?over=h2"]
        # Upstream is HTTP/1.1 whatever the downstream version; :authority became Host.
        self.assertEqual((h2["version"], h2["host"], h2["x_request_id"]),
                         ("HTTP/1.1", self.authority, "h2-one"))
        self.assertEqual(by_path["/get?over=http1"]["version"], "HTTP/1.1")

        # Routing follows the configuration: everything to v2 now.
        self.apply_vs(ph.virtual_service("httpbin", HOST, [("v2", 100)]))
        status, _, body = curl_h2(self.port, "/get?to=v2", self.authority)
        self.assertEqual(status, 200)
        self.assertIn(b'"server": "v2"', body)
        # No route for an unknown authority: the proxy's own 404, over HTTP/2.
        status, version, body = curl_h2(self.port, "/x", "nowhere.example")
        self.assertEqual((status, version), (404, "2"), body)
        log("h2c routes to v1, then v2; HTTP/1.1 on the same port; upstream HTTP/1.1")

    def test_weighted_split_under_h2load(self) -> None:
        self.apply_vs(ph.virtual_service("httpbin", HOST, [("v1", 80), ("v2", 20)]))
        n = 2000
        before = self.http2_connections()
        res = h2load(self.port, "/get", self.authority, n, clients=2, streams=16)
        log(f"weighted 80/20 over h2load: {res['summary']!r}")
        self.assertEqual(res["protocol"], "h2c")
        self.assertEqual((res["succeeded"], res["2xx"], res["failed"], res["errored"]),
                         (n, n, 0, 0))
        self.assertEqual(self.http2_connections() - before, 2)
        self.assertEqual(self.v1.wait_for_count(1, 5) and self.v1.count() + self.v2.count(), n)
        v2 = self.v2.count()
        lo, hi = harness.binomial_bounds(n, 0.20, SDS)
        log(f"weighted 80/20: v2 {v2}/{n} (4 sd bounds [{lo:.0f}, {hi:.0f}])")
        self.assertTrue(lo <= v2 <= hi, f"v2 got {v2} of {n}; expected within [{lo:.0f}, {hi:.0f}]")

    def test_mirror_100_with_many_concurrent_streams_on_one_connection(self) -> None:
        self.apply_vs(self.manifest("11-virtualservice-mirror.yaml"))
        n = 300  # more than SETTINGS_MAX_CONCURRENT_STREAMS (100): nghttp queues the rest
        paths = [f"/get?stream={i}" for i in range(n)]
        before_cx = self.http2_connections()
        before = self.proxy.cluster_stats(self.v2_cluster)
        statuses = nghttp(self.port, paths, self.authority)
        self.assertEqual(len(statuses), n, f"nghttp reported {len(statuses)} of {n} streams")
        self.assertEqual({p for p, s in statuses.items() if s != 200}, set())
        self.assertEqual(self.http2_connections() - before_cx, 1, "one connection for all")
        self.assertEqual(self.v1.wait_for_count(n, 10), n)
        self.assertEqual(self.v2.wait_for_count(n, SHADOW_WAIT), n)
        self.wait_shadows(before, self.v2_cluster, self.v2)
        time.sleep(0.3)
        self.assertEqual(self.v2.count(), n, "one shadow per stream, no more")
        primaries = {r["path"]: r for r in self.v1.requests}
        shadows = {r["path"]: r for r in self.v2.requests}
        self.assertEqual(set(primaries), set(paths))
        self.assertEqual(set(shadows), set(paths))
        wrong = [s for p, s in shadows.items()
                 if (s["host"], s["version"], s["x_envoy_internal"], s["x_request_id"]) !=
                 (f"{HOST}-shadow:{self.port}", "HTTP/1.1", "true", primaries[p]["x_request_id"])]
        self.assertEqual(wrong[:3], [], f"{len(wrong)} shadows not as Envoy sends them")
        after = self.proxy.cluster_stats(self.v2_cluster)
        self.assertEqual(after.get("upstream_rq_shadow_sent", 0)
                         - before.get("upstream_rq_shadow_sent", 0), n)
        log(f"mirror 100 % over one h2c connection: {n} streams, {n} primaries at v1, "
            f"{n} shadows at v2 (Host {HOST}-shadow:{self.port}, HTTP/1.1)")

    def test_post_body_intact_at_primary_and_shadow(self) -> None:
        self.apply_vs(self.manifest("11-virtualservice-mirror.yaml"))
        sent = {}
        for label, size in (("small", 1000), ("1MiB", 1 << 20), ("3MiB+7", (3 << 20) + 7)):
            path = os.path.join(self.scratch(), f"body-{label}")
            body = os.urandom(size)
            with open(path, "wb") as f:
                f.write(body)
            rid = f"h2-body-{label}"
            status, version, _ = curl_h2(self.port, f"/post/{label}", self.authority,
                                         data_file=path, headers={"x-request-id": rid})
            self.assertEqual((status, version), (200, "2"))
            sent[rid] = body
        # nghttp sends its body in DATA frames as the windows allow (64 KiB per stream).
        path = os.path.join(self.scratch(), "body-nghttp")
        body = os.urandom(700 * 1024 + 3)
        with open(path, "wb") as f:
            f.write(body)
        statuses = nghttp(self.port, ["/post/nghttp"], self.authority, data_file=path)
        self.assertEqual(statuses, {"/post/nghttp": 200})
        self.assertEqual(self.v2.wait_for_count(len(sent) + 1, SHADOW_WAIT), len(sent) + 1)
        primaries = {x["path"]: x for x in self.v1.requests}
        shadows = {x["path"]: x for x in self.v2.requests}
        expected = {f"/post/{rid[len('h2-body-'):]}": b for rid, b in sent.items()}
        expected["/post/nghttp"] = body
        for p, b in expected.items():
            digest = hashlib.sha256(b).hexdigest()
            for where, rec in (("v1", primaries.get(p)), ("v2 shadow", shadows.get(p))):
                self.assertIsNotNone(rec, f"{p} did not reach {where}")
                self.assertEqual((rec["method"], rec["body_len"], rec["body_sha256"],
                                  rec["content_length"]),
                                 ("POST", len(b), digest, str(len(b))), f"{p} at {where}")
        log(f"h2c bodies intact at v1 and the v2 shadow: "
            f"{ {p: len(b) for p, b in expected.items()} }")

    def test_settings_advertised_and_too_many_streams_refused(self) -> None:
        self.apply_vs(self.manifest("10-virtualservice-all-v1.yaml"))
        conn = h2raw.Connection(self.port, window=None)
        self.addCleanup(conn.close)
        self.assertIsNotNone(
            conn.read_until(lambda f: f.type == h2raw.SETTINGS and not f.flags & h2raw.ACK, 5),
            "the proxy sent no SETTINGS")
        settings = conn.server_settings
        self.assertEqual(settings.get(h2raw.SETTINGS_MAX_CONCURRENT_STREAMS), 100, settings)
        self.assertEqual(settings.get(h2raw.SETTINGS_INITIAL_WINDOW_SIZE), 65536, settings)
        self.assertEqual(settings.get(0x6), 60 * 1024, settings)  # MAX_HEADER_LIST_SIZE
        # 101 requests whose bodies never end: the 101st stream is one too many.
        before = self.proxy.stats()
        wire = b""
        for i in range(101):
            block = h2raw.header_block([
                (":method", "POST"), (":scheme", "http"), (":path", f"/post/{i}"),
                (":authority", self.authority)])
            wire += h2raw.frame(h2raw.HEADERS, h2raw.END_HEADERS, 1 + 2 * i, block)
        conn.send(wire)
        goaway = conn.read_until(lambda f: f.type == h2raw.GOAWAY, 10)
        self.assertIsNotNone(goaway, f"no GOAWAY; errors {conn.errors}")
        # Counted on the connection's event loop just after the GOAWAY left.
        harness.poll(lambda: self.proxy.stats()["http2.too_many_streams"]
                     - before.get("http2.too_many_streams", 0) == 1, 5,
                     what="http2.too_many_streams to count the connection")
        conn.drain(3)
        self.assertTrue(conn.closed, "the connection must close")
        log(f"SETTINGS {settings}; the 101st stream: {goaway!r}")

    def test_header_limits(self) -> None:
        """More fields than --max-request-headers reset the stream (Envoy's codec does the
        same); a header block over --max-request-headers-kb (SETTINGS_MAX_HEADER_LIST_SIZE)
        ends the connection. Both counted http2.header_overflow."""
        self.apply_vs(self.manifest("10-virtualservice-all-v1.yaml"))
        conn = h2raw.Connection(self.port, window=None)
        self.addCleanup(conn.close)
        self.assertIsNotNone(
            conn.read_until(lambda f: f.type == h2raw.SETTINGS and not f.flags & h2raw.ACK, 5))
        base = [(":method", "GET"), (":scheme", "http"), (":path", "/get"),
                (":authority", self.authority)]
        before = self.proxy.stats().get("http2.header_overflow", 0)
        many = base + [(f"x-field-{i}", "v") for i in range(101)]
        conn.send(h2raw.frame(h2raw.HEADERS, h2raw.END_HEADERS | h2raw.END_STREAM, 1,
                              h2raw.header_block(many)))
        reset = conn.read_until(lambda f: f.type == h2raw.RST_STREAM and f.stream == 1, 5)
        self.assertIsNotNone(reset, f"no RST_STREAM for 101 fields; errors {conn.errors}")
        self.assertTrue(conn.ping(5), "the connection stays up after a stream reset")
        harness.poll(lambda: self.proxy.stats()["http2.header_overflow"] - before == 1, 5,
                     what="http2.header_overflow to count the reset stream")
        # 70 KiB of header block, in a HEADERS frame and CONTINUATION frames of 16 KiB.
        block = h2raw.header_block(base + [("x-big", "b" * (70 * 1024))])
        pieces = [block[i:i + 16384] for i in range(0, len(block), 16384)]
        wire = h2raw.frame(h2raw.HEADERS, h2raw.END_STREAM, 3, pieces[0])
        for i, piece in enumerate(pieces[1:], start=1):
            wire += h2raw.frame(h2raw.CONTINUATION,
                                h2raw.END_HEADERS if i == len(pieces) - 1 else 0, 3, piece)
        conn.send(wire)
        goaway = conn.read_until(lambda f: f.type == h2raw.GOAWAY, 5)
        self.assertIsNotNone(goaway, f"no GOAWAY for a 70 KiB header block; {conn.errors}")
        harness.poll(lambda: self.proxy.stats()["http2.header_overflow"] - before == 2, 5,
                     what="http2.header_overflow to count the connection")
        self.assertEqual(self.v1.count(), 0, "neither request may reach the upstream")
        log(f"101 fields: {reset!r}; 70 KiB block: {goaway!r}")

    def test_listener_removed_drains_an_h2c_connection(self) -> None:
        """When its listener leaves the configuration, an HTTP/2 connection gets GOAWAY and
        closes (the HTTP/1.1 drain's counterpart: ChannelShouldQuiesceEvent, through
        swift-nio-http2's connection manager)."""
        self.apply_vs(self.manifest("10-virtualservice-all-v1.yaml"))
        conn = h2raw.Connection(self.port)
        self.addCleanup(conn.close)
        conn.send(h2raw.frame(h2raw.HEADERS, h2raw.END_HEADERS | h2raw.END_STREAM, 1,
                              h2raw.header_block([(":method", "GET"), (":scheme", "http"),
                                                  (":path", "/get"),
                                                  (":authority", self.authority)])))
        done = conn.read_until(lambda f: f.type == h2raw.DATA and f.stream == 1
                               and f.flags & h2raw.END_STREAM, 10)
        self.assertIsNotNone(done, f"no response on stream 1; frames {conn.frames[-5:]}")
        before = self.versions(self.cp)
        status, body = self.cp.delete_config("serviceentries", "default", "httpbin")
        self.assertEqual(status, 200, body)
        self.wait_synced(self.cp, before)
        goaway = conn.read_until(lambda f: f.type == h2raw.GOAWAY, 10)
        self.assertIsNotNone(goaway, "the draining connection must get GOAWAY")
        conn.drain(10)
        self.assertTrue(conn.closed, "the drained connection must close")
        log(f"listener removed: {goaway!r}, then closed")


@unittest.skipUnless(shutil.which("h2load"), "needs h2load (Debian nghttp2-client)")
class HTTP2SideBySideTest(live.SideBySideCase):
    """The same h2c load through real Envoy (its HTTP connection manager's codec AUTO takes
    h2c with prior knowledge) and through our proxy, each on its own control plane: an
    80/20 split with a 50 % mirror, the counts within binomial bounds and alike."""

    def test_h2c_split_and_mirror_counts_match_envoy(self) -> None:
        self.apply_both(lambda port: live.split_mirror_mesh(port, self.ups, (80, 20), 50.0))
        n = 2000
        counts = {}
        for dp, cp, node, port in self.both():
            for u in self.ups.values():
                u.clear()
            mirror = live.cluster(port, "shadow-a")
            before = dp.cluster_stats(mirror)
            res = h2load(port, "/get", f"{HOST}:{port}", n, clients=2, streams=16)
            log(f"{dp.name} over h2c: {res['summary']!r}")
            self.assertEqual((res["protocol"], res["succeeded"], res["2xx"]), ("h2c", n, n))
            shadows = self.wait_settled(dp, mirror, self.ups["shadow-a"], before)
            v1, v2 = self.ups["v1"].count(), self.ups["v2"].count()
            self.assertEqual(v1 + v2, n, f"{dp.name}: v1 {v1} + v2 {v2}")
            self.assertEqual(self.ups["shadow-a"].count(), shadows)
            self.assert_within(v2, n, 0.20, f"{dp.name} h2c split, v2")
            self.assert_within(shadows, n, 0.50, f"{dp.name} h2c mirror 50 %")
            # The shadows reach the mirror over HTTP/1.1 with the -shadow authority.
            hosts = {(r["host"], r["version"]) for r in self.ups["shadow-a"].requests}
            self.assertEqual(hosts, {(f"{HOST}-shadow:{port}", "HTTP/1.1")}, dp.name)
            counts[dp.name] = (v2, shadows)
        (e_v2, e_sh), (p_v2, p_sh) = counts["envoy"], counts["proxy"]
        self.assert_same_fraction(e_v2, p_v2, n, 0.20, "h2c split to v2")
        self.assert_same_fraction(e_sh, p_sh, n, 0.50, "h2c mirror 50 %")


if __name__ == "__main__":
    unittest.main(verbosity=2)
