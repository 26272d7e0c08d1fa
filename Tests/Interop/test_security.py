"""Shadowplane's security features against real peers: mutual TLS on xDS, node identity,
certificate rotation, admin API authentication and the off-loopback refusals.

Real peers: Envoy (``ENVOY_BIN``, default ``<repo>/.venv-envoy/bin/envoy``) on an edited copy
of ``manifests/envoy/bootstrap-mtls.yaml``; gRPC C-core (grpcio) resolving ``xds:///``
through a bootstrap derived from ``manifests/grpc/bootstrap-tls.json``; the bundled proxy
(``shadowplane proxy --xds-ca/--xds-cert/--xds-key``); ``openssl s_client`` for what the
xDS port serves; the ``shadowplane`` CLI (``certs``, ``apply``, ``audit``,
``proxy-status``). Every certificate comes from ``shadowplane certs`` in a temporary
directory; every server is on 127.0.0.1 with free ports (but for the off-loopback checks,
which bind 0.0.0.0 for a moment); every wait is bounded.

- ``MutualTLSMeshTest`` (processes shared by its tests, run in order): Envoy over mTLS is
  SYNCED on every type with no rejected update, binds the httpbin listener and routes to v1
  while mirroring to v2 with ``Host: httpbin-shadow:PORT``; the bundled proxy over mTLS is
  SYNCED and routes to v1, and its admin API honours ``--admin-token-file`` (``/ready``
  open, reads need a token, ``/runtime_modify`` the write role, ``admin.auth_refused``);
  then ``certs issue --server`` rotates the control plane's certificate: ``openssl
  s_client`` sees the new one (verified against the mesh CA) on new connections while
  Envoy's and the proxy's streams stay up and still receive a runtime change.
- ``RefusalTest``: Envoy with no client certificate, with one from another CA, and
  claiming another node id than its certificate's, and the bundled proxy speaking plaintext
  to the TLS port: never SYNCED, each refusal with its reason in ``/api/v1/refusals`` and
  ``shadowplane proxy-status``, counted in ``shadowplane_xds_refused_total``.
- ``GrpcTlsTest``: grpcio's xDS client with ``channel_creds`` ``tls`` (the committed example
  ``manifests/grpc/bootstrap-tls.json``, port and paths rewritten) completes RPCs; the same
  certificate claiming another node id is refused.
- ``AdminAuthTest``: tokens (alice write, bob read): every write route 401 / 403 / 2xx,
  every read 401 / 200, ``/healthz`` open; ``shadowplane apply`` and ``audit`` with
  ``$SHADOWPLANE_TOKEN``; the audit trail names ``token:alice``;
  ``shadowplane_admin_auth_refusals_total``. Over HTTPS with operator certificates (``certs
  issue --operator``): carol (write) applies with no token, the audit names ``cert:carol``,
  dave (read) is refused.
- ``OffLoopbackTest``: the control plane (xDS or admin on 0.0.0.0) and the proxy (admin on
  0.0.0.0) without security exit 1 naming the flags to add and ``--insecure``; with
  ``--insecure`` they start and warn; with the security flags the control plane starts.

Run:  .venv-interop/bin/python Tests/Interop/test_security.py -v
(SHADOWPLANE_BIN, default <repo>/.build/debug/shadowplane; ENVOY_BIN: the Envoy tests
are skipped without Envoy; ``openssl`` on PATH for the rotation test.)
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import ssl
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import uuid
from typing import Iterable

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import envoy_harness as eh  # noqa: E402
import harness  # noqa: E402
import proxy_harness as ph  # noqa: E402
import test_grpc_xds_client as grpc_client  # noqa: E402
import upstream  # noqa: E402
from harness import poll  # noqa: E402

REPO = eh.REPO
MTLS_BOOTSTRAP = os.path.join(REPO, "manifests", "envoy", "bootstrap-mtls.yaml")
GRPC_BOOTSTRAP = os.path.join(REPO, "manifests", "grpc", "bootstrap-tls.json")
HOST = "httpbin"
MIRROR_KEY = "mirror.default.httpbin.http0.0"
SYNC_TIMEOUT = 20.0
REFUSAL_TIMEOUT = 15.0
ROTATION_TIMEOUT = 10.0
CLI_TIMEOUT = 30.0
ALL_TYPES = ("CDS", "EDS", "LDS", "RDS", "RTDS")


def log(msg: str) -> None:
    print(f"[security] {msg}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------------------
# The mesh PKI, made once for the whole file with `shadowplane certs`


def run_cli(*args: str, env: dict[str, str] | None = None,
            timeout: float = CLI_TIMEOUT) -> subprocess.CompletedProcess:
    """``shadowplane ARGS`` (bounded); never raises on a non-zero exit."""
    return subprocess.run([harness.shadowplane_bin(), *args], capture_output=True, text=True,
                          timeout=timeout, env=env, stdin=subprocess.DEVNULL)


def cli_ok(*args: str, env: dict[str, str] | None = None) -> str:
    done = run_cli(*args, env=env)
    if done.returncode != 0:
        raise AssertionError(f"shadowplane {' '.join(args)} exited with {done.returncode}:\n"
                             f"{done.stdout}{done.stderr}")
    return done.stdout + done.stderr


class Pki:
    """``certs init`` of the mesh CA (``DIR/certs``) and of another CA (``DIR/other``),
    the node and operator certificates the tests use, and an admin token file."""

    NODES = ("envoy-1", "proxy-1", "grpc-1")
    OPERATORS = (("carol", "write"), ("dave", "read"))

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="shadowplane-security-")
        self.root = self._tmp.name
        self.certs = os.path.join(self.root, "certs")
        self.other = os.path.join(self.root, "other")
        out = cli_ok("certs", "init", self.certs)
        for name in ("ca.pem", "ca-key.pem", "control-plane.pem", "control-plane-key.pem",
                     "trust-domain"):
            if not os.path.isfile(os.path.join(self.certs, name)):
                raise AssertionError(f"certs init did not write {name}: {out}")
        with open(os.path.join(self.certs, "trust-domain"), encoding="utf-8") as f:
            self.trust_domain = f.read().strip()
        for node in self.NODES:
            out = cli_ok("certs", "issue", self.certs, "--node-id", node)
            uri = f"spiffe://{self.trust_domain}/ns/default/node/{node}"
            if uri not in out or not os.path.isfile(self.node_cert(node)):
                raise AssertionError(f"certs issue --node-id {node}: expected {uri} and "
                                     f"{self.node_cert(node)}; got {out}")
        self.operator_files: dict[str, tuple[str, str]] = {}
        for name, role in self.OPERATORS:
            out = cli_ok("certs", "issue", self.certs, "--operator", name, "--role", role)
            m = re.search(r"(\S+\.pem), key (\S+\.pem)", out)
            if not m:
                raise AssertionError(f"certs issue --operator {name}: no paths in {out!r}")
            cert, key = (p if os.path.isabs(p) else os.path.abspath(p) for p in m.groups())
            self.operator_files[name] = (cert, key)
        # Another mesh CA, whose envoy-1 certificate the real control plane must refuse.
        cli_ok("certs", "init", self.other, "--trust-domain", "other.example")
        cli_ok("certs", "issue", self.other, "--node-id", "envoy-1")
        self.alice = secrets.token_hex(16)
        self.bob = secrets.token_hex(16)
        self.tokens = os.path.join(self.root, "admin-tokens")
        with open(self.tokens, "w", encoding="utf-8") as f:
            f.write(f"# name role token\nalice write {self.alice}\nbob read {self.bob}\n")

    @property
    def ca(self) -> str:
        return os.path.join(self.certs, "ca.pem")

    @property
    def server_cert(self) -> str:
        return os.path.join(self.certs, "control-plane.pem")

    @property
    def server_key(self) -> str:
        return os.path.join(self.certs, "control-plane-key.pem")

    def node_cert(self, node: str, directory: str | None = None) -> str:
        return os.path.join(directory or self.certs, "nodes", f"{node}.pem")

    def node_key(self, node: str, directory: str | None = None) -> str:
        return os.path.join(directory or self.certs, "nodes", f"{node}-key.pem")

    def xds_mtls_args(self) -> list[str]:
        return ["--xds-tls-cert", self.server_cert, "--xds-tls-key", self.server_key,
                "--xds-client-ca", self.ca]

    def proxy_mtls_args(self, node: str) -> list[str]:
        return ["--xds-ca", self.ca, "--xds-cert", self.node_cert(node),
                "--xds-key", self.node_key(node)]

    def cleanup(self) -> None:
        self._tmp.cleanup()


_pki: Pki | None = None


def pki() -> Pki:
    global _pki
    if _pki is None:
        _pki = Pki()
    return _pki


def tearDownModule() -> None:  # noqa: N802 - unittest's name
    if _pki is not None:
        _pki.cleanup()


# --------------------------------------------------------------------------------------
# HTTP with credentials (urllib; HTTPS with a CA and an optional client certificate)


def tls_context(ca: str, cert: str | None = None, key: str | None = None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca)
    if cert:
        ctx.load_cert_chain(cert, key)
    return ctx


def request(method: str, url: str, body: bytes | str | None = None, token: str | None = None,
            content_type: str = "application/yaml", context: ssl.SSLContext | None = None,
            timeout: float = harness.HTTP_TIMEOUT) -> tuple[int, bytes, dict[str, str]]:
    """(status, body, headers); HTTP error statuses are returned, not raised."""
    data = body.encode() if isinstance(body, str) else body
    headers = {}
    if data is not None:
        headers["Content-Type"] = content_type
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout, context=context) as resp:
            return resp.status, resp.read(), {k.lower(): v for k, v in resp.getheaders()}
    except urllib.error.HTTPError as e:
        return e.code, e.read(), {k.lower(): v for k, v in e.headers.items()}


# --------------------------------------------------------------------------------------
# Envoy on the mTLS bootstrap


def edit_exactly_once(text: str, edits: Iterable[tuple[str, str]], source: str) -> str:
    for old, new in edits:
        if text.count(old) != 1:
            raise AssertionError(f"{source} no longer has exactly one {old!r} "
                                 f"(found {text.count(old)})")
        text = text.replace(old, new)
    return text


CLIENT_CERT_BLOCK = ("          tls_certificates:\n"
                     "          - certificate_chain: {filename: certs/nodes/envoy-1.pem}\n"
                     "            private_key: {filename: certs/nodes/envoy-1-key.pem}\n")


def mtls_bootstrap_text(xds_port: int, node_id: str = "envoy-1", client_cert: bool = True,
                        cert_dir: str | None = None) -> str:
    """``manifests/envoy/bootstrap-mtls.yaml`` pointed at ``xds_port`` (admin on port 0),
    claiming ``node_id``, with absolute certificate paths: the mesh CA as trusted CA and
    envoy-1's certificate from ``cert_dir`` (default the mesh CA's directory), or no client
    certificate at all."""
    p = pki()
    with open(MTLS_BOOTSTRAP, encoding="utf-8") as f:
        text = f.read()
    edits = [("port_value: 18000", f"port_value: {xds_port}"),
             ("port_value: 9901", "port_value: 0"),
             ("id: envoy-1\n", f"id: {node_id}\n"),
             ("{filename: certs/ca.pem}", "{filename: %s}" % p.ca)]
    if client_cert:
        edits += [("{filename: certs/nodes/envoy-1.pem}",
                   "{filename: %s}" % p.node_cert("envoy-1", cert_dir)),
                  ("{filename: certs/nodes/envoy-1-key.pem}",
                   "{filename: %s}" % p.node_key("envoy-1", cert_dir))]
    else:
        edits.append((CLIENT_CERT_BLOCK, ""))
    return edit_exactly_once(text, edits, MTLS_BOOTSTRAP)


class MtlsEnvoy(eh.Envoy):
    """``envoy_harness.Envoy`` on ``mtls_bootstrap_text`` instead of the plain bootstrap."""

    def __init__(self, xds_port: int, node_id: str = "envoy-1", name: str = "envoy",
                 client_cert: bool = True, cert_dir: str | None = None):
        super().__init__(xds_port, node_id, name=name)
        with open(self.bootstrap, "w", encoding="utf-8") as f:
            f.write(mtls_bootstrap_text(xds_port, node_id, client_cert, cert_dir))


class TokenProxy(ph.Proxy):
    """The bundled proxy whose admin API wants a token: the helpers read with ``token``."""

    def __init__(self, *args, token: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.token = token

    def get(self, path: str) -> tuple[int, bytes]:
        status, body, _ = request("GET", self.admin_url + path, token=self.token)
        return status, body

    def runtime(self) -> dict:
        status, body = self.get("/runtime")
        if status != 200:
            raise AssertionError(f"proxy GET /runtime: {status} {body[:300]!r}")
        return json.loads(body).get("entries", {})


# --------------------------------------------------------------------------------------
# Shared test-case support


def start_process(p: harness.ControlPlane, owner) -> harness.ControlPlane:
    """Starts ``p`` and registers its cleanup with ``owner`` (a test or a test class)."""
    add = owner.addClassCleanup if isinstance(owner, type) else owner.addCleanup
    add(p.cleanup)
    p.start()
    return p


def refusals_of(cp: harness.ControlPlane) -> list[dict]:
    status, body, _ = request("GET", cp.admin_url + "/api/v1/refusals")
    if status != 200:
        raise AssertionError(f"GET /api/v1/refusals: {status} {body[:300]!r}")
    return json.loads(body)


def wait_synced(cp: harness.ControlPlane, node: str, types: Iterable[str] = ALL_TYPES,
                timeout: float = SYNC_TIMEOUT) -> dict:
    """Waits until ``node``'s latest stream has every type in ``types`` SYNCED; returns
    that stream."""
    types = tuple(types)
    ok = ("SYNCED",)

    def check():
        st = cp.latest_stream(node)
        if st is None:
            return None
        return st if all(st["types"].get(t, {}).get("state") in ok for t in types) else None
    return poll(check, timeout, what=f"{node} SYNCED on {'/'.join(types)}")


def short_status(cp: harness.ControlPlane) -> str:
    try:
        rows = []
        for st in cp.status():
            rows.append(f"  {st.get('nodeID')} stream {st.get('streamID')} peer {st.get('peer')}: "
                        + ", ".join(f"{t}={v.get('state')}({v.get('sentVersion')})"
                                    for t, v in sorted(st.get("types", {}).items())))
        return f"{cp.name} /api/v1/status:\n" + ("\n".join(rows) or "  (no streams)")
    except Exception as e:  # noqa: BLE001
        return f"{cp.name} /api/v1/status: {e!r}"


def envoy_update_summary(e: eh.Envoy) -> str:
    try:
        counters = {k: v for k, v in eh.update_counters(e.stats()).items()
                    if v and not k.startswith("cluster.xds.")}
        return f"{e.name} update counters (non-zero): {json.dumps(counters, sort_keys=True)}"
    except Exception as ex:  # noqa: BLE001
        return f"{e.name} /stats: {ex!r}"


class SecurityCase(harness.InteropTestCase):
    """``InteropTestCase`` that also prints the log tails and diagnostics of processes the
    class shares (``cls.shared`` / ``cls.shared_diagnostics``) when a test fails."""

    shared: list[harness.ControlPlane] = []
    shared_diagnostics: list = []

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.shared = []
        cls.shared_diagnostics = []
        cls.pki = pki()

    @classmethod
    def share(cls, p: harness.ControlPlane) -> harness.ControlPlane:
        cls.shared.append(p)
        return start_process(p, cls)

    def setUp(self) -> None:
        super().setUp()
        self._planes.extend(type(self).shared)
        for fn in type(self).shared_diagnostics:
            self.add_diagnostic(fn)

    def start(self, p: harness.ControlPlane) -> harness.ControlPlane:
        """Starts ``p`` for this test only (stopped after it; log tail on failure)."""
        self._planes.append(p)
        return start_process(p, self)


def require_envoy(cls):
    return unittest.skipUnless(eh.envoy_available(), eh.skip_reason())(cls)


def httpbin_mesh(ports: dict[int, int], vs: str = "11-virtualservice-mirror.yaml") -> str:
    """The httpbin scenario manifests with their ports replaced (8000: the mesh port, 8001 /
    8002: upstreams v1 / v2)."""
    return harness.join_documents(*(harness.manifest_with_ports(name, ports) for name in (
        "00-serviceentry.yaml", "01-destinationrule.yaml", vs)))


# --------------------------------------------------------------------------------------
# Envoy and the bundled proxy over mutual TLS, then a certificate rotation


@require_envoy
class MutualTLSMeshTest(SecurityCase):
    """Two mTLS control planes on the same certificate files: one serves Envoy (envoy-1),
    the other the bundled proxy (proxy-1), each the httpbin mesh on its own port (both data
    planes would bind the same listener port on one control plane). Tests run in order;
    the last rotates the control plane certificate under both."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        p = cls.pki
        cls.v1 = upstream.start("v1")
        cls.addClassCleanup(cls.v1.stop)
        cls.v2 = upstream.start("v2")
        cls.addClassCleanup(cls.v2.stop)
        cls.envoy_port = harness.free_port()
        cls.proxy_port = harness.free_port()
        cls.envoy_cp = cls.share(harness.StoreControlPlane(
            extra_args=p.xds_mtls_args(), name="control-plane (envoy)"))
        cls.proxy_cp = cls.share(harness.StoreControlPlane(
            extra_args=p.xds_mtls_args(), name="control-plane (proxy)"))
        for cp, port in ((cls.envoy_cp, cls.envoy_port), (cls.proxy_cp, cls.proxy_port)):
            cp.apply_ok(httpbin_mesh({8000: port, 8001: cls.v1.port, 8002: cls.v2.port}))
        cls.envoy = cls.share(MtlsEnvoy(cls.envoy_cp.xds_port, "envoy-1"))
        cls.proxy = cls.share(TokenProxy(
            cls.proxy_cp.xds_address, "proxy-1", token=p.bob,
            extra_args=[*p.proxy_mtls_args("proxy-1"), "--admin-token-file", p.tokens]))
        cls.shared_diagnostics = [
            lambda: short_status(cls.envoy_cp), lambda: short_status(cls.proxy_cp),
            lambda: envoy_update_summary(cls.envoy),
            lambda: f"v1: {cls.v1.requests[-3:]}\nv2: {cls.v2.requests[-3:]}",
            cls.proxy.access_log_tail]

    def settle_and_clear(self) -> None:
        time.sleep(0.2)
        self.v1.clear()
        self.v2.clear()

    def test_1_envoy_over_mtls_is_synced_and_mirrors(self) -> None:
        started = time.monotonic()
        st = wait_synced(self.envoy_cp, "envoy-1")
        self.envoy.wait_ready()
        self.envoy.wait_listening(self.envoy_port)
        rejected = {k: v for k, v in eh.update_counters(self.envoy.stats()).items()
                    if k.endswith("update_rejected") and v}
        self.assertEqual(rejected, {}, "Envoy rejected updates it got over mTLS")
        self.assertEqual(st.get("userAgent"), "envoy", st)
        out = cli_ok("proxy-status", "--server", self.envoy_cp.admin_url)
        row = next((l for l in out.splitlines() if l.startswith("envoy-1 ")), None)
        self.assertIsNotNone(row, f"no envoy-1 row in proxy-status:\n{out}")
        for t in ("CDS", "LDS"):
            self.assertEqual(st["types"][t]["state"], "SYNCED", st["types"])
        self.assertNotIn("REFUSED", out, f"a refusal on the good control plane:\n{out}")
        self.assertEqual(row.count("SYNCED"), 5, f"proxy-status row not SYNCED on all five "
                                                 f"types: {row!r}")

        self.settle_and_clear()
        client = ph.KeepAliveClient(self.envoy_port)
        self.addCleanup(client.close)
        authority = f"{HOST}:{self.envoy_port}"
        rid = str(uuid.uuid4())
        r = client.request("GET", "/get?via=envoy", authority, {"x-request-id": rid})
        self.assertEqual((r.status, r.headers.get("x-upstream")), (200, "v1"),
                         f"through Envoy: {r!r}")
        self.assertEqual(self.v2.wait_for_count(1, 10), 1, "no shadow reached v2")
        shadow = self.v2.requests[0]
        self.assertEqual((shadow["host"], shadow["x_request_id"], shadow["path"]),
                         (f"{HOST}-shadow:{self.envoy_port}", rid, "/get?via=envoy"),
                         f"the shadow v2 got: {shadow}")
        self.assertEqual([q["x_request_id"] for q in self.v1.requests], [rid])
        log(f"Envoy over mTLS: SYNCED on {'/'.join(ALL_TYPES)}, 0 rejected, request to v1 "
            f"and shadow to v2 (Host {shadow['host']}) in {time.monotonic() - started:.1f}s")

    def test_2_bundled_proxy_over_mtls_routes_to_v1(self) -> None:
        wait_synced(self.proxy_cp, "proxy-1", ("CDS", "EDS", "LDS", "RDS"))
        poll(self.proxy.ready, 15, what="proxy /ready to say LIVE")
        self.settle_and_clear()
        client = ph.KeepAliveClient(self.proxy_port)
        self.addCleanup(client.close)
        authority = f"{HOST}:{self.proxy_port}"
        r = poll(lambda: (lambda r: r if r.status == 200 else None)(
            client.request("GET", "/get?via=proxy", authority)), 15,
            what=f"the proxy's listener on {self.proxy_port} to serve httpbin")
        self.assertEqual(r.headers.get("x-upstream"), "v1", f"through the proxy: {r!r}")
        self.assertGreaterEqual(self.v1.wait_for_count(1, 5), 1)
        self.assertEqual(self.v1.requests[0]["host"], authority)
        self.assertGreaterEqual(self.v2.wait_for_count(1, 10), 1, "no shadow reached v2")
        self.assertEqual(self.v2.requests[0]["host"], f"{HOST}-shadow:{self.proxy_port}")
        stats = self.proxy.stats()
        self.assertEqual(stats.get("control_plane.connected_state"), 1, stats)
        log("bundled proxy over mTLS: SYNCED, request to v1, shadow to v2")

    def test_3_proxy_admin_tokens(self) -> None:
        url = self.proxy.admin_url
        p = self.pki
        before = self.proxy.stats().get("admin.auth_refused", 0)
        status, body, _ = request("GET", url + "/ready")
        self.assertEqual(status, 200, f"/ready needs no credential: {status} {body!r}")
        for path in ("/stats", "/config_dump", "/runtime", "/clusters", "/stats/prometheus"):
            status, body, headers = request("GET", url + path)
            self.assertEqual(status, 401, f"GET {path} without a token: {status} {body[:200]!r}")
            status, body, _ = request("GET", url + path, token="not-a-token-0123456789")
            self.assertEqual(status, 401, f"GET {path} with an unknown token: {status}")
            status, body, _ = request("GET", url + path, token=p.bob)
            self.assertEqual(status, 200, f"GET {path} with bob's (read) token: {status} "
                                          f"{body[:200]!r}")
        # Not the mirror key: an admin-layer override would hide the rotation test's RTDS change.
        modify = url + "/runtime_modify?security.test=1"
        status, body, _ = request("POST", modify, b"")
        self.assertEqual(status, 401, f"POST /runtime_modify without a token: {status} {body!r}")
        status, body, _ = request("POST", modify, b"", token=p.bob)
        self.assertEqual(status, 403, f"POST /runtime_modify with bob's read token: {status} "
                                      f"{body!r}")
        self.assertIn(b"read", body)
        status, body, _ = request("POST", modify, b"", token=p.alice)
        self.assertEqual(status, 200, f"POST /runtime_modify with alice's write token: "
                                      f"{status} {body!r}")
        refused = self.proxy.stats().get("admin.auth_refused", 0) - before
        # 5 paths x (none, unknown) + /runtime_modify x (none, bob)
        self.assertEqual(refused, 12, "admin.auth_refused must count every 401 and 403")

    def served_fingerprint(self, cp: harness.ControlPlane) -> tuple[str, str]:
        """(SHA-256 fingerprint of the certificate the xDS port serves to a new connection,
        s_client's output), through ``openssl s_client`` with envoy-1's client certificate."""
        p = self.pki
        done = subprocess.run(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{cp.xds_port}", "-alpn", "h2",
             "-servername", "localhost", "-cert", p.node_cert("envoy-1"),
             "-key", p.node_key("envoy-1"), "-CAfile", p.ca],
            input=b"", capture_output=True, timeout=10)
        text = done.stdout.decode("utf-8", "replace")
        x509 = subprocess.run(["openssl", "x509", "-noout", "-fingerprint", "-sha256"],
                              input=done.stdout, capture_output=True, timeout=10)
        fp = x509.stdout.decode().strip().split("=", 1)[-1]
        if x509.returncode != 0 or not fp:
            raise AssertionError(f"no certificate from s_client (exit {done.returncode}): "
                                 f"{text[-800:]}{done.stderr.decode('utf-8', 'replace')[-800:]}")
        return fp, text

    def test_4_rotation_keeps_streams(self) -> None:
        if shutil.which("openssl") is None:
            self.skipTest("openssl is not on PATH")
        p = self.pki

        def file_fingerprint() -> str:
            out = subprocess.run(["openssl", "x509", "-in", p.server_cert, "-noout",
                                  "-fingerprint", "-sha256"], capture_output=True, text=True,
                                 timeout=10, check=True).stdout
            return out.strip().split("=", 1)[-1]

        clients = ((self.envoy_cp, "envoy-1"), (self.proxy_cp, "proxy-1"))
        before = {node: wait_synced(cp, node) for cp, node in clients}

        def connections() -> dict[str, int | None]:
            """How many times each data plane has connected to its control plane."""
            return {"envoy cluster.xds.upstream_cx_total":
                    self.envoy.stats().get("cluster.xds.upstream_cx_total"),
                    "proxy control_plane.connects": self.proxy.stats().get(
                        "control_plane.connects")}
        connected = connections()
        self.assertNotIn(None, connected.values(), connected)
        old = file_fingerprint()
        for cp in (self.envoy_cp, self.proxy_cp):
            served, text = self.served_fingerprint(cp)
            self.assertEqual(served, old, f"{cp.name} serves another certificate than the file")
            self.assertIn("Verify return code: 0 (ok)", text)

        out = cli_ok("certs", "issue", p.certs, "--server", "--dns", "localhost",
                     "--ip", "127.0.0.1")
        new = file_fingerprint()
        self.assertNotEqual(new, old, f"certs issue --server did not change the certificate: "
                                      f"{out}")
        rotated_at = time.monotonic()
        for cp in (self.envoy_cp, self.proxy_cp):
            last: list[str] = []

            def serves_new() -> bool:
                fp, text = self.served_fingerprint(cp)
                last[:] = [fp, text]
                return fp == new
            try:
                poll(serves_new, ROTATION_TIMEOUT, interval=0.3,
                     what=f"{cp.name} to serve the new certificate")
            except harness.PollTimeout as e:
                raise AssertionError(f"{e}\nold {old}\nnew {new}\nlast served "
                                     f"{last[:1]}") from None
            self.assertIn("Verify return code: 0 (ok)", last[1],
                          f"s_client does not verify the new certificate:\n{last[1][-1500:]}")
        log(f"rotation: both control planes serve the new certificate "
            f"{time.monotonic() - rotated_at:.1f}s after certs issue --server")

        # The streams opened before the rotation are still the ones there.
        for cp, node in clients:
            streams = cp.streams_of(node)
            keys = ("streamID", "peer", "connectedSince")
            self.assertEqual([tuple(s.get(k) for k in keys) for s in streams],
                             [tuple(before[node].get(k) for k in keys)],
                             f"{node}'s stream changed with the rotation")
        self.assertEqual(self.envoy.stats().get("control_plane.connected_state"), 1)
        self.assertEqual(connections(), connected, "a data plane reconnected during the rotation")

        # A change still reaches both over the old connections.
        for cp, node in clients:
            rtds = before[node]["types"]["RTDS"]["sentVersion"]
            status, body, _ = request("PUT", f"{cp.admin_url}/api/v1/runtime/{MIRROR_KEY}",
                                      "25", content_type="text/plain")
            self.assertEqual(status, 200, f"PUT runtime on {cp.name}: {status} {body!r}")

            def moved():
                st = cp.latest_stream(node)
                t = (st or {}).get("types", {}).get("RTDS", {})
                return (st if t.get("state") == "SYNCED" and t.get("sentVersion") != rtds
                        else None)
            st = poll(moved, SYNC_TIMEOUT, what=f"{node} to ACK the runtime change")
            self.assertEqual(st["streamID"], before[node]["streamID"])
        poll(lambda: self.envoy.runtime_value(MIRROR_KEY) == "25", 10,
             what="Envoy's /runtime to show the new value")
        poll(lambda: (self.proxy.runtime().get(MIRROR_KEY) or {}).get("layer") == "shadowplane"
             and float(self.proxy.runtime()[MIRROR_KEY]["final_value"]) == 25, 10,
             what="the proxy's /runtime to show the new value from the shadowplane layer")


# --------------------------------------------------------------------------------------
# Refusals


@require_envoy
class RefusalTest(SecurityCase):
    """One mTLS control plane no good client talks to; each test brings a bad one."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.cp = cls.share(harness.StoreControlPlane(extra_args=cls.pki.xds_mtls_args(),
                                                     name="control-plane (refusals)"))
        cls.shared_diagnostics = [lambda: short_status(cls.cp),
                                  lambda: json.dumps(refusals_of(cls.cp)[-5:], indent=1)]

    def expect_refusal(self, words: Iterable[str], node: str | None, what: str,
                       client: harness.ControlPlane) -> tuple[dict, harness.ControlPlane]:
        """Starts ``client`` (this test's) and waits for its refusal: the reason holds every
        one of ``words`` and names ``node`` (None: refused before a node was claimed)."""
        words = list(words)
        metric_before = harness.metric_sum(self.cp.metrics(), "shadowplane_xds_refused_total")
        self.start(client)

        def found():
            client.assert_running()
            for r in refusals_of(self.cp):
                reason = r.get("reason", "")
                if all(w in reason for w in words) and r.get("nodeID") == node:
                    return r
            return None
        entry = poll(found, REFUSAL_TIMEOUT, interval=0.2,
                     what=f"a refusal ({what}) whose reason says {words}")
        self.assertGreater(harness.metric_sum(self.cp.metrics(), "shadowplane_xds_refused_total"),
                           metric_before, "shadowplane_xds_refused_total did not count the refusal")
        time.sleep(1.0)  # a client let in would be SYNCED by now
        self.assertEqual(self.cp.status(), [], f"{what}: a stream was let in")
        out = cli_ok("proxy-status", "--server", self.cp.admin_url)
        self.assertIn("REFUSED", out)
        self.assertIn(entry["reason"][:60], out, f"proxy-status does not show the refusal")
        log(f"refused ({what}): {entry['reason'][:140]}")
        return entry, client

    def assert_envoy_unconfigured(self, e: eh.Envoy) -> None:
        s = e.stats()
        got = {k: s.get(k, 0) for k in ("cluster_manager.cds.update_success",
                                        "listener_manager.lds.update_success",
                                        "control_plane.connected_state")}
        self.assertEqual(got, dict.fromkeys(got, 0),
                         f"{e.name} got configuration from the control plane")

    def test_envoy_without_a_client_certificate(self) -> None:
        _, e = self.expect_refusal(["no certificate"], None, "no client certificate", MtlsEnvoy(
            self.cp.xds_port, "envoy-1", name="envoy (no cert)", client_cert=False))
        self.assert_envoy_unconfigured(e)

    def test_envoy_with_a_certificate_from_another_ca(self) -> None:
        _, e = self.expect_refusal(["mesh CA"], None, "a certificate from another CA", MtlsEnvoy(
            self.cp.xds_port, "envoy-1", name="envoy (other CA)", cert_dir=self.pki.other))
        self.assert_envoy_unconfigured(e)

    def test_envoy_claiming_another_node_id(self) -> None:
        entry, e = self.expect_refusal(
            ["names node 'envoy-1', but the stream claims node 'envoy-2'"], "envoy-2",
            "envoy-1's certificate claiming envoy-2",
            MtlsEnvoy(self.cp.xds_port, "envoy-2", name="envoy (envoy-2)"))
        self.assertEqual(self.cp.streams_of("envoy-2"), [], entry)
        self.assertEqual(self.cp.streams_of("envoy-1"), [], entry)
        self.assert_envoy_unconfigured(e)

    def test_bundled_proxy_speaking_plaintext(self) -> None:
        _, proxy = self.expect_refusal(
            ["does not speak TLS"], None, "plaintext xDS to the TLS port",
            ph.Proxy(self.cp.xds_address, "proxy-1", name="proxy (plaintext)", access_log=False))
        code, body = proxy.get("/ready")
        self.assertEqual(code, 503, f"the plaintext proxy must not be ready: {body!r}")
        stats = proxy.stats()
        self.assertEqual(stats.get("control_plane.connected_state"), 0, stats)


# --------------------------------------------------------------------------------------
# gRPC's xDS client over TLS


class GrpcTlsTest(SecurityCase):
    """A static-mode mTLS control plane serving ``harness.grpc_fixture`` to grpcio."""

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.backend = grpc_client.Backend("backend-1")
        cls.addClassCleanup(cls.backend.stop)
        cls.cp = cls.share(harness.ControlPlane(harness.grpc_fixture(cls.backend.port),
                                                extra_args=cls.pki.xds_mtls_args(),
                                                name="control-plane (grpc)"))
        cls.shared_diagnostics = [lambda: short_status(cls.cp)]

    def bootstrap(self, node_id: str = "grpc-1") -> str:
        """The committed example with this control plane's port, absolute certificate paths
        and ``node_id``; returns the path written."""
        p = self.pki
        with open(GRPC_BOOTSTRAP, encoding="utf-8") as f:
            text = f.read()
        example = json.loads(text)
        server = example["xds_servers"][0]
        self.assertEqual(server["channel_creds"][0]["type"], "tls")
        self.assertEqual(server["server_features"], ["xds_v3"])
        self.assertEqual(example["node"]["id"], "grpc-1")
        text = edit_exactly_once(text, [
            ('"localhost:18000"', f'"localhost:{self.cp.xds_port}"'),
            ('"certs/ca.pem"', json.dumps(p.ca)),
            ('"certs/nodes/grpc-1.pem"', json.dumps(p.node_cert("grpc-1"))),
            ('"certs/nodes/grpc-1-key.pem"', json.dumps(p.node_key("grpc-1"))),
            ('"id": "grpc-1"', json.dumps("id") + ": " + json.dumps(node_id)),
        ], GRPC_BOOTSTRAP)
        json.loads(text)
        path = os.path.join(self.cp.tmpdir.name, f"bootstrap-{node_id}.json")
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def start_client(self, node_id: str) -> grpc_client.ChildClient:
        child = grpc_client.ChildClient(self.bootstrap(node_id))
        self.addCleanup(child.stop)
        self.add_diagnostic(child.diagnostics)
        return child

    def test_1_grpc_resolves_xds_over_tls(self) -> None:
        child = self.start_client("grpc-1")
        replies = child.ok_replies(0, 3, grpc_client.FIRST_REPLY_TIMEOUT)
        self.assertTrue(all(r.startswith("backend-1:ping-") for r in replies), replies)
        st = wait_synced(self.cp, "grpc-1", ("LDS", "RDS", "CDS", "EDS"))
        self.assertIn("grpc", st.get("userAgent", "").lower(), st.get("userAgent"))
        self.assertEqual(st["types"]["LDS"]["subscription"]["names"], ["greeter:50051"])
        log(f"grpcio over mTLS: {len(replies)} RPCs answered, grpc-1 SYNCED")

    def test_2_grpc_claiming_another_node_id_is_refused(self) -> None:
        child = self.start_client("grpc-2")
        reason = "names node 'grpc-1', but the stream claims node 'grpc-2'"

        def refused():
            return next((r for r in refusals_of(self.cp)
                         if r.get("nodeID") == "grpc-2" and reason in r.get("reason", "")), None)
        poll(refused, REFUSAL_TIMEOUT, interval=0.2, what=f"a refusal saying {reason!r}")
        self.assertEqual(self.cp.streams_of("grpc-2"), [])
        self.assertFalse(any(line.startswith("OK ") for line in child.lines),
                         f"RPCs succeeded without a configuration: {child.lines[-5:]}")


# --------------------------------------------------------------------------------------
# The admin API's authentication



class AdminAuthTest(SecurityCase):

    def control_plane(self, *extra: str, store: bool = True, name: str = "control-plane",
                      resources: list[dict] | None = None) -> harness.ControlPlane:
        if store:
            cp = harness.StoreControlPlane(extra_args=extra, name=name)
        else:
            cp = harness.ControlPlane(resources or [], extra_args=extra, name=name)
        return self.start(cp)

    def mesh(self) -> str:
        return httpbin_mesh({8000: 18080, 8001: 18081, 8002: 18082},
                            "10-virtualservice-all-v1.yaml")

    def assert_write(self, cp: harness.ControlPlane, method: str, path: str,
                     body: str | None, ok: Iterable[int] = (200,)) -> None:
        url = cp.admin_url + path
        p = self.pki
        ctype = "text/plain" if "/runtime/" in path else (
            "application/json" if path == "/api/v1/resources" else "application/yaml")
        for who, token, want in (("no token", None, 401),
                                 ("an unknown token", "z" * 32, 401),
                                 ("bob's read token", p.bob, 403)):
            status, raw, headers = request(method, url, body, token, ctype)
            self.assertEqual(status, want, f"{method} {path} with {who}: {status} {raw[:300]!r}")
            if want == 401:
                self.assertIn("bearer", headers.get("www-authenticate", "").lower(),
                              f"{method} {path}: 401 without WWW-Authenticate: Bearer")
            else:
                self.assertIn(b"read role", raw)
        status, raw, _ = request(method, url, body, p.alice, ctype)
        self.assertIn(status, tuple(ok), f"{method} {path} with alice's write token: {status} "
                                         f"{raw[:300]!r}")

    def test_write_routes_need_the_write_role(self) -> None:
        p = self.pki
        cp = self.control_plane("--admin-token-file", p.tokens)
        vs = harness.manifest_with_ports("10-virtualservice-all-v1.yaml", {8000: 18080})
        writes = [
            ("POST", "/api/v1/config/apply", self.mesh()),
            ("PUT", f"/api/v1/runtime/{MIRROR_KEY}", "25"),
            ("DELETE", f"/api/v1/runtime/{MIRROR_KEY}", None),
            ("POST", "/api/v1/config/delete", vs),
            ("DELETE", "/api/v1/config/DestinationRule/default/httpbin", None),
        ]
        for method, path, body in writes:
            self.assert_write(cp, method, path, body)
        # Authenticated, then refused by the store mode: not a 401/403.
        self.assert_write(cp, "PUT", "/api/v1/resources",
                          json.dumps({"resources": []}), ok=(409,))
        status, raw, _ = request("GET", cp.admin_url + "/api/v1/audit", token=p.bob)
        self.assertEqual(status, 200, raw)
        audit = json.loads(raw)
        self.assertEqual(len(audit), len(writes), f"one audit record per accepted write: "
                                                  f"{json.dumps(audit, indent=1)}")
        self.assertEqual({a.get("identity") for a in audit}, {"token:alice"}, audit)
        metrics = request("GET", cp.admin_url + "/metrics", token=p.bob)[1].decode()
        name = "shadowplane_admin_auth_refusals_total"
        n401 = harness.metric_value(metrics, name, status="401") or 0
        n403 = harness.metric_value(metrics, name, status="403") or 0
        self.assertEqual((n401, n403), (2 * (len(writes) + 1), len(writes) + 1),
                         f"{name}: every 401 and 403 counted")

        # PUT /api/v1/resources succeeds with the write token in static mode.
        static = self.control_plane("--admin-token-file", p.tokens, store=False,
                                    name="control-plane (static)",
                                    resources=harness.grpc_fixture(50051))
        self.assert_write(static, "PUT", "/api/v1/resources",
                          json.dumps({"resources": harness.grpc_fixture(50052)}))

    def test_reads_need_a_token_and_healthz_is_open(self) -> None:
        p = self.pki
        cp = self.control_plane("--admin-token-file", p.tokens)
        for path in ("/api/v1/status", "/api/v1/refusals", "/api/v1/config",
                     "/api/v1/runtime", "/api/v1/audit", "/api/v1/history",
                     "/api/v1/resources", "/metrics"):
            status, raw, _ = request("GET", cp.admin_url + path)
            self.assertEqual(status, 401, f"GET {path} without a token: {status} {raw[:200]!r}")
            for who, token in (("bob", p.bob), ("alice", p.alice)):
                status, raw, _ = request("GET", cp.admin_url + path, token=token)
                self.assertEqual(status, 200, f"GET {path} with {who}'s token: {status} "
                                              f"{raw[:200]!r}")
        status, raw, _ = request("GET", cp.admin_url + "/healthz")
        self.assertEqual((status, raw.strip()), (200, b"ok"), "/healthz needs no token")

    def test_cli_apply_and_audit_with_a_token(self) -> None:
        p = self.pki
        cp = self.control_plane("--admin-token-file", p.tokens)
        # manifests/httpbin holds three VirtualServices named httpbin (one per scenario; the
        # last would win, with a warning): apply a directory of one scenario.
        mesh_dir = os.path.join(cp.tmpdir.name, "httpbin")
        os.makedirs(mesh_dir)
        for name in ("00-serviceentry.yaml", "01-destinationrule.yaml",
                     "11-virtualservice-mirror.yaml"):
            with open(os.path.join(mesh_dir, name), "w", encoding="utf-8") as f:
                f.write(harness.read_manifest(name))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHADOWPLANE_")}
        server = ["--server", cp.admin_url]

        done = run_cli("apply", "-f", mesh_dir, *server, env=env)
        self.assertNotEqual(done.returncode, 0, f"apply without a token: {done.stdout}")
        self.assertRegex(done.stdout + done.stderr, r"(?i)401|authenticat",
                         "apply without a token must say authentication is required")
        done = run_cli("apply", "-f", mesh_dir, *server, env=dict(env, SHADOWPLANE_TOKEN=p.bob))
        self.assertNotEqual(done.returncode, 0, f"apply with bob's token: {done.stdout}")
        self.assertIn("read role", done.stderr + done.stdout)
        out = cli_ok("apply", "-f", mesh_dir, *server, env=dict(env, SHADOWPLANE_TOKEN=p.alice))
        self.assertEqual(out.count(" created"), 3, f"apply with alice's token: {out}")

        done = run_cli("audit", *server, env=env)
        self.assertNotEqual(done.returncode, 0, f"audit without a token: {done.stdout}")
        out = cli_ok("audit", *server, "--token", p.bob, env=env)
        rows = [line for line in out.splitlines() if "token:alice" in line]
        self.assertEqual(len(rows), 1, f"audit must list alice's apply:\n{out}")
        self.assertIn("apply", rows[0])
        self.assertNotIn("token:bob", out)
        self.assertNotIn("anonymous", out)

        metrics = request("GET", cp.admin_url + "/metrics", token=p.bob)[1].decode()
        self.assertGreater(harness.metric_sum(metrics, "shadowplane_admin_auth_refusals_total"),
                           0)

    def test_https_admin_with_operator_certificates(self) -> None:
        p = self.pki
        cp = self.control_plane("--admin-token-file", p.tokens, "--admin-tls-cert",
                                p.server_cert, "--admin-tls-key", p.server_key,
                                "--admin-client-ca", p.ca, name="control-plane (https)")
        url = f"https://127.0.0.1:{cp.admin_port}"
        carol, dave = p.operator_files["carol"], p.operator_files["dave"]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SHADOWPLANE_")}
        manifest = os.path.join(cp.tmpdir.name, "serviceentry.yaml")
        with open(manifest, "w", encoding="utf-8") as f:
            f.write(harness.read_manifest("00-serviceentry.yaml"))

        status, raw, _ = request("GET", url + "/healthz", context=tls_context(p.ca))
        self.assertEqual(status, 200, raw)
        status, raw, _ = request("GET", url + "/api/v1/status", context=tls_context(p.ca))
        self.assertEqual(status, 401, f"HTTPS without credentials: {raw!r}")
        status, raw, _ = request("GET", url + "/api/v1/status", context=tls_context(p.ca, *dave))
        self.assertEqual(status, 200, f"dave's read certificate reads: {raw[:200]!r}")
        with self.assertRaises(OSError, msg="plain HTTP to the HTTPS admin port must fail"):
            request("GET", cp.admin_url + "/healthz", timeout=5)

        done = run_cli("apply", "-f", manifest, "--server", url, "--ca", p.ca, "--cert",
                       dave[0], "--key", dave[1], env=env)
        self.assertNotEqual(done.returncode, 0, f"dave (read) applied: {done.stdout}")
        self.assertIn("cert:dave has the read role", done.stderr + done.stdout)
        out = cli_ok("apply", "-f", manifest, "--server", url, "--ca", p.ca, "--cert", carol[0],
                     "--key", carol[1], env=env)
        self.assertIn("created", out)
        out = cli_ok("audit", "--server", url, env=dict(env, SHADOWPLANE_CA=p.ca,
                                                         SHADOWPLANE_TOKEN=p.bob))
        rows = [line for line in out.splitlines() if "cert:carol" in line and "apply" in line]
        self.assertEqual(len(rows), 1, f"audit must list carol's apply as cert:carol:\n{out}")
        self.assertNotIn("cert:dave", out)


# --------------------------------------------------------------------------------------
# Off loopback


class Watched:
    """A process whose output is collected until a line matches (bounded), then stopped."""

    def __init__(self, cmd: list[str]):
        self.cmd = cmd
        self.lines: list[str] = []
        self.cond = threading.Condition()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for raw in iter(self.proc.stdout.readline, b""):
            with self.cond:
                self.lines.append(raw.decode("utf-8", "replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()

    def wait_for(self, pattern: str, timeout: float = 20.0) -> str | None:
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for line in self.lines:
                    if rx.search(line):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or (self.proc.poll() is not None and not self.reader.is_alive()):
                    return None
                self.cond.wait(min(left, 0.5))

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.reader.join(timeout=5)
        self.proc.stdout.close()
        return self.proc.returncode

    def text(self) -> str:
        with self.cond:
            return "\n".join(self.lines[-40:])


class CertificateFilesTest(SecurityCase):
    """What ``shadowplane certs`` writes, read by openssl: every certificate verifies
    against the mesh CA, keys are ECDSA P-256 and 0600, and the SANs carry the control
    plane's names and each identity's SPIFFE id."""

    def openssl(self, *args: str) -> str:
        done = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)
        self.assertEqual(done.returncode, 0, f"openssl {' '.join(args)}: {done.stderr}")
        return done.stdout

    def test_openssl_accepts_every_certificate(self) -> None:
        p = self.pki
        carol_cert, carol_key = p.operator_files["carol"]
        certificates = [p.server_cert, p.node_cert("envoy-1"), carol_cert]
        out = self.openssl("verify", "-CAfile", p.ca, *certificates)
        for path in certificates:
            self.assertIn(f"{path}: OK", out)
        # Another CA's certificate does not verify against ours.
        done = subprocess.run(["openssl", "verify", "-CAfile", p.ca,
                               p.node_cert("envoy-1", p.other)],
                              capture_output=True, text=True, timeout=30)
        self.assertNotEqual(done.returncode, 0, done.stdout)

        sans = self.openssl("x509", "-noout", "-ext", "subjectAltName", "-in", p.server_cert)
        self.assertIn("DNS:localhost", sans)
        self.assertIn("IP Address:127.0.0.1", sans)
        node = self.openssl("x509", "-noout", "-ext", "subjectAltName",
                            "-in", p.node_cert("envoy-1"))
        self.assertIn(f"URI:spiffe://{p.trust_domain}/ns/default/node/envoy-1", node)
        operator = self.openssl("x509", "-noout", "-ext", "subjectAltName", "-in", carol_cert)
        self.assertIn(f"URI:spiffe://{p.trust_domain}/operator/write/carol", operator)
        text = self.openssl("x509", "-noout", "-text", "-in", p.node_cert("envoy-1"))
        self.assertIn("id-ecPublicKey", text)
        self.assertIn("prime256v1", text)

        for key in (os.path.join(p.certs, "ca-key.pem"), p.server_key,
                    p.node_key("envoy-1"), carol_key):
            self.assertEqual(stat.S_IMODE(os.stat(key).st_mode), 0o600, key)
            self.openssl("pkey", "-noout", "-in", key)


class OffLoopbackTest(SecurityCase):

    def setUp(self) -> None:
        super().setUp()
        self.store = tempfile.mkdtemp(prefix="shadowplane-security-store-")
        self.addCleanup(shutil.rmtree, self.store, True)

    def control_plane_cmd(self, xds: str, admin: str, *extra: str) -> list[str]:
        return [harness.shadowplane_bin(), "control-plane", "--store", self.store,
                "--xds-address", xds, "--admin-address", admin, *extra]

    def assert_refused(self, cmd: list[str], *words: str) -> None:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=30,
                              stdin=subprocess.DEVNULL)
        out = done.stdout + done.stderr
        self.assertEqual(done.returncode, 1, f"{' '.join(cmd[1:])}: exit {done.returncode}\n{out}")
        for w in ("refusing to serve off loopback without security", "--insecure", *words):
            self.assertIn(w, out, f"{' '.join(cmd[1:])}: the message must mention {w!r}")

    def watch(self, cmd: list[str]) -> Watched:
        w = Watched(cmd)
        self.addCleanup(w.stop)
        self.add_diagnostic(lambda: f"----- {' '.join(cmd[1:3])} output -----\n{w.text()}")
        return w

    def test_control_plane_xds_off_loopback_needs_mtls(self) -> None:
        self.assert_refused(self.control_plane_cmd("0.0.0.0:0", "127.0.0.1:0"),
                            "--xds-tls-cert", "--xds-tls-key", "--xds-client-ca")

    def test_control_plane_admin_off_loopback_needs_tls_and_auth(self) -> None:
        self.assert_refused(self.control_plane_cmd("127.0.0.1:0", "0.0.0.0:0"),
                            "--admin-tls-cert", "--admin-tls-key", "--admin-token-file")

    def test_proxy_admin_off_loopback_needs_tls_and_auth(self) -> None:
        self.assert_refused([harness.shadowplane_bin(), "proxy", "--node-id", "x",
                             "--xds-server", f"127.0.0.1:{harness.free_port()}",
                             "--admin-address", "0.0.0.0:0", "--no-access-log"],
                            "--admin-tls-cert", "--admin-token-file")

    def test_insecure_starts_with_a_warning(self) -> None:
        w = self.watch(self.control_plane_cmd("0.0.0.0:0", "0.0.0.0:0", "--insecure"))
        listening = w.wait_for(r"xDS server listening on 0\.0\.0\.0:\d+")
        self.assertIsNotNone(listening, f"--insecure control plane did not start:\n{w.text()}")
        self.assertIsNotNone(w.wait_for(r"admin API listening on 0\.0\.0\.0:\d+"), w.text())
        warnings = [l for l in w.lines if "warning" in l and "--insecure" in l]
        self.assertGreaterEqual(len(warnings), 2, f"expected a warning naming --insecure for "
                                                  f"xDS and admin:\n{w.text()}")
        self.assertTrue(any("xDS" in l for l in warnings) and any("admin" in l for l in warnings),
                        warnings)
        w.stop()

        p = self.watch([harness.shadowplane_bin(), "proxy", "--node-id", "x", "--xds-server",
                        f"127.0.0.1:{harness.free_port()}", "--admin-address", "0.0.0.0:0",
                        "--no-access-log", "--insecure"])
        self.assertIsNotNone(p.wait_for(r"proxy admin listening on 0\.0\.0\.0:\d+"),
                             f"--insecure proxy did not start:\n{p.text()}")
        self.assertTrue(any("--insecure" in l for l in p.lines),
                        f"the proxy must warn about --insecure:\n{p.text()}")

    def test_off_loopback_with_security_starts_without_warning(self) -> None:
        p = self.pki
        w = self.watch(self.control_plane_cmd(
            "0.0.0.0:0", "0.0.0.0:0", *p.xds_mtls_args(), "--admin-tls-cert", p.server_cert,
            "--admin-tls-key", p.server_key, "--admin-token-file", p.tokens))
        self.assertIsNotNone(w.wait_for(r"admin API listening on 0\.0\.0\.0:\d+"), w.text())
        self.assertIsNotNone(w.wait_for(r"xDS server listening on 0\.0\.0\.0:\d+ \(TLS\)"),
                             w.text())
        self.assertFalse([l for l in w.lines if "--insecure" in l], w.text())


if __name__ == "__main__":
    unittest.main(verbosity=2)
