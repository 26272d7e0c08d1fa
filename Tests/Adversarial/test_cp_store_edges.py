"""Issue 12, smaller defects: the store and the admin API at their edges.

- A valid DNS-1123 name of 253 characters (labels of at most 63 separated by dots) as a
  ServiceEntry name, applied with a second resource: both stored (the file name is hashed
  when the file system cannot hold the name), readable, served (its cluster in
  ``/api/v1/resources``) and loaded again by a restart on the same store (the defect:
  ``File name too long``, the whole apply rolled back).
- Invalid UTF-8 in a label value: 400 naming the field, nothing stored (the defect: taken,
  the bytes replaced by U+FFFD).
- DELETE on a read-only store (``chmod 0555``, or ``chattr +i`` as root): 500 with the
  cause, not 404; the resource is still there.
- A write with ``Origin: http://evil.example``: 403 ``cross-origin write refused``,
  nothing changed (counted ``admin_origin``); a same-origin write and a cross-origin read
  are allowed. ``Host: evil.example``: 403 ``unexpected Host header`` (DNS rebinding,
  counted ``admin_host``). Every write is logged with who made it and the revision.
- ``--admin-address 0.0.0.0:0`` or ``--xds-address 0.0.0.0:0``: a warning that it listens
  on a non-loopback address without authentication or TLS. (These two bind every
  interface for the second it takes to read the log; nothing is sent to them.)

Run:  .venv-interop/bin/python Tests/Adversarial/test_cp_store_edges.py
"""
from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import adversarial as adv  # noqa: E402
from adversarial import harness, ph, poll  # noqa: E402

LONG_NAME = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 61])
assert len(LONG_NAME) == 253
NON_LOOPBACK_WARNING = re.compile(r"--insecure: .*anyone who can reach it can read and change the mesh")


def admin_call(cp: harness.ControlPlane, method: str, path: str, body: bytes | None = None,
               headers: dict[str, str] | None = None,
               content_type: str = "application/yaml") -> tuple[int, bytes]:
    """One admin request with exactly the headers given (Host included when set)."""
    conn = http.client.HTTPConnection("127.0.0.1", cp.admin_port, timeout=10)
    try:
        hdrs = dict(headers or {})
        if body is not None:
            hdrs.setdefault("Content-Type", content_type)
        skip_host = "Host" in hdrs
        conn.putrequest(method, path, skip_host=skip_host, skip_accept_encoding=True)
        for k, v in hdrs.items():
            conn.putheader(k, v)
        if body is not None:
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def names_stored(cp: harness.StoreControlPlane) -> list[str]:
    return sorted(r["metadata"]["name"] for r in cp.get_config_json()["items"])


class StoreEdgesTest(adv.AdversarialTestCase):
    TAG = "cp-store-edges"

    def test_flags_exist(self) -> None:
        self.assert_options_exist("control-plane", ["--admin-allowed-hosts"])

    # -- names and bytes ------------------------------------------------------------------

    def test_longest_valid_name_is_stored(self) -> None:
        cp = self.start_cp()
        body = harness.join_documents(
            ph.service_entry(LONG_NAME, "long.example", 9080, [(9081, {})]),
            ph.service_entry("second", "second.example", 9082, [(9083, {})]))
        code, result = cp.apply(body)
        self.log(f"apply of a {len(LONG_NAME)}-character name: {code} {json.dumps(result)[:300]}")
        self.assertEqual(code, 200, result)
        self.assertEqual(names_stored(cp), sorted([LONG_NAME, "second"]))
        status, raw = cp.get_config(f"serviceentry/default/{LONG_NAME}")
        self.assertEqual(status, 200, raw[:300])
        cp.wait_translated(result["revision"])
        served = cp.resources_bytes().decode()
        self.assertIn("long.example", served, "the long-named ServiceEntry is served")
        # Its file fits the file system, and a restart loads it back.
        for name in os.listdir(cp.store_dir):
            self.assertLessEqual(len(name.encode()), 255, name)
        cp.stop()
        cp.start()
        self.assertEqual(names_stored(cp), sorted([LONG_NAME, "second"]),
                         "a restart loads the long-named resource back")
        code, result = cp.delete_config("serviceentry", "default", LONG_NAME)
        self.assertEqual(code, 200, result)
        self.assertEqual(names_stored(cp), ["second"])

    def test_invalid_utf8_in_a_label_is_refused(self) -> None:
        cp = self.start_cp()
        doc = ph.service_entry("labelled", "labelled.example", 9080, [(9081, {})]).encode()
        doc = doc.replace(b"metadata:\n", b"metadata:\n  labels:\n    team: \"ab\xff\xfecd\"\n", 1)
        code, body = cp.apply(doc)
        self.log(f"apply with invalid UTF-8 in a label: {code} {json.dumps(body)[:300]}")
        self.assertEqual(code, 400, f"invalid UTF-8 must be refused: {body}")
        text = json.dumps(body)
        self.assertIn("metadata.labels", text, "the error names the field")
        self.assertEqual(names_stored(cp), [])

    # -- a store that cannot be written ---------------------------------------------------

    def make_read_only(self, path: str) -> str:
        """Makes ``path`` read-only for this process (chmod, or chattr +i as root, undone
        after the test); returns how, or skips the test when neither works."""
        probe = os.path.join(path, ".adversarial-probe")
        os.chmod(path, 0o555)
        self.addCleanup(os.chmod, path, 0o755)
        if self._writable(probe):
            if subprocess.run(["chattr", "+i", path], capture_output=True).returncode == 0:
                self.addCleanup(subprocess.run, ["chattr", "-i", path], capture_output=True)
                if not self._writable(probe):
                    return "chattr +i"
            self.skipTest("cannot make the store read-only (root, and chattr +i failed)")
        return "chmod 0555"

    @staticmethod
    def _writable(probe: str) -> bool:
        try:
            with open(probe, "w"):
                pass
            os.unlink(probe)
            return True
        except OSError:
            return False

    def test_delete_on_a_read_only_store_is_a_500(self) -> None:
        cp = self.start_cp()
        cp.apply_ok(ph.service_entry("kept", "kept.example", 9080, [(9081, {})]))
        how = self.make_read_only(cp.store_dir)
        code, body = cp.delete_config("serviceentry", "default", "kept")
        self.log(f"DELETE on a read-only store ({how}): {code} {json.dumps(body)[:300]}")
        self.assertEqual(code, 500, f"an I/O failure is a 500, not {code}: {body}")
        self.assertRegex(json.dumps(body), r"(?i)permission|not permitted|read-only",
                         "the error gives the cause")
        self.assertEqual(names_stored(cp), ["kept"])

    # -- who may write ----------------------------------------------------------------------

    def test_cross_origin_writes_are_refused(self) -> None:
        cp = self.start_cp()
        doc = ph.service_entry("evil", "evil.example", 9080, [(9081, {})]).encode()
        evil = {"Origin": "http://evil.example"}
        attempts = {
            "apply": admin_call(cp, "POST", "/api/v1/config/apply", doc, evil),
            "runtime": admin_call(cp, "PUT", "/api/v1/runtime/mirror.default.x.http0.0",
                                  b"50", evil, "text/plain"),
        }
        cp.apply_ok(ph.service_entry("kept", "kept.example", 9080, [(9081, {})]))
        attempts["delete"] = admin_call(cp, "DELETE", "/api/v1/config/serviceentry/default/kept",
                                        None, evil)
        for what, (code, body) in attempts.items():
            self.log(f"cross-origin {what}: {code} {body[:160]!r}")
        for what, (code, body) in attempts.items():
            self.assertEqual(code, 403, f"cross-origin {what}: {code} {body[:300]!r}")
            self.assertIn(b"cross-origin write refused", body)
        self.assertEqual(names_stored(cp), ["kept"], "nothing changed")
        self.assertEqual(harness.http_json("GET", cp.admin_url + "/api/v1/runtime")[1]["values"],
                         {})
        same = {"Origin": f"http://127.0.0.1:{cp.admin_port}"}
        code, body = admin_call(cp, "POST", "/api/v1/config/apply", doc, same)
        self.assertEqual(code, 200, f"a same-origin write is allowed: {body[:300]!r}")
        code, _ = admin_call(cp, "GET", "/api/v1/config", None, evil)
        self.assertEqual(code, 200, "a cross-origin read is allowed")
        self.assertGreaterEqual(harness.metric_value(
            cp.metrics(), "shadowplane_limit_refusals_total", limit="admin_origin") or 0, 3)

    def test_unexpected_host_is_refused(self) -> None:
        cp = self.start_cp()
        doc = ph.service_entry("rebound", "rebound.example", 9080, [(9081, {})]).encode()
        results = {
            "GET": admin_call(cp, "GET", "/api/v1/config", None, {"Host": "evil.example"}),
            "POST": admin_call(cp, "POST", "/api/v1/config/apply", doc,
                               {"Host": f"evil.example:{cp.admin_port}"}),
        }
        for what, (code, body) in results.items():
            self.log(f"{what} with Host evil.example: {code} {body[:160]!r}")
        for what, (code, body) in results.items():
            self.assertEqual(code, 403, f"{what} with Host evil.example: {body[:300]!r}")
            self.assertIn(b"unexpected Host header", body)
        self.assertEqual(names_stored(cp), [])
        for host in (f"127.0.0.1:{cp.admin_port}", f"localhost:{cp.admin_port}", "localhost"):
            code, body = admin_call(cp, "GET", "/healthz", None, {"Host": host})
            self.assertEqual(code, 200, f"Host {host}: {body[:200]!r}")
        self.assertGreaterEqual(harness.metric_value(
            cp.metrics(), "shadowplane_limit_refusals_total", limit="admin_host") or 0, 2)

    def test_every_write_is_logged_with_who_and_revision(self) -> None:
        cp = self.start_cp()
        result = cp.apply_ok(ph.service_entry("audited", "audited.example", 9080, [(9081, {})]))
        revision = result["revision"]
        pattern = re.compile(rf"127\.0\.0\.1.*revision[=: \"]+{revision}\b|"
                             rf"revision[=: \"]+{revision}\b.*127\.0\.0\.1")
        try:
            line = poll(lambda: next((l for l in cp.log_lines() if pattern.search(l)), None),
                        5, what="a log line with the writer's address and the revision")
        except harness.PollTimeout:
            line = None
        self.assertIsNotNone(line, "the write must be logged with who (the client address) and "
                                   f"the revision {revision}")

    # -- non-loopback addresses ---------------------------------------------------------

    def start_and_read_log(self, *args: str, timeout: float = 20.0) -> list[str]:
        """Starts the control plane with ``args``, reads its log until the admin API and the
        xDS server say where they listen, stops it; returns the lines."""
        cmd = [harness.shadowplane_bin(), "control-plane", "--resources",
               self._fixture(), *args]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE)
        self.addCleanup(lambda: proc.poll() is None and (proc.kill(), proc.wait(5)))
        lines: list[str] = []

        def read():
            for raw in iter(proc.stderr.readline, b""):
                lines.append(raw.decode("utf-8", "replace").rstrip())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            poll(lambda: sum("listening on" in l for l in lines) >= 2 or proc.poll() is not None,
                 timeout, what="both listening addresses in the log")
            time.sleep(0.3)  # a warning logged right after the listening line
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            reader.join(5)
        return lines

    def _fixture(self) -> str:
        import tempfile
        d = tempfile.TemporaryDirectory(prefix="shadowplane-adv-")
        self.addCleanup(d.cleanup)
        return harness.write_fixture(os.path.join(d.name, "resources.json"), [])

    def test_non_loopback_addresses_need_security_or_insecure(self) -> None:
        """Secure by default off loopback (issue 13): binding either address to every
        interface without TLS and authentication refuses to start, saying what to add;
        with --insecure it starts and warns at every start; on loopback nothing is said."""
        for flag in ("--admin-address", "--xds-address"):
            with self.subTest(flag=flag):
                other = "--xds-address" if flag == "--admin-address" else "--admin-address"
                proc = subprocess.run(
                    [harness.shadowplane_bin(), "control-plane", "--resources", self._fixture(),
                     flag, "0.0.0.0:0", other, "127.0.0.1:0"],
                    stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
                self.log(f"{flag} 0.0.0.0:0 without --insecure: exit {proc.returncode}: "
                         f"{proc.stderr.strip().splitlines()[-1:]}")
                self.assertNotEqual(proc.returncode, 0, "refuses to start")
                self.assertIn("refusing to serve off loopback without security", proc.stderr)
                self.assertIn("--insecure", proc.stderr)
                self.assertIn("--xds-client-ca" if flag == "--xds-address" else "--admin-token-file",
                              proc.stderr)
                lines = self.start_and_read_log(flag, "0.0.0.0:0", other, "127.0.0.1:0",
                                                "--insecure")
                warned = [l for l in lines if NON_LOOPBACK_WARNING.search(l)]
                self.log(f"{flag} 0.0.0.0:0 --insecure: {warned or 'no warning'}")
                self.assertTrue(warned, f"{flag} 0.0.0.0:0 must be warned about; log:\n"
                                        + "\n".join(lines[-10:]))
                self.assertTrue(any(w.split()[1] in ("warning", "error", "critical")
                                    for w in warned if len(w.split()) > 1),
                                f"logged as a warning: {warned}")
        lines = self.start_and_read_log("--admin-address", "127.0.0.1:0",
                                        "--xds-address", "127.0.0.1:0")
        self.assertFalse([l for l in lines if NON_LOOPBACK_WARNING.search(l)],
                         "no warning on loopback")


if __name__ == "__main__":
    unittest.main(verbosity=2)
