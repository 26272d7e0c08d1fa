"""The operator CLI (apply, delete, get, proxy-status, proxy-config, history, diff) against a
store-mode control plane, with ADS clients from the reference stubs standing in for proxies.

Run with the interop venv:  .venv-interop/bin/python Tests/Interop/test_cli.py
The binary comes from SHADOWPLANE_BIN (default /work/main/.build/debug/shadowplane).
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import AdsStream, describe, poll  # noqa: E402

CLI_TIMEOUT = 30.0
PUSH_TIMEOUT = 10.0
ROUTE = "8000"
V1 = "outbound|8000|v1|httpbin"
V2 = "outbound|8000|v2|httpbin"
CLUSTERS = sorted(["outbound|8000||httpbin", V1, V2])
TYPES = ("CDS", "EDS", "LDS", "RDS")
NACK_MESSAGE = "route rejected by the interop test"

BAD_PERCENTAGE = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
spec:
  hosts:
  - httpbin
  http:
  - route:
    - destination:
        host: httpbin
        subset: v1
    mirror:
      host: httpbin
      subset: v2
    mirrorPercentage:
      value: 150.0
"""

NO_KIND = """\
apiVersion: networking.istio.io/v1
metadata:
  name: nameless
spec:
  hosts: [x]
"""

DANGLING_VS = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: dangling
spec:
  hosts:
  - nowhere
  http:
  - route:
    - destination:
        host: nowhere
"""


class Proxy:
    """An ADS client subscribed like Envoy (CDS and LDS wildcard, EDS by cluster, RDS
    ``8000``). ``policy(type, response)`` says what to do with each response: "ack",
    "nack" or "ignore"; the default ACKs everything."""

    def __init__(self, stream: AdsStream, policy=None):
        self.stream = stream
        self.names = {"CDS": [], "LDS": [], "EDS": CLUSTERS, "RDS": [ROUTE]}
        self.policy = policy or (lambda short, resp: "ack")
        self.latest: dict[str, object] = {}
        self.log: list[str] = []

    def subscribe(self, types=TYPES) -> None:
        for t in types:
            self.stream.request(t, self.names[t])

    def pump(self, until, timeout: float = PUSH_TIMEOUT, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while not until(self.latest):
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timed out waiting for {what or 'a push'}; "
                                     f"received: {self.log}")
            try:
                resp = self.stream.recv(timeout=min(left, 0.2))
            except AssertionError as e:
                if "no xDS response" not in str(e):
                    raise
                continue
            short = harness.SHORT_NAMES[resp.type_url]
            self.latest[short] = resp
            action = self.policy(short, resp)
            self.log.append(f"{describe(resp)} -> {action}")
            if action == "ack":
                self.stream.ack(resp, self.names[short])
            elif action == "nack":
                self.stream.nack(resp, NACK_MESSAGE, self.names[short])


def all_types_received(latest) -> bool:
    return all(t in latest and latest[t].resources for t in TYPES)


def pretty_lines(value) -> list[str]:
    """The CLI's pretty-printed JSON (two-space indent, member order kept), as lines."""
    if value is None:
        return []
    return json.dumps(value, indent=2, ensure_ascii=False).splitlines()


def apply_hunks(lines: list[str], hunks: list[str]) -> list[str]:
    """Applies unified diff hunks (``@@ -a,b +c,d @@`` and their lines) to ``lines``."""
    out: list[str] = []
    cursor = 0
    for line in hunks:
        m = re.match(r"@@ -(\d+),(\d+) \+\d+,\d+ @@$", line)
        if m:
            start = int(m.group(1)) - (1 if int(m.group(2)) else 0)
            out += lines[cursor:start]
            cursor = start
        elif line.startswith(" ") or line.startswith("-"):
            assert lines[cursor] == line[1:], (cursor, lines[cursor], line)
            if line.startswith(" "):
                out.append(line[1:])
            cursor += 1
        elif line.startswith("+"):
            out.append(line[1:])
    return out + lines[cursor:]


class CLITest(harness.InteropTestCase):

    def setUp(self) -> None:
        super().setUp()
        tmp = tempfile.TemporaryDirectory(prefix="shadowplane-cli-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        self.cp = self.start_store_control_plane()

    # -- helpers --------------------------------------------------------------------------

    def cli(self, *args: str, stdin: str | None = None, server: bool = True,
            env: dict | None = None) -> subprocess.CompletedProcess:
        cmd = [harness.shadowplane_bin(), *args]
        if server:
            cmd += ["--server", self.cp.admin_url]
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True,
                              timeout=CLI_TIMEOUT, env=env)
        self.add_diagnostic(lambda: f"$ {' '.join(cmd)}\n-> exit {proc.returncode}\n"
                            f"stdout:\n{proc.stdout}stderr:\n{proc.stderr}")
        return proc

    def ok(self, *args: str, **kw) -> str:
        proc = self.cli(*args, **kw)
        self.assertEqual(proc.returncode, 0,
                         f"{' '.join(args)}: exit {proc.returncode}\n{proc.stdout}{proc.stderr}")
        self.assertNotIn("Fatal error", proc.stderr)
        return proc.stdout

    def fails(self, *args: str, **kw) -> subprocess.CompletedProcess:
        proc = self.cli(*args, **kw)
        self.assertNotEqual(proc.returncode, 0,
                            f"{' '.join(args)} should fail\n{proc.stdout}{proc.stderr}")
        self.assertNotIn("Fatal error", proc.stderr)
        self.assertNotIn("Stack dump", proc.stderr)
        return proc

    def write(self, name: str, text: str, directory: str | None = None) -> str:
        path = os.path.join(directory or self.tmp, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def scenario_dir(self, vs_manifest: str = "12-virtualservice-mirror-50.yaml") -> str:
        """A directory holding the httpbin ServiceEntry, DestinationRule and one VirtualService."""
        directory = os.path.join(self.tmp, "scenario-" + vs_manifest.split("-")[0])
        for name in ("00-serviceentry.yaml", "01-destinationrule.yaml", vs_manifest):
            self.write(name, harness.read_manifest(name), directory)
        return directory

    def apply_scenario(self, vs_manifest: str = "12-virtualservice-mirror-50.yaml") -> int:
        """Applies SE + DR + ``vs_manifest`` through the API (the CLI's own apply is tested
        apart); waits until it is served and returns the revision."""
        body = self.cp.apply_ok(harness.join_documents(
            harness.read_manifest("00-serviceentry.yaml"),
            harness.read_manifest("01-destinationrule.yaml"),
            harness.read_manifest(vs_manifest)))
        return body["revision"]

    def proxy(self, node_id: str, policy=None) -> Proxy:
        stream = AdsStream(self.cp.xds_address, node_id)
        self.addCleanup(stream.close)
        p = Proxy(stream, policy)
        self.add_diagnostic(lambda: f"{node_id} received:\n  " + "\n  ".join(p.log))
        return p

    def row(self, table: str, first: str) -> list[str]:
        """The cells (split on runs of 3+ spaces) of the table row starting with ``first``."""
        for line in table.splitlines():
            cells = re.split(r"\s{3,}", line.strip())
            if cells and cells[0] == first:
                return cells
        raise AssertionError(f"no row {first!r} in:\n{table}")

    def header(self, table: str) -> list[str]:
        return re.split(r"\s{3,}", table.splitlines()[0].strip())

    # -- apply ----------------------------------------------------------------------------

    def test_apply_created_configured_unchanged(self) -> None:
        directory = self.scenario_dir("10-virtualservice-all-v1.yaml")
        out = self.ok("apply", "-f", directory)
        self.assertEqual(sorted(out.splitlines()), [
            "destinationrule.networking.istio.io/httpbin created",
            "serviceentry.networking.istio.io/httpbin created",
            "virtualservice.networking.istio.io/httpbin created"])
        out = self.ok("apply", "-f", directory)
        self.assertEqual(sorted(out.splitlines()), [
            "destinationrule.networking.istio.io/httpbin unchanged",
            "serviceentry.networking.istio.io/httpbin unchanged",
            "virtualservice.networking.istio.io/httpbin unchanged"])
        mirror = os.path.join(harness.MANIFESTS_DIR, "12-virtualservice-mirror-50.yaml")
        self.assertEqual(self.ok("apply", "-f", mirror).splitlines(),
                         ["virtualservice.networking.istio.io/httpbin configured"])
        # Standard input, and the server from the environment instead of --server.
        env = dict(os.environ, SHADOWPLANE_SERVER=self.cp.admin_url)
        out = self.ok("apply", "-f", "-", stdin=harness.read_manifest(
            "12-virtualservice-mirror-50.yaml"), server=False, env=env)
        self.assertEqual(out.splitlines(), ["virtualservice.networking.istio.io/httpbin unchanged"])

    def test_apply_invalid_file_reports_field_and_changes_nothing(self) -> None:
        self.apply_scenario("10-virtualservice-all-v1.yaml")
        before = self.ok("get", "vs", "httpbin", "-o", "json")
        bad = self.write("bad-vs.yaml", BAD_PERCENTAGE)
        proc = self.fails("apply", "-f", bad)
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stdout, "")
        line = next((l for l in proc.stderr.splitlines()
                     if "spec.http[0].mirrorPercentage.value" in l), None)
        self.assertIsNotNone(line, proc.stderr)
        self.assertTrue(line.startswith(f"error: {bad}: VirtualService default/httpbin: "), line)
        self.assertIn("150", line)
        self.assertEqual(self.ok("get", "vs", "httpbin", "-o", "json"), before)

        # A directory is all or nothing, and a problem is named by its own file.
        directory = os.path.join(self.tmp, "mixed")
        self.write("a-good.yaml", DANGLING_VS, directory)
        self.write("b-bad.yaml", "# no kind below\n---\n" + NO_KIND, directory)
        proc = self.fails("apply", "-f", directory)
        self.assertIn(f"error: {os.path.join(directory, 'b-bad.yaml')}: document[0]",
                      proc.stderr)
        self.fails("get", "vs", "dangling")

        proc = self.fails("apply", "-f", os.path.join(self.tmp, "missing.yaml"))
        self.assertIn("no such file", proc.stderr)

    def test_istio_samples_apply_as_shipped(self) -> None:
        """manifests/httpbin as a directory (three VirtualServices named httpbin: the last is
        applied, as kubectl would) plus a file of kinds Shadowplane does not serve (a
        Kubernetes Service, a Gateway, a PeerAuthentication): every warning names its file."""
        directory = os.path.join(self.tmp, "samples")
        for name in sorted(os.listdir(harness.MANIFESTS_DIR)):
            if name.endswith(".yaml"):
                self.write(name, harness.read_manifest(name), directory)
        self.write("20-istio-extras.yaml", """\
apiVersion: v1
kind: Service
metadata: {name: httpbin}
spec: {ports: [{port: 8000, name: http}]}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: httpbin-gateway}
spec: {selector: {istio: ingressgateway}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
""", directory)
        proc = self.cli("apply", "-f", directory)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        warnings = [l for l in proc.stderr.splitlines() if l.startswith("Warning: ")]
        extras = os.path.join(directory, "20-istio-extras.yaml")
        for kind in ("Service default/httpbin", "Gateway default/httpbin-gateway",
                     "PeerAuthentication istio-system/default"):
            self.assertTrue(any(w.startswith(f"Warning: {extras}: {kind}: document[") and
                                "is not served by Shadowplane: skipped" in w for w in warnings),
                            (kind, warnings))
        last = os.path.join(directory, "12-virtualservice-mirror-50.yaml")
        self.assertIn(f"Warning: {last}: VirtualService default/httpbin: metadata.name: given 3 "
                      "times in one apply: the last one is applied (as kubectl applies in order)",
                      warnings)
        # The last VirtualService is the one stored: 50 % mirroring.
        stored = json.loads(self.ok("get", "vs", "httpbin", "-o", "json"))
        self.assertEqual(stored["spec"]["http"][0]["mirrorPercentage"]["value"], 50)
        self.assertNotIn("Gateway", self.ok("get", "vs"))

    def test_apply_warnings_are_printed(self) -> None:
        path = self.write("dangling.yaml", DANGLING_VS)
        proc = self.cli("apply", "-f", path)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertEqual(proc.stdout.splitlines(),
                         ["virtualservice.networking.istio.io/dangling created"])
        warnings = [l for l in proc.stderr.splitlines() if l.startswith("Warning: ")]
        self.assertTrue(warnings, proc.stderr)
        self.assertTrue(any("VirtualService default/dangling: spec.http[0].route[0].destination"
                            in w and "nowhere" in w for w in warnings), warnings)

    # -- get and delete -------------------------------------------------------------------

    def test_get_in_three_formats(self) -> None:
        self.apply_scenario()
        table = self.ok("get", "vs")
        self.assertEqual(self.header(table), ["NAMESPACE", "NAME", "HOSTS", "ROUTES", "MIRROR"])
        self.assertEqual(self.row(table, "default"),
                         ["default", "httpbin", "httpbin", "httpbin/v1 100%", "httpbin/v2 50%"])
        for alias in ("virtualservices", "VirtualService", "virtualservice"):
            self.assertEqual(self.ok("get", alias), table, alias)

        resource = json.loads(self.ok("get", "vs", "httpbin", "-o", "json"))
        self.assertEqual(resource["kind"], "VirtualService")
        self.assertEqual(resource["metadata"]["name"], "httpbin")
        self.assertEqual(resource["spec"]["http"][0]["mirrorPercentage"]["value"], 50)
        listing = json.loads(self.ok("get", "vs", "-o", "json"))
        self.assertEqual([i["metadata"]["name"] for i in listing["items"]], ["httpbin"])
        self.assertEqual(listing["items"][0], resource)

        text = self.ok("get", "vs", "httpbin", "-o", "yaml")
        self.assertIn("kind: VirtualService\n", text)
        self.assertRegex(text, r"\n  name: httpbin\n")
        self.assertRegex(text, r"mirrorPercentage:\n\s+value: 50")
        self.assertEqual(self.ok("get", "vs", "-o", "yaml"), text)
        self.assertEqual(self.ok("get", "vs", "-n", "default", "-o", "yaml"), text)

        dr = self.ok("get", "dr")
        self.assertEqual(self.header(dr), ["NAMESPACE", "NAME", "HOST", "SUBSETS"])
        self.assertEqual(self.row(dr, "default"), ["default", "httpbin", "httpbin", "v1,v2"])
        se = self.ok("get", "serviceentries")
        self.assertEqual(self.header(se),
                         ["NAMESPACE", "NAME", "HOSTS", "PORTS", "RESOLUTION", "ENDPOINTS"])
        self.assertEqual(self.row(se, "default"),
                         ["default", "httpbin", "httpbin", "8000/HTTP", "STATIC",
                          "127.0.0.1:8001,127.0.0.1:8002"])
        we = self.cli("get", "we")
        self.assertEqual(we.returncode, 0, we.stderr)
        self.assertIn("No resources found", we.stderr)

        proc = self.fails("get", "virtualthing")
        self.assertIn("unknown kind 'virtualthing'", proc.stderr)
        proc = self.fails("get", "vs", "nothere")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("not found", proc.stderr)
        other = self.cli("get", "vs", "-n", "elsewhere")
        self.assertEqual((other.returncode, other.stdout), (0, ""))
        self.assertIn("No resources found in elsewhere namespace", other.stderr)

        proc = self.cli("get", "vs", "--server", "http://127.0.0.1:1", server=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("cannot reach the control plane at http://127.0.0.1:1", proc.stderr)

    def test_delete_by_name_and_by_file(self) -> None:
        self.apply_scenario()
        self.assertEqual(self.ok("delete", "vs", "httpbin").splitlines(),
                         ["virtualservice.networking.istio.io/httpbin deleted"])
        proc = self.cli("get", "vs")
        self.assertEqual(proc.stdout, "")
        self.assertIn("No resources found", proc.stderr)
        proc = self.fails("delete", "virtualservice", "httpbin")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("error: ", proc.stderr)
        self.assertIn("httpbin", proc.stderr)

        dr_file = os.path.join(harness.MANIFESTS_DIR, "01-destinationrule.yaml")
        self.assertEqual(self.ok("delete", "-f", dr_file).splitlines(),
                         ["destinationrule.networking.istio.io/httpbin deleted"])
        self.fails("get", "dr", "httpbin")
        self.assertIn("httpbin", self.ok("get", "se"))
        self.fails("delete", "bogus", "x")
        self.fails("delete")

    # -- proxy-status and proxy-config ------------------------------------------------------

    def test_proxy_status_synced_nack_stale(self) -> None:
        self.apply_scenario()
        nacking = {"on": False}
        p1 = self.proxy("proxy-1", policy=lambda short, resp: (
            "nack" if nacking["on"] and short == "RDS" else "ack"))
        p1.subscribe()
        p1.pump(all_types_received, what="the httpbin scenario")

        def synced():
            s = self.cp.latest_stream("proxy-1")
            return s and all(s["types"].get(t, {}).get("state") == "SYNCED" for t in TYPES) and s
        status = poll(synced, 10, what="proxy-1 SYNCED on every type")

        table = self.ok("proxy-status")
        self.assertEqual(self.header(table),
                         ["NAME", "CLUSTER", "USER AGENT", "CDS", "LDS", "EDS", "RDS", "RTDS"])
        row = self.row(table, "proxy-1")
        self.assertEqual(row[1:3], ["interop", "shadowplane-interop/1.0"])
        for column, t in zip(row[3:7], ("CDS", "LDS", "EDS", "RDS")):
            self.assertEqual(column, f"SYNCED ({status['types'][t]['sentVersion'][:8]})", t)
        self.assertEqual(row[7], "NOT SENT")

        detail = self.ok("proxy-status", "proxy-1")
        self.assertIn("Node:", detail)
        self.assertRegex(detail, r"(?m)^CDS: SYNCED$")
        self.assertIn(f"version {status['types']['RDS']['sentVersion']}", detail)
        self.assertRegex(detail, r"Subscription:\s+wildcard")
        self.assertRegex(detail, r"Subscription:\s+8000")
        self.assertNotIn("Last NACK", detail)

        # An RDS update the proxy rejects.
        nacking["on"] = True
        self.ok("apply", "-f", os.path.join(harness.MANIFESTS_DIR,
                                            "10-virtualservice-all-v1.yaml"))

        def nacked():
            s = self.cp.latest_stream("proxy-1")
            return s and s["types"]["RDS"].get("state") == "NACK" and s
        p1.pump(lambda latest: nacked(), what="the RDS NACK to be recorded")
        status = nacked()
        row = self.row(self.ok("proxy-status"), "proxy-1")
        self.assertEqual(row[6], f"NACK ({status['types']['RDS']['sentVersion'][:8]})")
        self.assertTrue(row[3].startswith("SYNCED ("), row)
        detail = self.ok("proxy-status", "proxy-1")
        self.assertRegex(detail, r"(?m)^RDS: NACK$")
        self.assertIn("Last NACK:", detail)
        self.assertIn(NACK_MESSAGE, detail)

        # A proxy that receives clusters and never answers.
        stale = self.proxy("proxy-stale", policy=lambda short, resp: "ignore")
        stale.subscribe(("CDS",))
        stale.pump(lambda latest: "CDS" in latest, what="CDS for proxy-stale")
        poll(lambda: (self.cp.latest_stream("proxy-stale") or {}).get("types", {})
             .get("CDS", {}).get("state") == "STALE", 10, what="proxy-stale STALE")
        row = self.row(self.ok("proxy-status"), "proxy-stale")
        self.assertTrue(row[3].startswith("STALE ("), row)
        self.assertEqual(row[4], "NOT SENT")
        self.assertRegex(self.ok("proxy-status", "proxy-stale"), r"(?m)^CDS: STALE$")

        proc = self.fails("proxy-status", "nobody")
        self.assertIn("nobody", proc.stderr)

    def test_proxy_config_tables_and_json(self) -> None:
        self.apply_scenario()
        p = self.proxy("proxy-cfg")
        p.subscribe()
        p.pump(all_types_received, what="the httpbin scenario")

        listeners = self.ok("proxy-config", "listeners", "proxy-cfg")
        self.assertEqual(self.header(listeners), ["NAME", "ADDRESS", "PORT", "ROUTE"])
        self.assertEqual(self.row(listeners, "0.0.0.0_8000"),
                         ["0.0.0.0_8000", "0.0.0.0", "8000", ROUTE])

        routes = self.ok("proxy-config", "routes", "proxy-cfg")
        self.assertEqual(self.header(routes),
                         ["NAME", "VIRTUAL HOST", "DOMAINS", "MATCH", "CLUSTER", "MIRROR"])
        rows = [re.split(r"\s{3,}", l.strip()) for l in routes.splitlines()[1:]]
        mirrored = [r for r in rows if r[4] == V1]
        self.assertEqual(len(mirrored), 1, routes)
        self.assertEqual(mirrored[0][:4], [ROUTE, "httpbin:8000", "httpbin,httpbin:8000", "/*"])
        self.assertTrue(mirrored[0][5].startswith(f"{V2} 50%"), mirrored[0])

        clusters = self.ok("proxy-config", "clusters", "proxy-cfg")
        self.assertEqual(self.header(clusters), ["NAME", "TYPE", "LB", "CONNECT TIMEOUT"])
        for name in CLUSTERS:
            self.assertEqual(self.row(clusters, name)[1], "EDS", name)
        self.assertEqual(self.row(clusters, V1)[3], "1s")

        endpoints = self.ok("proxy-config", "endpoints", "proxy-cfg")
        self.assertEqual(self.header(endpoints), ["CLUSTER", "ENDPOINT", "WEIGHT", "LOCALITY"])
        self.assertEqual(self.row(endpoints, V1)[1:3], ["127.0.0.1:8001", "1"])
        self.assertEqual(self.row(endpoints, V2)[1:3], ["127.0.0.1:8002", "1"])

        runtime = self.ok("proxy-config", "runtime", "proxy-cfg")
        self.assertEqual(self.header(runtime), ["LAYER", "KEY", "VALUE"])

        everything = self.ok("proxy-config", "all", "proxy-cfg")
        for table in (listeners, routes, clusters, endpoints, runtime):
            self.assertIn(table, everything)

        served = json.loads(self.cp.get("/api/v1/nodes/proxy-cfg/config")[1])["resources"]
        as_json = json.loads(self.ok("proxy-config", "clusters", "proxy-cfg", "-o", "json"))
        self.assertEqual(as_json, [r for r in served if r["@type"] == harness.TYPE_URLS["CDS"]])
        self.assertEqual(json.loads(self.ok("proxy-config", "all", "proxy-cfg", "-o", "json")),
                         sorted(served, key=lambda r: ["LDS", "RDS", "CDS", "EDS", "RTDS"]
                                .index(harness.SHORT_NAMES[r["@type"]])))
        as_yaml = self.ok("proxy-config", "listeners", "proxy-cfg", "-o", "yaml")
        self.assertTrue(as_yaml.startswith('- "@type": type.googleapis.com/envoy.config.'
                                           'listener.v3.Listener\n'), as_yaml[:200])
        self.assertIn('  name: "0.0.0.0_8000"\n', as_yaml)
        self.assertRegex(as_yaml, r"\n\s+portValue: 8000\n")
        self.assertIn("routeConfigName: \"8000\"", as_yaml)

        # Every node id is served (the default snapshot); an unknown one is pointed out.
        proc = self.cli("proxy-config", "clusters", "nobody")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("no xDS client with node id 'nobody' is connected", proc.stderr)
        self.assertEqual(proc.stdout, clusters)
        self.assertNotIn("is connected", self.cli("proxy-config", "clusters", "proxy-cfg").stderr)
        proc = self.fails("proxy-config", "clusters", "proxy-cfg", "--server",
                          "http://127.0.0.1:1", server=False)
        self.assertEqual(proc.returncode, 1)
        self.assertIn("error: cannot reach the control plane", proc.stderr)
        self.fails("proxy-config", "secrets", "proxy-cfg")

    # -- history and diff ------------------------------------------------------------------

    def test_history_and_diff(self) -> None:
        status, _ = self.cp.get("/api/v1/history")
        if status == 404:
            print("\n[cli] SKIP history/diff: the control plane has no /api/v1/history yet",
                  file=sys.stderr, flush=True)
            proc = self.fails("history")
            self.assertIn("error: ", proc.stderr)
            self.skipTest("SKIP: /api/v1/history returns 404 (not implemented server-side)")
        first = self.apply_scenario("10-virtualservice-all-v1.yaml")
        p = self.proxy("proxy-h")
        p.subscribe()
        p.pump(all_types_received, what="the httpbin scenario")
        rds = lambda: (self.cp.latest_stream("proxy-h") or {}).get("types", {}).get("RDS", {})
        poll(lambda: rds().get("state") == "SYNCED", 10, what="proxy-h RDS SYNCED")
        before = rds()["sentVersion"]
        second = self.cp.apply_ok(harness.read_manifest("12-virtualservice-mirror-50.yaml"))[
            "revision"]
        self.assertGreater(second, first)
        p.pump(lambda latest: rds().get("sentVersion") != before
               and rds().get("state") == "SYNCED", what="the mirror route to be ACKed")

        def history_has_ack():
            out = self.ok("history", "proxy-h")
            return f"revision {second}" in out and re.search(r"proxy-h\s+RDS\s+\S+\s+ACK", out) \
                and out
        out = poll(history_has_ack, 10, what="history with the ACKed RDS push")
        self.assertRegex(out, rf"(?m)^#\d+\s+\S+\s+revision {second}\s+\+\d+ ~\d+ -\d+$")
        self.assertRegex(out, r"(?m)^\s+~\s+RDS\s+8000$")
        limited = self.ok("history", "--limit", "1")
        self.assertEqual(len(re.findall(r"(?m)^#\d+", limited)), 1, limited)
        self.fails("history", "--limit", "0")

        status, _ = self.cp.get(f"/api/v1/diff?from={first}&to={second}")
        if status == 404:
            self.skipTest("SKIP: /api/v1/diff returns 404 (not implemented server-side)")
        diff = self.ok("diff", str(first), str(second))
        # From the empty store (all added), and backwards (the mirror removed).
        _, raw = self.cp.get("/api/v1/history")
        empty = json.loads(raw)["entries"][0]["configRevision"]
        for a, b in ((first, second), (second, first), (empty, first), (first, empty)):
            self.assert_diff_applies(a, b)
        self.assertIn(f"--- RDS 8000 (rev {first})\n+++ RDS 8000 (rev {second})\n@@ -", diff)
        self.assertRegex(diff, r"(?m)^\+\s+\"requestMirrorPolicies\": \[$")
        self.assertNotRegex(diff, r"(?m)^--- CDS")
        proc = self.fails("diff", str(first), "99999")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("error: ", proc.stderr)

    def assert_diff_applies(self, a: int, b: int) -> None:
        """``diff A B`` has one section per resource the API reports, and each section's
        hunks turn the resource's "before" JSON into its "after" JSON."""
        out = self.ok("diff", str(a), str(b))
        _, raw = self.cp.get(f"/api/v1/diff?from={a}&to={b}")
        changed = json.loads(raw)["resources"]
        self.assertTrue(changed, f"no differences between {a} and {b}")
        sections = re.split(r"(?m)^--- ", out)[1:]
        self.assertEqual(len(sections), len(changed), out)
        for item, section in zip(changed, sections):
            self.assertTrue(section.startswith(f"{item['type']} {item['name']} (rev {a}"),
                            section[:100])
            lines = section.splitlines()
            self.assertTrue(lines[1].startswith(f"+++ {item['type']} {item['name']} (rev {b}"),
                            lines[1])
            self.assertEqual(apply_hunks(pretty_lines(item["before"]), lines[2:]),
                             pretty_lines(item["after"]), section)

    def test_ctrl_c_ends_a_waiting_command(self) -> None:
        # An admin address that accepts connections and never answers.
        with socket.socket() as silent:
            silent.bind(("127.0.0.1", 0))
            silent.listen(8)
            proc = subprocess.Popen(
                [harness.shadowplane_bin(), "proxy-status", "--server",
                 f"http://127.0.0.1:{silent.getsockname()[1]}"],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            try:
                silent.settimeout(CLI_TIMEOUT)
                conn, _ = silent.accept()  # the command has sent its request and waits
                with conn:
                    self.assertIsNone(proc.poll(), "the command should still be waiting")
                    proc.send_signal(signal.SIGINT)
                    code = proc.wait(timeout=5)
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
                proc.stdout.close()
                proc.stderr.close()
        self.assertEqual(code, -signal.SIGINT)

    def test_help_lists_every_command(self) -> None:
        out = self.ok("--help", server=False)
        for command in ("apply", "delete", "get", "proxy-status", "proxy-config", "history",
                        "diff"):
            self.assertRegex(out, rf"(?m)^\s+{command}\s", command)


if __name__ == "__main__":
    unittest.main(verbosity=2)
