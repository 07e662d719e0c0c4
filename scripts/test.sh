#!/usr/bin/env bash
# Runs every test of the project on this machine (as root, Linux):
#   unit tests, integration tests against a real Swarm manager, and the
#   end-to-end suite on a 3-node Swarm that this script starts and removes.
# Installs what it needs first (scripts/setup.sh). Prints its wall time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SG_BUILD_DIR:-$ROOT/build}"
export SG_E2E_STATE="${SG_E2E_STATE:-$ROOT/.e2e}"
START=$(date +%s)

elapsed() { echo "$(( $(date +%s) - START ))s"; }

"$ROOT/scripts/setup.sh"

echo "== build ($(elapsed))"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)"

cleanup() {
  local rc=$?
  echo "== teardown ($(elapsed))"
  "$ROOT/e2e/cluster" down || true
  echo "== wall time: $(elapsed) (exit $rc)"
  exit $rc
}
trap cleanup EXIT INT TERM

echo "== swarm up ($(elapsed))"
"$ROOT/e2e/cluster" up --nodes 3 \
  --label 2:swarmgate.ingress=true --label 3:swarmgate.ingress=true
SG_E2E_EXTRA_IMAGES=prometheus "$ROOT/e2e/images/build" --build-dir "$BUILD"
eval "$("$ROOT/e2e/cluster" env)"
export SG_TEST_DOCKER_HOST="$DOCKER_HOST"

echo "== tests ($(elapsed))"
# One ctest run for every label so its closing line counts them all; tests
# that share the Swarm are RUN_SERIAL, unit tests run in parallel.
ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" --timeout 900
