#!/usr/bin/env bash
# Runs the Python interop tests against a built shadowplane binary, each with its venv:
#   test_grpc_xds_client.py, test_ads_protocol.py, test_delta_protocol.py, test_store_e2e.py and
#   test_store_rejections.py, test_proxy_e2e.py, test_proxy_resilience.py,
#   test_proxy_http2.py (also needs nghttp2-client's nghttp and h2load) and test_cli.py with
#   .venv-interop (grpcio, xds-protos),
#   test_proxy_e2e.py runs twice: with the proxy's default xDS variant (delta) and with
#   SHADOWPLANE_XDS_MODE=sotw (passed to the proxy as --xds-mode),
#   test_envoy_rules.py and test_envoy_rules_manifests.py with .venv-pgv
#   (protoc-gen-validate, xds-protos),
#   test_envoy_live.py (real Envoy from .venv-envoy against the control plane, and the proxy
#   checked against it) twice: SHADOWPLANE_XDS_MODE=sotw and =delta (Envoy's ADS api_type
#   and the proxy's --xds-mode).
#   test_security.py (mTLS with Envoy, grpcio and the proxy, rotation, admin auth; its Envoy
#   tests skip without Envoy) with .venv-interop.
#   test_istio_corpus.py (a few hundred real Istio networking documents from Istio's
#   repositories and docs, Tests/IstioCorpus/, each applied alone: outcome and field paths
#   pinned in Tests/IstioCorpus/expected.json; --record rewrites it) with .venv-interop.
#   test_shadow_comparison.py (ShadowComparison: real httpbin v1/v2 under gunicorn from
#   .venv-demo, the proxy comparing, the control plane aggregating; Envoy accepting it).
#   test_console.py (the web console in headless Chromium through Selenium, against the
#   control plane, the proxy and Envoy) with .venv-console.
# Environment: SHADOWPLANE_BIN (default <repo>/.build/debug/shadowplane),
#   INTEROP_VENV and PGV_VENV to use other venvs, ENVOY_BIN (default
#   <repo>/.venv-envoy/bin/envoy).
# Prints PASS/FAIL per test file; exits non-zero if any failed.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
export SHADOWPLANE_BIN="${SHADOWPLANE_BIN:-$repo/.build/debug/shadowplane}"
export ENVOY_BIN="${ENVOY_BIN:-$repo/.venv-envoy/bin/envoy}"
interop_py="${INTEROP_VENV:-$repo/.venv-interop}/bin/python"
pgv_py="${PGV_VENV:-$repo/.venv-pgv}/bin/python"
console_py="${CONSOLE_VENV:-$repo/.venv-console}/bin/python"
# Each test file bounds its own waits; this is a last resort against a hang.
per_test_timeout="${INTEROP_TEST_TIMEOUT:-300}"

if [ ! -x "$SHADOWPLANE_BIN" ]; then
  echo "shadowplane binary not found: $SHADOWPLANE_BIN (set SHADOWPLANE_BIN)" >&2
  exit 2
fi

failed=0
run() {
  local python="$1" file="$2" label="${3:-$2}"
  if [ ! -x "$python" ]; then
    echo "FAIL $label (no python at $python)"
    failed=$((failed + 1))
    return
  fi
  echo "=== $label ($python)"
  if timeout --kill-after=10 "$per_test_timeout" "$python" "$here/$file"; then
    echo "PASS $label"
  else
    echo "FAIL $label"
    failed=$((failed + 1))
  fi
}

run "$interop_py" test_grpc_xds_client.py
run "$interop_py" test_ads_protocol.py
run "$interop_py" test_delta_protocol.py
run "$interop_py" test_store_e2e.py
run "$interop_py" test_store_rejections.py
run "$interop_py" test_proxy_e2e.py
# The proxy's default xDS variant (delta) ran above; the same tests over state of the world:
SHADOWPLANE_XDS_MODE=sotw run "$interop_py" test_proxy_e2e.py "test_proxy_e2e.py (sotw)"
run "$interop_py" test_proxy_resilience.py
run "$interop_py" test_proxy_http2.py
run "$interop_py" test_cli.py
run "$interop_py" test_istio_corpus.py
run "$pgv_py" test_envoy_rules.py
run "$pgv_py" test_envoy_rules_manifests.py
run "$pgv_py" test_envoy_bootstrap.py
run "$interop_py" test_runtime_rtds.py
run "$interop_py" test_security.py
if [ -x "$ENVOY_BIN" ]; then
  SHADOWPLANE_XDS_MODE=sotw run "$interop_py" test_envoy_live.py "test_envoy_live.py (sotw)"
  SHADOWPLANE_XDS_MODE=delta run "$interop_py" test_envoy_live.py "test_envoy_live.py (delta)"
else
  echo "FAIL test_envoy_live.py (no Envoy at $ENVOY_BIN: run scripts/setup)"
  failed=$((failed + 1))
fi
run "$interop_py" test_demo.py
run "$interop_py" test_shadow_comparison.py
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  run "$console_py" test_console.py
else
  echo "FAIL test_console.py (no chromium or chromedriver: run scripts/setup)"
  failed=$((failed + 1))
fi

if [ "$failed" -ne 0 ]; then
  echo "$failed interop test file(s) failed"
  exit 1
fi
echo "all interop tests passed"
