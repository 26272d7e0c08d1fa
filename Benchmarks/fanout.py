"""Control-plane fan-out (RESULTS.md section 3): N ADS streams, one VirtualService change.

For every mode and N, a fresh control plane on free ports serves a temporary config store
holding the httpbin manifests (its VirtualService sends everything to v1);
XDSLoadGenerator opens N ADS streams with distinct node ids, one HTTP/2 connection each,
then applies 11-virtualservice-mirror.yaml (which changes only the route configuration) and
prints one JSON line of figures. Times are from just before the change is POSTed.

Standard library only; bench.py imports `fanout_benchmarks` and `fanout_lines`. The
control plane is started here (with its log in the work directory) and also registered
with the caller's `Processes` so that its `stop()` cleans up after a failure.
"""
import json
import os
import resource
import socket
import subprocess
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MANIFESTS = os.path.join(ROOT, "manifests", "httpbin")
INITIAL = ["00-serviceentry.yaml", "01-destinationrule.yaml", "10-virtualservice-all-v1.yaml"]
CHANGE = "11-virtualservice-mirror.yaml"
CONNECT_CONCURRENCY = int(os.environ.get("FANOUT_CONNECT_CONCURRENCY", "200"))
# A run during which other processes took more than this share of the machine (from the
# change to the last ACK) is repeated, up to ATTEMPTS runs; the least disturbed is kept.
BUSY_SHARE = 0.10
ATTEMPTS = int(os.environ.get("FANOUT_ATTEMPTS", "3"))

# Issue 7: a change reaches all 10,000 streams in <= 1 s and is ACKed by all in <= 2 s;
# <= 30 KB of control-plane memory per idle stream.
GOAL_STREAMS = 10000
GOAL_RECEIVE_MS = 1000
GOAL_ACK_MS = 2000
GOAL_KB_PER_STREAM = 30


def free_port():
    """A free TCP port on 127.0.0.1 (bench.py uses it too)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(url, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


def _raise_file_limit():
    """Soft limit on open files up to the hard one (N streams are N sockets)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def _apply(admin, paths):
    body = "\n---\n".join(open(p).read() for p in paths).encode()
    req = urllib.request.Request(f"http://127.0.0.1:{admin}/api/v1/config/apply", data=body,
                                 method="POST", headers={"Content-Type": "application/yaml"})
    with urllib.request.urlopen(req, timeout=30) as r:
        if r.status != 200:
            raise RuntimeError(f"applying {paths}: HTTP {r.status}: {r.read()[:500]!r}")


def _cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _machine_ticks():
    """(busy, total) clock ticks of all cores so far, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:9]]
    return fields[0] + fields[1] + fields[2] + fields[5] + fields[6] + fields[7], sum(fields)


def _wait_quiet(max_wait=300, window=1.0, needed=3, threshold=0.15):
    """Waits until the machine has been idle (under `threshold` busy) for `needed` windows
    in a row, at most `max_wait` seconds; returns the last window's busy share. Other work
    on this machine (builds) would slow the run down."""
    deadline = time.monotonic() + max_wait
    quiet, share = 0, 1.0
    busy, total = _machine_ticks()
    while quiet < needed and time.monotonic() < deadline:
        time.sleep(window)  # sampling /proc/stat
        b, t = _machine_ticks()
        share = (b - busy) / max(1, t - total)
        busy, total = b, t
        quiet = quiet + 1 if share < threshold else 0
    return round(share, 3)


def _stop(p):
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def fanout_run(binary, loadgen, work, procs, streams, mode, attempt=1):
    """One fresh control plane, one load-generator run; the loadgen's figures as a dict,
    plus `control_plane_cpu_s` (its whole life), `busy_before` (the machine's busy share
    before the run) and `other_cpu_share` (other processes' share of the machine from the
    change to the last ACK); or {"streams", "mode", "error"}."""
    name = f"fanout-{mode}-{streams}-{attempt}"
    store = os.path.join(work, f"{name}-store")
    os.makedirs(store, exist_ok=True)
    xds, admin = free_port(), free_port()
    log = open(os.path.join(work, f"{name}-control-plane.log"), "w")
    cp = subprocess.Popen(
        [binary, "control-plane", "--store", store, "--xds-address", f"127.0.0.1:{xds}",
         "--admin-address", f"127.0.0.1:{admin}", "--log-level", "warning"],
        stdout=log, stderr=subprocess.STDOUT, preexec_fn=_raise_file_limit)
    procs.items.append(cp)  # the caller's stop() also ends it if something below fails
    try:
        _wait_http(f"http://127.0.0.1:{admin}/healthz")
        _apply(admin, [os.path.join(MANIFESTS, f) for f in INITIAL])
        busy_before = _wait_quiet()
        started = time.monotonic()
        run = subprocess.run(
            [loadgen, "--xds", f"127.0.0.1:{xds}", "--admin", f"127.0.0.1:{admin}",
             "--streams", str(streams), "--mode", mode, "--control-plane-pid", str(cp.pid),
             "--change", os.path.join(MANIFESTS, CHANGE),
             "--connect-concurrency", str(CONNECT_CONCURRENCY)],
            capture_output=True, text=True, timeout=1800, preexec_fn=_raise_file_limit)
        with open(os.path.join(work, f"{name}-loadgen.log"), "w") as f:
            f.write(run.stderr)
        lines = [l for l in run.stdout.splitlines() if l.startswith("{")]
        if run.returncode != 0 or not lines:
            tail = " ".join(run.stderr.strip().splitlines()[-2:])
            return {"streams": streams, "mode": mode, "error": tail or f"exit {run.returncode}"}
        result = json.loads(lines[-1])
        result["control_plane_cpu_s"] = round(_cpu_seconds(cp.pid), 2)
        result["wall_s"] = round(time.monotonic() - started, 1)
        result["busy_before"] = busy_before
        # CPU time comes in 10 ms ticks: a push shorter than 0.5 s is too short to tell.
        window = os.cpu_count() * result["ack_all_ms"] / 1000
        result["other_cpu_share"] = (round(result["other_cpu_s_to_ack_all"] / window, 3)
                                     if result["ack_all_ms"] >= 500 else None)
        return result
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        return {"streams": streams, "mode": mode, "error": str(e)}
    finally:
        _stop(cp)
        log.close()


def fanout_benchmarks(binary, loadgen, work, procs, sizes=(1000, 10000), modes=("sotw", "delta")):
    """One result dict per mode and N (see `fanout_run`)."""
    results = []
    for mode in modes:
        for streams in sizes:
            best = None
            for attempt in range(1, ATTEMPTS + 1):
                result = fanout_run(binary, loadgen, work, procs, streams, mode, attempt)
                print(f"fanout {mode} {streams} #{attempt}: {json.dumps(result)}", flush=True)
                if "error" in result:
                    best = best or result
                    continue
                share = result["other_cpu_share"] or 0
                if best is None or "error" in best or share < (best["other_cpu_share"] or 0):
                    best = result
                if share <= BUSY_SHARE:
                    break
            best["attempts"] = attempt
            results.append(best)
    return results


def fanout_lines(results):
    """The Markdown of RESULTS.md section 3: a table, then each goal with its figure."""
    goal = lambda ok: "met" if ok else "**missed**"
    lines = [
        "## 3. Control-plane fan-out", "",
        f"A fresh control plane per row (config store: the httpbin manifests); N ADS streams from "
        f"`XDSLoadGenerator` (XDSClient, distinct node ids, one HTTP/2 connection each, at most "
        f"{CONNECT_CONCURRENCY} connecting at once), then `{CHANGE}` applied through the admin API "
        f"(only RDS changes). Times from just before the POST: received = the response decoded "
        f"by the client, ACKed = applied and its ACK written; server = the control plane idle again "
        f"(100 ms sampling) with every stream SYNCED in its ledger. KB per stream = control-plane RSS "
        f"over its RSS before any stream. The load generator shares the machine "
        f"({os.cpu_count()} cores) with the control plane.", "",
        "| streams | mode | connect s | received by all ms | ACKed by all ms | receive p50 / p99 ms "
        "| server all ACKed ms | CPU s per push: control plane / load generator | KB per idle stream "
        "| KB per stream after push |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['streams']} | {r['mode']} | failed: {r['error']} | | | | | | | |")
            continue
        lines.append(
            f"| {r['streams']} | {r['mode']} | {r['connect_s']:.1f} | {r['receive_all_ms']:.0f} "
            f"| {r['ack_all_ms']:.0f} | {r['receive_p50_ms']:.0f} / {r['receive_p99_ms']:.0f} "
            f"| {r['server_ack_all_ms']:.0f}{'' if r['server_synced'] else ' (not all SYNCED)'} "
            f"| {r['cpu_s_per_push']:.2f} / {r['loadgen_cpu_s_per_push']:.2f} | {r['kb_per_idle_stream']:.1f} "
            f"| {r['kb_per_stream_after_push']:.1f} |")
    lines.append("")
    for r in results:
        if "error" in r or r["streams"] != GOAL_STREAMS:
            continue
        lines.append(
            f"- {r['streams']:,} streams, {r['mode']}: received by all in {r['receive_all_ms']:.0f} ms "
            f"(goal ≤ {GOAL_RECEIVE_MS} ms: {goal(r['receive_all_ms'] <= GOAL_RECEIVE_MS)}); "
            f"ACKs sent by all in {r['ack_all_ms']:.0f} ms "
            f"(goal ≤ {GOAL_ACK_MS} ms: {goal(r['ack_all_ms'] <= GOAL_ACK_MS)}), recorded by the "
            f"control plane within {r['server_ack_all_ms']:.0f} ms (100 ms sampling; goal ≤ {GOAL_ACK_MS} ms: "
            f"{goal(r['server_synced'] and r['server_ack_all_ms'] <= GOAL_ACK_MS)}); "
            f"{r['kb_per_idle_stream']:.1f} KB per idle stream "
            f"(goal ≤ {GOAL_KB_PER_STREAM} KB: {goal(r['kb_per_idle_stream'] <= GOAL_KB_PER_STREAM)})")
    if not any("error" not in r and r["streams"] == GOAL_STREAMS for r in results):
        lines.append(f"- The goals are set at {GOAL_STREAMS:,} streams, which were not measured.")
    errors = [f"{r['streams']} {r['mode']}: {'; '.join(r['errors'])}"
              for r in results if "error" not in r and r.get("errors")]
    if errors:
        lines += ["", "Problems the load generator saw: " + " | ".join(errors)]
    busy = [f"{r['streams']} {r['mode']}: {r['other_cpu_share'] * 100:.0f} %"
            for r in results if "error" not in r and (r["other_cpu_share"] or 0) > BUSY_SHARE]
    if busy:
        lines += ["", f"Other processes took more than {BUSY_SHARE * 100:.0f} % of the machine during "
                  f"these pushes (after {ATTEMPTS} attempts), so they ran slower: " + ", ".join(busy) + "."]
    lines.append("")
    return lines


if __name__ == "__main__":
    import argparse
    import tempfile

    class _Procs:
        def __init__(self):
            self.items = []

        def stop(self):
            for p in self.items:
                _stop(p)

    parser = argparse.ArgumentParser(description="Runs only the fan-out benchmark.")
    parser.add_argument("--bin", required=True, help="the release bin path (shadowplane, XDSLoadGenerator)")
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--modes", default="sotw,delta")
    args = parser.parse_args()
    procs = _Procs()
    try:
        results = fanout_benchmarks(
            os.path.join(args.bin, "shadowplane"), os.path.join(args.bin, "XDSLoadGenerator"),
            tempfile.mkdtemp(prefix="shadowplane-fanout-"), procs,
            sizes=tuple(int(s) for s in args.sizes.split(",")), modes=tuple(args.modes.split(",")))
    finally:
        procs.stop()
    print("\n".join(fanout_lines(results)))
