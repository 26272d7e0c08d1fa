"""The Istio corpus: what Shadowplane does with each of a few hundred real Istio networking
documents (Tests/IstioCorpus/docs/, from Istio's repositories, one document a file) and with
a few whole multi-document sample files (Tests/IstioCorpus/files/).

One control plane on an empty temporary store. Each document is applied alone through the
admin API (``POST /api/v1/config/apply``), and whatever it created is deleted again
(``POST /api/v1/config/delete`` with the same body), so that documents do not interact; the
store is checked empty after each. The outcome (``accepted``: 200 without warnings,
``warned``: 200 with warnings, ``refused``: 400) and the field paths the warnings or errors
name are compared with Tests/IstioCorpus/expected.json. Every warning and error must name a
field path. Each whole file under files/ is applied as shipped with the CLI
(``shadowplane apply -f FILE --server URL``) and through the API: its outcome is pinned the
same way, every line the CLI prints about it names the file, and each document of a kind
Shadowplane does not serve (Gateway, Kubernetes Deployment...) is skipped with a warning
naming that document. For each distinct reason of refusal, one refused document is also
applied with the CLI, which must exit non-zero naming the file and the field path.

Record the current behaviour (rewrites expected.json and REPORT.md):
    .venv-interop/bin/python Tests/Interop/test_istio_corpus.py --record
or with ``ISTIO_CORPUS_RECORD=1``. Environment: SHADOWPLANE_BIN.
"""
from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
import time
import unittest

import harness

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(os.path.dirname(HERE), "IstioCorpus")
EXPECTED = os.path.join(CORPUS, "expected.json")
REPORT = os.path.join(CORPUS, "REPORT.md")
KINDS = {"virtualservice": "VirtualService", "destinationrule": "DestinationRule",
         "serviceentry": "ServiceEntry", "workloadentry": "WorkloadEntry"}

RECORD = os.environ.get("ISTIO_CORPUS_RECORD") == "1"
if "--record" in sys.argv:
    sys.argv.remove("--record")
    RECORD = True


def corpus_files(sub: str) -> list[str]:
    """Paths relative to the corpus directory (``docs/0001-....yaml``), in name order."""
    directory = os.path.join(CORPUS, sub)
    return [f"{sub}/{n}" for n in sorted(os.listdir(directory))
            if n.endswith((".yaml", ".yml"))]


def kind_of(rel: str) -> str:
    """The kind a docs/ file holds, from its name (NNNN-<kind>-<name>.yaml)."""
    return KINDS[os.path.basename(rel).split("-")[1]]


def documents(text: str) -> list[str]:
    """The kind of each document of a multi-document YAML file (comment-only parts are not
    documents), without a YAML parser (the interop venv has none)."""
    kinds = []
    for part in re.split(r"(?m)^---[ \t]*(?:#.*)?\n", text):
        if not any(ln.strip() and not ln.lstrip().startswith("#") for ln in part.splitlines()):
            continue
        m = re.search(r"(?m)^kind:[ \t]*(\S+)", part)
        kinds.append(m.group(1) if m else "")
    return kinds


def unique(items) -> list:
    out: list = []
    for item in items:
        if item not in out:
            out.append(item)
    return out


class Result:
    """What the control plane did with one input."""

    def __init__(self, status: int, body) -> None:
        self.status = status
        self.body = body if isinstance(body, dict) else {}
        if status == 400:
            self.outcome = "refused"
            self.items = list(self.body.get("errors") or [])
        elif status == 200:
            self.items = list(self.body.get("warnings") or [])
            self.outcome = "warned" if self.items else "accepted"
        else:
            self.outcome = f"status {status}"
            self.items = []
        self.fields = unique(item.get("field") or "" for item in self.items)

    def pinned(self) -> dict:
        return {"outcome": self.outcome, "fields": self.fields}


class IstioCorpusTest(harness.InteropTestCase):
    """One control plane for the class; every test leaves its store empty."""

    results: dict[str, Result] = {}
    expected: dict[str, dict] = {}

    @classmethod
    def setUpClass(cls) -> None:
        cls.cp = harness.StoreControlPlane(name="control-plane")
        cls.cp.start()
        if os.path.exists(EXPECTED):
            with open(EXPECTED, encoding="utf-8") as f:
                cls.expected = json.load(f)

    @classmethod
    def tearDownClass(cls) -> None:
        cls.cp.cleanup()
        if RECORD:
            write_expected(cls.results)
            write_report(cls.results)

    def setUp(self) -> None:
        super().setUp()
        self._planes.append(self.cp)  # its log tail is printed if a test fails

    # -- helpers ------------------------------------------------------------------------

    def read(self, rel: str) -> str:
        with open(os.path.join(CORPUS, rel), encoding="utf-8") as f:
            return f.read()

    def apply(self, rel: str, text: str) -> Result:
        status, body = self.cp.apply(text)
        result = Result(status, body)
        self.assertIn(status, (200, 400), f"{rel}: apply answered {status}: {body}")
        key = "errors" if status == 400 else "warnings"
        self.assertIsInstance(result.body.get(key, []), list, f"{rel}: {body}")
        for item in result.items:
            self.assertTrue(item.get("field"), f"{rel}: a {key[:-1]} names no field: {item}")
            self.assertTrue(item.get("message"), f"{rel}: a {key[:-1]} has no message: {item}")
        return result

    def undo(self, rel: str, text: str, result: Result) -> None:
        """Deletes what an accepted input created and checks the store is empty."""
        if result.status == 200 and any(ch.get("action") == "created"
                                        for ch in result.body.get("changes", [])):
            status, raw = harness.http_send("POST", self.cp.admin_url + "/api/v1/config/delete",
                                            text.encode(), "application/yaml")
            self.assertEqual(status, 200, f"{rel}: delete answered {status}: {raw[:500]!r}")
        left = self.cp.get_config_json().get("items")
        self.assertEqual(left, [], f"{rel}: the store is not empty after it: {left}")

    def compare(self, keys: list[str]) -> None:
        """Fails with a table of every input whose outcome or fields changed."""
        changed = []
        for key in keys:
            actual = self.results[key].pinned()
            want = self.expected.get(key)
            if want != actual:
                changed.append((key, want, actual))
        if RECORD or not changed:
            return
        lines = [f"{len(changed)} of {len(keys)} inputs differ from {EXPECTED} "
                 f"(re-record with --record if the change is intended):",
                 f"{'input':<58} {'expected':<44} actual"]
        for key, want, actual in changed:
            def show(p):
                return "(not in expected.json)" if p is None else \
                    f"{p['outcome']} {', '.join(p['fields'])}".strip()
            lines.append(f"{key:<58} {show(want):<44} {show(actual)}")
        self.fail("\n".join(lines))

    # -- tests --------------------------------------------------------------------------

    def test_1_documents(self) -> None:
        docs = corpus_files("docs")
        self.assertGreaterEqual(len(docs), 220)
        started = time.monotonic()
        for rel in docs:
            text = self.read(rel)
            self.assertTrue(text.startswith("# source: "), f"{rel}: no source line")
            result = self.apply(rel, text)
            self.results[rel] = result
            if result.status == 200:
                created = [ch["resource"] for ch in result.body.get("changes", [])]
                self.assertEqual(len(created), 1, f"{rel}: one document, changes {created}")
                self.assertTrue(created[0].startswith(kind_of(rel) + " "), f"{rel}: {created}")
            self.undo(rel, text, result)
        print(f"\n{len(docs)} documents applied and deleted in "
              f"{time.monotonic() - started:.1f}s: "
              f"{dict(collections.Counter(self.results[d].outcome for d in docs))}",
              file=sys.stderr)
        stale = sorted(k for k in self.expected if k.startswith("docs/") and k not in docs)
        if not RECORD:
            self.assertEqual(stale, [], "expected.json names documents that are gone")
        self.compare(docs)

    def test_2_whole_files(self) -> None:
        files = corpus_files("files")
        self.assertGreaterEqual(len(files), 5)
        for rel in files:
            text = self.read(rel)
            path = os.path.join(CORPUS, rel)
            # The API: the outcome and fields, pinned.
            result = self.apply(rel, text)
            self.results[rel] = result
            if result.outcome != "refused":
                # Each document of a kind not served is skipped with a warning naming it.
                skips = {w["field"]: w for w in result.items
                         if re.fullmatch(r"document\[\d+\]", w["field"])}
                unserved = {f"document[{i}]": kind for i, kind in enumerate(documents(text))
                            if kind not in KINDS.values()}
                self.assertEqual(sorted(skips), sorted(unserved), f"{rel}: {result.items}")
                for field, kind in unserved.items():
                    self.assertIn("skipped", skips[field]["message"], skips[field])
                    self.assertTrue((skips[field].get("resource") or "").startswith(kind),
                                    skips[field])
            self.undo(rel, text, result)
            # The CLI: the same outcome, every line naming the file (and the field).
            cli = subprocess.run([harness.shadowplane_bin(), "apply", "-f", path,
                                  "--server", self.cp.admin_url],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(cli.returncode != 0, result.outcome == "refused",
                             f"{rel}: CLI exit {cli.returncode}\n{cli.stderr}")
            lines = [ln for ln in cli.stderr.splitlines()
                     if ln.startswith(("Warning:", "error:"))]
            self.assertEqual(len(lines), len(result.items), f"{rel}:\n{cli.stderr}")
            for line in lines:
                self.assertIn(path, line, f"{rel}: a CLI line does not name the file")
            for item in result.items:
                self.assertTrue(any(f": {item['field']}: " in ln for ln in lines),
                                f"{rel}: no CLI line names {item['field']}:\n{cli.stderr}")
            self.undo(rel, text, result)
        self.compare(files)

    def test_3_cli_names_file_and_field_of_refusals(self) -> None:
        """One refused document per distinct first field: the CLI exits non-zero naming the
        file and the field path."""
        seen: set[tuple[str, str]] = set()
        for rel in corpus_files("docs"):
            # What the API answered in test_1 (expected.json if test_1 did not run).
            result = self.results.get(rel)
            want = result.pinned() if result else self.expected.get(rel)
            if not want or want["outcome"] != "refused":
                continue
            group = (kind_of(rel), normalize(want["fields"][0]))
            if group in seen:
                continue
            seen.add(group)
            path = os.path.join(CORPUS, rel)
            cli = subprocess.run([harness.shadowplane_bin(), "apply", "-f", path,
                                  "--server", self.cp.admin_url],
                                 capture_output=True, text=True, timeout=30)
            self.assertNotEqual(cli.returncode, 0, f"{rel}: the CLI accepted it")
            self.assertIn(path, cli.stderr, f"{rel}: the CLI does not name the file")
            self.assertIn(want["fields"][0], cli.stderr, f"{rel}: the CLI does not name the field")
        self.assertEqual(self.cp.get_config_json().get("items"), [])


# --------------------------------------------------------------------------------------
# Recording


def normalize(field: str) -> str:
    """A field path with its indices dropped, for grouping: spec.http[].route[].weight."""
    return re.sub(r"\[\d+\]", "[]", field)


def message_pattern(message: str) -> str:
    """A message with its quoted values elided, for grouping."""
    return re.sub(r'"[^"]*"', '"…"', message)


def write_expected(results: dict[str, Result]) -> None:
    data = {key: results[key].pinned() for key in sorted(results)}
    with open(EXPECTED, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"recorded {len(data)} inputs in {EXPECTED}", file=sys.stderr)


def write_report(results: dict[str, Result]) -> None:
    docs = [k for k in sorted(results) if k.startswith("docs/")]
    outcomes = ["accepted", "warned", "refused"]
    by_kind: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for rel in docs:
        by_kind[kind_of(rel)][results[rel].outcome] += 1
    out = ["# Istio corpus: what Shadowplane does with it",
           "",
           "Generated by `Tests/Interop/test_istio_corpus.py --record` from the current "
           "binary; do not edit by hand. Each document was applied alone to an empty store "
           "(see README.md), so a reference to a host or subset defined in another document "
           "warns here even where the sample ships both.",
           "",
           "## Documents by kind and outcome",
           "",
           "| kind | accepted | warned | refused | total |",
           "| --- | ---: | ---: | ---: | ---: |"]
    totals = collections.Counter()
    for kind in sorted(by_kind):
        c = by_kind[kind]
        totals.update(c)
        out.append(f"| {kind} | " + " | ".join(str(c[o]) for o in outcomes)
                   + f" | {sum(c.values())} |")
    out.append("| **all** | " + " | ".join(f"**{totals[o]}**" for o in outcomes)
               + f" | **{sum(totals.values())}** |")

    def table(title: str, rows: collections.Counter, examples: dict, messages: dict,
              note: str) -> None:
        out.extend(["", f"## {title}", "", note, "",
                    "| kind | field | documents | message (first seen) | e.g. |",
                    "| --- | --- | ---: | --- | --- |"])
        for (kind, fld), n in sorted(rows.items(), key=lambda kv: (-kv[1], kv[0])):
            msg = messages[(kind, fld)].replace("|", "\\|")
            if len(msg) > 110:
                msg = msg[:107] + "..."
            out.append(f"| {kind} | `{fld}` | {n} | {msg} | "
                       f"{os.path.basename(examples[(kind, fld)])} |")

    refusals: collections.Counter = collections.Counter()
    warnings: collections.Counter = collections.Counter()
    patterns: collections.Counter = collections.Counter()
    examples: dict = {}
    messages: dict = {}
    for rel in docs:
        r = results[rel]
        kind = kind_of(rel)
        if r.outcome == "refused":
            key = (kind, normalize(r.items[0]["field"]))
            refusals[key] += 1
            examples.setdefault(("r",) + key, rel)
            messages.setdefault(("r",) + key, message_pattern(r.items[0]["message"]))
        elif r.outcome == "warned":
            for key in unique((kind, normalize(w["field"])) for w in r.items):
                warnings[key] += 1
                examples.setdefault(("w",) + key, rel)
                messages.setdefault(("w",) + key,
                                    message_pattern(next(w["message"] for w in r.items
                                                         if normalize(w["field"]) == key[1])))
            for p in unique(message_pattern(w["message"]) for w in r.items):
                patterns[p] += 1
    table("Refusals by the first field named", refusals,
          {k[1:]: v for k, v in examples.items() if k[0] == "r"},
          {k[1:]: v for k, v in messages.items() if k[0] == "r"},
          "A refused document changes nothing. Only the first error is counted (a document "
          "may have more); indices are dropped (`[]`). This is the list of what to "
          "implement (or to accept and ignore with a warning) next.")
    every: collections.Counter = collections.Counter()
    for rel in docs:
        r = results[rel]
        if r.outcome == "refused":
            for key in unique((kind_of(rel), normalize(e["field"])) for e in r.items):
                every[key] += 1
                examples.setdefault(("a",) + key, rel)
                messages.setdefault(("a",) + key, message_pattern(next(
                    e["message"] for e in r.items if normalize(e["field"]) == key[1])))
    table("Refusals by every field named", every,
          {k[1:]: v for k, v in examples.items() if k[0] == "a"},
          {k[1:]: v for k, v in messages.items() if k[0] == "a"},
          "A refused document is counted once for each field its errors name: what stands "
          "between a document and acceptance once its first error is fixed.")
    table("Warnings by field (accepted documents)", warnings,
          {k[1:]: v for k, v in examples.items() if k[0] == "w"},
          {k[1:]: v for k, v in messages.items() if k[0] == "w"},
          "A document is counted once per field it warns about.")
    out.extend(["", "## Warnings by message", "", "| documents | message |", "| ---: | --- |"])
    for p, n in sorted(patterns.items(), key=lambda kv: (-kv[1], kv[0])):
        out.append(f"| {n} | {p.replace('|', chr(92) + '|')} |")
    files = [k for k in sorted(results) if k.startswith("files/")]
    out.extend(["", "## Whole files", "", "| file | outcome | fields |", "| --- | --- | --- |"])
    for rel in files:
        r = results[rel]
        out.append(f"| {os.path.basename(rel)} | {r.outcome} | "
                   + ", ".join(f"`{f}`" for f in r.fields) + " |")
    with open(REPORT, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {REPORT}", file=sys.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
