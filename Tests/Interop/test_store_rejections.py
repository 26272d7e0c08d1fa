"""Config-store mode: invalid or malformed documents are rejected as a whole, with an error
naming the resource and the offending field, and change nothing.

Table driven. The store starts with the valid httpbin scenario (ServiceEntry,
DestinationRule, VirtualService all-v1). After each rejection: the store directory is
byte-for-byte the same, GET /api/v1/resources is byte-for-byte the same, and the revision
did not move (a no-op re-apply of an unchanged resource reports "unchanged" and the same
revision).

Run with the interop venv:  .venv-interop/bin/python Tests/Interop/test_store_rejections.py
The binary comes from SHADOWPLANE_BIN (default /work/main/.build/debug/shadowplane).
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import unittest
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402

VS = "VirtualService default/httpbin"
SE = "ServiceEntry default/httpbin"
DR = "DestinationRule default/httpbin"

VS_TEXT = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: httpbin
  namespace: default
spec:
  hosts:
  - httpbin
  http:
  - route:
    - destination:
        host: httpbin
        subset: v1
      weight: 100
"""

SE_TEXT = """\
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: httpbin
  namespace: default
spec:
  hosts:
  - httpbin
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - number: 8000
    name: http
    protocol: HTTP
  endpoints:
  - address: 127.0.0.1
    ports:
      http: 8001
    labels:
      version: v1
  - address: 127.0.0.1
    ports:
      http: 8002
    labels:
      version: v2
"""

MIRROR_V2 = "    mirror:\n      host: httpbin\n      subset: v2\n"


def vs(old: str, new: str) -> str:
    """VS_TEXT with ``old`` replaced (exactly once) by ``new``."""
    assert VS_TEXT.count(old) == 1, old
    return VS_TEXT.replace(old, new)


def se(old: str, new: str) -> str:
    assert SE_TEXT.count(old) == 1, old
    return SE_TEXT.replace(old, new)


def dr_json(**traffic_policy) -> str:
    return json.dumps({
        "apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
        "metadata": {"name": "httpbin", "namespace": "default"},
        "spec": {"host": "httpbin", "trafficPolicy": traffic_policy,
                 "subsets": [{"name": "v1", "labels": {"version": "v1"}},
                             {"name": "v2", "labels": {"version": "v2"}}]},
    }, indent=2)


@dataclass
class Case:
    name: str
    body: str
    # (resource, field) of every error expected; a field may be a tuple of acceptable
    # values where the server's path is debatable (see the notes in the table).
    errors: list[tuple[str | None, str | tuple[str, ...]]]
    message: str = ""  # a substring of the first error's message
    content_type: str = "application/yaml"
    # Acceptable values of each error's "source" (the contract says "request").
    source: tuple[str | None, ...] = ("request",)


CASES = [
    # Unknown fields, at several depths.
    Case("unknown field in spec", vs("  hosts:\n", "  hostz: [a]\n  hosts:\n"),
         [(VS, "spec.hostz")], "unknown field"),
    Case("unknown field in spec.http[0]", vs("  - route:\n", "  - retriez: 3\n    route:\n"),
         [(VS, "spec.http[0].retriez")], "unknown field"),
    Case("unknown field in a destination",
         vs("        subset: v1\n", "        subset: v1\n        sbset: v2\n"),
         [(VS, "spec.http[0].route[0].destination.sbset")], "unknown field"),
    Case("unknown field in metadata",
         vs("  namespace: default\n", "  namespace: default\n  labelz: {a: b}\n"),
         [(VS, "metadata.labelz")], "unknown field"),
    Case("unknown field in a JSON DestinationRule's loadBalancer",
         dr_json(loadBalancer={"simple": "ROUND_ROBIN", "bogus": 1}),
         [(DR, "spec.trafficPolicy.loadBalancer.bogus")], "unknown field",
         content_type="application/json"),
    # Wrong types.
    Case("hosts is a string", vs("  hosts:\n  - httpbin\n", "  hosts: httpbin\n"),
         [(VS, "spec.hosts")], "expected a list"),
    Case("weight is a word", vs("weight: 100", "weight: hundred"),
         [(VS, "spec.http[0].route[0].weight")], "expected an integer"),
    Case("port number is a word", se("number: 8000", "number: eighty"),
         [(SE, "spec.ports[0].number")], "expected an integer"),
    Case("metadata is a list", vs("metadata:\n  name: httpbin\n  namespace: default\n",
                                  "metadata: [httpbin]\n"),
         [(None, "document[0].metadata")], "expected a mapping"),
    # Syntax.
    Case("YAML syntax error", vs("  hosts:\n", "  hosts: [httpbin\n"),
         [(None, "document[0]")], "invalid YAML"),
    Case("JSON syntax error", '{"apiVersion": "networking.istio.io/v1", "kind": ',
         [(None, "document[0]")], "invalid", content_type="application/json"),
    # Identity.
    Case("missing metadata.name", vs("  name: httpbin\n", ""),
         [(None, "document[0].metadata.name")], "required"),
    Case("unknown kind", vs("kind: VirtualService", "kind: TrafficSplit"),
         [(None, "document[0].kind")], "unknown kind"),
    Case("bad apiVersion", vs("networking.istio.io/v1", "networking.istio.io/v9"),
         [(VS, "apiVersion")], "unsupported apiVersion"),
    Case("name not DNS-1123", vs("  name: httpbin\n", "  name: Bad_Name\n"),
         [("VirtualService default/Bad_Name", "metadata.name")], "DNS-1123"),
    # VirtualService semantics.
    Case("weights summing to 90",
         vs("      weight: 100\n",
            "      weight: 50\n    - destination:\n        host: httpbin\n"
            "        subset: v2\n      weight: 40\n"),
         [(VS, "spec.http[0].route")], "sum to 100"),
    Case("mirrorPercentage 150", VS_TEXT + MIRROR_V2 + "    mirrorPercentage:\n      value: 150\n",
         [(VS, "spec.http[0].mirrorPercentage.value")], "between 0 and 100"),
    Case("mirrorPercentage -1", VS_TEXT + MIRROR_V2 + "    mirrorPercentage:\n      value: -1\n",
         [(VS, "spec.http[0].mirrorPercentage.value")], "between 0 and 100"),
    # The server names the HTTP route, not one of the two conflicting fields.
    Case("both mirror and mirrors",
         VS_TEXT + MIRROR_V2 + "    mirrors:\n    - destination:\n        host: httpbin\n"
                               "        subset: v2\n",
         [(VS, ("spec.http[0]", "spec.http[0].mirror", "spec.http[0].mirrors"))],
         "both mirror and mirrors"),
    Case("mirrors entry without destination",
         VS_TEXT + "    mirrors:\n    - percentage:\n        value: 10\n",
         [(VS, "spec.http[0].mirrors[0].destination")], "required"),
    Case("invalid regex in a uri match",
         vs("  - route:\n", "  - match:\n    - uri:\n        regex: '(unclosed'\n    route:\n"),
         [(VS, "spec.http[0].match[0].uri.regex")], "invalid regex"),
    Case("timeout: 5 seconds", VS_TEXT + "    timeout: 5 seconds\n",
         [(VS, "spec.http[0].timeout")], "invalid duration"),
    Case("empty hosts", vs("  hosts:\n  - httpbin\n", "  hosts: []\n"),
         [(VS, "spec.hosts")], "at least one host"),
    # ServiceEntry semantics.
    Case("port 0", se("number: 8000", "number: 0"),
         [(SE, "spec.ports[0].number")], "between 1 and 65535"),
    Case("port 70000", se("number: 8000", "number: 70000"),
         [(SE, "spec.ports[0].number")], "between 1 and 65535"),
    Case("duplicate port names",
         se("    protocol: HTTP\n",
            "    protocol: HTTP\n  - number: 9000\n    name: http\n    protocol: HTTP\n"),
         [(SE, "spec.ports[1].name")], "duplicate port name"),
    Case("STATIC resolution without endpoints", SE_TEXT.split("  endpoints:\n")[0],
         [(SE, "spec.endpoints")], "STATIC"),
    # DestinationRule semantics.
    Case("subset without a name",
         dr_json().replace('"name": "v2",', ""),
         [(DR, "spec.subsets[1].name")], "required", content_type="application/json"),
    # All or nothing: the first document alone would change the store.
    Case("multi-doc, only the 2nd (DestinationRule) bad",
         harness.join_documents(
             harness.read_manifest("12-virtualservice-mirror-50.yaml"),
             dr_json(loadBalancer={"simple": "ROUND_ROBIN", "bogus": 1})),
         [(DR, "spec.trafficPolicy.loadBalancer.bogus")], "unknown field"),
    Case("multi-doc, a new resource then a YAML syntax error",
         harness.join_documents(se("  name: httpbin\n", "  name: other\n")
                                .replace("- httpbin\n", "- other\n"),
                                "kind: [VirtualService\n"),
         [(None, "document[1]")], "invalid YAML"),
]


class StoreRejectionsTest(harness.InteropTestCase):

    def noop_apply(self, cp) -> int:
        """Re-applies the unchanged VirtualService: must be "unchanged"; returns the revision."""
        body = cp.apply_ok(VS_TEXT)
        self.assertEqual(body["changes"], [{"resource": VS, "action": "unchanged"}], body)
        return body["revision"]

    def test_invalid_documents_are_rejected_and_change_nothing(self) -> None:
        self.assertGreaterEqual(len(CASES), 20)
        # The store holds the scenario before the control plane starts (files as a user
        # would write them, comments included).
        tmp = tempfile.TemporaryDirectory(prefix="shadowplane-store-rejections-")
        self.addCleanup(tmp.cleanup)
        store = os.path.join(tmp.name, "store")
        os.mkdir(store)
        manifests = {"serviceentry_default_httpbin.yaml": "00-serviceentry.yaml",
                     "destinationrule_default_httpbin.yaml": "01-destinationrule.yaml",
                     "virtualservice_default_httpbin.yaml": "10-virtualservice-all-v1.yaml"}
        for file, manifest in manifests.items():
            with open(os.path.join(store, file), "w", encoding="utf-8") as f:
                f.write(harness.read_manifest(manifest))
        cp = self.start_store_control_plane(store)
        baseline = harness.join_documents(*(harness.read_manifest(m)
                                            for m in manifests.values()))
        body = cp.apply_ok(baseline)
        self.assertEqual(sorted(ch["action"] for ch in body["changes"]), ["unchanged"] * 3,
                         f"the store did not load the scenario from disk: {body}")
        files = harness.directory_bytes(cp.store_dir)
        self.assertEqual(sorted(n for n in files if not n.startswith(".")), [
            "destinationrule_default_httpbin.yaml", "serviceentry_default_httpbin.yaml",
            "virtualservice_default_httpbin.yaml"])
        self.assertIn(b"outbound|8000|v1|httpbin", cp.resources_bytes())

        for case in CASES:
            with self.subTest(case=case.name):
                # The state just before this case (re-applying the scenario puts back
                # anything a wrongly accepted document changed, so it fails its own case
                # only).
                cp.apply_ok(baseline)
                revision = self.noop_apply(cp)
                files = harness.directory_bytes(cp.store_dir)
                resources = cp.resources_bytes()
                self.check_rejected(cp, case)
                self.assertEqual(harness.directory_bytes(cp.store_dir), files,
                                 "the store directory changed")
                self.assertEqual(cp.resources_bytes(), resources,
                                 "GET /api/v1/resources changed")
                self.assertEqual(self.noop_apply(cp), revision, "the revision moved")
        cp.assert_running()

    def check_rejected(self, cp, case: Case) -> None:
        status, body = cp.apply(case.body, content_type=case.content_type)
        self.assertEqual(status, 400, f"expected 400, got {status}: {body}")
        self.assertIsInstance(body, dict, body)
        errors = body.get("errors")
        self.assertIsInstance(errors, list, body)
        self.assertEqual(len(errors), len(case.errors), f"errors: {errors}")
        for err, (resource, fld) in zip(errors, case.errors):
            self.assertEqual(err.get("severity"), "error", err)
            self.assertIn(err.get("source"), case.source, err)
            self.assertEqual(err.get("resource"), resource, err)
            if isinstance(fld, tuple):
                self.assertIn(err.get("field"), fld, err)
            else:
                self.assertEqual(err.get("field"), fld, err)
            self.assertTrue(err.get("message"), err)
        if case.message:
            self.assertIn(case.message, errors[0]["message"], errors[0])


if __name__ == "__main__":
    unittest.main(verbosity=2)
