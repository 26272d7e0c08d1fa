"""Shared helpers for the adversarial suite (issue 12), on top of the interop harness.

The interop helpers (``harness``, ``proxy_harness`` and its ``upstream``, in
``Tests/Interop``) are imported from there, not copied. What this module adds is what
every attack needs:

- ``RssWatch``: samples a process's resident memory (``/proc/PID/status`` VmRSS) every
  100 ms and keeps the peak; above a safety ceiling (a multiple of the bound under test)
  it kills the process, so a defect that balloons cannot take the machine with it.
- ``LatencyProbe``: a thread that GETs a URL every 100 ms (``/healthz``, a proxied
  request) and keeps every latency and failure.
- ``cpu_seconds``: user + system CPU time of a process (``/proc/PID/stat``).
- ``options``: the spec's new flags, passed only when the binary knows them (``--help``),
  so an older binary still starts and fails on the defect itself; ``missing_options``
  lets each file assert that the flags exist.
- ``raw_exchange`` and ``read_http_response``: HTTP/1.1 over a bare socket, for requests
  no client library would send.
- ``AdversarialTestCase``: ``proxy_harness.ProxyTestCase`` plus control planes and proxies
  started with extra flags, and the samplers, all stopped after the test.

The binary is ``SHADOWPLANE_BIN`` (default ``/work/baseline/shadowplane-debug``).
"""
from __future__ import annotations

import functools
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Iterable

HERE = os.path.dirname(os.path.abspath(__file__))
INTEROP_DIR = os.path.normpath(os.path.join(HERE, os.pardir, "Interop"))
REPO = os.path.normpath(os.path.join(HERE, os.pardir, os.pardir))
sys.path.insert(0, INTEROP_DIR)

DEFAULT_BIN = "/work/baseline/shadowplane-debug"
os.environ.setdefault("SHADOWPLANE_BIN", DEFAULT_BIN)
# A Swift process that traps prints its backtrace before it dies; symbolicating one of the
# debug binary takes 10-20 s, during which the process hangs. Unsymbolicated, it dies at
# once (the addresses and the fatal error message are still printed).
os.environ.setdefault("SWIFT_BACKTRACE", "symbolicate=off")

import harness  # noqa: E402
import proxy_harness as ph  # noqa: E402
from harness import poll  # noqa: E402

MB = 1024 * 1024
# The bounds of issue 12's acceptance criteria.
CP_RSS_LIMIT = 300 * MB
PROXY_RSS_LIMIT = 200 * MB
HEALTHZ_LIMIT = 1.0
# A process above SAFETY x its bound is killed by its RssWatch (the test has failed by then).
SAFETY = 5


def log(tag: str, msg: str) -> None:
    print(f"[{tag}] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# The process under attack


def rss_bytes(pid: int) -> int | None:
    """Resident set size of ``pid`` in bytes, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds used by ``pid`` (all its threads), or None when gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command name: state is field 3, utime 14 and stime 15 (1-based).
    ticks = int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def open_fds(pid: int) -> int | None:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def wait_log_quiet(proc: harness.ControlPlane, quiet: float = 0.5, timeout: float = 5.0
                   ) -> int:
    """Waits (bounded) until ``proc`` has written nothing for ``quiet`` seconds; returns its
    ``log_bytes``."""
    deadline = time.monotonic() + timeout
    last = proc.log_bytes
    while time.monotonic() < deadline:
        time.sleep(quiet)
        now = proc.log_bytes
        if now == last:
            return now
        last = now
    return last


def mb(n: float | None) -> str:
    return "-" if n is None else f"{n / MB:.0f} MB"


class RssWatch:
    """Samples ``pid``'s RSS every ``interval`` seconds from start until ``stop``; keeps the
    peak and the samples. Above ``kill_above`` bytes it SIGKILLs the process (a safety
    valve, recorded in ``killed_at``) so a runaway defect cannot exhaust the machine."""

    def __init__(self, pid: int, name: str, kill_above: int | None = None,
                 interval: float = 0.1):
        self.pid = pid
        self.name = name
        self.kill_above = kill_above
        self.interval = interval
        self.samples: list[tuple[float, int]] = []
        self.peak = 0
        self.killed_at: int | None = None
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"rss-{name}")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            rss = rss_bytes(self.pid)
            if rss is None:
                return
            self.samples.append((time.monotonic() - self.started, rss))
            self.peak = max(self.peak, rss)
            if self.kill_above is not None and rss > self.kill_above and self.killed_at is None:
                self.killed_at = rss
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except OSError:
                    pass
                return
            self._stop.wait(self.interval)

    @property
    def current(self) -> int | None:
        return rss_bytes(self.pid)

    @property
    def exceeded(self) -> bool:
        """Whether the safety valve fired (attack loops stop early on it)."""
        return self.killed_at is not None

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.peak

    def summary(self) -> str:
        first = self.samples[0][1] if self.samples else None
        text = f"{self.name} RSS: first {mb(first)}, peak {mb(self.peak)}"
        if self.killed_at is not None:
            text += f" (killed by the test at {mb(self.killed_at)}: safety ceiling)"
        return text


class LatencyProbe:
    """GETs ``url`` every ``interval`` seconds (each with ``timeout``) from start until
    ``stop``; keeps (when, latency, status or error) for every probe. A probe that times
    out counts its full timeout as its latency."""

    def __init__(self, url: str, name: str, interval: float = 0.1, timeout: float = 5.0,
                 headers: dict[str, str] | None = None, keep_alive: bool = False):
        self.url = url
        self.name = name
        self.interval = interval
        self.timeout = timeout
        self.headers = headers or {}
        # keep_alive: every probe on one persistent connection (opened again after an
        # error), so what is measured is the serving, not the accepting, of a request.
        self.keep_alive = keep_alive
        self._conn: http.client.HTTPConnection | None = None
        self.results: list[tuple[float, float, str]] = []
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"probe-{name}")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            t0 = time.monotonic()
            outcome = ""
            try:
                if self.keep_alive:
                    outcome = self._get_keep_alive()
                else:
                    req = urllib.request.Request(self.url, headers=self.headers)
                    with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                        resp.read()
                        outcome = str(resp.status)
            except urllib.error.HTTPError as e:
                outcome = str(e.code)
            except Exception as e:  # noqa: BLE001 - recorded
                outcome = f"{type(e).__name__}: {e}"
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
            latency = time.monotonic() - t0
            self.results.append((t0 - self.started, latency, outcome))
            self._stop.wait(max(0.0, self.interval - latency))

    def _get_keep_alive(self) -> str:
        u = urllib.parse.urlsplit(self.url)
        if self._conn is None:
            self._conn = http.client.HTTPConnection(u.hostname, u.port, timeout=self.timeout)
        self._conn.request("GET", u.path or "/", headers=self.headers)
        resp = self._conn.getresponse()
        resp.read()
        if resp.will_close:
            self._conn.close()
            self._conn = None
        return str(resp.status)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=self.timeout + 2)
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    @property
    def max_latency(self) -> float:
        return max((r[1] for r in self.results), default=0.0)

    @property
    def failures(self) -> list[tuple[float, float, str]]:
        return [r for r in self.results if r[2] != "200"]

    def summary(self) -> str:
        worst = sorted(self.results, key=lambda r: -r[1])[:3]
        return (f"{self.name}: {len(self.results)} probes, max {self.max_latency * 1000:.0f} ms, "
                f"{len(self.failures)} not 200; worst (at s, latency s, outcome): "
                + ", ".join(f"({t:.1f}, {l:.2f}, {o})" for t, l, o in worst))


# --------------------------------------------------------------------------------------
# Flags of the spec (LIMITS-SPEC.md), passed only when the binary has them


@functools.lru_cache(maxsize=None)
def known_options(subcommand: str) -> frozenset[str]:
    """The ``--flags`` that ``shadowplane SUBCOMMAND --help`` lists."""
    done = subprocess.run([harness.shadowplane_bin(), subcommand, "--help"],
                          capture_output=True, text=True, timeout=30)
    return frozenset(re.findall(r"--[a-z0-9][a-z0-9-]*", done.stdout + done.stderr))


def missing_options(subcommand: str, names: Iterable[str]) -> list[str]:
    known = known_options(subcommand)
    return [n for n in names if n not in known]


def options(subcommand: str, **flags: str) -> list[str]:
    """Command-line arguments for ``flags`` (``drain_period="2s"`` -> ``--drain-period 2s``),
    leaving out (and saying on stderr) the ones this binary does not know, so that a binary
    without the fix still starts and the test fails on the behaviour it checks."""
    out: list[str] = []
    for key, value in flags.items():
        flag = "--" + key.replace("_", "-")
        if flag in known_options(subcommand):
            out += [flag, str(value)]
        else:
            log("adversarial", f"note: `shadowplane {subcommand}` has no {flag}; "
                               f"running without it (the binary predates issue 12's fix)")
    return out


# --------------------------------------------------------------------------------------
# Envoy resources for the proxy under attack (proto3 JSON, as ``harness``'s fixtures):
# listeners on 127.0.0.1 only, clusters with their endpoints inline.


def static_cluster(name: str, port: int, connect_timeout: str = "1s", **extra) -> dict:
    """A STATIC cluster with one endpoint on 127.0.0.1:``port``."""
    c = {
        "@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster",
        "name": name,
        "type": "STATIC",
        "connectTimeout": connect_timeout,
        "lbPolicy": "ROUND_ROBIN",
        "loadAssignment": {"clusterName": name, "endpoints": [{"lbEndpoints": [
            {"endpoint": {"address": harness.socket_address("127.0.0.1", port)}}]}]},
    }
    c.update(extra)
    return c


def route_config(name: str, route: dict, **route_extra) -> dict:
    """Route configuration ``name``: one virtual host for every Host (``*``), one route
    (prefix ``/``) with ``route`` (a RouteAction: ``{"cluster": ...}`` and options)."""
    r = {"match": {"prefix": "/"}, "route": route}
    r.update(route_extra)
    return {
        "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
        "name": name,
        "virtualHosts": [{"name": "all", "domains": ["*"], "routes": [r]}],
    }


def mirror_policy(cluster: str, runtime_key: str = "", percent: int = 100) -> dict:
    policy = {"cluster": cluster,
              "runtimeFraction": {"defaultValue": {"numerator": percent,
                                                   "denominator": "HUNDRED"}}}
    if runtime_key:
        policy["runtimeFraction"]["runtimeKey"] = runtime_key
    return policy


def mirror_route(name: str, cluster: str, mirror_cluster: str, runtime_key: str,
                 default_percent: int = 0) -> dict:
    """Every request to ``cluster``, mirrored to ``mirror_cluster`` at ``runtime_key``
    (default ``default_percent`` per HUNDRED)."""
    return route_config(name, {"cluster": cluster, "requestMirrorPolicies": [
        mirror_policy(mirror_cluster, runtime_key, default_percent)]})


def proxy_resources(listen_port: int, route: dict, clusters: list[dict],
                    runtime: dict | None = None) -> list[dict]:
    """A listener on 127.0.0.1:``listen_port`` -> route configuration ``route`` (its
    ``name``) -> ``clusters``; plus the runtime layer ``shadowplane`` when given."""
    out = [harness.tcp_listener(f"listener-{listen_port}", "127.0.0.1", listen_port,
                                route["name"]),
           route, *clusters]
    if runtime is not None:
        out.append(harness.runtime_layer("shadowplane", runtime))
    return out


# --------------------------------------------------------------------------------------
# Raw HTTP/1.1


def read_http_response(sock: socket.socket, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """Reads one HTTP/1.1 response (Content-Length or chunked body, or until EOF) from
    ``sock``; returns (status, lower-cased headers, body). Raises on timeout or on a
    connection closed before a status line (``ConnectionError``)."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    buf = b""
    while b"\r\n\r\n" not in buf:
        if time.monotonic() > deadline:
            raise TimeoutError("no complete response head")
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response head (got {buf[:200]!r})")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()

    def more() -> bytes:
        if time.monotonic() > deadline:
            raise TimeoutError("response body incomplete")
        return sock.recv(65536)

    if "content-length" in headers:
        n = int(headers["content-length"])
        while len(rest) < n:
            chunk = more()
            if not chunk:
                break
            rest += chunk
        return status, headers, rest[:n]
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = b""
        while True:
            while b"\r\n" not in rest:
                chunk = more()
                if not chunk:
                    return status, headers, body
                rest += chunk
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(rest) < size + 2:
                chunk = more()
                if not chunk:
                    return status, headers, body + rest
                rest += chunk
            if size == 0:
                return status, headers, body
            body += rest[:size]
            rest = rest[size + 2:]
    if status in (204, 304) or 100 <= status < 200:
        return status, headers, b""
    while True:
        try:
            chunk = more()
        except (TimeoutError, socket.timeout):
            break
        if not chunk:
            break
        rest += chunk
    return status, headers, rest


def raw_exchange(port: int, data: bytes, timeout: float = 10.0
                 ) -> tuple[int, dict[str, str], bytes]:
    """Sends ``data`` (a whole request, bytes as given) on a new connection to 127.0.0.1
    and reads one response."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            s.sendall(data)
        except OSError:
            pass  # a server may answer (and close) before it has read everything
        return read_http_response(s, timeout)


def closed_by_peer(sock: socket.socket) -> bool:
    """Whether the peer closed (or reset) ``sock``: a non-blocking read sees EOF or an
    error. Bytes waiting (a response) are read and dropped, and count as "not closed"
    unless EOF follows them."""
    try:
        sock.setblocking(False)
        while True:
            data = sock.recv(65536)
            if not data:
                return True
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    finally:
        try:
            sock.setblocking(True)
        except OSError:
            pass


def raise_fd_limit(want: int) -> int:
    """Raises this process's soft RLIMIT_NOFILE towards ``want`` (children inherit it);
    returns the soft limit now in force."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def kill(proc: harness.ControlPlane) -> None:
    """SIGKILLs ``proc``'s process if it is still running (its ``stop`` then only reaps)."""
    if proc.proc is not None and proc.proc.poll() is None:
        proc.proc.kill()
        proc.proc.wait(timeout=10)


# --------------------------------------------------------------------------------------
# Test case base


class AdversarialTestCase(ph.ProxyTestCase):
    """``ProxyTestCase`` (upstreams, log tails on failure) plus control planes and proxies
    with extra flags, RSS watches and latency probes, all stopped after the test; the
    watches' and probes' summaries are printed with the diagnostics when a test fails."""

    TAG = "adversarial"

    def setUp(self) -> None:
        super().setUp()
        self._watches: list[RssWatch] = []
        self._probes: list[LatencyProbe] = []
        self.add_diagnostic(lambda: "\n".join(
            [w.summary() for w in self._watches] + [p.summary() for p in self._probes]))

    def log(self, msg: str) -> None:
        log(self.TAG, msg)

    def start_cp(self, extra_args: Iterable[str] = (), store: bool = True,
                 store_dir: str | None = None, resources: list[dict] | None = None,
                 name: str = "control-plane", hard_stop: bool = False) -> harness.ControlPlane:
        """A control plane (store mode, or static ``resources`` with ``store=False``) with
        ``extra_args`` after the harness's, stopped after the test. ``hard_stop``: SIGKILL
        it after the test instead of SIGTERM (an attack may have wedged it)."""
        if store:
            cp: harness.ControlPlane = harness.StoreControlPlane(
                store_dir, extra_args=extra_args, name=name)
        else:
            cp = harness.ControlPlane(resources or [], extra_args=extra_args, name=name)
        self._planes.append(cp)
        self.addCleanup(cp.cleanup)
        cp.start()
        if hard_stop:
            self.addCleanup(kill, cp)
        return cp

    def start_proxy_with(self, xds_address: str, node_id: str, extra_args: Iterable[str] = (),
                         threads: int = 2, access_log: bool = False,
                         name: str = "proxy") -> ph.Proxy:
        p = ph.Proxy(xds_address, node_id, name=name, threads=threads, access_log=access_log,
                     extra_args=extra_args)
        self._planes.append(p)
        self.proxies.append(p)
        self.addCleanup(p.cleanup)
        p.start()
        return p

    def serve_through_proxy(self, resources: list[dict], listen_port: int,
                            proxy_args: Iterable[str] = (), host: str = "web",
                            threads: int = 2) -> tuple[harness.ControlPlane, ph.Proxy]:
        """A static-mode control plane serving ``resources`` and a proxy with
        ``proxy_args``, once the proxy answers a request on ``listen_port`` (Host ``host``)
        with a 200."""
        cp = self.start_cp(store=False, resources=resources)
        proxy = self.start_proxy_with(cp.xds_address, self.NODE_ID, extra_args=proxy_args,
                                      threads=threads)
        client = ph.KeepAliveClient(listen_port, timeout=5)
        try:
            poll(lambda: proxy.proc.poll() is not None
                 or client.request("GET", "/warmup", host).status == 200, 30,
                 what=f"the proxy to serve {host} on {listen_port}")
        finally:
            client.close()
        self.assert_alive(proxy, "after the first request")
        return cp, proxy

    def watch_rss(self, proc: harness.ControlPlane, limit: int) -> RssWatch:
        """Watches ``proc``'s RSS (killing it above SAFETY x ``limit``) until the test ends."""
        w = RssWatch(proc.proc.pid, proc.name, kill_above=SAFETY * limit)
        self._watches.append(w)
        self.addCleanup(w.stop)
        return w

    def probe(self, url: str, name: str, **kw) -> LatencyProbe:
        p = LatencyProbe(url, name, **kw)
        self._probes.append(p)
        self.addCleanup(p.stop)
        return p

    def probe_healthz(self, cp: harness.ControlPlane) -> LatencyProbe:
        return self.probe(cp.admin_url + "/healthz", f"{cp.name} /healthz")

    def assert_rss_below(self, watch: RssWatch, limit: int, what: str) -> None:
        watch.stop()
        self.log(watch.summary())
        self.assertIsNone(watch.killed_at, f"{what}: {watch.summary()}")
        self.assertLess(watch.peak, limit, f"{what}: {watch.summary()}, limit {mb(limit)}")

    def assert_responsive(self, probe: LatencyProbe, limit: float, what: str) -> None:
        probe.stop()
        self.log(probe.summary())
        self.assertTrue(probe.results, f"{what}: no probe ran")
        if probe.failures:
            self.fail(f"{what}: {len(probe.failures)} of {len(probe.results)} probes failed, "
                      f"first {probe.failures[0]}; {probe.summary()}")
        self.assertLess(probe.max_latency, limit, f"{what}: {probe.summary()}")

    def assert_alive(self, proc: harness.ControlPlane, what: str, grace: float = 0.0) -> None:
        """Fails when ``proc`` has exited, saying how (signal or exit code). With ``grace``,
        first waits up to that long for an exit (after a request failed: a crash may be
        under way)."""
        if grace and proc.proc is not None:
            try:
                proc.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        if proc.proc is None or proc.proc.poll() is not None:
            code = None if proc.proc is None else proc.proc.returncode
            how = (f"killed by signal {-code} ({signal.Signals(-code).name})"
                   if code is not None and code < 0 else f"exit code {code}")
            pid = None if proc.proc is None else proc.proc.pid
            for w in self._watches:
                if w.pid == pid and w.killed_at is not None:
                    how += f": the test killed it at {mb(w.killed_at)} RSS (safety ceiling)"
            self.fail(f"{what}: {proc.name} is not running ({how})")

    def assert_options_exist(self, subcommand: str, names: Iterable[str]) -> None:
        missing = missing_options(subcommand, names)
        self.assertEqual(missing, [], f"`shadowplane {subcommand} --help` lacks the flags of "
                                      f"LIMITS-SPEC.md: {missing}")
