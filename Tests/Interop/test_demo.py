"""`shadowplane demo` run as a user would, non-interactively: it must show v2 receiving
every mirrored request, then about half, then the comparison of v2 with v1 finding the one
difference, and leave no process behind; Ctrl-C must stop it cleanly too."""
import math
import os
import re
import signal
import subprocess
import sys
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SHADOWPLANE_BIN", os.path.join(ROOT, ".build/debug/shadowplane"))
VENV = os.environ.get("SHADOWPLANE_DEMO_VENV", os.path.join(ROOT, ".venv-demo"))


def leftovers(pid):
    """Processes still running that the demo with this pid started (its work dir)."""
    marker = f"shadowplane-demo-{pid}"
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if marker in cmdline:
            found.append(f"{entry}: {cmdline[:120]}")
    return found


class DemoTest(unittest.TestCase):
    def test_demo_mirrors_all_then_half(self):
        requests = 400
        proc = subprocess.run(
            [BIN, "demo", "--venv", VENV, "--requests", str(requests)],
            capture_output=True, text=True, timeout=600, cwd=ROOT)
        out = proc.stdout
        self.assertEqual(proc.returncode, 0, f"demo failed:\n{out}\n{proc.stderr}")
        self.assertIn("v1 received 10 requests, v2 received 0.", out)
        self.assertIn("v2 received 10 mirrored copies (100 %), Host httpbin-shadow:", out)
        self.assertRegex(out, r'v2 127\.0\.0\.1 "GET /get\?demo=mirror-100-pct&n=0 HTTP/1\.1" 200 host=httpbin-shadow:\d+')
        match = re.search(r"v1 received (\d+) of (\d+) requests; v2 received (\d+) mirrored copies", out)
        self.assertIsNotNone(match, out)
        v1, total, v2 = map(int, match.groups())
        self.assertEqual((v1, total), (requests, requests))
        sd = math.sqrt(requests * 0.25)
        self.assertLessEqual(abs(v2 - requests / 2), 4 * sd, f"{v2} of {requests} mirrored, expected about half")
        # The last step: v2 differs on one field of one path, and exactly that is reported;
        # what varies between any two answers (the shadow's Host) is learned, not reported.
        self.assertIn("v2 differs from v1 on 50.0 % of 100 compared requests: "
                      "body $.json.total differs on POST /anything (50)", out)
        self.assertRegex(out, r"\$\.headers\.Host \(\d+\)")
        pid = re.search(r"shadowplane-demo-(\d+)", out).group(1)
        self.assertEqual(leftovers(pid), [])

    def test_ctrl_c_stops_everything(self):
        proc = subprocess.Popen([BIN, "demo", "--venv", VENV], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
        lines = []
        deadline = time.monotonic() + 120
        try:
            for line in proc.stdout:
                lines.append(line)
                if line.startswith("[2]") or time.monotonic() > deadline:
                    break
            self.assertTrue(any(l.startswith("[2]") for l in lines), "".join(lines))
            proc.send_signal(signal.SIGINT)
            rest, _ = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
        self.assertEqual(proc.returncode, 130, "".join(lines) + rest)
        self.assertIn("Interrupted", rest)
        deadline = time.monotonic() + 10
        left = leftovers(proc.pid)
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = leftovers(proc.pid)
        self.assertEqual(left, [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
