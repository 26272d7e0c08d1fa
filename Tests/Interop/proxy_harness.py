"""Helpers for the bundled proxy's end-to-end tests (on top of ``harness``).

- ``Proxy``: ``shadowplane proxy`` on an ephemeral admin port, its log drained, always
  stopped (test cleanups and ``harness``'s atexit hook); admin API helpers (``/stats``,
  ``/ready``, ``/runtime``, ``POST /runtime_modify``).
- Istio YAML builders (ServiceEntry, DestinationRule, VirtualService) as block YAML.
- ``KeepAliveClient`` and ``run_load``: HTTP/1.1 requests over persistent connections with
  latencies recorded.
- ``ProxyTestCase``: starts the store-mode control plane, recording upstreams and the
  proxy; waits for configuration to reach the proxy; prints log tails on failure.
"""
from __future__ import annotations

import collections
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
from typing import Any, Iterable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
import upstream  # noqa: E402

PROXY_ADMIN_LINE = re.compile(r"proxy admin listening on 127\.0\.0\.1:(\d+)")
TYPES = ("CDS", "EDS", "LDS", "RDS")
SYNC_TIMEOUT = 15.0


# --------------------------------------------------------------------------------------
# The proxy process


class Proxy(harness.ControlPlane):
    """One ``shadowplane proxy`` process (reuses the control plane's process handling:
    log draining, ``log_tail``, ``stop`` and the atexit cleanup). ``SHADOWPLANE_XDS_MODE``
    (``sotw`` or ``delta``), when set, is passed as ``--xds-mode``; unset, the proxy uses
    its default."""

    def __init__(self, xds_address: str, node_id: str, name: str = "proxy", threads: int = 2,
                 access_log: bool = True, extra_args: Iterable[str] = ()):
        super().__init__([], extra_args=extra_args, name=name)
        self.xds = xds_address
        self.node_id = node_id
        self.threads = threads
        self.access_log_path = (os.path.join(self.tmpdir.name, "access.log")
                                if access_log else None)

    def start(self, timeout: float = harness.STARTUP_TIMEOUT) -> "Proxy":
        if not os.path.exists(self.binary):
            raise AssertionError(
                f"shadowplane binary not found at {self.binary} (set SHADOWPLANE_BIN)")
        cmd = [self.binary, "proxy", "--xds-server", self.xds, "--node-id", self.node_id,
               "--admin-address", "127.0.0.1:0", "--threads", str(self.threads)]
        cmd += (["--access-log", self.access_log_path] if self.access_log_path
                else ["--no-access-log"])
        xds_mode = os.environ.get("SHADOWPLANE_XDS_MODE")
        if xds_mode:
            cmd += ["--xds-mode", xds_mode]
        cmd += self.extra_args
        self.admin_port = None
        self._readers = []
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        with harness._live_lock:
            harness._live.add(self)
        for stream, tag in ((self.proc.stderr, "stderr"), (self.proc.stdout, "stdout")):
            t = threading.Thread(target=self._drain, args=(stream, tag), daemon=True,
                                 name=f"{self.name}-{tag}")
            t.start()
            self._readers.append(t)
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self._log:
                    m = PROXY_ADMIN_LINE.search(line)
                    if m:
                        self.admin_port = int(m.group(1))
                        break
                if self.admin_port is not None:
                    break
                if self.proc.poll() is not None and all(not t.is_alive() for t in self._readers):
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(min(left, 0.5))
        if self.admin_port is None:
            code = self.proc.poll()
            self.stop()
            raise AssertionError(
                f"{self.name} did not report its admin address within {timeout:.0f}s "
                f"(exit code {code}); command: {' '.join(cmd)}\n{self.log_tail()}")
        return self

    # -- admin API --------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        code, body = self.get("/stats")
        if code != 200:
            raise AssertionError(f"proxy GET /stats: {code} {body[:300]!r}")
        return harness.parse_stats(body.decode())

    def cluster_stats(self, cluster: str) -> dict[str, int]:
        """``cluster.<cluster>.*`` counters by suffix (``upstream_rq_total``, ...)."""
        prefix = f"cluster.{cluster}."
        return {k[len(prefix):]: v for k, v in self.stats().items() if k.startswith(prefix)}

    def ready(self) -> bool:
        code, body = self.get("/ready")
        return code == 200 and body.strip() == b"LIVE"

    def runtime(self) -> dict:
        code, body = harness.http_json("GET", self.admin_url + "/runtime")
        if code != 200:
            raise AssertionError(f"proxy GET /runtime: {code} {body!r}")
        return body.get("entries", {})

    def runtime_modify(self, key: str, value: str | int) -> None:
        url = (self.admin_url + "/runtime_modify?"
               + urllib.parse.urlencode({key: str(value)}))
        code, body = harness.http_send("POST", url, b"", "text/plain")
        if code != 200:
            raise AssertionError(f"proxy POST /runtime_modify: {code} {body[:300]!r}")

    def config_dump(self) -> dict:
        code, body = harness.http_json("GET", self.admin_url + "/config_dump")
        if code != 200:
            raise AssertionError(f"proxy GET /config_dump: {code} {body!r}")
        return body

    ACCESS_LINE = re.compile(
        r'^\[[^\]]*\] "(\S+) (\S+) [^"]*" (\d+) (\S+) (\d+) (\d+) (\d+) (\S+) '
        r'"[^"]*" "[^"]*" "([^"]*)" "([^"]*)" "([^"]*)"')

    def access_log_timings(self, request_ids: Iterable[str]) -> dict[str, list[str]]:
        """For each x-request-id, its access log entries as "AUTHORITY CODE total=MS
        upstream=MS" (the proxy's own view of how long the request took)."""
        wanted = set(request_ids)
        out: dict[str, list[str]] = {rid: [] for rid in wanted}
        if not self.access_log_path or not os.path.exists(self.access_log_path):
            return out
        with open(self.access_log_path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = self.ACCESS_LINE.match(line)
                if m and m.group(9) in wanted:
                    out[m.group(9)].append(f"{m.group(10)} {m.group(3)} total={m.group(7)}ms "
                                           f"upstream={m.group(8)}ms")
        return out

    def access_log_tail(self, lines: int = 20) -> str:
        if not self.access_log_path or not os.path.exists(self.access_log_path):
            return f"----- {self.name} access log: none -----"
        with open(self.access_log_path, "rb") as f:
            try:
                f.seek(-200 * lines, os.SEEK_END)
            except OSError:
                f.seek(0)
            tail = f.read().decode("utf-8", "replace").splitlines()[-lines:]
        return (f"----- {self.name} access log (last {len(tail)} lines) -----\n"
                + "\n".join(tail) + f"\n----- end of {self.name} access log -----")


# --------------------------------------------------------------------------------------
# Istio YAML (block style, from Python values)


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return json.dumps(str(v))  # a JSON string is a valid double-quoted YAML scalar


def to_yaml(value: Any, indent: int = 0) -> str:
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        out = []
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                out.append(f"{pad}{k}:\n{to_yaml(v, indent + 2)}")
            else:
                text = ("{}" if isinstance(v, dict) else "[]") if isinstance(v, (dict, list)) \
                    else _scalar(v)
                out.append(f"{pad}{k}: {text}\n")
        return "".join(out)
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        out = []
        for item in value:
            body = to_yaml(item, indent + 2)
            out.append(pad + "- " + body[indent + 2:])
        return "".join(out)
    return pad + _scalar(value) + "\n"


def resource(kind: str, name: str, spec: dict, namespace: str = "default") -> str:
    return to_yaml({"apiVersion": "networking.istio.io/v1", "kind": kind,
                    "metadata": {"name": name, "namespace": namespace}, "spec": spec})


def service_entry(name: str, host: str, port: int,
                  endpoints: list[tuple[int, dict[str, str]]]) -> str:
    """A STATIC MESH_INTERNAL ServiceEntry: ``host`` on ``port`` (named http), endpoints on
    127.0.0.1 at the given upstream ports with labels."""
    eps = []
    for up_port, labels in endpoints:
        ep: dict[str, Any] = {"address": "127.0.0.1", "ports": {"http": up_port}}
        if labels:
            ep["labels"] = dict(labels)
        eps.append(ep)
    return resource("ServiceEntry", name, {
        "hosts": [host], "location": "MESH_INTERNAL", "resolution": "STATIC",
        "ports": [{"number": port, "name": "http", "protocol": "HTTP"}],
        "endpoints": eps})


def destination_rule(name: str, host: str, subsets: Iterable[str] = ("v1", "v2"),
                     connect_timeout: str = "1s") -> str:
    return resource("DestinationRule", name, {
        "host": host,
        "trafficPolicy": {"connectionPool": {"tcp": {"connectTimeout": connect_timeout}}},
        "subsets": [{"name": s, "labels": {"version": s}} for s in subsets]})


def virtual_service(name: str, host: str, route: list[tuple[str | None, int]],
                    mirror: dict | None = None, mirror_percentage: float | None = None,
                    route_host: str | None = None, **rule_extra: Any) -> str:
    """One unnamed http rule: ``route`` as [(subset or None, weight)] to ``route_host``
    (default ``host``), optionally ``mirror`` ({"host": ..., "subset": ...}) and
    ``mirrorPercentage.value``."""
    dests = []
    for subset, weight in route:
        d: dict[str, Any] = {"host": route_host or host}
        if subset:
            d["subset"] = subset
        dests.append({"destination": d, "weight": weight})
    rule: dict[str, Any] = {"route": dests}
    if mirror is not None:
        rule["mirror"] = dict(mirror)
    if mirror_percentage is not None:
        rule["mirrorPercentage"] = {"value": float(mirror_percentage)}
    rule.update(rule_extra)
    return resource("VirtualService", name, {"hosts": [host], "http": [rule]})


# --------------------------------------------------------------------------------------
# HTTP/1.1 clients


class Response:
    __slots__ = ("status", "headers", "body", "latency")

    def __init__(self, status: int, headers: dict[str, str], body: bytes, latency: float):
        self.status = status
        self.headers = headers
        self.body = body
        self.latency = latency

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"Response({self.status}, {self.body[:120]!r})"


class KeepAliveClient:
    """One persistent HTTP/1.1 connection (reopened after an error or a ``close``)."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0):
        self.port = port
        self.host = host
        self.timeout = timeout
        self.conn: http.client.HTTPConnection | None = None
        self.connections_opened = 0

    def _connection(self) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
            self.connections_opened += 1
        return self.conn

    def request(self, method: str, path: str, authority: str,
                headers: dict[str, str] | None = None, body: Any = None,
                chunked: bool = False) -> Response:
        conn = self._connection()
        hdrs = {"Host": authority}
        if headers:
            hdrs.update(headers)
        t0 = time.perf_counter()
        try:
            conn.request(method, path, body=body, headers=hdrs, encode_chunked=chunked)
            resp = conn.getresponse()
            data = resp.read()
        except BaseException:
            self.close()
            raise
        latency = time.perf_counter() - t0
        out = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data, latency)
        if resp.will_close:
            self.close()
        return out

    def close(self) -> None:
        if self.conn is not None:
            try:
                self.conn.close()
            finally:
                self.conn = None


class LoadResult:
    def __init__(self) -> None:
        self.latencies: list[float] = []   # seconds, successful (200) responses
        self.times: list[float] = []       # when each of them was sent (s after the start)
        self.ids: list[str] = []           # and its x-request-id
        self.statuses: collections.Counter = collections.Counter()
        self.errors: list[str] = []
        self.bad: list[str] = []           # the first non-200 responses
        self.servers: collections.Counter = collections.Counter()
        self.elapsed = 0.0
        self.lock = threading.Lock()

    @property
    def total(self) -> int:
        return sum(self.statuses.values()) + len(self.errors)

    @property
    def ok(self) -> int:
        return self.statuses.get(200, 0)

    def p(self, q: float) -> float:
        return harness.percentile(self.latencies, q)

    def slow(self, q: float = 0.99) -> list[tuple[float, float, str]]:
        """(sent at, latency, x-request-id) of the responses above the ``q`` quantile, by
        time."""
        cut = self.p(q)
        return sorted((t, l, i) for t, l, i in zip(self.times, self.latencies, self.ids)
                      if l > cut)

    def summary(self) -> str:
        return (f"n={self.total} ok={self.ok} statuses={dict(self.statuses)} "
                f"errors={len(self.errors)} servers={dict(self.servers)} "
                f"rate={self.total / self.elapsed if self.elapsed else 0:.0f}/s "
                f"p50={self.p(0.5) * 1000:.1f}ms p90={self.p(0.9) * 1000:.1f}ms "
                f"p99={self.p(0.99) * 1000:.1f}ms max={self.p(1.0) * 1000:.1f}ms")


def run_load(port: int, authority: str, total: int, threads: int = 8, rate: float | None = None,
             path: str = "/load", stop: threading.Event | None = None,
             timeout: float = 10.0, deadline: float = 120.0) -> LoadResult:
    """Sends ``total`` GETs from ``threads`` threads, each over its own keep-alive
    connection; paced at ``rate`` requests/s overall when given (each thread on a fixed
    schedule, so a slow response is not hidden by the pacing). Bounded by ``deadline``
    seconds (then it stops early and the shortfall shows in ``total``)."""
    result = LoadResult()
    per_thread = [total // threads + (1 if i < total % threads else 0) for i in range(threads)]
    interval = threads / rate if rate else 0.0
    start = time.perf_counter()
    end_by = time.monotonic() + deadline

    def worker(index: int, count: int) -> None:
        client = KeepAliveClient(port, timeout=timeout)
        first = start + (interval * index / threads if interval else 0.0)
        try:
            for k in range(count):
                if (stop is not None and stop.is_set()) or time.monotonic() > end_by:
                    return
                if interval:
                    wait = first + k * interval - time.perf_counter()
                    if wait > 0:
                        time.sleep(wait)
                rid = f"load-{index}-{k}-{time.monotonic_ns()}"
                sent_at = time.perf_counter()
                try:
                    r = client.request("GET", path, authority, {"x-request-id": rid})
                except Exception as e:  # noqa: BLE001 - counted as a failure
                    with result.lock:
                        result.errors.append(f"{type(e).__name__}: {e}")
                    continue
                with result.lock:
                    result.statuses[r.status] += 1
                    if r.status == 200:
                        result.latencies.append(r.latency)
                        result.times.append(sent_at - start)
                        result.ids.append(rid)
                        result.servers[r.headers.get("x-upstream", "?")] += 1
                    elif len(result.bad) < 20:
                        result.bad.append(f"{r.status} {rid}: {r.body[:200]!r}")
        finally:
            client.close()

    ts = [threading.Thread(target=worker, args=(i, n), daemon=True, name=f"load-{i}")
          for i, n in enumerate(per_thread)]
    for t in ts:
        t.start()
    for t in ts:
        t.join(max(0.0, end_by - time.monotonic()) + timeout + 5)
    result.elapsed = time.perf_counter() - start
    return result


# --------------------------------------------------------------------------------------
# Test case base


class ProxyTestCase(harness.InteropTestCase):
    """A store-mode control plane, upstreams and a proxy per test, all cleaned up; their
    log tails (and the upstreams' request counts) are printed when a test fails."""

    NODE_ID = "proxy-e2e"

    def setUp(self) -> None:
        super().setUp()
        self.upstreams: list[Any] = []
        self.proxies: list[Proxy] = []
        self.add_diagnostic(self._upstream_summary)

    def _upstream_summary(self) -> str:
        lines = ["----- upstreams -----"]
        for u in self.upstreams:
            try:
                reqs = u.requests
                lines.append(f"{u!r}: {len(reqs)} records; last: "
                             f"{json.dumps(reqs[-1], sort_keys=True) if reqs else '-'}")
            except Exception as e:  # noqa: BLE001
                lines.append(f"{u!r}: {e!r}")
        for p in self.proxies:
            try:
                nonzero = {k: v for k, v in p.stats().items() if v}
                lines.append(f"{p.name} /stats (non-zero): {json.dumps(nonzero, indent=1)}")
            except Exception as e:  # noqa: BLE001
                lines.append(f"{p.name} /stats: {e!r}")
            lines.append(p.access_log_tail())
        return "\n".join(lines)

    def start_upstream(self, name: str, mode: str = "normal") -> upstream.Upstream:
        u = upstream.start(name, mode)
        self.upstreams.append(u)
        self.addCleanup(u.stop)
        return u

    def start_process_upstream(self, name: str, mode: str) -> upstream.ProcessUpstream:
        log = os.path.join(self.scratch(), f"{name}-{len(self.upstreams)}.jsonl")
        u = upstream.start_process(name, mode, log)
        self.upstreams.append(u)
        self.addCleanup(u.stop)
        return u

    def scratch(self) -> str:
        if not hasattr(self, "_scratch"):
            import tempfile
            d = tempfile.TemporaryDirectory(prefix="shadowplane-proxy-e2e-")
            self.addCleanup(d.cleanup)
            self._scratch = d.name
        return self._scratch

    def start_proxy(self, cp: harness.ControlPlane, node_id: str | None = None,
                    threads: int = 2, access_log: bool = True, name: str = "proxy",
                    extra_args: Iterable[str] = ()) -> Proxy:
        p = Proxy(cp.xds_address, node_id or self.NODE_ID, name=name, threads=threads,
                  access_log=access_log, extra_args=extra_args)
        self._planes.append(p)  # its log tail is printed on failure
        self.proxies.append(p)
        self.addCleanup(p.cleanup)
        p.start()
        return p

    # -- configuration reaching the proxy ----------------------------------------------

    def versions(self, cp: harness.ControlPlane, node_id: str | None = None) -> dict:
        st = cp.latest_stream(node_id or self.NODE_ID)
        if st is None:
            return {}
        return {t: (st["types"].get(t, {}).get("sentVersion"),
                    st["types"].get(t, {}).get("state")) for t in TYPES}

    def wait_synced(self, cp: harness.ControlPlane, before: dict | None = None,
                    node_id: str | None = None, timeout: float = SYNC_TIMEOUT) -> dict:
        """Waits until the proxy's stream has every type SYNCED (or never sent) and, when
        ``before`` is given, at least one sentVersion differs from it."""
        node = node_id or self.NODE_ID

        def check():
            st = cp.latest_stream(node)
            if st is None:
                return None
            types = st["types"]
            for t in TYPES:
                state = types.get(t, {}).get("state")
                if state not in ("SYNCED", "NOT SENT", None):
                    return None
            now = {t: (types.get(t, {}).get("sentVersion"), types.get(t, {}).get("state"))
                   for t in TYPES}
            if before is not None and all(now[t][0] == before.get(t, (None,))[0]
                                          for t in TYPES):
                return None
            return now
        return harness.poll(check, timeout, interval=0.05,
                            what=f"{node} to be SYNCED with the new configuration")

    def apply_synced(self, cp: harness.StoreControlPlane, text: str,
                     node_id: str | None = None, timeout: float = SYNC_TIMEOUT) -> dict:
        """Applies ``text`` and waits until the proxy ACKed what it changed: some type's
        sent version moves and every type is SYNCED. When the change leaves the Envoy
        resources as they were (nothing to push), it is enough that the control plane has
        translated the new revision and a short quiet period passes with every type
        SYNCED."""
        before = self.versions(cp, node_id)
        body = cp.apply_ok(text)
        changed = any(c.get("action") != "unchanged" for c in body.get("changes", []))
        if not changed:
            return self.wait_synced(cp, None, node_id, timeout)
        revision = body.get("revision")
        node = node_id or self.NODE_ID
        translated_at: list[float] = []

        def check():
            st = cp.latest_stream(node)
            if st is None:
                return None
            types = st["types"]
            if any(types.get(t, {}).get("state") not in ("SYNCED", "NOT SENT", None)
                   for t in TYPES):
                return None
            now = {t: (types.get(t, {}).get("sentVersion"), types.get(t, {}).get("state"))
                   for t in TYPES}
            if any(now[t][0] != before.get(t, (None,))[0] for t in TYPES):
                return now
            if not translated_at:
                served = harness.metric_value(cp.metrics(), "shadowplane_config_revision")
                if served is not None and revision is not None and served >= revision:
                    translated_at.append(time.monotonic())
                return None
            return now if time.monotonic() - translated_at[0] >= 1.0 else None
        return harness.poll(check, timeout, interval=0.05,
                            what=f"{node} to be SYNCED after applying revision {revision}")
