"""A scripted state-of-the-world ADS server (grpcio, the reference stubs from xds-protos),
for attacks that Shadowplane's own control plane refuses to deliver: it serves whatever
resources the test gives it, unvalidated, so the bundled proxy's own defences (NACK, keep
the last good configuration) can be tested even once the control plane validates too.

    server = FakeAds()                             # 127.0.0.1, an ephemeral port
    server.set("LDS", [listener_dict])             # proto3 JSON dicts with "@type"
    server.set("RTDS", [harness.runtime_layer("shadowplane", {...})])
    server.requests(type_="RTDS")                  # what the clients sent (ACKs, NACKs)
    server.stop()

Each ``set`` gets a new version and is pushed to every open stream (to the names each
subscribed, or all for a wildcard subscription). A request whose nonce is the last one
sent for its type is an ACK, or a NACK when it has ``error_detail``; recorded either way.
Run the bundled proxy with ``--xds-mode sotw`` against it.
"""
from __future__ import annotations

import itertools
import queue
import threading
from concurrent import futures

from adversarial import harness


def to_any(resource: dict):
    """A proto3 JSON dict with ``@type`` -> ``google.protobuf.Any`` (reference classes)."""
    from google.protobuf import any_pb2, json_format
    harness._import_reference_modules()
    msg = harness.resource_class(resource["@type"])()
    json_format.ParseDict({k: v for k, v in resource.items() if k != "@type"}, msg)
    out = any_pb2.Any()
    out.Pack(msg, type_url_prefix="type.googleapis.com/")
    return out


def _name(resource: dict) -> str:
    return resource.get("clusterName") if "clusterName" in resource else resource["name"]


class Request:
    """One DiscoveryRequest as received: ``kind`` is "request", "ACK" or "NACK"."""

    def __init__(self, node: str, type_: str, version: str, nonce: str, names: list[str],
                 error: str | None, kind: str):
        self.node = node
        self.type = type_
        self.version = version
        self.nonce = nonce
        self.names = names
        self.error = error
        self.kind = kind

    def __repr__(self) -> str:
        err = f" error={self.error[:200]!r}" if self.error else ""
        return (f"{self.kind} {self.type} from {self.node} version={self.version!r} "
                f"nonce={self.nonce!r} names={self.names}{err}")


class _Stream:
    def __init__(self) -> None:
        self.out: queue.Queue = queue.Queue()
        self.node = ""
        self.names: dict[str, list[str] | None] = {}   # None: never asked
        self.nonce: dict[str, str] = {}


class FakeAds:
    def __init__(self) -> None:
        import grpc
        from envoy.service.discovery.v3 import ads_pb2_grpc, discovery_pb2
        self._pb2 = discovery_pb2
        self._lock = threading.Lock()
        self._resources: dict[str, list[dict]] = {t: [] for t in harness.TYPE_URLS}
        self._versions: dict[str, int] = {t: 1 for t in harness.TYPE_URLS}
        self._streams: list[_Stream] = []
        self._nonces = itertools.count(1)
        self._requests: list[Request] = []
        self._cond = threading.Condition(self._lock)
        fake = self

        class Servicer(ads_pb2_grpc.AggregatedDiscoveryServiceServicer):
            def StreamAggregatedResources(self, request_iterator, context):
                return fake._serve(request_iterator, context)

        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        ads_pb2_grpc.add_AggregatedDiscoveryServiceServicer_to_server(Servicer(), self._server)
        self.port = self._server.add_insecure_port("127.0.0.1:0")
        self._server.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    # -- the test's side ----------------------------------------------------------------

    def set(self, type_: str, resources: list[dict]) -> None:
        """Replaces the resources of ``type_`` (short name) and pushes them."""
        with self._lock:
            self._resources[type_] = list(resources)
            self._versions[type_] += 1
            streams = list(self._streams)
        for st in streams:
            self._send(st, type_, only_if_subscribed=True)

    def requests(self, type_: str | None = None, kind: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self._requests
                    if (type_ is None or r.type == type_) and (kind is None or r.kind == kind)]

    def version(self, type_: str) -> str:
        with self._lock:
            return str(self._versions[type_])

    def wait_for(self, pred, timeout: float, what: str) -> Request:
        """The first recorded request matching ``pred`` (waits, bounded)."""
        def find():
            for r in self.requests():
                if pred(r):
                    return r
            return None
        return harness.poll(find, timeout, what=what)

    def stop(self) -> None:
        with self._lock:
            streams = list(self._streams)
        for st in streams:
            st.out.put(None)
        self._server.stop(grace=0).wait(5)

    # -- serving ------------------------------------------------------------------------

    def _serve(self, request_iterator, context):
        st = _Stream()
        with self._lock:
            self._streams.append(st)

        def read():
            try:
                for req in request_iterator:
                    self._handle(st, req)
            except Exception:  # noqa: BLE001 - the client went away
                pass
            st.out.put(None)

        threading.Thread(target=read, daemon=True, name="fake-ads-reader").start()
        try:
            while True:
                item = st.out.get()
                if item is None:
                    return
                yield item
        finally:
            with self._lock:
                if st in self._streams:
                    self._streams.remove(st)

    def _handle(self, st: _Stream, req) -> None:
        short = harness.SHORT_NAMES.get(req.type_url, req.type_url)
        if req.node.id:
            st.node = req.node.id
        names = sorted(req.resource_names)
        with self._lock:
            last_nonce = st.nonce.get(short)
            if req.response_nonce and req.response_nonce != last_nonce:
                kind = "stale"
            elif req.response_nonce:
                kind = "NACK" if req.HasField("error_detail") and (
                    req.error_detail.code or req.error_detail.message) else "ACK"
            else:
                kind = "request"
            self._requests.append(Request(
                st.node, short, req.version_info, req.response_nonce, names,
                req.error_detail.message if kind == "NACK" else None, kind))
            self._cond.notify_all()
            changed = st.names.get(short) != names
            st.names[short] = names
        if kind == "stale":
            return
        if kind == "request" or changed:
            self._send(st, short)

    def _send(self, st: _Stream, short: str, only_if_subscribed: bool = False) -> None:
        with self._lock:
            names = st.names.get(short)
            if names is None:
                if only_if_subscribed:
                    return
                names = []
            resources = [r for r in self._resources[short] if not names or _name(r) in names]
            nonce = str(next(self._nonces))
            st.nonce[short] = nonce
            version = str(self._versions[short])
        resp = self._pb2.DiscoveryResponse(
            version_info=version, type_url=harness.TYPE_URLS[short], nonce=nonce,
            resources=[to_any(r) for r in resources])
        st.out.put(resp)
