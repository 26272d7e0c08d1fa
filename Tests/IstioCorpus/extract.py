#!/usr/bin/env python3
"""Regenerates Tests/IstioCorpus/docs/ (and files/) from a git mirror of istio/istio.

Usage (needs PyYAML, e.g. the .venv-pgv venv):
  extract.py --git-dir /path/to/istio.git [--ref COMMIT] [--out Tests/IstioCorpus]

Every document of every *.yaml/*.yml file in the tree (Helm-templated files, i.e. containing
``{{``, and manifests/charts, operator/ skipped) whose apiVersion is networking.istio.io/*
and whose kind is VirtualService, DestinationRule, ServiceEntry or WorkloadEntry becomes
docs/NNNN-<kind>-<name>.yaml, its text unchanged after one leading ``# source:`` comment
line. Exact duplicates (same text) are kept once (the first path in tree order wins).
Files listed in WHOLE_FILES are copied whole to files/ (multi-document, as shipped).
With --api-git-dir, the ```yaml examples in the comments of istio/api's networking protos
(the source of istio.io's reference pages) follow, comment markers removed. Documents
copied by hand from istio.io task pages are numbered from 0900 and are left alone: this
script only writes the numbers it generates (from 0001), so remove docs/0[0-8]* first to
regenerate.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess

import yaml

KINDS = ("VirtualService", "DestinationRule", "ServiceEntry", "WorkloadEntry")
REPO = "istio/istio"
SKIP_PREFIXES = ("manifests/charts", "operator/")
WHOLE_FILES = [
    "samples/bookinfo/networking/bookinfo-gateway.yaml",
    "samples/bookinfo/networking/destination-rule-all.yaml",
    "samples/bookinfo/networking/virtual-service-all-v1.yaml",
    "samples/bookinfo/networking/egress-rule-google-apis.yaml",
    "samples/bookinfo/networking/fault-injection-details-v1.yaml",
    "samples/tcp-echo/tcp-echo-all-v1.yaml",
    "samples/external/pypi.yaml",
    "samples/extauthz/local-ext-authz.yaml",
    "tests/testdata/config/rule-weighted-route.yaml",
    "tests/testdata/config/se-example.yaml",
    "samples/httpbin/httpbin-gateway.yaml",
]
SEPARATOR = re.compile(r"(?m)^---[ \t]*(?:#[^\n]*)?\n")


def git(gd: str, *args: str) -> str:
    return subprocess.run(["git", "--git-dir", gd, *args], check=True,
                          capture_output=True).stdout.decode()


def short(name: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return (s or "unnamed")[:40].strip("-")


def api_examples(gd: str, docs_dir: str, seen: set[str], number: int) -> int:
    """The ```yaml blocks of the comments of istio/api's networking protos (the reference
    documentation on istio.io is generated from them), comment markers removed."""
    commit = git(gd, "rev-parse", "HEAD").strip()
    protos = sorted(p for p in git(gd, "ls-tree", "-r", "--name-only", commit).split("\n")
                    if re.fullmatch(r"networking/v1alpha3/\w+\.proto", p))
    for path in protos:
        lines = git(gd, "show", f"{commit}:{path}").split("\n")
        block: list[str] | None = None
        example = 0
        for line in lines:
            m = re.match(r"^\s*// ?(.*)$", line)
            content = m.group(1) if m else None
            if block is None:
                if content is not None and content.strip() == "```yaml":
                    block = []
                continue
            if content is None or content.strip() == "```":
                example += 1
                for index, part in enumerate(SEPARATOR.split("\n".join(block) + "\n")):
                    try:
                        doc = yaml.safe_load(part)
                    except yaml.YAMLError:
                        continue
                    if not isinstance(doc, dict) or doc.get("kind") not in KINDS or \
                            not str(doc.get("apiVersion", "")).startswith("networking.istio.io/"):
                        continue
                    body = part.strip("\n") + "\n"
                    if body in seen or "{{" in body:
                        continue
                    seen.add(body)
                    number += 1
                    name = (doc.get("metadata") or {}).get("name") or "unnamed"
                    fname = f"{number:04d}-{doc['kind'].lower()}-{short(str(name))}.yaml"
                    with open(os.path.join(docs_dir, fname), "w", encoding="utf-8") as f:
                        f.write(f"# source: istio/api@{commit}:{path} (comment example "
                                f"{example}, document {index + 1})\n{body}")
                block = None
                continue
            block.append(content)
    return number


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--git-dir", required=True)
    ap.add_argument("--ref", default="HEAD")
    ap.add_argument("--api-git-dir", help="a git mirror of istio/api: also the YAML "
                    "examples in the comments of its networking protos")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    a = ap.parse_args()
    commit = git(a.git_dir, "rev-parse", a.ref).strip()
    paths = sorted(p for p in git(a.git_dir, "ls-tree", "-r", "--name-only", commit).split("\n")
                   if re.search(r"\.ya?ml$", p) and not p.startswith(SKIP_PREFIXES))
    # samples/ first (what users copy), then tests/, then the rest.
    order = {"samples": 0, "tests": 1}
    paths.sort(key=lambda p: (order.get(p.split("/")[0], 2), p))
    docs_dir = os.path.join(a.out, "docs")
    files_dir = os.path.join(a.out, "files")
    os.makedirs(docs_dir, exist_ok=True)
    os.makedirs(files_dir, exist_ok=True)
    seen: set[str] = set()
    number = 0
    for path in paths:
        text = git(a.git_dir, "show", f"{commit}:{path}")
        if "networking.istio.io" not in text or "{{" in text:
            continue
        parts = SEPARATOR.split(text)
        for index, part in enumerate(parts):
            try:
                doc = yaml.safe_load(part)
            except yaml.YAMLError:
                continue
            if not isinstance(doc, dict) or doc.get("kind") not in KINDS:
                continue
            if not str(doc.get("apiVersion", "")).startswith("networking.istio.io/"):
                continue
            body = part.strip("\n") + "\n"
            if "_err" in doc:
                continue  # Istio's validation testdata: invalid on purpose, "_err" is not API
            if body in seen:
                continue
            seen.add(body)
            number += 1
            name = (doc.get("metadata") or {}).get("name") or "unnamed"
            where = f"{REPO}@{commit}:{path}"
            if len([p for p in parts if p.strip()]) > 1:
                where += f" (document {index + 1})"
            fname = f"{number:04d}-{doc['kind'].lower()}-{short(str(name))}.yaml"
            with open(os.path.join(docs_dir, fname), "w", encoding="utf-8") as f:
                f.write(f"# source: {where}\n{body}")
    if a.api_git_dir:
        number = api_examples(a.api_git_dir, docs_dir, seen, number)
    for i, path in enumerate(WHOLE_FILES):
        text = git(a.git_dir, "show", f"{commit}:{path}")
        fname = f"{i + 1:02d}-" + path.replace("/", "-").removeprefix("samples-")
        with open(os.path.join(files_dir, fname), "w", encoding="utf-8") as f:
            f.write(f"# source: {REPO}@{commit}:{path}\n{text}")
    print(f"{number} documents (docs/0001-{number:04d}); {len(WHOLE_FILES)} whole files")


if __name__ == "__main__":
    main()
