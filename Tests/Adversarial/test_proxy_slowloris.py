"""Issue 12, the proxy holds resources or misbehaves: downstream connections and request
heads are bounded, as Envoy bounds them.

The proxy runs with ``--request-headers-timeout 2s --idle-timeout 3s`` (LIMITS-SPEC.md:
defaults 10 s and 1 h), in front of the recording upstream.

- Slowloris: 200 connections each sending one byte of a request head per second, and 20
  that send nothing, are all closed by the proxy within the header timeout + 2 s (408, or
  nothing if no byte came), counted ``http.downstream_rq_header_timeout``; meanwhile a
  normal request every 100 ms is answered (200, within 1 s) and the proxy stays under
  200 MB (the defect: never closed).
- A keep-alive connection left idle after a request is closed within the idle timeout + 2 s.
- Request heads: 10,000 headers (~119 KB) -> 431, 101 headers -> 431, 100 -> 200, one
  61 KB header -> 431 (``--max-request-headers`` 100, ``--max-request-headers-kb`` 60),
  counted ``http.downstream_rq_header_overflow``; the upstream never sees a refused
  request (the defect: 10,000 headers forwarded).
- A 2 MB request body on a mirrored route with ``--max-request-body-bytes`` 1 MiB: 413.
- Two ``Host`` headers -> 400 (``http.downstream_rq_bad_request``), not forwarded (the
  defect: routed on the first, both forwarded). ``Connection: keep-alive, host`` does not
  strip Host from the upstream request (the defect: it did).

Run:  .venv-interop/bin/python Tests/Adversarial/test_proxy_slowloris.py
"""
from __future__ import annotations

import http.client
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import adversarial as adv  # noqa: E402
from adversarial import harness  # noqa: E402

HEADER_TIMEOUT = 2.0
IDLE_TIMEOUT = 3.0
SLACK = 2.0
MAX_BODY = 1024 * 1024
SLOW_CONNECTIONS = 200
SILENT_CONNECTIONS = 20
HOST = "web"

# The recording upstream is Python's http.server, which refuses more than 100 headers by
# itself (431): lifted here so a request the proxy forwards is answered 200 by the upstream
# and cannot pass for the proxy's own refusal.
http.client._MAXHEADERS = 20000  # type: ignore[attr-defined]


class SlowlorisTest(adv.AdversarialTestCase):
    TAG = "proxy-slowloris"

    def test_flags_exist(self) -> None:
        self.assert_options_exist("proxy", ["--request-headers-timeout", "--idle-timeout",
                                            "--max-request-headers", "--max-request-headers-kb",
                                            "--max-request-body-bytes"])

    def setUp(self) -> None:
        super().setUp()
        self.v1 = self.start_upstream("v1")
        self.v2 = self.start_upstream("v2")
        self.port = harness.free_port()
        route = {
            "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
            "name": "web-route",
            "virtualHosts": [{"name": "all", "domains": ["*"], "routes": [
                {"match": {"prefix": "/mirrored"}, "route": {
                    "cluster": "web", "requestMirrorPolicies": [adv.mirror_policy("shadow")]}},
                {"match": {"prefix": "/"}, "route": {"cluster": "web"}}]}]}
        resources = adv.proxy_resources(self.port, route, [
            adv.static_cluster("web", self.v1.port), adv.static_cluster("shadow", self.v2.port)])
        self.cp, self.proxy = self.serve_through_proxy(
            resources, self.port, adv.options(
                "proxy", request_headers_timeout="2s", idle_timeout="3s",
                max_request_body_bytes=str(MAX_BODY)))

    def normal_traffic(self) -> adv.LatencyProbe:
        return self.probe(f"http://127.0.0.1:{self.port}/normal", "normal requests",
                          timeout=5.0, headers={"Host": HOST})

    def request(self, head: bytes, timeout: float = 10.0):
        """Sends a raw request head (and no body); (status, headers) or the exception."""
        try:
            status, headers, _ = adv.raw_exchange(self.port, head, timeout)
            return status, headers
        except Exception as e:  # noqa: BLE001 - recorded
            return e

    # -- slow and idle connections --------------------------------------------------------

    def test_slow_request_heads_are_cut_off(self) -> None:
        watch = self.watch_rss(self.proxy, adv.PROXY_RSS_LIMIT)
        traffic = self.normal_traffic()
        head = b"GET /slow HTTP/1.1\r\nHost: web\r\nX-Slow: " + b"a" * 64
        socks: dict[int, tuple[socket.socket, bool]] = {}
        for i in range(SLOW_CONNECTIONS + SILENT_CONNECTIONS):
            s = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            socks[i] = (s, i < SLOW_CONNECTIONS)
            self.addCleanup(s.close)
        t0 = time.monotonic()
        closed_at: dict[int, float] = {}
        sent = 0
        deadline = t0 + HEADER_TIMEOUT + SLACK + 2.0
        while time.monotonic() < deadline and len(closed_at) < len(socks):
            for i, (s, slow) in socks.items():
                if i in closed_at:
                    continue
                if adv.closed_by_peer(s):
                    closed_at[i] = time.monotonic() - t0
                    continue
                if slow and sent < len(head):
                    try:
                        s.send(head[sent:sent + 1])
                    except OSError:
                        closed_at[i] = time.monotonic() - t0
            sent += 1
            time.sleep(max(0.0, t0 + sent - time.monotonic()))  # one byte per second
        open_left = len(socks) - len(closed_at)
        slowest = max(closed_at.values(), default=None)
        self.log(f"{len(closed_at)} of {len(socks)} connections closed by the proxy within "
                 f"{time.monotonic() - t0:.1f} s (slowest {slowest}), {open_left} still open")
        self.assert_alive(self.proxy, "during the slowloris")
        self.assert_rss_below(watch, adv.PROXY_RSS_LIMIT, "proxy RSS")
        self.assert_responsive(traffic, 1.0, "normal requests during the slowloris")
        self.assertEqual(open_left, 0, f"{open_left} slow or silent connections never closed")
        self.assertLessEqual(slowest, HEADER_TIMEOUT + SLACK,
                             f"the last connection closed after {slowest:.1f} s")
        stats = self.proxy.stats()
        self.assertGreaterEqual(stats.get("http.downstream_rq_header_timeout", 0),
                                SLOW_CONNECTIONS, "header timeouts are counted")

    def test_idle_keep_alive_connection_is_closed(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port), timeout=5) as s:
            s.sendall(b"GET /once HTTP/1.1\r\nHost: web\r\n\r\n")
            status, _, _ = adv.read_http_response(s, 5)
            self.assertEqual(status, 200)
            t0 = time.monotonic()
            closed = None
            while time.monotonic() - t0 < IDLE_TIMEOUT + SLACK + 1.0:
                if adv.closed_by_peer(s):
                    closed = time.monotonic() - t0
                    break
                time.sleep(0.1)
        self.log(f"idle keep-alive connection closed after {closed} s")
        self.assertIsNotNone(closed, f"an idle keep-alive connection is still open after "
                                     f"{IDLE_TIMEOUT + SLACK + 1.0:.0f} s")
        self.assertLessEqual(closed, IDLE_TIMEOUT + SLACK)
        stats = self.proxy.stats()
        self.assertGreaterEqual(stats.get("http.downstream_cx_idle_timeout", 0)
                                + stats.get("http.downstream_rq_header_timeout", 0), 1,
                                "the close is counted")

    # -- request heads --------------------------------------------------------------------

    def head_with(self, extra: list[tuple[str, str]], host_lines: int = 1) -> bytes:
        lines = [b"GET /headers HTTP/1.1"] + [b"Host: web"] * host_lines
        lines += [f"{k}: {v}".encode() for k, v in extra]
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def test_request_head_limits(self) -> None:
        traffic = self.normal_traffic()
        # Only the heads sent here (path /headers): the normal traffic (/normal) reaches v1 too.
        def heads_seen() -> int:
            return self.v1.count(lambda r: r.get("path") == "/headers")
        before = heads_seen()
        cases = {
            "10,000 headers": (self.head_with([(f"X-H{i}", "v") for i in range(10_000)]), 431),
            "101 headers": (self.head_with([(f"X-H{i}", "v") for i in range(100)]), 431),
            "100 headers": (self.head_with([(f"X-H{i}", "v") for i in range(99)]), 200),
            "one 61 KB header": (self.head_with([("X-Big", "b" * 61 * 1024)]), 431),
        }
        seen = {}
        for label, (head, _) in cases.items():
            seen[label] = self.request(head)
            self.log(f"{label} ({len(head)} bytes): {seen[label]!r:.200}")
        forwarded = heads_seen() - before
        self.assert_alive(self.proxy, "after the oversized heads")
        self.assert_responsive(traffic, 1.0, "normal requests")
        for label, (_, want) in cases.items():
            got = seen[label]
            self.assertIsInstance(got, tuple, f"{label}: {got!r}")
            by = "by the upstream" if "x-upstream" in got[1] else "by the proxy"
            self.assertEqual(got[0], want, f"{label}: answered {got[0]} ({by})")
            if want == 431:
                self.assertNotIn("x-upstream", got[1], f"{label}: must not reach the upstream")
        self.assertEqual(forwarded, 1, "only the request with 100 headers reaches the upstream")
        self.assertGreaterEqual(self.proxy.stats().get("http.downstream_rq_header_overflow", 0),
                                3)

    def test_oversized_body_is_refused(self) -> None:
        """A 2 MB body on a mirrored route (the proxy buffers it for the shadow), with
        ``--max-request-body-bytes`` 1 MiB: 413, counted ``http.downstream_rq_too_large``,
        neither upstream sees it; a body under the limit is forwarded and mirrored."""
        before = (self.v1.count(), self.v2.count())
        body = b"x" * (2 * MAX_BODY)
        got = self.request(b"POST /mirrored/big HTTP/1.1\r\nHost: web\r\nContent-Length: "
                           + str(len(body)).encode() + b"\r\n\r\n" + body)
        self.log(f"2 MB body: {got!r:.200}")
        self.assert_alive(self.proxy, "after the big body")
        self.assertIsInstance(got, tuple, got)
        self.assertEqual(got[0], 413, got)
        self.assertEqual((self.v1.count(), self.v2.count()), before, "not forwarded")
        self.assertGreaterEqual(self.proxy.stats().get("http.downstream_rq_too_large", 0), 1)
        small = b"y" * (MAX_BODY // 2)
        got = self.request(b"POST /mirrored/small HTTP/1.1\r\nHost: web\r\nContent-Length: "
                           + str(len(small)).encode() + b"\r\n\r\n" + small)
        self.assertEqual(got[0] if isinstance(got, tuple) else got, 200)

    def test_two_host_headers_are_refused(self) -> None:
        before = self.v1.count()
        two = self.request(self.head_with([], host_lines=2))
        self.log(f"two Host headers: {two!r:.200}")
        self.assertIsInstance(two, tuple, two)
        self.assertEqual(two[0], 400, f"two Host headers: {two!r:.300}")
        self.assertNotIn("x-upstream", two[1], "must not reach the upstream")
        self.assertEqual(self.v1.count(), before)
        self.assertGreaterEqual(self.proxy.stats().get("http.downstream_rq_bad_request", 0), 1)

    def test_connection_header_cannot_remove_host(self) -> None:
        before = self.v1.count()
        rid = "connection-names-host"
        got = self.request(b"GET /conn HTTP/1.1\r\nHost: web\r\nConnection: keep-alive, host\r\n"
                           b"x-request-id: " + rid.encode() + b"\r\n\r\n", timeout=5)
        self.assertIsInstance(got, tuple, got)
        self.assertEqual(got[0], 200, got)
        self.v1.wait_for_count(before + 1, 5)
        record = next((r for r in self.v1.requests if r.get("x_request_id") == rid), None)
        self.assertIsNotNone(record, "the request must reach the upstream")
        self.assertEqual(record["host"], HOST,
                         "Connection: host must not remove Host from the upstream request")


if __name__ == "__main__":
    unittest.main(verbosity=2)
