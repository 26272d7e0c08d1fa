"""The cost of shadow comparison on the primary path (issue: ShadowComparison): the bundled
proxy mirroring every request, without and with the comparison of the shadow's answer (and
with a baseline copy too), side by side in one run.

One nginx upstream answers a JSON body (about 1 KB, with nginx's `$request_id` in it, so
no two answers are the same bytes and every comparison parses and diffs both) for the
primary, the shadow and the baseline. A control plane serves three listeners to a proxy
with the default limits: `mirrored` (100 % mirror), `compared` (the same, its route
carrying the comparison metadata, no baseline), `compared+baseline` (and a baseline copy
to the primary's cluster). A second control plane and proxy, with
`--max-comparisons-per-second-per-loop` unbounded, serve `compared (every request)`: what
comparing costs when nothing is sampled. wrk runs alternate (A B C D A B C D ...) for
ROUNDS rounds of DURATION seconds; medians are quoted, with the ratio to plain mirroring
(goal: throughput and p99 within 10 % with the defaults). The proxies' comparison counters
at the end show what was compared and what was skipped.

Run: scripts/bench --comparison   (or python3 Benchmarks/comparison.py --bin RELEASE_BIN_PATH)
Writes Benchmarks/COMPARISON.md and prints the table.
"""
import argparse
import json
import os
import statistics
import sys
import tempfile
import urllib.request
from datetime import datetime, timezone

import bench
from fanout import free_port

ROOT = bench.ROOT
BODY = json.dumps({"service": "bench", "request": "$request_id",
                   "items": [{"id": i, "name": f"item-{i}", "price": i * 1.5} for i in range(20)],
                   "total": 570}).replace("'", "")


def resources(ports, upstream_port):
    doc = bench.envoy_resources((ports["mirrored"], ports["compared"]), upstream_port, upstream_port)
    routes = {r["name"]: r for r in doc["resources"] if r["@type"].endswith("RouteConfiguration")}
    comparison = {"comparison": "bench/compare", "virtual_service": "bench/bench", "rule": "all",
                  "primary": "v1", "shadows": ["v2"], "status": True, "headers": ["content-type"],
                  "body": "auto", "max_body_bytes": 262144, "keep_samples": 50}
    compared = routes["mirrored"]
    compared["virtualHosts"][0]["routes"][0]["metadata"] = {
        "filterMetadata": {"shadowplane.comparison": comparison}}
    # The route configurations: "plain" becomes the plain mirror ("mirrored"), "mirrored"
    # the compared one, and a third one compares with a baseline.
    for r in doc["resources"]:
        if r["@type"].endswith("RouteConfiguration") and r["name"] == "plain":
            r["virtualHosts"][0]["routes"][0]["route"]["requestMirrorPolicies"] = [{"cluster": "mirror"}]
    baseline = json.loads(json.dumps(compared))
    baseline["name"] = "baseline"
    baseline_metadata = baseline["virtualHosts"][0]["routes"][0]["metadata"]["filterMetadata"][
        "shadowplane.comparison"]
    baseline_metadata["baseline_cluster"] = "upstream"
    baseline_metadata["comparison"] = "bench/compare-with-baseline"
    doc["resources"].append(baseline)
    listener = next(r for r in doc["resources"] if r["@type"].endswith("Listener") and r["name"] == "mirrored")
    third = json.loads(json.dumps(listener))
    third["name"] = "baseline"
    third["address"]["socketAddress"]["portValue"] = ports["compared+baseline"]
    third["filterChains"][0]["filters"][0]["typedConfig"]["rds"]["routeConfigName"] = "baseline"
    third["filterChains"][0]["filters"][0]["typedConfig"]["statPrefix"] = "baseline"
    doc["resources"].append(third)
    return doc


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bin", required=True)
    args = parser.parse_args()
    binary = os.path.join(args.bin, "shadowplane")
    work = tempfile.mkdtemp(prefix="shadowplane-bench-comparison-")
    procs = bench.Processes()
    try:
        up = free_port()
        procs.start([bench.nginx_binary(), "-c", bench.nginx_conf(work, "upstream", f"""
server {{ listen 127.0.0.1:{up}; location / {{ default_type application/json; return 200 '{BODY}'; }} }}"""),
                     "-g", "daemon off;"])
        bench.wait_port(up)
        ports = {name: free_port() for name in ("mirrored", "compared", "compared+baseline")}
        every = {name: free_port() for name in ("mirrored", "compared", "compared+baseline")}
        admins = []
        for name, listeners, extra in (("defaults", ports, []),
                                       ("every", every, ["--max-comparisons-per-second-per-loop", "100000000"])):
            doc = os.path.join(work, f"resources-{name}.json")
            with open(doc, "w") as f:
                json.dump(resources(listeners, up), f)
            xds, admin, padmin = free_port(), free_port(), free_port()
            procs.start([binary, "control-plane", "--resources", doc, "--xds-address", f"127.0.0.1:{xds}",
                         "--admin-address", f"127.0.0.1:{admin}"])
            bench.wait_port(xds)
            procs.start([binary, "proxy", "--xds-server", f"127.0.0.1:{xds}", "--node-id", f"bench-{name}",
                         "--admin-address", f"127.0.0.1:{padmin}", "--no-access-log", "--threads",
                         str(bench.THREADS), "--comparison-report-interval", "0s", *extra])
            admins.append((name, padmin))
            for port in listeners.values():
                bench.wait_port(port)
                bench.answers_200(port)
        contenders = dict(ports)
        contenders["compared (every request)"] = every["compared"]
        runs = {name: [] for name in contenders}
        for _ in range(bench.ROUNDS):
            for name, port in contenders.items():
                runs[name].append(bench.wrk(port, "bench"))
        compared = []
        for name, padmin in admins:
            with urllib.request.urlopen(f"http://127.0.0.1:{padmin}/comparisons", timeout=10) as r:
                compared += [(name, route) for route in json.load(r)["comparisons"]]
    finally:
        procs.stop()
    results = {name: {m: statistics.median(s[m] for s in samples) for m in ("rps", "p50", "p99", "non2xx")}
               for name, samples in runs.items()}
    base = results["mirrored"]
    lines = [
        "# Shadow comparison on the primary path", "",
        f"Written {datetime.now(timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} by `scripts/bench --comparison` "
        f"({bench.ROUNDS} alternating rounds of {bench.DURATION} s, wrk -t2 -c{bench.CONNECTIONS}, the proxy with "
        f"{bench.THREADS} event-loop threads, release build; one nginx upstream answering a {len(BODY)}-byte JSON "
        "body to the primary, the shadow and the baseline). Medians.", "",
        "| route | requests/s | p50 ms | p99 ms | non-2xx | requests/s vs mirroring | p99 vs mirroring |",
        "|---|---|---|---|---|---|---|"]
    for name, r in results.items():
        lines.append(f"| {name} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p99']:.2f} | {r['non2xx']:.0f} | "
                     f"{r['rps'] / base['rps']:.2f}× | {r['p99'] / base['p99']:.2f}× |")
    lines += ["", "Goal: with comparison (the default limits), throughput and p99 within 10 % of mirroring "
              f"without comparison: {results['compared']['rps'] / base['rps']:.2f}× requests/s, "
              f"{results['compared']['p99'] / base['p99']:.2f}× p99 "
              f"({'met' if results['compared']['rps'] >= 0.9 * base['rps'] and results['compared']['p99'] <= 1.1 * base['p99'] else 'not met'}).",
              "",
              "Comparisons the proxy made (its `/comparisons`):", ""]
    for proxy, route in compared:
        counts = route["summary"]["counts"]
        lines.append(f"- proxy with {'the default limits' if proxy == 'defaults' else 'no rate bound'}, "
                     f"{route['comparison']}: {sum(counts.values()):,} compared "
                     f"({json.dumps(counts, sort_keys=True)}), {route['summary'].get('skipped', 0):,} skipped "
                     "(over --max-comparisons-per-second-per-loop or --max-comparisons-per-loop)")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(ROOT, "Benchmarks", "COMPARISON.md"), "w") as f:
        f.write(text)
    print(text)


if __name__ == "__main__":
    sys.exit(main())
