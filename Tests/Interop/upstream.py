"""Recording HTTP/1.1 upstreams for the proxy end-to-end tests.

A real HTTP/1.1 server (``ThreadingHTTPServer``, keep-alive) that records every request it
receives — method, path, Host, x-request-id, x-envoy-internal, the body's length and
sha256 — in memory and, optionally, as JSON lines appended to a file. Modes:

- ``normal``: 200 with a JSON body naming the server;
- ``sleep=SECONDS``: the same answer after a delay;
- ``status=CODE``: answers CODE (e.g. ``status=500``);
- ``blackhole``: a raw TCP server that accepts, reads everything and never writes.

For "connection refused" use ``harness.free_port()`` with nothing listening on it.

In-process use::

    up = upstream.start("v1", "normal")          # .port, .requests, .count(), .stop()

In another process (keeps a busy upstream's Python work off the test's interpreter)::

    up = upstream.start_process("sink", "status=500", log_path)   # same interface

As a program::

    python upstream.py --name v1 --mode sleep=1 [--port 0] [--log FILE]

prints ``upstream NAME listening on 127.0.0.1:PORT`` on stdout and serves until SIGTERM,
SIGINT or the end of its standard input.
"""
from __future__ import annotations

import argparse
import hashlib
import http.server
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Any, Callable

READY_PREFIX = "upstream "
LISTEN_BACKLOG = 1024


def parse_mode(mode: str) -> tuple[str, float | int | None]:
    """``normal`` | ``sleep=S`` | ``status=N`` | ``blackhole`` -> (kind, argument)."""
    if mode in ("normal", "blackhole"):
        return mode, None
    if mode.startswith("sleep="):
        return "sleep", float(mode.split("=", 1)[1])
    if mode.startswith("status="):
        return "status", int(mode.split("=", 1)[1])
    raise ValueError(f"unknown upstream mode {mode!r}")


class _Recorder:
    """The requests (or connections, for a black hole) seen, in memory and as JSON lines."""

    def __init__(self, name: str, log_path: str | None):
        self.name = name
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.items: list[dict] = []
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None

    def add(self, record: dict) -> None:
        line = json.dumps(record, sort_keys=True) + "\n" if self._log else None
        with self.cond:
            self.items.append(record)
            if self._log:
                self._log.write(line)
                self._log.flush()
            self.cond.notify_all()

    def close(self) -> None:
        with self.lock:
            if self._log:
                self._log.close()
                self._log = None


# --------------------------------------------------------------------------------------
# HTTP modes


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "interop-upstream"
    sys_version = ""
    # A connection idle this long is closed (the proxy opens a new one).
    timeout = 120
    # Buffered writes: head and body leave in one segment (flushed after each request by
    # BaseHTTPRequestHandler), and TCP_NODELAY below, so no Nagle/delayed-ACK stalls.
    wbufsize = 1 << 16

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.track(self.connection, False)

    def _read_body(self) -> bytes:
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    raise ConnectionError("eof in chunked body")
                size = int(line.split(b";", 1)[0].strip(), 16)
                if size == 0:
                    # trailers up to the empty line
                    while True:
                        t = self.rfile.readline(65537)
                        if t in (b"\r\n", b"\n", b""):
                            break
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)  # CRLF after the chunk
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        srv = self.server
        received = time.time()
        body = self._read_body()
        record = {
            "server": srv.name,
            "time": received,
            "method": self.command,
            "version": self.request_version,
            "path": self.path,
            "host": self.headers.get("Host"),
            "x_request_id": self.headers.get("x-request-id"),
            "x_envoy_internal": self.headers.get("x-envoy-internal"),
            "content_length": self.headers.get("Content-Length"),
            "transfer_encoding": self.headers.get("Transfer-Encoding"),
            "body_len": len(body),
            "body_sha256": hashlib.sha256(body).hexdigest(),
        }
        srv.recorder.add(record)
        kind, arg = srv.kind, srv.arg
        if kind == "sleep":
            time.sleep(float(arg))
        status = int(arg) if kind == "status" else 200
        payload = json.dumps({"server": srv.name, "method": self.command, "path": self.path,
                              "host": record["host"],
                              "x_request_id": record["x_request_id"]}).encode()
        if self.command == "HEAD":
            payload = b""
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-upstream", srv.name)
        self.end_headers()
        if payload:
            self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _serve


class _HTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = LISTEN_BACKLOG

    def __init__(self, address, name: str, mode: str, recorder: _Recorder):
        self.name = name
        self.kind, self.arg = parse_mode(mode)
        self.recorder = recorder
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        super().__init__(address, _Handler)

    def track(self, sock: socket.socket, add: bool) -> None:
        with self._conns_lock:
            (self._conns.add if add else self._conns.discard)(sock)

    def close_connections(self) -> None:
        with self._conns_lock:
            conns = list(self._conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


# --------------------------------------------------------------------------------------
# Black hole


class _BlackHole:
    """Accepts TCP connections, reads and discards everything, never writes. One thread
    and a selector for every connection (thousands of idle peers cost no threads)."""

    def __init__(self, host: str, port: int, name: str, recorder: _Recorder):
        self.name = name
        self.recorder = recorder
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, port))
        self.sock.listen(LISTEN_BACKLOG)
        self.sock.setblocking(False)
        self.server_address = self.sock.getsockname()
        self._selector = selectors.DefaultSelector()
        self._selector.register(self.sock, selectors.EVENT_READ, None)
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._closed = False
        self._done = threading.Event()
        self.bytes_received = 0

    def serve_forever(self) -> None:
        try:
            while not self._closed:
                for key, _ in self._selector.select(timeout=0.5):
                    if key.data == "wake":
                        continue
                    if key.fileobj is self.sock:
                        self._accept()
                    else:
                        self._read(key.fileobj)
        finally:
            for key in list(self._selector.get_map().values()):
                if key.fileobj not in (self.sock, self._wake_r):
                    try:
                        key.fileobj.close()
                    except OSError:
                        pass
            self._selector.close()
            self.sock.close()
            self._wake_r.close()
            self._wake_w.close()
            self._done.set()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            conn.setblocking(False)
            self._selector.register(conn, selectors.EVENT_READ, "conn")
            self.recorder.add({"server": self.name, "time": time.time(), "event": "accept"})

    def _read(self, conn: socket.socket) -> None:
        try:
            data = conn.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            self.bytes_received += len(data)
            return
        self._selector.unregister(conn)
        conn.close()

    def shutdown(self) -> None:
        """Stops accepting and closes every accepted connection."""
        self._closed = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self._done.wait(5)

    def server_close(self) -> None:
        pass

    def close_connections(self) -> None:
        pass


# --------------------------------------------------------------------------------------
# In-process API


class Upstream:
    """A running upstream in this process. ``requests`` is a snapshot of what it saw (for
    a black hole: one ``{"event": "accept"}`` record per accepted connection)."""

    def __init__(self, name: str, mode: str = "normal", port: int = 0, host: str = "127.0.0.1",
                 log_path: str | None = None):
        self.name = name
        self.mode = mode
        self.log_path = log_path
        self._recorder = _Recorder(name, log_path)
        kind, _ = parse_mode(mode)
        if kind == "blackhole":
            self._server: Any = _BlackHole(host, port, name, self._recorder)
        else:
            self._server = _HTTPServer((host, port), name, mode, self._recorder)
        self.host = host
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True,
                                        name=f"upstream-{name}")
        self._thread.start()
        self._stopped = False

    @property
    def requests(self) -> list[dict]:
        with self._recorder.lock:
            return list(self._recorder.items)

    def count(self, pred: Callable[[dict], bool] | None = None) -> int:
        with self._recorder.lock:
            if pred is None:
                return len(self._recorder.items)
            return sum(1 for r in self._recorder.items if pred(r))

    def clear(self) -> None:
        with self._recorder.lock:
            self._recorder.items.clear()

    def wait_for_count(self, n: int, timeout: float) -> int:
        """Waits (bounded) until at least ``n`` records; returns the count reached."""
        deadline = time.monotonic() + timeout
        with self._recorder.cond:
            while len(self._recorder.items) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._recorder.cond.wait(min(left, 0.2))
            return len(self._recorder.items)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        self._thread.join(timeout=5)
        self._recorder.close()

    def __enter__(self) -> "Upstream":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"Upstream({self.name!r}, {self.mode!r}, port={self.port})"


def start(name: str, mode: str = "normal", port: int = 0, log_path: str | None = None
          ) -> Upstream:
    """Starts an upstream in this process on 127.0.0.1 (port 0: an ephemeral port)."""
    return Upstream(name, mode, port=port, log_path=log_path)


# --------------------------------------------------------------------------------------
# Out-of-process API


class ProcessUpstream:
    """An upstream running as ``python upstream.py`` in a child process; ``requests`` are
    read back from its JSON-lines log."""

    def __init__(self, name: str, mode: str, log_path: str, port: int = 0,
                 python: str | None = None, timeout: float = 20.0):
        self.name = name
        self.mode = mode
        self.log_path = log_path
        open(log_path, "a").close()
        cmd = [python or sys.executable, os.path.abspath(__file__), "--name", name,
               "--mode", mode, "--port", str(port), "--log", log_path]
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.port = 0
        found: dict = {}

        def read_ready():
            line = self.proc.stdout.readline().decode("utf-8", "replace")
            found["line"] = line

        t = threading.Thread(target=read_ready, daemon=True)
        t.start()
        t.join(timeout)
        line = found.get("line", "")
        if not line.startswith(READY_PREFIX) or ":" not in line:
            self.stop()
            raise AssertionError(f"upstream {name} ({mode}) did not start: {line!r}")
        self.port = int(line.strip().rsplit(":", 1)[1])
        # Drain whatever else it prints so it never blocks on a full pipe.
        threading.Thread(target=lambda: self.proc.stdout.read(), daemon=True).start()

    @property
    def requests(self) -> list[dict]:
        out = []
        with open(self.log_path, encoding="utf-8") as f:
            for line in f:
                if line.endswith("\n"):
                    out.append(json.loads(line))
        return out

    def count(self, pred: Callable[[dict], bool] | None = None) -> int:
        if pred is None:
            with open(self.log_path, "rb") as f:
                return f.read().count(b"\n")
        return sum(1 for r in self.requests if pred(r))

    def wait_for_count(self, n: int, timeout: float) -> int:
        deadline = time.monotonic() + timeout
        while True:
            c = self.count()
            if c >= n or time.monotonic() >= deadline:
                return c
            time.sleep(0.1)

    def stop(self) -> None:
        proc = self.proc
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        for stream in (proc.stdin, proc.stdout):
            try:
                stream.close()
            except Exception:  # noqa: BLE001
                pass

    def __repr__(self) -> str:
        return f"ProcessUpstream({self.name!r}, {self.mode!r}, port={self.port})"


def start_process(name: str, mode: str, log_path: str, port: int = 0,
                  python: str | None = None) -> ProcessUpstream:
    """Starts an upstream in a child process (same interface as ``start``)."""
    return ProcessUpstream(name, mode, log_path, port=port, python=python)


# --------------------------------------------------------------------------------------
# Program


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--name", default="upstream")
    p.add_argument("--mode", default="normal",
                   help="normal | sleep=SECONDS | status=CODE | blackhole")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", default=None, help="append a JSON line per request to FILE")
    args = p.parse_args(argv)
    up = Upstream(args.name, args.mode, port=args.port, host=args.host, log_path=args.log)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())

    def watch_stdin():
        try:
            while os.read(0, 4096):  # raw fd: no buffered-reader lock at shutdown
                pass
        except Exception:  # noqa: BLE001
            pass
        done.set()

    if not sys.stdin.isatty():
        threading.Thread(target=watch_stdin, daemon=True).start()
    print(f"{READY_PREFIX}{args.name} listening on {args.host}:{up.port}", flush=True)
    while not done.wait(0.5):
        pass
    up.stop()
    sys.stdout.flush()
    os._exit(0)  # daemon threads may be blocked in reads; skip interpreter teardown


if __name__ == "__main__":
    sys.exit(main())
