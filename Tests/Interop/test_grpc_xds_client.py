"""End to end with gRPC's own xDS client (proxyless gRPC) against Shadowplane.

Two gRPC backends run in this process. A child Python process (so that GRPC_XDS_BOOTSTRAP is
set before grpc loads) dials ``xds:///greeter:50051`` and makes an RPC about every 100 ms,
printing each reply. The test checks that the replies come from backend-1, that the
control plane reports the client's four types SYNCED, then moves the endpoint to
backend-2 with the admin API and checks that the running client follows.

Run with the interop venv:  .venv-interop/bin/python Tests/Interop/test_grpc_xds_client.py
The binary comes from SHADOWPLANE_BIN (default /work/main/.build/debug/shadowplane).
"""
from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

TARGET = "xds:///greeter:50051"
NODE_ID = "grpc-client-1"
CHILD_BOUND = 75.0  # the child exits by itself after this long, whatever happens
FIRST_REPLY_TIMEOUT = 25.0
SYNC_TIMEOUT = 10.0
SWITCH_TIMEOUT = 15.0


# --------------------------------------------------------------------------------------
# The child: gRPC's xDS client


def child_main(target: str, bound: float) -> int:
    import grpc  # GRPC_XDS_BOOTSTRAP is already in the environment

    stop = threading.Event()

    def watch_stdin() -> None:
        for line in sys.stdin:
            if line.strip() == "quit":
                break
        stop.set()  # "quit", or the parent went away (EOF)

    threading.Thread(target=watch_stdin, daemon=True).start()
    channel = grpc.insecure_channel(target)
    echo = channel.unary_unary("/test.Echo/Echo")  # raw bytes both ways
    deadline = time.monotonic() + bound
    print("STARTED", flush=True)
    n = 0
    while not stop.is_set() and time.monotonic() < deadline:
        n += 1
        try:
            reply = echo(b"ping-%d" % n, timeout=2)
            print("OK " + reply.decode("utf-8", "replace"), flush=True)
        except grpc.RpcError as e:
            print(f"ERR {e.code().name} {e.details()}", flush=True)
        stop.wait(0.1)
    channel.close()
    print("EXIT", flush=True)
    return 0


# --------------------------------------------------------------------------------------
# The parent


class Backend:
    """A gRPC server answering /test.Echo/Echo with ``<name>:<request>``."""

    def __init__(self, name: str):
        import grpc
        from concurrent import futures
        self.name = name
        self.calls = 0
        self._lock = threading.Lock()

        def echo(request: bytes, context) -> bytes:
            with self._lock:
                self.calls += 1
            return name.encode() + b":" + request

        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
            "test.Echo", {"Echo": grpc.unary_unary_rpc_method_handler(echo)}),))
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        if not self.port:
            raise RuntimeError(f"{name}: could not bind a port")
        self.server.start()

    def stop(self) -> None:
        self.server.stop(grace=None).wait(5)


class ChildClient:
    """The child process, its output collected by reader threads."""

    def __init__(self, bootstrap_path: str):
        env = dict(os.environ)
        env.update({
            "GRPC_XDS_BOOTSTRAP": bootstrap_path,
            # Kept in memory and shown only when the test fails.
            "GRPC_VERBOSITY": "debug",
            "GRPC_TRACE": "xds_client,xds_resolver",
            "PYTHONUNBUFFERED": "1",
        })
        self.proc = subprocess.Popen(
            [sys.executable, "-u", os.path.abspath(__file__), "--child", TARGET,
             str(CHILD_BOUND)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        self.lines: list[str] = []
        self.stderr: collections.deque[str] = collections.deque(maxlen=400)
        self._cond = threading.Condition()
        self._threads = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for t in self._threads:
            t.start()

    def _read_stdout(self) -> None:
        for raw in iter(self.proc.stdout.readline, b""):
            with self._cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self._cond.notify_all()
        self.proc.stdout.close()
        with self._cond:
            self._cond.notify_all()

    def _read_stderr(self) -> None:
        for raw in iter(self.proc.stderr.readline, b""):
            self.stderr.append(raw.decode("utf-8", "replace").rstrip("\n"))
        self.proc.stderr.close()

    def wait_line(self, pred, start: int, timeout: float, what: str) -> int:
        """Waits for a stdout line at index >= ``start`` matching ``pred``; returns its
        index."""
        deadline = time.monotonic() + timeout
        i = start
        with self._cond:
            while True:
                while i < len(self.lines):
                    if pred(self.lines[i]):
                        return i
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None
                                 and not self._threads[0].is_alive()):
                    raise AssertionError(
                        f"child client: no {what} within {timeout:.0f}s "
                        f"(child exit code {self.proc.poll()}); last output: "
                        f"{self.lines[-15:]}")
                self._cond.wait(min(left, 0.5))

    def ok_replies(self, start: int, count: int, timeout: float) -> list[str]:
        """The next ``count`` successful replies at or after line ``start``."""
        out: list[str] = []
        i = start
        while len(out) < count:
            i = self.wait_line(lambda line: line.startswith("OK "), i, timeout,
                               f"{count} successful replies")
            out.append(self.lines[i][3:])
            i += 1
        return out

    def mark(self) -> int:
        with self._cond:
            return len(self.lines)

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.flush()
                self.proc.stdin.close()
            except OSError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        for t in self._threads:
            t.join(timeout=5)

    def diagnostics(self) -> str:
        with self._cond:
            out = list(self.lines)[-40:]
        err = list(self.stderr)[-150:]
        return ("----- gRPC client stdout (last lines) -----\n" + "\n".join(out)
                + "\n----- gRPC client stderr (GRPC_TRACE=xds_client, last lines) -----\n"
                + "\n".join(err) + "\n----- end of gRPC client output -----")


class GrpcXdsClientTest(harness.InteropTestCase):

    def test_proxyless_grpc_follows_endpoint_change(self) -> None:
        backend1 = Backend("backend-1")
        self.addCleanup(backend1.stop)
        backend2 = Backend("backend-2")
        self.addCleanup(backend2.stop)

        cp = self.start_control_plane(harness.grpc_fixture(backend1.port))

        bootstrap = os.path.join(cp.tmpdir.name, "bootstrap.json")
        with open(bootstrap, "w") as f:
            json.dump({
                "xds_servers": [{
                    "server_uri": cp.xds_address,
                    "channel_creds": [{"type": "insecure"}],
                    "server_features": ["xds_v3"],
                }],
                "node": {"id": NODE_ID, "cluster": "interop", "locality": {}},
            }, f)

        child = ChildClient(bootstrap)
        self.addCleanup(child.stop)
        self.add_diagnostic(child.diagnostics)
        self.add_diagnostic(lambda: "status: " + json.dumps(cp.status(), indent=1))

        # 1. Replies come from backend-1.
        replies = child.ok_replies(0, 3, FIRST_REPLY_TIMEOUT)
        for r in replies:
            self.assertTrue(r.startswith("backend-1:ping-"), f"unexpected reply {r!r}")
        self.assertEqual(backend2.calls, 0, "backend-2 got calls before it was configured")

        # 2. The control plane sees the client, all four types ACKed.
        def synced():
            st = cp.latest_stream(NODE_ID)
            if st is None:
                return None
            states = {t: st.get("types", {}).get(t, {}).get("state")
                      for t in ("LDS", "RDS", "CDS", "EDS")}
            return st if all(v == "SYNCED" for v in states.values()) else None
        st = harness.poll(synced, SYNC_TIMEOUT,
                          what=f"{NODE_ID} to show LDS/RDS/CDS/EDS SYNCED")
        self.assertIn("grpc", st.get("userAgent", "").lower(),
                      f"user agent does not mention gRPC: {st.get('userAgent')!r}")
        self.assertEqual(st.get("nodeCluster"), "interop")
        self.assertEqual(st.get("streamKind"), "ADS")
        subs = {t: st["types"][t].get("subscription", {}) for t in ("LDS", "RDS", "CDS", "EDS")}
        self.assertEqual(subs["LDS"].get("names"), ["greeter:50051"], subs)
        self.assertEqual(subs["RDS"].get("names"), ["greeter-route"], subs)
        self.assertEqual(subs["CDS"].get("names"), ["greeter"], subs)
        self.assertEqual(subs["EDS"].get("names"), ["greeter"], subs)
        eds_version = st["types"]["EDS"].get("ackedVersion")

        # 3. Move the endpoint to backend-2; the running client follows.
        mark = child.mark()
        code, body = cp.put_resources(harness.grpc_fixture(backend2.port))
        self.assertEqual(code, 200, f"PUT /api/v1/resources: {code} {body!r}")
        start = time.monotonic()
        first2 = child.wait_line(lambda line: line.startswith("OK backend-2:"), mark,
                                 SWITCH_TIMEOUT, "reply from backend-2 after the PUT")
        switched_after = time.monotonic() - start
        after = child.ok_replies(first2 + 1, 5, 5)
        self.assertTrue(all(r.startswith("backend-2:") for r in after),
                        f"replies after the switch still reach backend-1: {after}")

        def eds_moved():
            st = cp.latest_stream(NODE_ID)
            eds = (st or {}).get("types", {}).get("EDS", {})
            return (eds.get("state") == "SYNCED" and eds.get("ackedVersion") != eds_version
                    and eds)
        harness.poll(eds_moved, SYNC_TIMEOUT, what="the new EDS version to be ACKed")
        sys.stderr.write(f"(client moved to backend-2 {switched_after:.2f}s after the PUT)\n")


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "--child":
        sys.exit(child_main(sys.argv[2], float(sys.argv[3])))
    unittest.main(verbosity=2)
