#!/usr/bin/env bash
# Runs every test of the project on this machine (as root, Linux):
#   unit tests (also under AddressSanitizer+UBSan and, for the concurrent
#   parts, ThreadSanitizer), integration tests against a real Swarm manager,
#   and the end-to-end suite on a 4-node Swarm (3 managers) that this script starts and
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
# ccache (installed by setup.sh) makes a run after an earlier one on the same
# machine recompile only what changed, wherever the checkout lies: paths are
# hashed relative to it. A first run compiles everything.
LAUNCHER=()
if command -v ccache >/dev/null; then
  export CCACHE_BASEDIR="$ROOT" CCACHE_NOHASHDIR=1
  LAUNCHER=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# Line tables only (-g1): enough for backtraces, and quicker to compile than
# full debug information; the images strip debug sections anyway.
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo "${LAUNCHER[@]}" \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null
cmake --build "$BUILD" -j"$(nproc)"

phase_start=0
phase() { phase_start=$(date +%s); echo "== $1 ($(elapsed))"; }
phase_done() { echo "== $1 took $(( $(date +%s) - phase_start ))s"; }

# Unit tests first (no cluster needed): a failure shows early.
phase "unit tests"
unit_rc=0
ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" --timeout 900 -L unit || unit_rc=$?
phase_done "unit tests"

# The unit tests again under sanitizers: ASan+UBSan for all of them, TSan
# for the concurrent parts (work queue and controllers, the store, the
# reconcilers). Their builds are most of the run's CPU, so they run in the
# background at the lowest priority while the Swarm tests, which mostly wait
# on the Swarm, run in the foreground; the log is printed when both are done.
# Every report aborts its test. Debug keeps assertions on; SG_SANITIZE builds
# at -O0 -g1. Leaks LeakSanitizer must ignore are listed in
# operator/testing/sanitizer/lsan_suppressions.cc. Trees are kept between
# runs (incremental). SG_SKIP_SANITIZERS=1 skips them (local iterations).
# Each unit test binary of a sanitizer tree, run once with all its tests in
# one process: ctest would start one process per test, and under the
# sanitizers process start-up is most of the cost. Stops at the first failure.
run_sanitized_binaries() {
  local tree=$1 b
  shift
  while IFS= read -r b; do
    echo "-- $(basename "$b")"
    env "$@" "$b" --gtest_brief=1 --gtest_color=no
  done < <(find "$tree" -name '*_unit_tests' -type f -perm -u+x | sort)
}

sanitizers() {
  local SAN_ENV=(ASAN_OPTIONS="halt_on_error=1:print_stacktrace=1:detect_leaks=1"
    UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
    LSAN_OPTIONS="print_suppressions=0"
    TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1")
  local ASAN_BUILD="${SG_ASAN_BUILD_DIR:-$ROOT/build-asan}"
  local TSAN_BUILD="${SG_TSAN_BUILD_DIR:-$ROOT/build-tsan}"
  local TSAN_TARGETS=(loop_unit_tests store_unit_tests reconcilers_unit_tests)
  phase "asan+ubsan build (unit tests)"
  cmake -S "$ROOT" -B "$ASAN_BUILD" -DCMAKE_BUILD_TYPE=Debug "${LAUNCHER[@]}" \
    -DSG_SANITIZE=address,undefined >/dev/null
  cmake --build "$ASAN_BUILD" -j"$(nproc)" --target sg_unit_tests
  phase_done "asan+ubsan build"
  phase "asan+ubsan unit tests"
  run_sanitized_binaries "$ASAN_BUILD" "${SAN_ENV[@]}"
  phase_done "asan+ubsan unit tests"
  phase "tsan build (${TSAN_TARGETS[*]})"
  cmake -S "$ROOT" -B "$TSAN_BUILD" -DCMAKE_BUILD_TYPE=Debug "${LAUNCHER[@]}" \
    -DSG_SANITIZE=thread >/dev/null
  cmake --build "$TSAN_BUILD" -j"$(nproc)" --target "${TSAN_TARGETS[@]}"
  phase_done "tsan build"
  phase "tsan unit tests"
  # Only the binaries above are built in this tree.
  run_sanitized_binaries "$TSAN_BUILD" "${SAN_ENV[@]}"
  phase_done "tsan unit tests"
}
SAN_LOG="${SG_SANITIZER_LOG:-$BUILD/sanitizers.log}"
san_pid=""
if [[ "${SG_SKIP_SANITIZERS:-0}" != 1 ]]; then
  echo "== sanitizers started in the background ($(elapsed)); log: $SAN_LOG"
  # Its own process group (set -m), so an interrupted run stops all of it;
  # lowest priority for it and everything it starts.
  set -m
  (
    renice -n 19 -p "$BASHPID" >/dev/null
    sanitizers
  ) >"$SAN_LOG" 2>&1 &
  san_pid=$!
  set +m
fi

cleanup() {
  local rc=$?
  echo "== teardown ($(elapsed))"
  if [[ -n $san_pid ]] && kill -0 "$san_pid" 2>/dev/null; then
    # Interrupted: stop the background job (its process group) we started.
    kill -- -"$san_pid" 2>/dev/null || true
  fi
  "$ROOT/e2e/cluster" down || true
  echo "== wall time: $(elapsed) (exit $rc)"
  exit $rc
}
trap cleanup EXIT INT TERM

echo "== swarm up ($(elapsed))"
# Three managers (the fault suite moves the operator's lead between them)
# and a worker (it cuts one off).
"$ROOT/e2e/cluster" up --nodes 4 --managers 3 \
  --label 2:swarmgate.ingress=true --label 3:swarmgate.ingress=true
SG_E2E_EXTRA_IMAGES=prometheus "$ROOT/e2e/images/build" --build-dir "$BUILD"
eval "$("$ROOT/e2e/cluster" env)"
export SG_TEST_DOCKER_HOST="$DOCKER_HOST"

# Integration tests first, then the e2e suites: the e2e suites leave the
# operator stack deployed for the next suite, and an operator writing
# statuses would disturb the integration tests' exact checks (ctest
# otherwise orders by the previous run's timings). Tests that share the
# Swarm are RUN_SERIAL. Every phase runs whatever failed before it.
rc=$unit_rc
phase "integration tests"
ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" --timeout 900 -L integration || rc=$?
phase_done "integration tests"
phase "e2e suites"
ctest --test-dir "$BUILD" --output-on-failure -j"$(nproc)" --timeout 900 -L e2e || rc=$?
phase_done "e2e suites"

if [[ -n $san_pid ]]; then
  echo "== waiting for the sanitizers ($(elapsed))"
  san_rc=0
  wait "$san_pid" || san_rc=$?
  san_pid=""
  if ((san_rc != 0)); then
    echo "== sanitizers FAILED (exit $san_rc); their log:"
    cat "$SAN_LOG"
    rc=$san_rc
  else
    # Phase lines and each binary's summary.
    grep -E '^== |^-- |PASSED|FAILED' "$SAN_LOG" || true
  fi
fi
exit $rc
