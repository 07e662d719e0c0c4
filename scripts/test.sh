#!/usr/bin/env bash
# Runs every test of the project on this machine (as root, Linux):
#   unit tests (also under AddressSanitizer+UBSan and, for the concurrent
#   parts, ThreadSanitizer), integration tests against a real Swarm manager,
#   and the end-to-end suite on a 3-node Swarm that this script starts and
#   removes.
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

# Unit tests again under sanitizers, before the Swarm is brought up: they need
# no cluster, and a finding fails the run early (every report aborts the
# test). Trees are kept between runs (incremental). Debug keeps assertions
# on; SG_SANITIZE builds at -O0 -g1. Leaks LeakSanitizer must ignore are
# listed in operator/testing/sanitizer/lsan_suppressions.cc.
# SG_SKIP_SANITIZERS=1 skips both phases (local iterations).
phase_start=0
phase() { phase_start=$(date +%s); echo "== $1 ($(elapsed))"; }
phase_done() { echo "== $1 took $(( $(date +%s) - phase_start ))s"; }
SAN_ENV=(ASAN_OPTIONS="halt_on_error=1:print_stacktrace=1:detect_leaks=1"
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
  LSAN_OPTIONS="print_suppressions=0"
  TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1")
if [[ "${SG_SKIP_SANITIZERS:-0}" != 1 ]]; then
  ASAN_BUILD="${SG_ASAN_BUILD_DIR:-$ROOT/build-asan}"
  phase "asan+ubsan build (unit tests)"
  cmake -S "$ROOT" -B "$ASAN_BUILD" -DCMAKE_BUILD_TYPE=Debug \
    -DSG_SANITIZE=address,undefined >/dev/null
  cmake --build "$ASAN_BUILD" -j"$(nproc)" --target sg_unit_tests
  phase_done "asan+ubsan build"
  phase "asan+ubsan unit tests"
  env "${SAN_ENV[@]}" ctest --test-dir "$ASAN_BUILD" -L unit --output-on-failure -j"$(nproc)" \
    --timeout 900
  phase_done "asan+ubsan unit tests"

  # The concurrent parts: work queue and controllers, the store, reconcilers.
  TSAN_BUILD="${SG_TSAN_BUILD_DIR:-$ROOT/build-tsan}"
  TSAN_TARGETS=(loop_unit_tests store_unit_tests reconcilers_unit_tests)
  phase "tsan build (${TSAN_TARGETS[*]})"
  cmake -S "$ROOT" -B "$TSAN_BUILD" -DCMAKE_BUILD_TYPE=Debug -DSG_SANITIZE=thread >/dev/null
  cmake --build "$TSAN_BUILD" -j"$(nproc)" --target "${TSAN_TARGETS[@]}"
  phase_done "tsan build"
  phase "tsan unit tests"
  # The tree's other test binaries are not built, so only the tests of those
  # above are listed (an unbuilt binary leaves one unlabelled placeholder).
  env "${SAN_ENV[@]}" ctest --test-dir "$TSAN_BUILD" -L unit --output-on-failure -j"$(nproc)" \
    --timeout 900
  phase_done "tsan unit tests"
fi

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
# Unit and integration tests first, then the e2e suites: the e2e suites
# leave the operator stack deployed for the next suite, and an operator
# writing statuses would disturb the integration tests' exact checks (ctest
# otherwise orders by the previous run's timings). Tests that share the Swarm
# are RUN_SERIAL, unit tests run in parallel. Both runs always run.
rc=0
ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" --timeout 900 -LE e2e || rc=$?
echo "== e2e suites ($(elapsed))"
ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" --timeout 900 -L e2e || rc=$?
exit $rc
