#!/usr/bin/env bash
# The main job, from nothing: install dependencies, build, use the Docker
# endpoint given (--docker-host / DOCKER_HOST) or start a local single-node
# Swarm when none answers, apply the quick-start samples and list the routes.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SG_BUILD_DIR:-$ROOT/build}"
if [[ "${1:-}" == "--docker-host" && -n "${2:-}" ]]; then export DOCKER_HOST="$2"; fi

"$ROOT/scripts/setup.sh"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target swarmgate sg-echo
SG="$BUILD/operator/swarmgate"

if docker info --format '{{.Swarm.LocalNodeState}}' 2>/dev/null | grep -q active; then
  echo "quickstart: using the Swarm at ${DOCKER_HOST:-unix:///var/run/docker.sock}"
else
  echo "quickstart: no Swarm manager answers; starting a local single-node Swarm"
  export SG_E2E_STATE="${SG_E2E_STATE:-$ROOT/.quickstart}"
  "$ROOT/e2e/cluster" up --nodes 1 --label 1:swarmgate.ingress=true
  eval "$("$ROOT/e2e/cluster" env)"
  "$ROOT/e2e/images/build" --build-dir "$BUILD"
  echo "quickstart: stop it with: SG_E2E_STATE=$SG_E2E_STATE $ROOT/e2e/cluster down"
fi

"$SG" validate -f "$ROOT/crds/samples/quickstart"
"$SG" apply -f "$ROOT/crds/samples/quickstart"
"$SG" get servicecluster
"$SG" get route -o wide
