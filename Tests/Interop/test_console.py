"""The web console in a real browser: headless Chromium (Debian's ``chromium`` and
``chromium-driver``) driven by Selenium, against a real control plane, the bundled proxy
and real Envoy.

- ``ConsoleLiveTest``: the proxies table shows the proxy and Envoy SYNCED; an apply shows in
  the push timeline and in the proxy's routes within 1 s, without a reload; Envoy's NACK of
  a listener on a port already taken shows with Envoy's own message; changing a mirror
  fraction in the page moves the fraction measured on real traffic through the proxy (and
  the page shows the proxies' ACKs of it); two revisions diffed side by side; the page
  works by keyboard and on a narrow window.
- ``ConsoleReconnectTest``: the control plane stops and comes back on the same ports: the
  page says it is reconnecting, then is live again and shows the proxy, without a reload.
- ``ConsoleAuthTest``: with ``--admin-token-file`` the page asks for a token; a read token
  shows everything and cannot change a fraction (the API's 403 is shown); a write token can.
- ``EventStreamTest`` (no browser): ``GET /api/v1/events`` streams numbered events for a
  connect, a revision, its pushes and ACKs; ``--max-event-streams`` refuses more readers
  with 503 and counts them.

Every test checks the browser's log has no error. Screenshots of each view go to
``$SHADOWPLANE_SCREENSHOTS`` (the README's pictures come from ``docs/console``) or a
temporary folder.

Run with the interop venv:  .venv-interop/bin/python Tests/Interop/test_console.py
Skipped without Chromium and chromedriver (``scripts/setup`` installs them) or Envoy.
"""
from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
import unittest
import urllib.parse
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import envoy_harness as eh  # noqa: E402
import harness  # noqa: E402
import proxy_harness as ph  # noqa: E402
from harness import poll  # noqa: E402

try:
    from selenium import webdriver
    from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    SELENIUM = True
except ImportError:  # pragma: no cover - reported as a skip
    SELENIUM = False

HOST = "httpbin"
RUNTIME_KEY = "mirror.default.httpbin.http0.0"
CHROMEDRIVER = os.environ.get("CHROMEDRIVER", shutil.which("chromedriver") or "/usr/bin/chromedriver")
CHROMIUM = os.environ.get("CHROMIUM", shutil.which("chromium") or "/usr/bin/chromium")
LIVE_BOUND = 1.0  # seconds: a change shows in the page within this, without a reload


def log(msg: str) -> None:
    print(f"[console] {msg}", file=sys.stderr, flush=True)


def browser_available() -> bool:
    return SELENIUM and os.path.exists(CHROMEDRIVER) and os.path.exists(CHROMIUM)


def screenshot_dir() -> str:
    wanted = os.environ.get("SHADOWPLANE_SCREENSHOTS")
    if wanted:
        os.makedirs(wanted, exist_ok=True)
        return wanted
    global _scratch_shots
    if "_scratch_shots" not in globals():
        _scratch_shots = tempfile.mkdtemp(prefix="shadowplane-console-")
    return _scratch_shots


class Browser:
    """One headless Chromium, 1280x800, its console log collected."""

    def __init__(self) -> None:
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=1280,800", "--no-first-run",
                         "--disable-extensions", "--disable-background-networking"):
            options.add_argument(argument)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        self.driver.set_page_load_timeout(20)
        self.driver.set_script_timeout(20)
        self.errors: list[dict] = []

    def quit(self) -> None:
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001
            pass

    def open(self, url: str) -> None:
        """Loads ``url`` afresh (a URL that differs only in its fragment would not reload)."""
        self.driver.get("about:blank")
        self.driver.get(url)
        # A marker that a reload would wipe: the live updates must keep it.
        self.driver.execute_script("window.__notReloaded = true;")

    def not_reloaded(self) -> bool:
        return bool(self.driver.execute_script("return window.__notReloaded === true;"))

    def go(self, fragment: str) -> None:
        """Navigates inside the page (no reload), waiting for the view to render."""
        before = self.rendered()
        self.driver.execute_script("location.hash = arguments[0];", fragment)
        poll(lambda: self.rendered() != before, 10, what=f"the console to render {fragment}")

    def rendered(self) -> str:
        return self.driver.execute_script(
            "return document.getElementById('view').dataset.rendered || '';")

    def find(self, css: str):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def text(self, css: str) -> str:
        """The text of every element matching ``css``, joined (robust to a re-render)."""
        return self.driver.execute_script(
            "return Array.from(document.querySelectorAll(arguments[0]), e => e.innerText).join('\\n');",
            css)

    def type_into(self, css: str, *keys: str, clear: bool = True) -> None:
        """Types ``keys`` into the element ``css`` (found again if a refresh replaced it)."""
        def attempt():
            try:
                element = self.find(css)[0]
                if clear:
                    element.send_keys(Keys.CONTROL, "a")
                    element.send_keys(Keys.DELETE)
                element.send_keys(*keys)
                return True
            except (StaleElementReferenceException, IndexError):
                return False
        poll(attempt, 10, what=f"to type into {css}")

    def take_errors(self) -> list[dict]:
        """The browser log's errors since the last call."""
        entries = self.driver.get_log("browser")
        errors = [e for e in entries if e.get("level") == "SEVERE"]
        self.errors.extend(errors)
        return errors

    def screenshot(self, name: str) -> None:
        path = os.path.join(screenshot_dir(), name + ".png")
        self.driver.save_screenshot(path)
        log(f"screenshot {path}")


@unittest.skipUnless(browser_available(), "Chromium, chromedriver or selenium not installed "
                     "(scripts/setup installs them)")
class ConsoleCase(ph.ProxyTestCase):
    NODE_ID = "proxy-console"
    ENVOY_NODE = "envoy-console"

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        cls.browser = Browser()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.browser.quit()
        super().tearDownClass()

    def setUp(self) -> None:
        super().setUp()
        self.browser.take_errors()  # what an earlier test left
        self.add_diagnostic(lambda: "browser log errors: " + json.dumps(self.browser.errors[-10:]))

    def tearDown(self) -> None:
        errors = self.browser.take_errors()
        # Leave the page before the control plane stops: it would keep reconnecting.
        self.browser.driver.get("about:blank")
        super().tearDown()
        self.assertEqual(errors, [], "the browser logged errors")

    def store_control_plane(self, extra_args=()) -> harness.StoreControlPlane:
        cp = harness.StoreControlPlane(extra_args=extra_args)
        self._planes.append(cp)
        self.addCleanup(cp.cleanup)
        cp.start()
        return cp

    def start_envoy(self, cp: harness.ControlPlane, node_id: str) -> eh.Envoy:
        envoy = eh.Envoy(cp.xds_port, node_id, mode="delta", name="envoy")
        self._planes.append(envoy)
        self.addCleanup(envoy.cleanup)
        envoy.start()
        return envoy

    def row_states(self, node: str) -> dict[str, str]:
        """The proxies table's row of ``node``: {type: state} of the types sent."""
        return self.browser.driver.execute_script("""
            const row = document.querySelector('#proxies tr[data-node="' + arguments[0] + '"]');
            if (!row) return null;
            const out = {};
            for (const cell of row.querySelectorAll('td[data-state]')) out[cell.dataset.type] = cell.dataset.state;
            return out;""", node)


@unittest.skipUnless(eh.envoy_available(), eh.skip_reason())
class ConsoleLiveTest(ConsoleCase):

    def setUp(self) -> None:
        super().setUp()
        self.cp = self.store_control_plane()
        self.v1 = self.start_upstream("v1")
        self.v2 = self.start_upstream("v2")
        self.port = harness.free_port()
        self.ports = {8000: self.port, 8001: self.v1.port, 8002: self.v2.port}

    def manifest(self, name: str) -> str:
        return harness.manifest_with_ports(name, self.ports)

    def mesh(self, virtual_service: str) -> str:
        return harness.join_documents(self.manifest("00-serviceentry.yaml"),
                                      self.manifest("01-destinationrule.yaml"),
                                      self.manifest(virtual_service))

    def test_proxies_synced_then_an_apply_shows_live_and_envoys_nack_with_its_message(self) -> None:
        browser = self.browser
        proxy = self.start_proxy(self.cp, self.NODE_ID, access_log=False)
        envoy = self.start_envoy(self.cp, self.ENVOY_NODE)
        browser.open(self.cp.admin_url + "/#/proxies")

        def both_synced():
            rows = {node: self.row_states(node) for node in (self.NODE_ID, self.ENVOY_NODE)}
            ok = all(r and r.get("LDS") == "SYNCED" and r.get("CDS") == "SYNCED"
                     and all(state == "SYNCED" for state in r.values()) for r in rows.values())
            return rows if ok else None
        rows = poll(both_synced, 20, what="the proxies table to show the proxy and Envoy SYNCED")
        log(f"proxies table: {rows}")
        self.assertIn("envoy", browser.text("#proxies tr[data-node='envoy-console']"))
        browser.screenshot("proxies")

        # An apply shows in the timeline within 1 s, without a reload: a ServiceEntry whose
        # port another process holds, so that Envoy NACKs its listener.
        blocked = harness.held_port(self)
        browser.go("#/pushes")
        revisions_before = browser.text("#timeline")
        started = time.monotonic()
        body = self.cp.apply_ok(ph.service_entry("blocked", "blocked", blocked, [(self.v1.port, {})]),
                                wait=False)
        revision = body["revision"]
        poll(lambda: browser.find(f"#timeline li[data-revision='{revision}']"), 5,
             interval=0.02, what=f"revision {revision} in the timeline")
        shown_after = time.monotonic() - started
        log(f"revision {revision} in the timeline {shown_after * 1000:.0f} ms after the apply")
        self.assertLess(shown_after, LIVE_BOUND)
        self.assertTrue(browser.not_reloaded(), "the page reloaded")
        self.assertNotEqual(revisions_before, browser.text("#timeline"))

        # Envoy's NACK, with its own message.
        browser.go("#/proxies")

        def envoy_nack():
            row = self.row_states(self.ENVOY_NODE) or {}
            return row if row.get("LDS") == "NACK" else None
        poll(envoy_nack, 20, what="the proxies table to show Envoy's NACK of LDS")
        message = browser.text("#proxies tr[data-node='envoy-console'] td[data-type='LDS'] .nack-message")
        log(f"NACK shown: {message!r}")
        self.assertIn(f"cannot bind '0.0.0.0:{blocked}'", message)
        ledger = self.cp.latest_stream(self.ENVOY_NODE)["types"]["LDS"]["lastNack"]["message"]
        self.assertEqual(message.strip(), ledger.strip(), "the page shows Envoy's message as sent")
        self.assertTrue(browser.not_reloaded(), "the page reloaded")
        browser.screenshot("proxies-nack")
        # Filter by name: only Envoy.
        browser.type_into("#filter-text", "envoy")
        poll(lambda: browser.text("#proxy-count").startswith("1 of 2"), 5, what="the name filter")
        self.assertTrue(browser.find("#proxies tr[data-node='envoy-console']"))
        self.assertFalse(browser.find(f"#proxies tr[data-node='{self.NODE_ID}']"))
        # Filter by state: NACK keeps Envoy.
        browser.find("#filter-state")[0].send_keys("NACK")
        poll(lambda: browser.find("#filter-state")[0].get_attribute("value") == "NACK", 5,
             what="the state filter")
        poll(lambda: browser.text("#proxy-count").startswith("1 of 2"), 5, what="the state filter")
        self.assertIsNotNone(proxy)
        self.assertGreater(envoy.stats()["listener_manager.lds.update_rejected"], 0)

    def test_routes_update_live_and_the_mirror_fraction_set_in_the_page_moves_real_traffic(self) -> None:
        browser = self.browser
        self.start_proxy(self.cp, self.NODE_ID, access_log=False)
        self.wait_synced(self.cp)
        self.apply_synced(self.cp, self.mesh("10-virtualservice-all-v1.yaml"))
        poll(lambda: self.proxies[0].ready(), 15, what="the proxy to serve")
        browser.open(self.cp.admin_url + "/#/proxy/" + self.NODE_ID)
        poll(lambda: "outbound|%d|v1|httpbin" % self.port in browser.text("#view"), 10,
             what="the proxy view to list the routes")
        self.assertNotIn(RUNTIME_KEY, browser.text("#view"))

        # The mirror appears in the proxy's routes within 1 s of the apply, no reload.
        started = time.monotonic()
        self.cp.apply_ok(self.mesh("12-virtualservice-mirror-50.yaml"), wait=False)
        poll(lambda: RUNTIME_KEY in browser.text("#view"), 5, interval=0.02,
             what="the mirror policy in the proxy's routes")
        shown_after = time.monotonic() - started
        log(f"mirror policy in the proxy's routes {shown_after * 1000:.0f} ms after the apply")
        self.assertLess(shown_after, LIVE_BOUND)
        self.assertTrue(browser.not_reloaded(), "the page reloaded")
        self.assertIn("outbound|%d|v2|httpbin 50%%" % self.port, browser.text("#view"))
        # The raw Envoy JSON of a route, on demand.
        details = browser.find("tr[data-route] details")[0]
        details.find_element(By.TAG_NAME, "summary").click()
        self.assertIn('"requestMirrorPolicies"', browser.text("tr[data-route] details[open] pre"))
        browser.screenshot("proxy")
        self.wait_synced(self.cp)

        client = ph.KeepAliveClient(self.port)
        self.addCleanup(client.close)
        browser.go("#/mirrors")
        browser.screenshot("mirrors")
        for percent, low, high in ((100, 1.0, 1.0), (0, 0.0, 0.0), (20, 0.10, 0.30)):
            self.set_fraction_in_page(percent)
            fraction = self.measure_mirrored(client, 300)
            log(f"fraction set to {percent}% in the page: {fraction:.3f} of requests mirrored")
            self.assertGreaterEqual(fraction, low)
            self.assertLessEqual(fraction, high)
        # Reset goes back to the configured 50 %.
        browser.find(f"tr[data-runtime-key='{RUNTIME_KEY}'] button.secondary")[0].click()
        poll(lambda: browser.text(f"tr[data-runtime-key='{RUNTIME_KEY}'] td[data-effective]").startswith("50%"),
             5, what="the effective fraction back at 50 %")
        self.assertNotIn(RUNTIME_KEY, harness.http_json("GET", self.cp.admin_url + "/api/v1/runtime")[1]["values"])

    def set_fraction_in_page(self, percent: int) -> None:
        browser = self.browser
        row = f"tr[data-runtime-key='{RUNTIME_KEY}']"
        browser.type_into(row + " input", str(percent), Keys.ENTER)  # Enter submits, by keyboard
        poll(lambda: browser.text(row + " td[data-effective]").startswith(f"{percent}%"), 5,
             what=f"the page to show {percent}% in force")

        def acked():
            element = browser.find("#confirmation[data-acked]")
            return element and int(element[0].get_attribute("data-acked")) >= 1
        poll(acked, 10, what="the page to show the proxy's ACK of the new fraction")
        log("confirmation: " + browser.text("#confirmation"))
        poll(lambda: self.proxies[0].runtime().get(RUNTIME_KEY, {}).get("final_value") == str(percent), 10,
             what=f"the proxy's runtime to hold {percent}")

    def measure_mirrored(self, client: ph.KeepAliveClient, n: int) -> float:
        self.v1.clear()
        self.v2.clear()
        before = self.proxies[0].cluster_stats(f"outbound|{self.port}|v2|{HOST}")
        for i in range(n):
            response = client.request("GET", f"/get?i={i}", HOST, {"x-request-id": str(uuid.uuid4())})
            self.assertEqual(response.status, 200)

        def settled():
            stats = self.proxies[0].cluster_stats(f"outbound|{self.port}|v2|{HOST}")
            sent = stats.get("upstream_rq_shadow_sent", 0) - before.get("upstream_rq_shadow_sent", 0)
            return (sent,) if stats.get("upstream_rq_active", 0) == 0 and self.v2.count() >= sent else None
        poll(settled, 20, what="the shadows to arrive")
        shadows = self.v2.count(lambda r: r.get("host", "").startswith(HOST + "-shadow"))
        return shadows / n

    def test_pushes_diff_keyboard_and_narrow_window(self) -> None:
        browser = self.browser
        self.start_proxy(self.cp, self.NODE_ID, access_log=False)
        self.wait_synced(self.cp)
        first = self.apply_synced(self.cp, self.mesh("10-virtualservice-all-v1.yaml"))
        self.apply_synced(self.cp, self.mesh("12-virtualservice-mirror-50.yaml"))
        browser.open(self.cp.admin_url + "/")
        # Keyboard: the skip link, then the navigation, reached by Tab and followed by Enter.
        body = browser.find("body")[0]
        body.send_keys(Keys.TAB)
        active = browser.driver.switch_to.active_element
        self.assertEqual(active.text, "Skip to content")
        for _ in range(3):
            active = browser.driver.switch_to.active_element
            if active.text == "Pushes":
                break
            active.send_keys(Keys.TAB)
            active = browser.driver.switch_to.active_element
        self.assertEqual(active.text, "Pushes")
        before = browser.rendered()
        active.send_keys(Keys.ENTER)
        poll(lambda: browser.rendered() != before and browser.find("#timeline"), 10,
             what="Enter on Pushes to show the timeline")
        # Every NACK/ACK count and the answer latency are in the newest entry.
        newest = browser.text("#timeline > li:first-child")
        self.assertIn("ACK", newest)
        # Who answered: the proxy, per type, ACK.
        browser.find("#timeline > li:first-child details[data-key^='nodes:'] summary")[0].click()
        answered = browser.text("#timeline > li:first-child details[open] tbody")
        self.assertIn(self.NODE_ID, answered)
        self.assertRegex(answered, r"RDS\s+\w+\s+ACK")
        self.assertRegex(newest, r"\d+ bytes")
        browser.find("#diff-form button")[0].click()
        poll(lambda: re.search(r"\d+ resources? differs?", browser.text("#diff-result")), 10,
             what="the diff")
        diff = browser.text("#diff-result")
        log("diff: " + diff.splitlines()[0])
        self.assertIn("changed RDS", diff)
        self.assertNotIn("[object", diff)
        api_diff = harness.http_json("GET", self.cp.admin_url + "/api/v1/diff?from=%s&to=%s" % (
            browser.find("#diff-from")[0].get_attribute("value"),
            browser.find("#diff-to")[0].get_attribute("value")))[1]
        self.assertRegex(diff, rf"^{len(api_diff['resources'])} resources? differs? between")
        self.assertEqual(len(browser.find(".diff-item .diff-pair")), len(api_diff["resources"]))
        browser.screenshot("pushes")
        self.assertTrue(first)

        # A narrow window: nothing but the tables' own scroll boxes is wider than it.
        browser.driver.set_window_size(420, 900)
        try:
            for view in ("#/proxies", "#/pushes", "#/mirrors"):
                browser.go(view)
                overflow = browser.driver.execute_script(
                    "return document.documentElement.scrollWidth - window.innerWidth;")
                self.assertLessEqual(overflow, 0, f"{view} is wider than a 420 px window")
            browser.go("#/proxies")
            browser.screenshot("proxies-narrow")
        finally:
            browser.driver.set_window_size(1280, 800)


class ConsoleReconnectTest(ConsoleCase):

    def test_the_page_reconnects_by_itself_when_the_control_plane_comes_back(self) -> None:
        browser = self.browser
        port, xds_port = harness.free_port(), harness.free_port()
        cp = self.store_control_plane(["--admin-address", f"127.0.0.1:{port}",
                                       "--xds-address", f"127.0.0.1:{xds_port}"])
        self.assertEqual(cp.admin_port, port)
        self.start_proxy(cp, self.NODE_ID, access_log=False)
        self.wait_synced(cp)
        browser.open(cp.admin_url + "/#/proxies")
        poll(lambda: browser.text("#live") == "Live" and self.row_states(self.NODE_ID), 10,
             what="the page live with the proxy listed")
        cp.stop()  # SIGTERM: its event streams end, it exits
        poll(lambda: browser.text("#live").startswith("Reconnecting"), 10,
             what="the page to say it is reconnecting")
        cp.start()  # the same store and admin port; the proxy reconnects on its own
        poll(lambda: browser.text("#live") == "Live", 15, what="the page to reconnect by itself")
        poll(lambda: (self.row_states(self.NODE_ID) or {}).get("LDS") == "SYNCED", 20,
             what="the proxy back in the table, SYNCED")
        self.assertTrue(browser.not_reloaded(), "the page reloaded")
        # The reconnection attempts while the control plane was down are failed requests in
        # the browser's log; nothing else may be.
        unexpected = [e for e in browser.take_errors()
                      if "/api/v1/" not in e["message"] or "ERR_CONNECTION_REFUSED" not in e["message"]]
        self.assertEqual(unexpected, [], json.dumps(unexpected, indent=1))


class ConsoleAuthTest(ConsoleCase):

    def test_the_page_asks_for_a_token_and_a_read_token_cannot_change_a_fraction(self) -> None:
        browser = self.browser
        write, read = secrets.token_hex(16), secrets.token_hex(16)
        tokens = os.path.join(self.scratch(), "tokens")
        with open(tokens, "w", encoding="utf-8") as f:
            f.write(f"alice write {write}\nbob read {read}\n")
        cp = self.store_control_plane(["--admin-token-file", tokens])
        v1 = self.start_upstream("v1")
        port = harness.free_port()
        ports = {8000: port, 8001: v1.port, 8002: v1.port}
        text = harness.join_documents(*(harness.manifest_with_ports(n, ports) for n in (
            "00-serviceentry.yaml", "01-destinationrule.yaml", "12-virtualservice-mirror-50.yaml")))
        status, _ = harness.http_send("POST", cp.admin_url + "/api/v1/config/apply", text.encode(),
                                      "application/yaml", headers={"Authorization": f"Bearer {write}"})
        self.assertEqual(status, 200)
        browser.open(cp.admin_url + "/#/mirrors")
        browser.driver.execute_script("sessionStorage.clear();")
        browser.open(cp.admin_url + "/#/mirrors")
        poll(lambda: browser.find("#token-form:not([hidden])"), 10, what="the page to ask for a token")
        self.assertIn("needs a token", browser.text("#alert"))
        browser.type_into("#token", read, Keys.ENTER)
        row = f"tr[data-runtime-key='{RUNTIME_KEY}']"
        poll(lambda: browser.find(row), 10, what="the mirrors table with the read token")
        poll(lambda: browser.text("#live") == "Live", 10, what="the event stream with the token")
        browser.type_into(row + " input", "75", Keys.ENTER)
        poll(lambda: "needs write" in browser.text("#alert"), 10, what="the 403 shown")
        log("alert: " + browser.text("#alert"))
        status, body = harness.http_send("GET", cp.admin_url + "/api/v1/runtime",
                                         headers={"Authorization": f"Bearer {read}"})
        self.assertEqual(json.loads(body)["values"], {})
        # With the write token the same control works.
        browser.driver.execute_script("sessionStorage.setItem('shadowplane-token', arguments[0]);", write)
        browser.open(cp.admin_url + "/#/mirrors")
        poll(lambda: browser.find(row), 10, what="the mirrors table with the write token")
        browser.type_into(row + " input", "75", Keys.ENTER)
        poll(lambda: browser.text(row + " td[data-effective]").startswith("75%"), 10,
             what="the write token to change the fraction")
        status, body = harness.http_send("GET", cp.admin_url + "/api/v1/runtime",
                                         headers={"Authorization": f"Bearer {read}"})
        self.assertEqual(json.loads(body)["values"], {RUNTIME_KEY: "75"})
        audit = json.loads(harness.http_send("GET", cp.admin_url + "/api/v1/audit",
                                             headers={"Authorization": f"Bearer {read}"})[1])
        self.assertEqual(audit[-1]["identity"], "token:alice")
        browser.driver.execute_script("sessionStorage.clear();")
        # Only the refusals the test asked for (401 before the token, 403 for the read
        # token) may be in the log; the browser reports each as a failed request.
        unexpected = [e for e in browser.take_errors()
                      if "status of 401" not in e["message"] and "status of 403" not in e["message"]]
        self.assertEqual(unexpected, [])


class EventStreamTest(ph.ProxyTestCase):
    """``GET /api/v1/events`` read as a plain HTTP client would."""

    def read_events(self, response: http.client.HTTPResponse, until, timeout: float = 10.0) -> list[dict]:
        events: list[dict] = []
        data: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = response.readline().decode()
            if line == "":
                break
            line = line.rstrip("\n")
            if line.startswith("data:"):
                data.append(line[5:].strip())
            elif line == "" and data:
                events.append(json.loads("\n".join(data)))
                data = []
                if until(events):
                    return events
        raise AssertionError(f"events so far: {events}")

    def open_stream(self, cp: harness.ControlPlane) -> http.client.HTTPResponse:
        connection = http.client.HTTPConnection("127.0.0.1", cp.admin_port, timeout=10)
        self.addCleanup(connection.close)
        connection.request("GET", "/api/v1/events", headers={"Accept": "text/event-stream"})
        response = connection.getresponse()
        response.connection = connection
        return response

    def test_events_follow_connects_revisions_pushes_and_acks_and_readers_are_bounded(self) -> None:
        cp = harness.StoreControlPlane(extra_args=["--max-event-streams", "1"])
        self._planes.append(cp)
        self.addCleanup(cp.cleanup)
        cp.start()
        response = self.open_stream(cp)
        self.assertEqual(response.status, 200)
        self.assertEqual(response.getheader("Content-Type"), "text/event-stream")
        # A second reader is refused (the limit is 1), with a reason, and counted.
        second = self.open_stream(cp)
        self.assertEqual(second.status, 503)
        self.assertIn("--max-event-streams", json.loads(second.read())["error"])
        self.assertEqual(harness.metric_value(cp.metrics(), "shadowplane_limit_refusals_total",
                                              limit="admin_event_streams"), 1)
        self.start_proxy(cp, "events-proxy", access_log=False)
        events = self.read_events(response, lambda es: any(e["kind"] == "ack" for e in es))
        self.wait_synced(cp, node_id="events-proxy")
        self.assertEqual(events[0]["kind"], "connect")
        self.assertEqual(events[0]["node"], "events-proxy")
        port = harness.free_port()
        v1 = self.start_upstream("v1")
        body = cp.apply_ok(ph.service_entry("events", "events", port, [(v1.port, {})]))
        revision = body["revision"]
        def lds_acked(es):
            pushed = [e for e in es if e["kind"] == "push" and e["type"] == "LDS"
                      and e["revision"] == revision]
            return pushed and any(e["kind"] == "ack" and e["type"] == "LDS"
                                  and e["version"] == pushed[-1]["version"] for e in es)
        more = self.read_events(response, lambda es: lds_acked(events + es))
        events += more
        kinds = [(e["kind"], e.get("type")) for e in more]
        log(f"events after the apply: {kinds}")
        self.assertIn(("revision", None), kinds)
        self.assertEqual(next(e for e in more if e["kind"] == "revision")["revision"], revision)
        pushed = {e["type"]: e for e in more if e["kind"] == "push"}
        self.assertIn("LDS", pushed)
        self.assertEqual(pushed["LDS"]["revision"], revision)
        self.assertGreater(pushed["LDS"]["bytes"], 0)
        ack = [e for e in more if e["kind"] == "ack" and e["type"] == "LDS"][-1]
        self.assertEqual(ack["version"], pushed["LDS"]["version"])
        ids = [e["id"] for e in events]
        self.assertEqual(ids, list(range(ids[0], ids[0] + len(ids))), "event ids have no gap")
        # The reader leaves (closes its connection): its place is free at once.
        response.connection.close()
        poll(lambda: self.open_stream(cp).status == 200, 5, what="the freed reader slot")


if __name__ == "__main__":
    unittest.main(verbosity=2)
