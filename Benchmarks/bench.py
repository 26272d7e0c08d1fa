"""Runs the benchmarks of scripts/bench and writes Benchmarks/RESULTS.md.

Everything binds 127.0.0.1. The same wrk settings, duration and upstream serve every
contender; nginx gets as many worker processes as the proxy has event-loop threads, and
Envoy (ENVOY_BIN, default .venv-envoy/bin/envoy from scripts/setup) as many worker threads
(--concurrency); runs alternate (A B A B) and medians are quoted.

Envoy takes the same xDS resources as our proxy, from a second control plane of ours (same
binary, same resource shape, only its listener ports differ so that both proxies can listen
at once), as a node of its own, on the project's bootstrap (manifests/envoy/bootstrap.yaml).
"""
import argparse
import asyncio
import json
import os
import platform
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime, timezone

import fanout
from fanout import free_port

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DURATION = int(os.environ.get("DURATION", "10"))
ROUNDS = int(os.environ.get("ROUNDS", "2"))
THREADS = int(os.environ.get("PROXY_THREADS", str(os.cpu_count() or 2)))
CONNECTIONS = 64
# Fixed-rate latency (RateProbe, open loop): requests per second, the same for every
# contender, below every contender's saturation but nginx's with a 1 s shadow.
RATE = int(os.environ.get("RATE", "5000"))
ENVOY_BIN = os.environ.get("ENVOY_BIN", os.path.join(ROOT, ".venv-envoy", "bin", "envoy"))


def wait_port(port, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on {port}")


def nginx_binary():
    return shutil.which("nginx") or "/usr/sbin/nginx"


class Processes:
    def __init__(self):
        self.items = []

    def start(self, args, **kw):
        kw.setdefault("stdout", subprocess.DEVNULL)
        kw.setdefault("stderr", subprocess.DEVNULL)
        p = subprocess.Popen(args, **kw)
        self.items.append(p)
        return p

    def stop(self):
        for p in self.items:
            if p.poll() is None:
                p.terminate()
        for p in self.items:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
        self.items = []


def nginx_conf(work, name, body):
    path = os.path.join(work, f"{name}.conf")
    with open(path, "w") as f:
        f.write(f"""
worker_processes {THREADS};
pid {work}/{name}.pid;
error_log {work}/{name}.error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path {work}/{name}-body;
  proxy_temp_path {work}/{name}-proxy;
  {body}
}}
""")
    return path


def start_slow_server(port):
    """A shadow target that answers every request after 1 s (asyncio, any concurrency)."""
    async def handle(reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length:\s*(\d+)", head)
                if length:
                    await reader.readexactly(int(length.group(1)))
                await asyncio.sleep(1)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok")
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def run():
        loop = asyncio.new_event_loop()
        server = loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", port, backlog=4096))
        loop.run_until_complete(server.serve_forever())

    threading.Thread(target=run, daemon=True).start()
    wait_port(port)


def wrk(port, host):
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{DURATION}s", "--latency", "-H", f"Host: {host}",
         f"http://127.0.0.1:{port}/"], capture_output=True, text=True, check=True).stdout

    def ms(label):
        m = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value

    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": ms("50%"), "p99": ms("99%"), "non2xx": int(errors.group(1)) if errors else 0}


def rate_probe(probe, port, host):
    """Latency at RATE requests/s (open loop, measured from when each request was due)."""
    out = subprocess.run(
        [probe, "--port", str(port), "--host", host, "--rate", str(RATE), "--connections", str(CONNECTIONS),
         "--duration", str(DURATION), "--warmup", "2"], capture_output=True, text=True, check=True).stdout
    r = json.loads(out.strip().splitlines()[-1])
    return {"achieved": r["achieved_rps"], "p50": r["p50_ms"], "p99": r["p99_ms"], "p999": r["p999_ms"],
            "failed": r["errors"] + r["unanswered"]}


def answers_200(port, host="bench", timeout=20):
    """Waits (bounded) until the contender on port proxies a request to a 200."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{port}/", headers={"Host": host})
            with urllib.request.urlopen(req, timeout=2) as r:
                if r.status == 200:
                    return
                last = r.status
        except Exception as e:  # noqa: BLE001 - retried until the deadline
            last = e
        time.sleep(0.1)
    raise RuntimeError(f"port {port} does not answer 200: {last}")


def envoy_available():
    return os.access(ENVOY_BIN, os.X_OK)


_envoy_base_ids = iter(range((os.getpid() % 20000) * 100 + 50, 10**9))


def start_envoy(procs, work, name, xds_port):
    """Real Envoy on the project's bootstrap, pointed at the control plane on xds_port as node
    `name`, --concurrency THREADS; returns (process, admin port)."""
    with open(os.path.join(ROOT, "manifests", "envoy", "bootstrap.yaml")) as f:
        text = f.read()
    for old, new in (("port_value: 18000", f"port_value: {xds_port}"), ("port_value: 9901", "port_value: 0"),
                     ("id: envoy-1", f"id: {name}")):
        if text.count(old) != 1:
            raise RuntimeError(f"manifests/envoy/bootstrap.yaml no longer has exactly one {old!r}")
        text = text.replace(old, new)
    bootstrap = os.path.join(work, f"{name}.yaml")
    with open(bootstrap, "w") as f:
        f.write(text)
    admin_path = os.path.join(work, f"{name}.admin")
    log = open(os.path.join(work, f"{name}.log"), "w")
    p = procs.start([ENVOY_BIN, "-c", bootstrap, "--concurrency", str(THREADS), "--base-id", str(next(_envoy_base_ids)),
                     "--disable-hot-restart", "--admin-address-path", admin_path, "-l", "warning"],
                    stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if p.poll() is not None:
            raise RuntimeError(f"envoy exited with {p.returncode}; see {log.name}")
        if os.path.exists(admin_path):
            with open(admin_path) as f:
                address = f.read().strip()
            if address:
                return p, int(address.rsplit(":", 1)[1])
        time.sleep(0.05)
    raise RuntimeError(f"envoy wrote no admin address; see {log.name}")


def envoy_stats(admin_port):
    """Envoy's counters that say whether it took the configuration and mirrored."""
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/stats?format=json", timeout=5) as r:
        stats = {s["name"]: s.get("value") for s in json.load(r)["stats"] if "name" in s}
    keep = lambda n: n.endswith(("update_rejected", "update_success")) \
        or n in ("cluster.upstream.upstream_rq_total", "cluster.mirror.upstream_rq_total",
                 "cluster.mirror.upstream_rq_pending_overflow", "cluster.mirror.upstream_cx_overflow",
                 "cluster.upstream.upstream_rq_pending_overflow", "cluster.mirror.upstream_rq_timeout",
                 "http.mirrored.downstream_rq_total", "http.plain.downstream_rq_total",
                 "http.mirrored.downstream_rq_5xx", "http.plain.downstream_rq_5xx")
    return {n: v for n, v in sorted(stats.items()) if keep(n)}


def envoy_resources(listen_port, upstream_port, mirror_port, runtime_layer=False):
    cluster = lambda name: {"@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": name,
                            "type": "EDS", "edsClusterConfig": {"edsConfig": {"ads": {}, "resourceApiVersion": "V3"}},
                            "connectTimeout": "1s"}
    cla = lambda name, port: {"@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
                              "clusterName": name, "endpoints": [{"loadBalancingWeight": 1, "lbEndpoints": [
                                  {"endpoint": {"address": {"socketAddress": {"address": "127.0.0.1", "portValue": port}}}}]}]}

    def route(name, mirrored):
        action = {"cluster": "upstream", "timeout": "0s"}
        if mirrored:
            action["requestMirrorPolicies"] = [{"cluster": "mirror"}]
        return {"@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": name,
                "virtualHosts": [{"name": "bench", "domains": ["*"], "routes": [{"match": {"prefix": "/"}, "route": action}]}]}

    def listener(name, port, route_name):
        hcm = {"@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
               "statPrefix": name, "rds": {"configSource": {"ads": {}, "resourceApiVersion": "V3"}, "routeConfigName": route_name},
               "httpFilters": [{"name": "envoy.filters.http.router", "typedConfig": {"@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"}}]}
        return {"@type": "type.googleapis.com/envoy.config.listener.v3.Listener", "name": name,
                "address": {"socketAddress": {"address": "127.0.0.1", "portValue": port}},
                "filterChains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager", "typedConfig": hcm}]}]}

    resources = [cluster("upstream"), cluster("mirror"), cla("upstream", upstream_port), cla("mirror", mirror_port),
                 route("plain", False), route("mirrored", True),
                 listener("plain", listen_port[0], "plain"), listener("mirrored", listen_port[1], "mirrored")]
    if runtime_layer:
        # The bootstrap's RTDS layer "shadowplane", empty: Envoy waits for it (15 s) otherwise.
        resources.append({"@type": "type.googleapis.com/envoy.service.runtime.v3.Runtime", "name": "shadowplane", "layer": {}})
    return {"resources": resources}


def proxy_benchmarks(binary, work, procs, envoy_checks):
    up = free_port()
    procs.start([nginx_binary(), "-c", nginx_conf(work, "upstream", f"server {{ listen 127.0.0.1:{up}; location / {{ return 200 'ok'; }} }}"), "-g", "daemon off;"])
    wait_port(up)
    slow = free_port()
    start_slow_server(slow)
    results = {}
    for shadow_name, shadow_port in (("fast", up), ("slow", slow)):
        ng_plain, ng_mirror, sp_plain, sp_mirror = (free_port() for _ in range(4))
        conf = f"""
upstream up {{ server 127.0.0.1:{up}; keepalive 64; }}
upstream shadow {{ server 127.0.0.1:{shadow_port}; keepalive 64; }}
server {{ listen 127.0.0.1:{ng_plain}; location / {{ proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://up; }} }}
server {{ listen 127.0.0.1:{ng_mirror};
  location / {{ mirror /mirror; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://up; }}
  location = /mirror {{ internal; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_pass http://shadow$request_uri; }} }}
"""
        procs.start([nginx_binary(), "-c", nginx_conf(work, f"nginx-{shadow_name}", conf), "-g", "daemon off;"])
        doc = os.path.join(work, f"resources-{shadow_name}.json")
        with open(doc, "w") as f:
            json.dump(envoy_resources((sp_plain, sp_mirror), up, shadow_port), f)
        xds, admin, padmin = free_port(), free_port(), free_port()
        procs.start([binary, "control-plane", "--resources", doc, "--xds-address", f"127.0.0.1:{xds}", "--admin-address", f"127.0.0.1:{admin}"])
        wait_port(xds)
        procs.start([binary, "proxy", "--xds-server", f"127.0.0.1:{xds}", "--node-id", f"bench-{shadow_name}",
                     "--admin-address", f"127.0.0.1:{padmin}", "--no-access-log", "--threads", str(THREADS)])
        contenders = {"nginx": ng_plain, "nginx+mirror": ng_mirror, "shadowplane": sp_plain, "shadowplane+mirror": sp_mirror}
        envoy_admin = None
        if envoy_available():
            # Envoy: the same resources from a second control plane, with listener ports of its own.
            ev_plain, ev_mirror = free_port(), free_port()
            edoc = os.path.join(work, f"resources-envoy-{shadow_name}.json")
            with open(edoc, "w") as f:
                json.dump(envoy_resources((ev_plain, ev_mirror), up, shadow_port, runtime_layer=True), f)
            exds, eadmin = free_port(), free_port()
            procs.start([binary, "control-plane", "--resources", edoc, "--xds-address", f"127.0.0.1:{exds}",
                         "--admin-address", f"127.0.0.1:{eadmin}"])
            wait_port(exds)
            _, envoy_admin = start_envoy(procs, work, f"bench-envoy-{shadow_name}", exds)
            contenders.update({"envoy": ev_plain, "envoy+mirror": ev_mirror})
        for port in contenders.values():
            wait_port(port)
            answers_200(port)
        if shadow_name == "fast":
            contenders["direct"] = up
        else:
            contenders = {k: v for k, v in contenders.items() if "mirror" in k}
        runs = {name: [] for name in contenders}
        fixed = {name: [] for name in contenders}
        for _ in range(ROUNDS):
            for name, port in contenders.items():  # A B A B: every contender once per round
                runs[name].append(wrk(port, "bench"))
            for name, port in contenders.items():
                fixed[name].append(rate_probe(os.path.join(os.path.dirname(binary), "RateProbe"), port, "bench"))
        if envoy_admin is not None:
            envoy_checks[shadow_name] = envoy_stats(envoy_admin)
        for name, samples in runs.items():
            key = name if shadow_name == "fast" else f"{name} (1 s shadow)"
            results[key] = {m: statistics.median(s[m] for s in samples) for m in ("rps", "p50", "p99", "non2xx")}
            results[key]["fixed"] = {m: statistics.median((s[m] if s[m] is not None else float("inf")) for s in fixed[name])
                                     for m in ("achieved", "p50", "p99", "p999", "failed")}
    return results


def translation(bench):
    # malloc-interposer counts the allocations (see Benchmarks/TranslatorBenchmark/main.swift).
    env = dict(os.environ, LD_PRELOAD=os.path.join(os.path.dirname(bench), "libMallocInterposerSwift.so"))
    out = subprocess.run([bench], capture_output=True, text=True, check=True, env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin")
    parser.add_argument("--rewrite", action="store_true",
                        help="rewrite RESULTS.md from the figures of the last run (Benchmarks/results.json)")
    args = parser.parse_args()
    raw = os.path.join(ROOT, "Benchmarks/results.json")
    if args.rewrite:
        with open(raw) as f:
            saved = json.load(f)
        global DURATION, ROUNDS, THREADS, RATE
        settings = saved.get("settings", {})
        DURATION, ROUNDS = settings.get("duration", DURATION), settings.get("rounds", ROUNDS)
        THREADS, RATE = settings.get("threads", THREADS), settings.get("rate", RATE)
        write_results(saved["proxy"], saved["fanout"], saved["translation"], saved["written"], saved.get("envoy", {}),
                      settings.get("envoy"))
        return
    if not args.bin:
        parser.error("--bin is required (the release bin path)")
    binary = os.path.join(args.bin, "shadowplane")
    work = tempfile.mkdtemp(prefix="shadowplane-bench-")
    procs = Processes()
    envoy_checks = {}
    if not envoy_available():
        print(f"bench: no Envoy at {ENVOY_BIN} (scripts/setup installs it; or set ENVOY_BIN): Envoy rows left out",
              file=sys.stderr)
    try:
        proxy = proxy_benchmarks(binary, work, procs, envoy_checks)
    finally:
        procs.stop()
    try:
        fan = fanout.fanout_benchmarks(binary, os.path.join(args.bin, "XDSLoadGenerator"), work, procs)
    finally:
        procs.stop()
    trans = translation(os.path.join(args.bin, "TranslatorBenchmark"))
    written = datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')
    with open(raw, "w") as f:
        json.dump({"written": written, "proxy": proxy, "envoy": envoy_checks, "fanout": fan, "translation": trans,
                   "settings": {"duration": DURATION, "rounds": ROUNDS, "threads": THREADS, "rate": RATE,
                                "envoy": envoy_version()}}, f, indent=1)
    write_results(proxy, fan, trans, written, envoy_checks)


def envoy_version():
    try:
        out = subprocess.run([ENVOY_BIN, "--version"], capture_output=True, text=True, timeout=30).stdout
        m = re.search(r"version: \S+/([\d.]+)/", out)
        return f"envoy {m.group(1)}" if m else out.strip() or "envoy (version unknown)"
    except OSError:
        return f"no Envoy at {ENVOY_BIN}"


def envoy_comparison(proxy, checks, goal):
    """Section 1b: ours against Envoy and nginx, row by row, and the goals against Envoy."""
    get = lambda n: proxy.get(n)
    rows = (("no mirroring", "shadowplane", "envoy", "nginx"),
            ("100 % mirroring", "shadowplane+mirror", "envoy+mirror", "nginx+mirror"),
            ("100 % mirroring, 1 s shadow", "shadowplane+mirror (1 s shadow)", "envoy+mirror (1 s shadow)",
             "nginx+mirror (1 s shadow)"))
    ratio = lambda a, b, k: f"{a[k] / b[k]:.2f}×" if a and b and b[k] else "–"
    num = lambda r, k, fmt: (fmt.format(r[k]) if r and r[k] != float("inf") else "–")
    lines = ["### Ours against Envoy and nginx (sections 1 and 2 side by side)", "",
             "Requests/s and latency at saturation (wrk, the table above), and p99 at the fixed rate (RateProbe, "
             f"{RATE} requests/s); ratios are ours over theirs (requests/s: higher is better for us; p99: lower is).", "",
             "| case | ours req/s | Envoy req/s | nginx req/s | ours/Envoy | ours/nginx | p99 ms ours / Envoy / nginx "
             f"| p99 ours/Envoy | p99 at {RATE}/s ms ours / Envoy / nginx |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, o, e, n in rows:
        ro, re_, rn = get(o), get(e), get(n)
        fo, fe, fn = ((r or {}).get("fixed") for r in (ro, re_, rn))
        lines.append(f"| {label} | {num(ro, 'rps', '{:.0f}')} | {num(re_, 'rps', '{:.0f}')} | {num(rn, 'rps', '{:.0f}')} "
                     f"| {ratio(ro, re_, 'rps')} | {ratio(ro, rn, 'rps')} "
                     f"| {num(ro, 'p99', '{:.2f}')} / {num(re_, 'p99', '{:.2f}')} / {num(rn, 'p99', '{:.2f}')} "
                     f"| {ratio(ro, re_, 'p99')} "
                     f"| {num(fo, 'p99', '{:.2f}')} / {num(fe, 'p99', '{:.2f}')} / {num(fn, 'p99', '{:.2f}')} |")
    lines.append("")
    ours, ours_m, ev, ev_m, ng = (get(n) for n in ("shadowplane", "shadowplane+mirror", "envoy", "envoy+mirror", "nginx"))
    lines.append("Goals against Envoy (and nginx without mirroring):")
    lines.append("")
    if ours and ev:
        lines.append(f"- ours / Envoy without mirroring: {ours['rps'] / ev['rps']:.2f}× requests/s "
                     f"(goal ≥ 1.3×: {goal(ours['rps'] >= 1.3 * ev['rps'])})")
    else:
        lines.append("- ours / Envoy without mirroring: not measured (no Envoy)")
    if ours_m and ev_m:
        lines.append(f"- ours / Envoy with 100 % mirroring: {ours_m['rps'] / ev_m['rps']:.2f}× requests/s "
                     f"(goal ≥ 1.3×: {goal(ours_m['rps'] >= 1.3 * ev_m['rps'])})")
    else:
        lines.append("- ours / Envoy with 100 % mirroring: not measured (no Envoy)")
    for label, o, e in (("without mirroring", ours, ev), ("with 100 % mirroring", ours_m, ev_m)):
        if not (o and e):
            continue
        fo, fe = o.get("fixed"), e.get("fixed")
        text = (f"- our p99 / Envoy's {label}: at saturation {o['p99']:.2f} / {e['p99']:.2f} ms = {o['p99'] / e['p99']:.2f}× "
                f"(goal ≤ 1.0×: {goal(o['p99'] <= e['p99'])})")
        if fo and fe and fe["p99"] not in (0, float("inf")):
            text += (f"; at {RATE} requests/s {fo['p99']:.2f} / {fe['p99']:.2f} ms = {fo['p99'] / fe['p99']:.2f}× "
                     f"(goal ≤ 1.0×: {goal(fo['p99'] <= fe['p99'])})")
        lines.append(text)
    if ours and ng:
        lines.append(f"- ours / nginx without mirroring: {ours['rps'] / ng['rps']:.2f}× requests/s "
                     f"(goal ≥ 0.85×: {goal(ours['rps'] >= 0.85 * ng['rps'])})")
    lines.append("")
    if checks:
        lines.append("Envoy took the configuration and mirrored (its counters at the end of each set of runs):")
        lines.append("")
        for shadow, stats in checks.items():
            rejected = sum(v for k, v in stats.items() if k.endswith("update_rejected"))
            mirrored, mirror_in = stats.get("cluster.mirror.upstream_rq_total", 0), stats.get("http.mirrored.downstream_rq_total", 0)
            overflow = stats.get("cluster.mirror.upstream_rq_pending_overflow", 0)
            lines.append(f"- {shadow} shadow: xDS updates rejected {rejected:.0f} (the sum of every `*.update_rejected`); "
                         f"requests on the mirrored listener {mirror_in:.0f}, shadow requests sent to the mirror cluster "
                         f"{mirrored:.0f}, shadow requests dropped by its default circuit breakers "
                         f"(`upstream_rq_pending_overflow`) {overflow:.0f}")
        lines.append("")
    return lines


def write_results(proxy, fan, trans, written, envoy_checks=None, envoy_ran=None):
    def row(name):
        r = proxy.get(name)
        return f"| {name} | {r['rps']:.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']:.0f} |" if r else f"| {name} | – | – | – | – |"

    ours, ours_m = proxy.get("shadowplane"), proxy.get("shadowplane+mirror")
    ng, ng_m = proxy.get("nginx"), proxy.get("nginx+mirror")
    slow_ours, slow_ng = proxy.get("shadowplane+mirror (1 s shadow)"), proxy.get("nginx+mirror (1 s shadow)")
    goal = lambda ok: "met" if ok else "**missed**"
    lines = [
        "# Benchmark results", "",
        f"Written by `scripts/bench` on {written} (figures also in `Benchmarks/results.json`).",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}. "
        f"wrk -t2 -c{CONNECTIONS} -d{DURATION}s, {ROUNDS} alternating rounds, medians; "
        f"proxy event loops, nginx workers and Envoy worker threads (`--concurrency`): {THREADS}; upstream: nginx `return 200`. "
        f"Envoy: `{envoy_ran or envoy_version()}`, configured over ADS by a second control plane of ours serving the same resources "
        f"(its own listener ports, its own node id), on `manifests/envoy/bootstrap.yaml`; its shadow requests, as ours, "
        f"go to the mirror cluster with `-shadow` appended to the Host.", "",
        "## 1. Proxy throughput and latency", "",
        "| contender | requests/s | p50 ms | p99 ms | non-2xx |", "|---|---|---|---|---|",
        *(row(n) for n in ("direct", "nginx", "nginx+mirror", "envoy", "envoy+mirror", "shadowplane", "shadowplane+mirror")), "",
    ]
    if ours and ng and ours_m and ng_m:
        lines += [
            f"- ours with 100 % mirroring / nginx with mirror: {ours_m['rps'] / ng_m['rps']:.2f}× (goal ≥ 1.5×: {goal(ours_m['rps'] >= 1.5 * ng_m['rps'])})",
            f"- ours / nginx without mirroring: {ours['rps'] / ng['rps']:.2f}× (goal ≥ 1.0×: {goal(ours['rps'] >= ng['rps'])})",
            f"- our p99 with mirroring / without, at saturation: {ours_m['p99'] / ours['p99']:.2f}× (goal ≤ 1.2×: {goal(ours_m['p99'] <= 1.2 * ours['p99'])})", ""]
    def fixed_row(name):
        f = (proxy.get(name) or {}).get("fixed")
        if not f:
            return f"| {name} | – | – | – | – | – |"
        num = lambda v: "–" if v == float("inf") else f"{v:.2f}"
        return f"| {name} | {f['achieved']:.0f} | {num(f['p50'])} | {num(f['p99'])} | {num(f['p999'])} | {f['failed']:.0f} |"
    fixed_names = ("direct", "nginx", "nginx+mirror", "envoy", "envoy+mirror", "shadowplane", "shadowplane+mirror",
                   "nginx+mirror (1 s shadow)", "envoy+mirror (1 s shadow)", "shadowplane+mirror (1 s shadow)")
    if any((proxy.get(n) or {}).get("fixed") for n in fixed_names):
        lines += ["### Latency at a fixed rate", "",
                  f"wrk is closed loop: at saturation its percentiles measure queueing on 2 shared cores. "
                  f"`RateProbe` (Benchmarks/RateProbe) sends {RATE} requests/s on a schedule over {CONNECTIONS} "
                  f"keep-alive connections, whatever the answers do, and measures each request from when it was due "
                  f"(as wrk2 does); {DURATION} s counted after 2 s of warm-up, medians of {ROUNDS} rounds. "
                  f"\"failed\" counts errors and requests unanswered 5 s after the last was due.", "",
                  "| contender | answered/s | p50 ms | p99 ms | p99.9 ms | failed |", "|---|---|---|---|---|---|",
                  *(fixed_row(n) for n in fixed_names), ""]
        fo, fm, fs = ((proxy.get(n) or {}).get("fixed") for n in ("shadowplane", "shadowplane+mirror", "shadowplane+mirror (1 s shadow)"))
        if fo and fm:
            lines.append(f"- our p99 with mirroring / without, at {RATE} requests/s: {fm['p99'] / fo['p99']:.2f}× "
                         f"(goal ≤ 1.2×: {goal(fm['p99'] <= 1.2 * fo['p99'])})")
        if fm and fs:
            lines.append(f"- a 1 s shadow instead of a fast one adds {fs['p99'] - fm['p99']:.2f} ms to our p99 at {RATE} requests/s "
                         f"(goal < 1 ms: {goal(fs['p99'] - fm['p99'] < 1)})")
        lines.append("")
    lines += ["## 2. Slow shadow (the mirror target answers after 1 s)", "",
              "| contender | requests/s | p50 ms | p99 ms | non-2xx |", "|---|---|---|---|---|",
              row("nginx+mirror (1 s shadow)"), row("envoy+mirror (1 s shadow)"), row("shadowplane+mirror (1 s shadow)"), ""]
    if slow_ours and ours_m:
        lines += [f"- a 1 s shadow instead of a fast one, at saturation: added p99 {slow_ours['p99'] - ours_m['p99']:.2f} ms (goal < 1 ms: {goal(slow_ours['p99'] - ours_m['p99'] < 1)}); "
                  f"requests/s cost: {(1 - slow_ours['rps'] / ours_m['rps']) * 100:.1f} % (goal < 5 %: {goal(slow_ours['rps'] >= 0.95 * ours_m['rps'])})", ""]
    lines += envoy_comparison(proxy, envoy_checks or {}, goal)
    lines += [*fanout.fanout_lines(fan), "",
              "## 4. Translation", "",
              "Mesh to packed snapshot (translation, serialization and content hashes), median and best of 5; "
              "allocations of one more run, counted by ordo-one/malloc-interposer.", "",
              "| services | Envoy resources | median ms | best ms | mallocs | MB allocated | goal |", "|---|---|---|---|---|---|---|"]
    goals = {1000: 100, 10000: 1000}
    for t in trans:
        g = goals.get(t["services"])
        mallocs = f"{t['mallocs']:,}" if t.get("mallocs") is not None else "–"
        mb = f"{t['malloc_bytes'] / 1e6:.0f}" if t.get("malloc_bytes") is not None else "–"
        lines.append(f"| {t['services']} | {t['envoy_resources']} | {t['median_ms']} | {t['best_ms']} | {mallocs} | {mb} | "
                     + (f"≤ {g} ms: {goal(t['median_ms'] <= g)}" if g else "–") + " |")
    lines += ["", "Rerun: `scripts/bench` (DURATION=30 ROUNDS=3 for steadier figures).", ""]
    # What profiling found where goals are missed: written by hand, kept next to the figures.
    with open(os.path.join(ROOT, "Benchmarks/FINDINGS.md")) as f:
        lines += ["", f.read().rstrip(), ""]
    text = "\n".join(lines)
    with open(os.path.join(ROOT, "Benchmarks/RESULTS.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    main()
