"""Issue 12, the control plane hangs or balloons: what one xDS client can send is bounded.

- Delta flood: one client writes subscribe/unsubscribe requests as fast as it can for 15 s
  and never reads. Requests are read with back-pressure (LIMITS-SPEC.md), so the control
  plane stays under 300 MB and ``/healthz`` under 1 s, and once the client leaves its RSS
  falls back near where it started (the defect: an unbounded per-stream queue, +2.5 GB in
  15 s, kept after the client left).
- 100 NACKs with a 10 MB ``error_detail`` each: RSS < 300 MB; ``GET /api/v1/history``
  stays small (< 5 MB); the log grows < 10 MB; the stored message is cut at
  ``--max-error-detail-bytes`` (4096) with ``… (truncated, N bytes)`` (the defect: 1 GB RSS,
  a 990 MB history, 1 GB of log).
- A 4 MB ``node.id`` (five streams; and a 100 KB node metadata): the stream ends with
  INVALID_ARGUMENT naming the field, counted (``node_id_bytes``, ``node_bytes``); the log
  does not grow by megabytes (the defect: logged verbatim at open and close).
- A ``node.id`` with a newline cannot forge a log line; a long one is cut at 256 bytes.
- 150 streams on one HTTP/2 connection: ``SETTINGS_MAX_CONCURRENT_STREAMS`` (100) is
  advertised; over a raw HTTP/2 connection the 50 excess streams are reset with
  REFUSED_STREAM one by one while the connection and its first 100 streams live; with
  gRPC's own client, no stream dies with the connection and all 150 are served over one
  channel, the refused ones opened again (the defect: GOAWAY PROTOCOL_ERROR killing every
  stream on the connection).

Run:  .venv-interop/bin/python Tests/Adversarial/test_cp_xds_abuse.py
"""
from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import adversarial as adv  # noqa: E402
from adversarial import harness, poll  # noqa: E402
import h2raw  # noqa: E402

FLOOD_SECONDS = 15.0
# What RSS may keep after the flooding client left (and grow by meanwhile, unless the
# client was held back).
FLOOD_SLACK = 30 * adv.MB
NACKS = 100
# Under the control plane's --max-xds-request-bytes (4 MiB): the NACK is decoded and its
# message kept truncated. Larger requests are refused undecoded (the next test). 256 KiB,
# not nearer the limit: a debug build's protobuf decoding validates a string's UTF-8
# through unspecialized generics (perf: _swift_getGenericMetadata per byte), about 0.4 s of
# a core per MB, which on two shared cores alone holds /healthz past 1 s; a release build
# decodes a megabyte in about a millisecond.
NACK_BYTES = 256 * 1024
HUGE_NACK_BYTES = 10 * 1024 * 1024
NACK_DEADLINE = 45.0
ERROR_DETAIL_LIMIT = 4096
HISTORY_LIMIT = 5 * adv.MB
LOG_LIMIT = 10 * adv.MB
# 4 MB, and the request under gRPC's usual 4 MiB message limit: refused for its node.id,
# not for its size.
HUGE_NODE_ID = 4_000_000
STREAMS = 150
MAX_STREAMS = 100
# How gRPC C-core reports a stream the server refused (RST_STREAM REFUSED_STREAM, code 7).
REFUSED = re.compile(r"REFUSED_STREAM|error code 7")
ADS_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources"
DELTA_ADS_PATH = "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources"


def node(node_id: str, **fields):
    from envoy.config.core.v3 import base_pb2
    return base_pb2.Node(id=node_id, cluster=fields.pop("cluster", "adversarial"), **fields)


def discovery_request(type_: str, node_msg=None, names=(), **fields):
    from envoy.service.discovery.v3 import discovery_pb2
    req = discovery_pb2.DiscoveryRequest(type_url=harness.TYPE_URLS[type_],
                                         resource_names=list(names), **fields)
    if node_msg is not None:
        req.node.CopyFrom(node_msg)
    return req


def ads_stub(channel):
    from envoy.service.discovery.v3 import ads_pb2_grpc
    return ads_pb2_grpc.AggregatedDiscoveryServiceStub(channel)


class XdsAbuseTest(adv.AdversarialTestCase):
    TAG = "cp-xds-abuse"

    def test_flags_exist(self) -> None:
        self.assert_options_exist("control-plane", [
            "--max-node-id-bytes", "--max-node-metadata-bytes", "--max-error-detail-bytes",
            "--max-concurrent-streams"])

    def static_cp(self, **flags: str) -> harness.ControlPlane:
        return self.start_cp(adv.options("control-plane", **flags), store=False,
                             resources=harness.ads_fixture(), hard_stop=True)

    # -- a client that writes and never reads ---------------------------------------------

    def test_delta_flood_without_reading(self) -> None:
        """Over a raw HTTP/2 connection (Python's gRPC client writes ~1k messages/s; this
        writes as fast as the server takes them, ~25k/s against a debug build),
        DeltaAggregatedResources requests alternately subscribing and unsubscribing two
        resources, for 15 s. HTTP/2 flow control is honoured, but no credit is ever given
        back for the responses: to gRPC, the client never reads."""
        from envoy.service.discovery.v3 import discovery_pb2
        cp = self.static_cp()
        watch = self.watch_rss(cp, adv.CP_RSS_LIMIT)
        probe = self.probe_healthz(cp)
        time.sleep(0.5)
        before = watch.current
        cds = harness.TYPE_URLS["CDS"]
        first = discovery_pb2.DeltaDiscoveryRequest(
            type_url=cds, node=node("flooder"), resource_names_subscribe=["cluster-a"])
        sub = discovery_pb2.DeltaDiscoveryRequest(
            type_url=cds, resource_names_subscribe=["cluster-a", "greeter"])
        unsub = discovery_pb2.DeltaDiscoveryRequest(
            type_url=cds, resource_names_unsubscribe=["cluster-a", "greeter"])
        messages = [h2raw.grpc_message(m.SerializeToString()) for m in [sub, unsub] * 100]
        # Flow control is honoured both ways, as any HTTP/2 client does, but the responses
        # are never consumed: no credit goes back for them.
        conn = h2raw.Connection(cp.xds_port, window=None)
        conn.return_credit = False
        conn.keep_frames = False
        self.addCleanup(conn.close)
        conn.send(conn.grpc_headers(1, DELTA_ADS_PATH))
        conn.send_within_window(1, [h2raw.grpc_message(first.SerializeToString())], 5)
        sent = 0
        held_back = 0.0
        tcp_full = False
        t0 = time.monotonic()
        while time.monotonic() - t0 < FLOOD_SECONDS and not watch.exceeded \
                and cp.proc.poll() is None:
            t1 = time.monotonic()
            try:
                n = conn.send_within_window(1, messages, 0.5)
            except (socket.timeout, TimeoutError):
                tcp_full = True  # not even the socket takes more: held back by TCP itself
                break
            except OSError as e:
                self.log(f"the connection failed after {sent} requests: {e!r}")
                break
            if conn.closed:
                self.log(f"the server closed the connection after {sent} requests")
                break
            sent += n
            if n == 0:
                held_back += time.monotonic() - t1  # no credit: what back-pressure looks like
        elapsed = time.monotonic() - t0
        flood_peak = watch.peak
        self.log(f"flood: ~{sent} requests written in {elapsed:.1f} s ({sent / elapsed:.0f}/s), "
                 f"held back {held_back:.1f} s{' then by TCP' if tcp_full else ''}, server "
                 f"resets {conn.errors}; RSS {adv.mb(before)} -> peak {adv.mb(flood_peak)}")
        conn.close()
        # After the client leaves, the memory it cost must be given back (some slack).
        after = None
        if cp.proc.poll() is None:
            time.sleep(3.0)
            after = watch.current
            self.log(f"3 s after the client left: RSS {adv.mb(after)}")
        self.assert_alive(cp, "after the delta flood")
        self.assert_rss_below(watch, adv.CP_RSS_LIMIT, "control plane RSS during the flood")
        self.assert_responsive(probe, adv.HEALTHZ_LIMIT, "/healthz during the flood")
        self.assertLess(after, before + FLOOD_SLACK,
                        f"RSS after the client left: {adv.mb(after)} (before {adv.mb(before)})")
        # What the requests it took cost while it flooded: either the client was slowed (the
        # spec's back-pressure), or taking its requests cost the server next to nothing.
        slowed = tcp_full or held_back >= FLOOD_SECONDS / 2 or conn.errors
        growth = flood_peak - before
        self.assertTrue(slowed or growth < FLOOD_SLACK,
                        f"the server took ~{sent} requests in {elapsed:.0f} s from a client that "
                        f"reads nothing, held it back only {held_back:.1f} s, and grew by "
                        f"{adv.mb(growth)} meanwhile")

    # -- NACKs with a huge error_detail ---------------------------------------------------

    def test_a_request_over_the_message_limit_ends_only_its_stream(self) -> None:
        """A NACK of 10 MB is over --max-xds-request-bytes (4 MiB): gRPC refuses the message
        undecoded and ends that stream; nothing of it is kept or logged, and the control
        plane serves on."""
        cp = self.static_cp()
        log_before = cp.log_bytes
        s = harness.AdsStream(cp.xds_address, "huge-nacker")
        self.addCleanup(s.close)
        s.request("CDS", [])
        resp = s.recv(timeout=10, type_="CDS")
        s.request("CDS", [], nonce=resp.nonce, error="E" * HUGE_NACK_BYTES)
        ended = poll(lambda: not cp.streams_of("huge-nacker"), 10,
                     what="the stream with the huge request to end")
        self.assertTrue(ended)
        self.assertLess(cp.log_bytes - log_before, 64 * 1024, "nothing of it is logged")
        status, _ = harness.http_request("GET", cp.admin_url + "/healthz")
        self.assertEqual(status, 200)
        other = harness.AdsStream(cp.xds_address, "after-huge")
        self.addCleanup(other.close)
        other.request("CDS", [])
        self.assertIsNotNone(other.recv(timeout=10, type_="CDS"))

    def test_nacks_with_huge_error_detail(self) -> None:
        """100 NACKs of 256 KiB, five per stream (CDS, LDS, RDS, EDS, RTDS), streams one
        after the other. The attack stops early once a bound is already broken (the log
        past 10 MB, RSS past 300 MB, a /healthz over 1 s): the outcome is decided."""
        cp = self.static_cp()
        watch = self.watch_rss(cp, adv.CP_RSS_LIMIT)
        probe = self.probe_healthz(cp)
        log_before = cp.log_bytes
        message = "E" * NACK_BYTES
        subscriptions = [("CDS", []), ("LDS", []), ("RDS", ["main-route"]),
                         ("EDS", ["cluster-a"]), ("RTDS", ["rtds-layer"])]

        def decided() -> str | None:
            if cp.log_bytes - log_before >= LOG_LIMIT:
                return f"the log grew by {adv.mb(cp.log_bytes - log_before)}"
            if watch.peak >= adv.CP_RSS_LIMIT:
                return f"RSS reached {adv.mb(watch.peak)}"
            if probe.max_latency >= adv.HEALTHZ_LIMIT:
                return f"/healthz took {probe.max_latency:.1f} s"
            if cp.proc.poll() is not None:
                return "the control plane exited"
            return None

        nacked = 0
        streams = 0
        last_stream = None
        stopped = None
        t0 = time.monotonic()
        while nacked < NACKS and time.monotonic() - t0 < NACK_DEADLINE:
            stopped = decided()
            if stopped:
                break
            s = harness.AdsStream(cp.xds_address, f"nacker-{streams}")
            streams += 1
            try:
                for type_, names in subscriptions:
                    if nacked >= NACKS or decided():
                        break
                    s.request(type_, names)
                    resp = s.recv(timeout=10, type_=type_)
                    s.request(type_, names, nonce=resp.nonce, error=message)
                    nacked += 1
            except AssertionError as e:  # the server ended the stream, or went silent
                self.log(f"stream {streams} ended after {nacked} NACKs in all: {e}")
                if streams > 3 and nacked == 0:
                    break
            if last_stream is not None:
                last_stream.close()
            last_stream = s
        self.addCleanup(lambda: last_stream and last_stream.close())
        elapsed = time.monotonic() - t0
        self.log(f"{nacked} NACKs of {NACK_BYTES // 1024} KiB sent on {streams} streams in "
                 f"{elapsed:.1f} s" + (f"; stopped early: {stopped}" if stopped else ""))
        # The last stream's NACKs have been read once the ledger shows them.
        try:
            poll(lambda: any((t.get("lastNack") or {}) for st in cp.streams_of(last_stream.node.id)
                             for t in st.get("types", {}).values()), 10,
                 what="the last NACK in the ledger")
        except (harness.PollTimeout, AssertionError, OSError) as e:
            self.log(f"ledger: {e}")
        time.sleep(0.5)
        self.assert_alive(cp, "after the NACKs")
        self.assert_rss_below(watch, adv.CP_RSS_LIMIT, "control plane RSS")
        self.assert_responsive(probe, adv.HEALTHZ_LIMIT, "/healthz")
        log_growth = cp.log_bytes - log_before
        self.log(f"log grew by {log_growth} bytes")
        self.assertLess(log_growth, LOG_LIMIT, f"the log grew by {adv.mb(log_growth)} "
                                               f"after {nacked} NACKs")
        self.assertEqual(nacked, NACKS, f"only {nacked} NACKs were taken in {elapsed:.0f} s")

        # The history holds the NACKs, each message cut at the limit.
        req = urllib.request.Request(cp.admin_url + "/api/v1/history?limit=1000")
        with urllib.request.urlopen(req, timeout=30) as resp:
            length = resp.headers.get("Content-Length")
            raw = resp.read(HISTORY_LIMIT + 1)
        self.log(f"GET /api/v1/history: Content-Length {length}, read {len(raw)} bytes")
        self.assertLessEqual(len(raw), HISTORY_LIMIT,
                             f"GET /api/v1/history is {length or 'over ' + str(len(raw))} bytes")
        messages = []

        def collect(value):
            if isinstance(value, dict):
                for k, v in value.items():
                    if k == "message" and isinstance(v, str) and v.startswith("EEEE"):
                        messages.append(v)
                    else:
                        collect(v)
            elif isinstance(value, list):
                for v in value:
                    collect(v)

        collect(json.loads(raw))
        self.assertTrue(messages, "the history must record the NACK messages")
        for m in messages:
            self.assertLessEqual(len(m.encode()), ERROR_DETAIL_LIMIT + 64,
                                 f"a stored NACK message is {len(m)} characters")
            self.assertRegex(m[-64:], r"\(truncated, \d+ bytes\)$",
                             "a cut message says so, with the size")
        status = json.dumps(cp.streams_of(last_stream.node.id)) if last_stream else ""
        self.assertIn("(truncated", status, "the ledger keeps the cut message too")
        refused = harness.metric_value(cp.metrics(), "shadowplane_limit_refusals_total",
                                       limit="error_detail_bytes")
        self.assertGreaterEqual(refused or 0, nacked)

    # -- node identity --------------------------------------------------------------------

    def open_and_wait_end(self, cp: harness.ControlPlane, node_msg, timeout: float = 10.0):
        """Opens an ADS stream with ``node_msg``, asks for CDS, and returns (the first
        response or None, the RpcError that ended the stream or None)."""
        import grpc
        channel = grpc.insecure_channel(
            cp.xds_address, options=[("grpc.max_send_message_length", 64 * adv.MB)])
        try:
            gate = threading.Event()

            def reqs():
                yield discovery_request("CDS", node_msg)
                gate.wait(timeout)

            call = ads_stub(channel).StreamAggregatedResources(reqs(), timeout=timeout)
            try:
                first = next(call)
                gate.set()
                call.cancel()
                return first, None
            except grpc.RpcError as e:
                return None, e
            finally:
                gate.set()
        finally:
            channel.close()

    def test_huge_node_id_and_metadata_are_refused(self) -> None:
        import grpc
        from google.protobuf import struct_pb2
        cp = self.static_cp()
        log_before = cp.log_bytes
        outcomes = []
        for i in range(5):
            outcomes.append(self.open_and_wait_end(cp, node(f"{i}" + "N" * HUGE_NODE_ID)))
        metadata = struct_pb2.Struct()
        metadata.update({"blob": "M" * (100 * 1024)})
        outcomes_meta = [self.open_and_wait_end(cp, node("meta-node", metadata=metadata))]
        adv.wait_log_quiet(cp)
        log_growth = cp.log_bytes - log_before
        def seen(results):
            return [("served" if r is not None else e and e.code().name) for r, e in results]
        self.log(f"5 streams with a 4 MB node.id: {seen(outcomes)}; "
                 f"one with 100 KB metadata: {seen(outcomes_meta)}; "
                 f"log grew {log_growth} bytes")
        self.assert_alive(cp, "after the huge node ids")
        self.assertLess(log_growth, 1 * adv.MB, f"the log grew by {adv.mb(log_growth)}")
        for (resp, err), field in [(o, "node.id") for o in outcomes] + [
                (o, "node") for o in outcomes_meta]:
            self.assertIsNone(resp, f"a stream with an oversized {field} must not be served")
            self.assertIsNotNone(err)
            self.assertEqual(err.code(), grpc.StatusCode.INVALID_ARGUMENT, err)
            self.assertIn(field, err.details() or "", f"the status must name {field}")
        text = cp.metrics()
        self.assertGreaterEqual(harness.metric_value(text, "shadowplane_limit_refusals_total",
                                                     limit="node_id_bytes") or 0, 5)
        self.assertGreaterEqual(harness.metric_value(text, "shadowplane_limit_refusals_total",
                                                     limit="node_bytes") or 0, 1)

    def test_node_id_cannot_forge_log_lines(self) -> None:
        cp = self.static_cp()
        forged = "2030-01-01T00:00:00+0000 critical shadowplane.control-plane: FORGED-LINE"
        long_id = "L" * 1000
        for node_id in (f"evil\n{forged}", f"evil\r{forged}", long_id):
            with harness.AdsStream(cp.xds_address, node_id) as s:
                s.subscribe("CDS", timeout=10)
        poll(lambda: sum("xDS stream closed" in l for l in cp.log_lines()) >= 3, 10,
             what="the three streams to be logged as closed")
        lines = cp.log_lines()
        starts = [l for l in lines if l.startswith("2030-01-01") or l.startswith("FORGED")
                  or "\r2030-01-01" in l]
        self.assertEqual(starts, [], "a node id must not start a log line of its own")
        self.assertTrue(any("FORGED-LINE" in l for l in lines),
                        "the node id is logged (escaped) on the stream's line")
        self.assertFalse(any("L" * 257 in l for l in lines),
                         "a node id is cut at 256 bytes in the log")

    # -- streams per HTTP/2 connection ----------------------------------------------------

    def test_streams_beyond_the_advertised_limit_cost_only_their_own_connection(self) -> None:
        """The control plane advertises SETTINGS_MAX_CONCURRENT_STREAMS, so conforming
        clients (gRPC, Envoy) queue instead of exceeding it (the next test). A raw client
        that ignores it and opens 150 streams at once breaks RFC 9113 §5.1.2; swift-nio-http2
        answers that with a connection error (GOAWAY) where the RFC also allows refusing
        each excess stream. What must hold: the limit is advertised, the first streams were
        served, and the damage stays on that client's connection: another client's
        connection, opened before, keeps its stream and gets answers, and /healthz stays
        fast."""
        cp = self.static_cp(max_concurrent_streams=str(MAX_STREAMS))
        bystander = h2raw.Connection(cp.xds_port)
        self.addCleanup(bystander.close)
        bystander.read_until(lambda f: f.type == h2raw.SETTINGS and not f.flags & h2raw.ACK, 5)
        request = discovery_request("CDS", node("h2-bystander")).SerializeToString()
        bystander.grpc_request(1, ADS_PATH, request)
        self.assertTrue(any(f.type == h2raw.DATA for f in bystander.drain(3.0)),
                        "the bystander's stream is answered")

        conn = h2raw.Connection(cp.xds_port)
        self.addCleanup(conn.close)
        settings = conn.read_until(lambda f: f.type == h2raw.SETTINGS and not f.flags & h2raw.ACK,
                                   5)
        advertised = settings.settings() if settings else {}
        self.log(f"server SETTINGS: {advertised}")
        self.assertEqual(advertised.get(h2raw.SETTINGS_MAX_CONCURRENT_STREAMS), MAX_STREAMS,
                         f"SETTINGS_MAX_CONCURRENT_STREAMS must be advertised: {advertised}")
        request = discovery_request("CDS", node("h2-raw")).SerializeToString()
        for sid in [1 + 2 * i for i in range(STREAMS)]:
            conn.grpc_request(sid, ADS_PATH, request)
        frames = conn.drain(5.0)
        goaway = [f for f in frames if f.type == h2raw.GOAWAY]
        self.log(f"{STREAMS} streams on one connection ignoring the advertised limit: "
                 f"GOAWAY {goaway}")

        # The bystander's connection and stream live on: a new request on a new stream of
        # it is answered, and the control plane is healthy.
        self.assertTrue(bystander.ping(3), "the other client's connection stays usable")
        bystander.grpc_request(3, ADS_PATH, request)
        self.assertTrue(any(f.type == h2raw.DATA and f.stream == 3 for f in bystander.drain(3.0)),
                        "the other client's new stream is answered")
        status, _ = harness.http_request("GET", cp.admin_url + "/healthz")
        self.assertEqual(status, 200)

    def test_grpc_client_completes_150_streams_over_one_channel(self) -> None:
        """gRPC's own client, 150 streams at once on one channel (one connection), each held
        a moment after its first response. gRPC C-core does not queue above the advertised
        limit (nor retry a refused stream by itself): the streams over it fail with
        REFUSED_STREAM, and those are opened again once the first ones are done. Every
        stream is served in the end, and no stream dies with the connection (GOAWAY)."""
        import grpc
        cp = self.static_cp(max_concurrent_streams=str(MAX_STREAMS))
        channel = grpc.insecure_channel(cp.xds_address)
        self.addCleanup(channel.close)
        stub = ads_stub(channel)
        # The connection is up (the server's SETTINGS known) before the streams start.
        grpc.channel_ready_future(channel).result(timeout=10)
        warm = stub.StreamAggregatedResources(iter([discovery_request("CDS", node("grpc-warm"))]),
                                              timeout=10)
        next(warm)
        warm.cancel()

        def run_round(ids: list[int], hold: float) -> dict[int, str]:
            results: dict[int, str] = {}
            calls = []
            lock = threading.Lock()

            def one(i: int) -> None:
                gate = threading.Event()

                def reqs():
                    yield discovery_request("CDS", node(f"grpc-{i}"))
                    gate.wait(30)

                call = stub.StreamAggregatedResources(reqs(), timeout=40)
                with lock:
                    calls.append(call)
                try:
                    next(call)
                    outcome = "ok"
                    time.sleep(hold)  # many streams open at once
                except grpc.RpcError as e:
                    outcome = f"{e.code().name}: {e.details()}"
                except Exception as e:  # noqa: BLE001
                    outcome = repr(e)
                finally:
                    gate.set()
                    call.cancel()
                with lock:
                    results[i] = outcome

            threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in ids]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 40
            for t in threads:
                t.join(max(0.0, deadline - time.monotonic()))
            with lock:
                for c in calls:
                    c.cancel()
                return dict(results)

        first = run_round(list(range(STREAMS)), hold=1.0)
        outcomes = dict(first)
        refused = [i for i, o in first.items() if o != "ok" and REFUSED.search(o)]
        rounds = 0
        retry_until = time.monotonic() + 20
        again = refused
        while again and time.monotonic() < retry_until:
            time.sleep(0.5)  # the server may take a moment to count the closed streams out
            rounds += 1
            outcomes.update(run_round(again, hold=0.0))
            again = [i for i in again if outcomes[i] != "ok" and REFUSED.search(outcomes[i])]
        failed = {i: o for i, o in outcomes.items() if o != "ok"}
        served = sum(o == "ok" for o in first.values())
        self.log(f"{STREAMS} gRPC streams over one channel: {served} served at once, "
                 f"{len(refused)} refused and opened again in {rounds} round(s), "
                 f"{len(failed)} failed, {STREAMS - len(first)} unfinished; failures e.g. "
                 f"{sorted(set(first.values()) - {'ok'})[:2]}")
        self.assert_alive(cp, "after 150 streams")
        killed = {i: o for i, o in first.items() if "GOAWAY" in o}
        self.assertEqual(len(killed), 0, f"{len(killed)} streams died with the connection "
                                         f"(GOAWAY), e.g. {next(iter(killed.values()), '')}")
        self.assertEqual(failed, {}, "every stream must be served in the end")
        self.assertEqual(len(first), STREAMS, "every stream must finish within 40 s")
        self.assertGreaterEqual(STREAMS - len(refused), MAX_STREAMS,
                                "the streams within the limit are served at once")


if __name__ == "__main__":
    unittest.main(verbosity=2)
