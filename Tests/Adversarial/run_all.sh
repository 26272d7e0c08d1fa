#!/usr/bin/env bash
# Runs the adversarial suite of issue 12 (LIMITS-SPEC.md) against a shadowplane binary:
# each test file replays attacks against the real control plane and proxy on loopback and
# asserts the bounds of the spec. All files run with .venv-interop (grpcio, xds-protos);
# test_cp_drain.py also starts real Envoy from .venv-envoy (skipped without it).
# Environment: SHADOWPLANE_BIN (default /work/baseline/shadowplane-debug), INTEROP_VENV,
#   ENVOY_BIN (default <repo>/.venv-envoy/bin/envoy), ADVERSARIAL_TEST_TIMEOUT (seconds per
#   file, default 180), and the file names to run as arguments (default: all of them).
# Prints PASS/FAIL per test file and a closing count; exits non-zero if any failed.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export SHADOWPLANE_BIN="${SHADOWPLANE_BIN:-/work/baseline/shadowplane-debug}"
export ENVOY_BIN="${ENVOY_BIN:-$repo/.venv-envoy/bin/envoy}"
python="${INTEROP_VENV:-$repo/.venv-interop}/bin/python"
# Each test file bounds its own waits; this is a last resort against a hang.
per_test_timeout="${ADVERSARIAL_TEST_TIMEOUT:-180}"

if [ ! -x "$SHADOWPLANE_BIN" ]; then
  echo "shadowplane binary not found: $SHADOWPLANE_BIN (set SHADOWPLANE_BIN)" >&2
  exit 2
fi
if [ ! -x "$python" ]; then
  echo "no python at $python (run scripts/setup)" >&2
  exit 2
fi

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  files=(
    test_cp_runtime_values.py
    test_proxy_runtime.py
    test_cp_yaml_bombs.py
    test_cp_xds_abuse.py
    test_cp_drain.py
    test_proxy_slowloris.py
    test_proxy_shadow_stuck.py
    test_proxy_retries.py
    test_cp_store_edges.py
    test_proxy_comparison_bounds.py
  )
fi

passed=0
failed=0
failed_files=()
for file in "${files[@]}"; do
  echo "=== $file"
  started=$(date +%s)
  if timeout --kill-after=10 "$per_test_timeout" "$python" "$here/$file"; then
    echo "PASS $file ($(( $(date +%s) - started )) s)"
    passed=$((passed + 1))
  else
    echo "FAIL $file ($(( $(date +%s) - started )) s)"
    failed=$((failed + 1))
    failed_files+=("$file")
  fi
done

echo "adversarial: $passed passed, $failed failed"
if [ "$failed" -ne 0 ]; then
  echo "failed: ${failed_files[*]}"
  exit 1
fi
