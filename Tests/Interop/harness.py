"""Shared helpers for Shadowplane's Python interop tests.

- ``ControlPlane``: starts ``shadowplane control-plane`` on ephemeral ports (read from its
  log on stderr), drains its output for the whole run, and is always stopped (``stop``,
  test cleanups, and an ``atexit`` hook for anything left running).
- HTTP helpers for the admin API (stdlib urllib only).
- ``poll``: waits for an observable condition with a bounded deadline.
- ``AdsStream``: a state-of-the-world xDS client over the reference stubs from xds-protos
  (grpcio is imported lazily, so this module imports without it).
- Fixture builders producing Envoy resources as proto3 JSON dicts.
- ``InteropTestCase``: a unittest base class that prints the control plane's log tail when
  a test fails.

The binary is taken from the environment variable ``SHADOWPLANE_BIN`` (default
``/work/main/.build/debug/shadowplane``).
"""
from __future__ import annotations

import atexit
import collections
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Iterable

DEFAULT_BIN = "/work/main/.build/debug/shadowplane"
STARTUP_TIMEOUT = 60.0
HTTP_TIMEOUT = 10.0

TYPE_URLS = {
    "CDS": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
    "EDS": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
    "LDS": "type.googleapis.com/envoy.config.listener.v3.Listener",
    "RDS": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
    "RTDS": "type.googleapis.com/envoy.service.runtime.v3.Runtime",
}
SHORT_NAMES = {url: short for short, url in TYPE_URLS.items()}
HCM_TYPE = ("type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3."
            "HttpConnectionManager")
ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"

XDS_LINE = re.compile(r"xDS server listening on 127\.0\.0\.1:(\d+)")
ADMIN_LINE = re.compile(r"admin API listening on 127\.0\.0\.1:(\d+)")


def shadowplane_bin() -> str:
    return os.environ.get("SHADOWPLANE_BIN", DEFAULT_BIN)


# --------------------------------------------------------------------------------------
# Waiting


class PollTimeout(AssertionError):
    pass


def poll(fn: Callable[[], Any], timeout: float, interval: float = 0.05,
         what: str = "condition") -> Any:
    """Calls ``fn`` until it returns a truthy value and returns that value.

    Exceptions raised by ``fn`` count as "not yet". After ``timeout`` seconds raises
    ``PollTimeout`` naming ``what`` and the last value or exception seen.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            value = fn()
            if value:
                return value
            last = value
        except Exception as e:  # noqa: BLE001 - any failure means "not yet"
            last = e
        if time.monotonic() >= deadline:
            raise PollTimeout(f"timed out after {timeout:.1f}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def held_port(test: unittest.TestCase) -> int:
    """A port on 0.0.0.0 that a listening socket holds until ``test`` ends, so that a proxy
    told to listen there cannot bind it (and NACKs)."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    test.addCleanup(holder.close)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("0.0.0.0", 0))
    holder.listen(8)
    return holder.getsockname()[1]


# --------------------------------------------------------------------------------------
# HTTP


def http_request(method: str, url: str, body: Any = None,
                 timeout: float = HTTP_TIMEOUT) -> tuple[int, bytes]:
    """Sends a request (``body`` JSON-encoded unless bytes); returns (status, body).

    HTTP error statuses are returned, not raised.
    """
    data = None
    headers = {}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def http_json(method: str, url: str, body: Any = None) -> tuple[int, Any]:
    status, raw = http_request(method, url, body)
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        raise AssertionError(f"{method} {url}: status {status}, body is not JSON: {raw[:500]!r}")


def write_fixture(path: str, resources: list[dict]) -> str:
    with open(path, "w") as f:
        json.dump({"resources": resources}, f, indent=2)
    return path


# --------------------------------------------------------------------------------------
# The control plane process

_live: "set[ControlPlane]" = set()
_live_lock = threading.Lock()


def _stop_all() -> None:
    with _live_lock:
        planes = list(_live)
    for cp in planes:
        cp.stop()


atexit.register(_stop_all)


def _on_sigterm(signum, frame):  # turn SIGTERM into a normal exit so atexit runs
    raise SystemExit(128 + signum)


if threading.current_thread() is threading.main_thread():
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:
        pass


class ControlPlane:
    """One ``shadowplane control-plane`` process on ephemeral ports."""

    def __init__(self, resources: list[dict], binary: str | None = None,
                 extra_args: Iterable[str] = (), name: str = "control-plane"):
        self.binary = binary or shadowplane_bin()
        self.resources = resources
        self.extra_args = list(extra_args)
        self.name = name
        self.tmpdir = tempfile.TemporaryDirectory(prefix="shadowplane-interop-")
        self.fixture_path = os.path.join(self.tmpdir.name, "resources.json")
        self.proc: subprocess.Popen | None = None
        self.xds_port: int | None = None
        self.admin_port: int | None = None
        self._log: collections.deque[str] = collections.deque(maxlen=2000)
        self._log_lock = threading.Lock()
        # Every byte the process wrote (stdout and stderr), even of lines cut or dropped.
        self.log_bytes = 0
        self._cond = threading.Condition(self._log_lock)
        self._readers: list[threading.Thread] = []
        self.exit_code: int | None = None

    # -- lifecycle --------------------------------------------------------------------

    def source_args(self) -> list[str]:
        """Where the configuration comes from: the static resources, written out."""
        write_fixture(self.fixture_path, self.resources)
        return ["--resources", self.fixture_path]

    def start(self, timeout: float = STARTUP_TIMEOUT) -> "ControlPlane":
        """Starts the process (again, after ``stop``) and waits for both listening addresses."""
        if not os.path.exists(self.binary):
            raise AssertionError(
                f"shadowplane binary not found at {self.binary} (set SHADOWPLANE_BIN)")
        self.xds_port = self.admin_port = None
        self._readers = []
        cmd = [self.binary, "control-plane", *self.source_args(),
               "--xds-address", "127.0.0.1:0", "--admin-address", "127.0.0.1:0",
               *self.extra_args]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        with _live_lock:
            _live.add(self)
        for stream, tag in ((self.proc.stderr, "stderr"), (self.proc.stdout, "stdout")):
            t = threading.Thread(target=self._drain, args=(stream, tag), daemon=True,
                                 name=f"{self.name}-{tag}")
            t.start()
            self._readers.append(t)
        deadline = time.monotonic() + timeout
        with self._cond:
            while self.xds_port is None or self.admin_port is None:
                if self.proc.poll() is not None and all(not t.is_alive() for t in self._readers):
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.5))
        if self.xds_port is None or self.admin_port is None:
            code = self.proc.poll()
            self.stop()
            raise AssertionError(
                f"{self.name} did not report both listening addresses on stderr within "
                f"{timeout:.0f}s (exit code {code}); command: {' '.join(cmd)}\n"
                f"{self.log_tail()}")
        return self

    # A log line longer than this is kept cut (a process logging huge lines must not
    # exhaust the test's memory); ``log_bytes`` still counts all of it.
    MAX_KEPT_LINE = 64 * 1024

    def _drain(self, stream, tag: str) -> None:
        for raw in iter(stream.readline, b""):
            size = len(raw)
            if size > self.MAX_KEPT_LINE:
                raw = raw[:self.MAX_KEPT_LINE] + f"... (cut, {size} bytes)".encode()
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._cond:
                self.log_bytes += size
                self._log.append(line if tag == "stderr" else f"[stdout] {line}")
                if tag == "stderr":
                    m = XDS_LINE.search(line)
                    if m and self.xds_port is None:
                        self.xds_port = int(m.group(1))
                    m = ADMIN_LINE.search(line)
                    if m and self.admin_port is None:
                        self.admin_port = int(m.group(1))
                self._cond.notify_all()
        stream.close()
        with self._cond:
            self._cond.notify_all()

    def stop(self) -> None:
        proc = self.proc
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        self.exit_code = proc.returncode
        for t in self._readers:
            t.join(timeout=5)
        with _live_lock:
            _live.discard(self)
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        self.tmpdir.cleanup()

    def __enter__(self) -> "ControlPlane":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.cleanup()

    def log_tail(self, lines: int = 80) -> str:
        with self._log_lock:
            tail = list(self._log)[-lines:]
        return (f"----- {self.name} log (last {len(tail)} lines) -----\n" + "\n".join(tail)
                + f"\n----- end of {self.name} log -----")

    def log_lines(self) -> list[str]:
        """The log lines kept so far (the last 2,000; stdout lines tagged ``[stdout]``)."""
        with self._log_lock:
            return list(self._log)

    def assert_running(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            raise AssertionError(f"{self.name} is not running\n{self.log_tail()}")

    # -- addresses --------------------------------------------------------------------

    @property
    def xds_address(self) -> str:
        return f"127.0.0.1:{self.xds_port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    # -- admin API --------------------------------------------------------------------

    def get(self, path: str) -> tuple[int, bytes]:
        return http_request("GET", self.admin_url + path)

    def status(self) -> list[dict]:
        code, body = http_json("GET", self.admin_url + "/api/v1/status")
        if code != 200 or not isinstance(body, list):
            raise AssertionError(f"GET /api/v1/status: {code} {body!r}")
        return body

    def streams_of(self, node_id: str) -> list[dict]:
        return [s for s in self.status() if s.get("nodeID") == node_id]

    def latest_stream(self, node_id: str) -> dict | None:
        streams = self.streams_of(node_id)
        return max(streams, key=lambda s: s.get("streamID", 0)) if streams else None

    def metrics(self) -> str:
        code, body = self.get("/metrics")
        if code != 200:
            raise AssertionError(f"GET /metrics: {code} {body[:300]!r}")
        return body.decode()

    def put_resources(self, resources: list[dict] | bytes) -> tuple[int, Any]:
        body = resources if isinstance(resources, bytes) else {"resources": resources}
        return http_json("PUT", self.admin_url + "/api/v1/resources", body)

    def get_resources(self) -> list[dict]:
        code, body = http_json("GET", self.admin_url + "/api/v1/resources")
        if code != 200 or not isinstance(body, dict):
            raise AssertionError(f"GET /api/v1/resources: {code} {body!r}")
        return body.get("resources", [])


def metric_sum(text: str, name: str) -> float:
    """Sum of every sample of metric ``name`` (any labels) in Prometheus text."""
    total = 0.0
    pattern = re.compile(r"^" + re.escape(name) + r"(\{[^}]*\})?\s+(\S+)")
    for line in text.splitlines():
        m = pattern.match(line)
        if m:
            total += float(m.group(2))
    return total


def metric_value(text: str, name: str, **labels: str) -> float | None:
    """The value of the sample of ``name`` whose labels include ``labels``."""
    pattern = re.compile(r"^" + re.escape(name) + r"(\{([^}]*)\})?\s+(\S+)")
    for line in text.splitlines():
        m = pattern.match(line)
        if not m:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in labels.items()):
            return float(m.group(3))
    return None


# --------------------------------------------------------------------------------------
# Store mode: a control plane serving a config-store directory of Istio-style YAML

MANIFESTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir,
                             "manifests", "httpbin")


def read_manifest(name: str) -> str:
    """The text of a scenario manifest (``manifests/httpbin/NAME``)."""
    with open(os.path.join(MANIFESTS_DIR, name), encoding="utf-8") as f:
        return f.read()


def join_documents(*texts: str) -> str:
    """Several YAML documents as one multi-document text."""
    return "---\n".join(t if t.endswith("\n") else t + "\n" for t in texts)


def http_send(method: str, url: str, data: bytes | None = None,
              content_type: str = "application/yaml",
              timeout: float = HTTP_TIMEOUT,
              headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """Sends raw bytes (YAML or JSON text) with ``content_type`` and any extra ``headers``;
    returns (status, body).

    HTTP error statuses are returned, not raised.
    """
    headers = dict(headers or {})
    if data is not None:
        headers["Content-Type"] = content_type
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def directory_bytes(path: str) -> dict[str, bytes]:
    """Every regular file directly in ``path`` (dot files included) -> its bytes."""
    out = {}
    for name in sorted(os.listdir(path)):
        full = os.path.join(path, name)
        if os.path.isfile(full):
            with open(full, "rb") as f:
                out[name] = f.read()
    return out


def write_file_atomically(path: str, data: bytes) -> None:
    """Saves ``data`` as most editors do: a temporary file beside ``path``, then a rename."""
    directory, base = os.path.split(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def overwrite_file(path: str, data: bytes) -> None:
    """Saves ``data`` in place (truncate and write one buffer), as some editors do."""
    with open(path, "wb") as f:
        f.write(data)


class StoreControlPlane(ControlPlane):
    """``shadowplane control-plane --store DIR`` on ephemeral ports.

    ``store_dir`` defaults to a directory inside this object's temporary directory (removed
    by ``cleanup``); pass one that outlives the process to restart on the same store.
    """

    def __init__(self, store_dir: str | None = None, binary: str | None = None,
                 extra_args: Iterable[str] = (), name: str = "control-plane"):
        super().__init__([], binary=binary, extra_args=extra_args, name=name)
        self.store_dir = store_dir or os.path.join(self.tmpdir.name, "store")

    def source_args(self) -> list[str]:
        return ["--store", self.store_dir]

    def store_path(self, name: str) -> str:
        return os.path.join(self.store_dir, name)

    # -- config API -------------------------------------------------------------------

    def apply(self, text: str | bytes, content_type: str = "application/yaml"
              ) -> tuple[int, Any]:
        """``POST /api/v1/config/apply``; returns (status, parsed JSON body)."""
        data = text if isinstance(text, bytes) else text.encode()
        url = self.admin_url + "/api/v1/config/apply"
        status, raw = http_send("POST", url, data, content_type)
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            raise AssertionError(f"POST {url}: status {status}, body is not JSON: {raw[:500]!r}")

    def apply_ok(self, text: str | bytes, wait: bool = True) -> dict:
        """Applies ``text`` and asserts a 200 with no warnings; returns the body. With
        ``wait``, also waits until the revision it made is served (the apply answers
        before the translation to Envoy resources is done)."""
        status, body = self.apply(text)
        if status != 200 or not isinstance(body, dict):
            raise AssertionError(f"apply: expected 200, got {status}: {body!r}")
        if body.get("warnings"):
            raise AssertionError(f"apply: unexpected warnings: {body['warnings']!r}")
        if wait:
            self.wait_translated(body["revision"])
        return body

    def translated_revision(self) -> float | None:
        """The config revision last translated and handed to the xDS cache (the
        ``shadowplane_config_revision`` gauge)."""
        return metric_value(self.metrics(), "shadowplane_config_revision")

    def wait_translated(self, revision: int, timeout: float = 10.0) -> None:
        """Waits until config revision ``revision`` (or a later one) is being served."""
        poll(lambda: (self.translated_revision() or 0) >= revision, timeout,
             what=f"config revision {revision} to be translated")

    def delete_config(self, kind: str, namespace: str, name: str) -> tuple[int, Any]:
        return http_json("DELETE", f"{self.admin_url}/api/v1/config/{kind}/{namespace}/{name}")

    def get_config(self, path: str = "", **query: str) -> tuple[int, bytes]:
        """``GET /api/v1/config[/PATH][?query]``; returns (status, raw body)."""
        url = self.admin_url + "/api/v1/config" + (("/" + path) if path else "")
        if query:
            url += "?" + urllib.parse.urlencode(query)
        return http_request("GET", url)

    def get_config_json(self, path: str = "", **query: str) -> Any:
        status, raw = self.get_config(path, **query)
        if status != 200:
            raise AssertionError(f"GET /api/v1/config/{path}: {status} {raw[:300]!r}")
        return json.loads(raw)

    def resources_bytes(self) -> bytes:
        """The raw body of ``GET /api/v1/resources`` (the Envoy resources served)."""
        status, raw = self.get("/api/v1/resources")
        if status != 200:
            raise AssertionError(f"GET /api/v1/resources: {status} {raw[:300]!r}")
        return raw


# --------------------------------------------------------------------------------------
# xDS client over the reference stubs


class _End:
    def __init__(self, error: BaseException | None):
        self.error = error


def resource_class(type_url: str):
    """The reference (xds-protos) message class of a resource type URL."""
    from google.protobuf import descriptor_pool, message_factory
    _import_reference_modules()
    name = type_url.split("/", 1)[-1]
    desc = descriptor_pool.Default().FindMessageTypeByName(name)
    return message_factory.GetMessageClass(desc)


def _import_reference_modules() -> None:
    import importlib
    for m in ("envoy.config.cluster.v3.cluster_pb2", "envoy.config.endpoint.v3.endpoint_pb2",
              "envoy.config.listener.v3.listener_pb2", "envoy.config.route.v3.route_pb2",
              "envoy.service.runtime.v3.rtds_pb2",
              "envoy.extensions.filters.network.http_connection_manager.v3."
              "http_connection_manager_pb2",
              "envoy.extensions.filters.http.router.v3.router_pb2"):
        importlib.import_module(m)


def unpack(any_msg):
    """Decodes an ``Any`` into its reference class."""
    msg = resource_class(any_msg.type_url)()
    msg.ParseFromString(any_msg.value)
    return msg


def resource_name(any_msg) -> str:
    msg = unpack(any_msg)
    if any_msg.type_url == TYPE_URLS["EDS"]:
        return msg.cluster_name
    return msg.name


def response_names(resp) -> list[str]:
    return sorted(resource_name(r) for r in resp.resources)


def route_names_of_listeners(resp) -> list[str]:
    """The RDS route_config_names named by the HttpConnectionManagers of an LDS response."""
    names = set()
    for r in resp.resources:
        listener = unpack(r)
        anys = [f.typed_config for fc in listener.filter_chains for f in fc.filters
                if f.HasField("typed_config")]
        if listener.HasField("api_listener"):
            anys.append(listener.api_listener.api_listener)
        for a in anys:
            if a.type_url == HCM_TYPE:
                hcm = unpack(a)
                if hcm.HasField("rds"):
                    names.add(hcm.rds.route_config_name)
    return sorted(names)


def describe(resp) -> str:
    short = SHORT_NAMES.get(resp.type_url, resp.type_url)
    try:
        names = response_names(resp)
    except Exception as e:  # noqa: BLE001
        names = [f"<undecodable: {e}>"]
    return f"{short} version={resp.version_info} nonce={resp.nonce} resources={names}"


# The xDS services' streaming methods, state of the world and delta, by ``method``.
_RPCS = {
    "ads": ("envoy.service.discovery.v3.ads_pb2_grpc", "AggregatedDiscoveryServiceStub",
            "StreamAggregatedResources", "DeltaAggregatedResources"),
    "CDS": ("envoy.service.cluster.v3.cds_pb2_grpc", "ClusterDiscoveryServiceStub",
            "StreamClusters", "DeltaClusters"),
    "EDS": ("envoy.service.endpoint.v3.eds_pb2_grpc", "EndpointDiscoveryServiceStub",
            "StreamEndpoints", "DeltaEndpoints"),
    "LDS": ("envoy.service.listener.v3.lds_pb2_grpc", "ListenerDiscoveryServiceStub",
            "StreamListeners", "DeltaListeners"),
    "RDS": ("envoy.service.route.v3.rds_pb2_grpc", "RouteDiscoveryServiceStub",
            "StreamRoutes", "DeltaRoutes"),
    "RTDS": ("envoy.service.runtime.v3.rtds_pb2_grpc", "RuntimeDiscoveryServiceStub",
             "StreamRuntime", "DeltaRuntime"),
}


class XdsStream:
    """An xDS stream of either variant driven from the test thread.

    Requests go through a queue into gRPC's request iterator; responses are read by a
    thread into another queue, so every wait has a deadline. ``method`` picks the RPC:
    ``"ads"`` or one of ``"CDS"``, ``"EDS"``, ``"LDS"``, ``"RDS"``, ``"RTDS"`` for the
    per-type services; ``delta`` picks the ``Delta*`` method instead of ``Stream*``.
    Subclasses build the requests and check the responses of their variant.
    """

    def __init__(self, address: str, node, method: str = "ads", delta: bool = False):
        import grpc
        import importlib
        if method not in _RPCS:
            raise ValueError(method)
        module, stub, sotw_rpc, delta_rpc = _RPCS[method]
        self._grpc = grpc
        self.node = node
        self.channel = grpc.insecure_channel(address)
        self._requests: queue.Queue = queue.Queue()
        self.responses: queue.Queue = queue.Queue()
        self._closed = False
        rpc = getattr(getattr(importlib.import_module(module), stub)(self.channel),
                      delta_rpc if delta else sotw_rpc)
        self.call = rpc(self._request_iter())
        self._reader = threading.Thread(target=self._read, daemon=True, name="xds-reader")
        self._reader.start()

    def _request_iter(self):
        while True:
            item = self._requests.get()
            if item is None:
                return
            yield item

    def _read(self) -> None:
        try:
            for resp in self.call:
                self.responses.put(resp)
            self.responses.put(_End(None))
        except Exception as e:  # noqa: BLE001  (grpc.RpcError among them)
            self.responses.put(_End(e))

    def send(self, request) -> None:
        self._requests.put(request)

    def describe(self, resp) -> str:
        return describe(resp)

    def next_response(self, timeout: float, expected: str | None = None, what: str = "xDS"):
        """The next response within ``timeout`` seconds, or an AssertionError saying why not."""
        try:
            item = self.responses.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(
                f"no {what} response within {timeout:.1f}s"
                + (f" (expected {expected})" if expected else "")) from None
        if isinstance(item, _End):
            self.responses.put(item)  # keep reporting the end
            raise AssertionError(f"xDS stream ended: {item.error!r}")
        return item

    def expect_silence(self, seconds: float = 1.5, why: str = "") -> None:
        """Asserts that no response arrives within ``seconds``."""
        try:
            item = self.responses.get(timeout=seconds)
        except queue.Empty:
            return
        if isinstance(item, _End):
            self.responses.put(item)
            raise AssertionError(f"xDS stream ended while expecting silence: {item.error!r}")
        raise AssertionError(
            f"expected no response within {seconds}s{' (' + why + ')' if why else ''}, "
            f"got {self.describe(item)}")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._requests.put(None)
        try:
            self.call.cancel()
        except Exception:  # noqa: BLE001
            pass
        self.channel.close()
        self._reader.join(timeout=5)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class AdsStream(XdsStream):
    """A state-of-the-world xDS stream (``method`` as ``XdsStream``'s)."""

    def __init__(self, address: str, node_id: str, node_cluster: str = "interop",
                 method: str = "ads"):
        from envoy.config.core.v3 import base_pb2
        from envoy.service.discovery.v3 import discovery_pb2
        self._discovery_pb2 = discovery_pb2
        self.received: list = []
        super().__init__(address, base_pb2.Node(id=node_id, cluster=node_cluster,
                                                user_agent_name="shadowplane-interop",
                                                user_agent_version="1.0"), method)

    # -- requests ---------------------------------------------------------------------

    def request(self, type_: str, names: Iterable[str] = (), version: str = "",
                nonce: str = "", error: str | None = None) -> None:
        """Sends a DiscoveryRequest; ``type_`` is a short name (CDS, ...) or a type URL."""
        from google.rpc import status_pb2
        req = self._discovery_pb2.DiscoveryRequest(
            version_info=version, node=self.node, resource_names=list(names),
            type_url=TYPE_URLS.get(type_, type_), response_nonce=nonce)
        if error is not None:
            req.error_detail.CopyFrom(status_pb2.Status(code=3, message=error))
        self.send(req)

    def ack(self, resp, names: Iterable[str] = ()) -> None:
        self.request(resp.type_url, names, version=resp.version_info, nonce=resp.nonce)

    def nack(self, resp, message: str, names: Iterable[str] = (),
             kept_version: str = "") -> None:
        self.request(resp.type_url, names, version=kept_version, nonce=resp.nonce,
                     error=message)

    # -- responses --------------------------------------------------------------------

    def recv(self, timeout: float = 10.0, type_: str | None = None):
        """The next response, within ``timeout`` seconds; optionally checks its type."""
        item = self.next_response(timeout, type_)
        self.received.append(item)
        if type_ is not None:
            want = TYPE_URLS.get(type_, type_)
            if item.type_url != want:
                raise AssertionError(f"expected a {type_} response, got {describe(item)}")
        return item

    def subscribe(self, type_: str, names: Iterable[str] = (), ack: bool = True,
                  timeout: float = 10.0):
        """Requests ``type_`` (``names``, or wildcard), waits for the response, ACKs it."""
        names = list(names)
        self.request(type_, names)
        resp = self.recv(timeout=timeout, type_=type_)
        if ack:
            self.ack(resp, names)
        return resp


# --------------------------------------------------------------------------------------
# Fixtures (proto3 JSON, lowerCamelCase field names)


def ads_config_source() -> dict:
    return {"ads": {}, "resourceApiVersion": "V3"}


def router_filter() -> dict:
    return {"name": "envoy.filters.http.router", "typedConfig": {"@type": ROUTER_TYPE}}


def http_connection_manager(stat_prefix: str, route_name: str, **extra) -> dict:
    hcm = {
        "@type": HCM_TYPE,
        "statPrefix": stat_prefix,
        "rds": {"configSource": ads_config_source(), "routeConfigName": route_name},
        "httpFilters": [router_filter()],
    }
    hcm.update(extra)
    return hcm


def api_listener(name: str, route_name: str) -> dict:
    return {
        "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
        "name": name,
        "apiListener": {"apiListener": http_connection_manager(name, route_name)},
    }


def tcp_listener(name: str, address: str, port: int, route_name: str, **hcm_extra) -> dict:
    return {
        "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
        "name": name,
        "address": {"socketAddress": {"address": address, "portValue": port}},
        "filterChains": [{
            "filters": [{
                "name": "envoy.filters.network.http_connection_manager",
                "typedConfig": http_connection_manager("ingress_http", route_name, **hcm_extra),
            }],
        }],
    }


def simple_route(name: str, domains: list[str], cluster: str, vhost: str | None = None) -> dict:
    return {
        "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
        "name": name,
        "virtualHosts": [{
            "name": vhost or name + "-vh",
            "domains": domains,
            "routes": [{"match": {"prefix": "/"}, "route": {"cluster": cluster}}],
        }],
    }


def eds_cluster(name: str, lb_policy: str = "ROUND_ROBIN", **extra) -> dict:
    c = {
        "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
        "name": name,
        "type": "EDS",
        "edsClusterConfig": {"edsConfig": ads_config_source()},
        "connectTimeout": "1s",
        "lbPolicy": lb_policy,
    }
    c.update(extra)
    return c


def socket_address(host: str, port: int) -> dict:
    return {"socketAddress": {"address": host, "portValue": port}}


def load_assignment(cluster: str, endpoints: list[tuple[str, int]], **extra) -> dict:
    cla = {
        "@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
        "clusterName": cluster,
        "endpoints": [{
            "locality": {"region": "local", "zone": "a"},
            "loadBalancingWeight": 1,
            "lbEndpoints": [{"endpoint": {"address": socket_address(h, p)}}
                            for h, p in endpoints],
        }],
    }
    cla.update(extra)
    return cla


def runtime_layer(name: str, layer: dict) -> dict:
    return {"@type": "type.googleapis.com/envoy.service.runtime.v3.Runtime", "name": name,
            "layer": layer}


def grpc_fixture(backend_port: int, host: str = "127.0.0.1") -> list[dict]:
    """The proxyless gRPC setup: api_listener ``greeter:50051`` -> ``greeter-route`` ->
    EDS cluster ``greeter`` -> one endpoint."""
    return [
        api_listener("greeter:50051", "greeter-route"),
        simple_route("greeter-route", ["greeter:50051", "greeter"], "greeter", vhost="greeter"),
        eds_cluster("greeter"),
        load_assignment("greeter", [(host, backend_port)]),
    ]


def ads_fixture(cluster: str = "cluster-a", port: int = 10001) -> list[dict]:
    """For the protocol tests: an Envoy-style listener ``0.0.0.0_8080`` -> ``main-route`` ->
    ``cluster`` (EDS), plus the gRPC api_listener ``greeter:50051`` and a runtime layer."""
    return [
        eds_cluster(cluster),
        load_assignment(cluster, [("127.0.0.1", port)]),
        tcp_listener("0.0.0.0_8080", "0.0.0.0", 8080, "main-route"),
        simple_route("main-route", ["*"], cluster, vhost="main"),
        *grpc_fixture(10050),
        runtime_layer("rtds-layer", {"feature.enabled": True}),
    ]


def rich_fixture() -> list[dict]:
    """A fixture using more of the API surface, for the Envoy rule checks."""
    return [
        {
            "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
            "name": "0.0.0.0_8080",
            "address": {"socketAddress": {"address": "0.0.0.0", "portValue": 8080}},
            "statPrefix": "public",
            "trafficDirection": "INBOUND",
            "perConnectionBufferLimitBytes": 32768,
            "filterChains": [{
                "name": "http",
                "filters": [{
                    "name": "envoy.filters.network.http_connection_manager",
                    "typedConfig": {
                        "@type": HCM_TYPE,
                        "codecType": "AUTO",
                        "statPrefix": "ingress_http",
                        "rds": {"configSource": ads_config_source(),
                                "routeConfigName": "local-route"},
                        "streamIdleTimeout": "300s",
                        "useRemoteAddress": True,
                        "httpFilters": [{
                            "name": "envoy.filters.http.router",
                            "typedConfig": {"@type": ROUTER_TYPE, "dynamicStats": True,
                                            "suppressEnvoyHeaders": True},
                        }],
                    },
                }],
            }],
        },
        {
            "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
            "name": "local-route",
            "validateClusters": False,
            "responseHeadersToAdd": [
                {"header": {"key": "x-served-by", "value": "shadowplane"},
                 "appendAction": "OVERWRITE_IF_EXISTS_OR_ADD"}],
            "virtualHosts": [{
                "name": "local",
                "domains": ["*"],
                "retryPolicy": {"retryOn": "5xx,reset", "numRetries": 2},
                "routes": [
                    {
                        "name": "healthz",
                        "match": {"path": "/healthz"},
                        "directResponse": {"status": 200},
                    },
                    {
                        "name": "canary",
                        "match": {
                            "prefix": "/api",
                            "headers": [
                                {"name": "x-canary", "stringMatch": {"exact": "true"}},
                                {"name": "x-debug", "presentMatch": True, "invertMatch": True},
                            ],
                        },
                        "route": {
                            "weightedClusters": {"clusters": [
                                {"name": "web", "weight": 90},
                                {"name": "web-canary", "weight": 10},
                            ]},
                            "timeout": "5s",
                        },
                    },
                    {
                        "name": "regex",
                        "match": {"safeRegex": {"googleRe2": {}, "regex": "^/v[0-9]+/.*"},
                                  "caseSensitive": False},
                        "route": {"cluster": "web", "prefixRewrite": "/",
                                  "retryPolicy": {"retryOn": "connect-failure",
                                                  "numRetries": 1,
                                                  "perTryTimeout": "0.5s"}},
                    },
                    {
                        "name": "default",
                        "match": {"prefix": "/"},
                        "route": {
                            "cluster": "web",
                            "timeout": "15s",
                            "requestMirrorPolicies": [{
                                "cluster": "mirror",
                                "runtimeFraction": {
                                    "defaultValue": {"numerator": 125000,
                                                     "denominator": "MILLION"},
                                    "runtimeKey": "routing.mirror.web",
                                },
                            }],
                        },
                    },
                ],
            }],
        },
        eds_cluster("web", lb_policy="LEAST_REQUEST",
                    leastRequestLbConfig={"choiceCount": 2},
                    perConnectionBufferLimitBytes=65536),
        eds_cluster("web-canary"),
        {
            "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
            "name": "mirror",
            "type": "STATIC",
            "connectTimeout": "0.25s",
            "lbPolicy": "RANDOM",
            "loadAssignment": {
                "clusterName": "mirror",
                "endpoints": [{"lbEndpoints": [
                    {"endpoint": {"address": socket_address("127.0.0.1", 9901)}}]}],
            },
        },
        {
            "@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
            "clusterName": "web",
            "policy": {"overprovisioningFactor": 140},
            "endpoints": [
                {
                    "locality": {"region": "eu-west", "zone": "a", "subZone": "rack1"},
                    "loadBalancingWeight": 3,
                    "lbEndpoints": [
                        {"endpoint": {"address": socket_address("10.0.0.1", 8000)},
                         "healthStatus": "HEALTHY", "loadBalancingWeight": 2},
                        {"endpoint": {"address": socket_address("10.0.0.2", 8000),
                                      "hostname": "web-2"},
                         "healthStatus": "HEALTHY", "loadBalancingWeight": 1},
                    ],
                },
                {
                    "locality": {"region": "eu-west", "zone": "b"},
                    "priority": 1,
                    "loadBalancingWeight": 1,
                    "lbEndpoints": [
                        {"endpoint": {"address": socket_address("10.0.1.1", 8000)}}],
                },
            ],
        },
        load_assignment("web-canary", [("10.0.2.1", 8000)]),
        *grpc_fixture(50051, host="10.0.3.1"),
        runtime_layer("rtds-layer", {
            "routing.mirror.web": 50,
            "feature.enabled": True,
            "owner": "interop",
            "limits": {"max": 10, "tags": ["a", "b"]},
        }),
    ]


def resource_key(res: dict) -> tuple[str, str]:
    """(short type, name) of a fixture resource."""
    short = SHORT_NAMES[res["@type"]]
    return short, res["clusterName"] if short == "EDS" else res["name"]


# --------------------------------------------------------------------------------------
# unittest support


class InteropTestCase(unittest.TestCase):
    """Starts control planes that are stopped after the test; prints their log tails (and
    any extra diagnostics registered with ``add_diagnostic``) when the test fails."""

    maxDiff = None

    def setUp(self) -> None:
        self._planes: list[ControlPlane] = []
        self._diagnostics: list[Callable[[], str]] = []

    def start_control_plane(self, resources: list[dict], name: str = "control-plane"
                            ) -> ControlPlane:
        cp = ControlPlane(resources, name=name)
        self._planes.append(cp)
        self.addCleanup(cp.cleanup)
        cp.start()
        return cp

    def start_store_control_plane(self, store_dir: str | None = None,
                                  name: str = "control-plane") -> StoreControlPlane:
        """A store-mode control plane, stopped (and its temporary directory removed)
        after the test; ``store_dir`` is left alone."""
        cp = StoreControlPlane(store_dir, name=name)
        self._planes.append(cp)
        self.addCleanup(cp.cleanup)
        self.add_diagnostic(lambda: f"{cp.name}: " + (
            f"exited with {cp.exit_code}" if cp.proc is None
            else "running" if cp.proc.poll() is None
            else f"exited with {cp.proc.returncode} (unexpectedly)"))
        cp.start()
        return cp

    def add_diagnostic(self, fn: Callable[[], str]) -> None:
        self._diagnostics.append(fn)

    def _collect_diagnostics(self) -> list[str]:
        chunks = []
        for fn in getattr(self, "_diagnostics", []):
            try:
                chunks.append(fn())
            except Exception as e:  # noqa: BLE001
                chunks.append(f"(diagnostic failed: {e!r})")
        return chunks

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        captured: list[str] = []
        method = getattr(self, self._testMethodName)

        # Diagnostics that need live processes (status, client output) are taken when the
        # test method raises, before the cleanups stop everything.
        def with_capture(*args, **kwargs):
            try:
                return method(*args, **kwargs)
            except unittest.SkipTest:
                raise
            except BaseException:
                captured.extend(self._collect_diagnostics())
                raise

        setattr(self, self._testMethodName, with_capture)
        try:
            out = super().run(result)
        finally:
            delattr(self, self._testMethodName)
        if len(result.failures) + len(result.errors) > before:
            chunks = captured or self._collect_diagnostics()
            for cp in getattr(self, "_planes", []):
                chunks.append(cp.log_tail())
            if chunks:
                sys.stderr.write(f"\n===== diagnostics for {self.id()} =====\n"
                                 + "\n".join(chunks) + "\n")
                sys.stderr.flush()
        return out


# --------------------------------------------------------------------------------------
# Data plane helpers (the bundled proxy's tests)


def parse_stats(text: str) -> dict[str, int]:
    """Envoy's ``/stats`` text (``name: value`` lines) -> {name: value}. Names may hold
    ``|`` and ``.`` (``cluster.outbound|8000|v1|httpbin.upstream_rq_total``)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        name, sep, value = line.rpartition(": ")
        if not sep:
            continue
        try:
            out[name.strip()] = int(value.strip())
        except ValueError:
            continue
    return out


def percentile(values: Iterable[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` (nearest rank); NaN for no values."""
    s = sorted(values)
    if not s:
        return float("nan")
    rank = max(1, min(len(s), int(-(-q * len(s) // 1))))  # ceil(q * n), clamped
    return s[rank - 1]


def binomial_bounds(n: int, p: float, sds: float = 4.0) -> tuple[float, float]:
    """[lo, hi] for the count of successes in ``n`` Bernoulli(``p``) trials: mean ± ``sds``
    standard deviations."""
    mean = n * p
    sd = (n * p * (1.0 - p)) ** 0.5
    return mean - sds * sd, mean + sds * sd


def tcp_accepts(port: int, host: str = "127.0.0.1", timeout: float = 1.0) -> bool:
    """Whether a TCP connection to host:port is accepted now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def manifest_with_ports(name: str, ports: dict[int, int]) -> str:
    """A scenario manifest (``manifests/httpbin/NAME``) with every port number in
    ``ports`` (whole numbers only) replaced, e.g. {8000: P, 8001: V1, 8002: V2}."""
    text = read_manifest(name)
    if not ports:
        return text
    pattern = re.compile(r"(?<!\d)(" + "|".join(str(p) for p in ports) + r")(?!\d)")
    return pattern.sub(lambda m: str(ports[int(m.group(1))]), text)
