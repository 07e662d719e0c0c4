#!/usr/bin/env bash
# The main job, from nothing to traffic through a proxy:
#   install dependencies, build, use the Swarm manager given (--docker-host URL
#   or DOCKER_HOST) or start a local single-node Swarm when none answers, build
#   the images into it, deploy the operator (charts/swarmgate), start a sample
#   backend, apply the quick-start resources and send a request through the
#   proxy.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${SG_BUILD_DIR:-$ROOT/build}"
if [[ "${1:-}" == "--docker-host" && -n "${2:-}" ]]; then export DOCKER_HOST="$2"; fi

"$ROOT/scripts/setup.sh"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target swarmgate sg-echo
SG="$BUILD/operator/swarmgate"

if [[ -n "${DOCKER_HOST:-}" || -S /var/run/docker.sock ]] &&
  docker info --format '{{.Swarm.ControlAvailable}}' 2>/dev/null | grep -q true; then
  export DOCKER_HOST="${DOCKER_HOST:-unix:///var/run/docker.sock}"
  echo "quickstart: using the Swarm manager at $DOCKER_HOST"
  ADDR=127.0.0.1
  docker node update --label-add swarmgate.ingress=true "$(docker info --format '{{.Swarm.NodeID}}')" >/dev/null
  "$ROOT/e2e/images/build" --build-dir "$BUILD" --docker-host "$DOCKER_HOST"
else
  echo "quickstart: no Swarm manager answers; starting a local single-node Swarm"
  export SG_E2E_STATE="${SG_E2E_STATE:-$ROOT/.quickstart}"
  export SG_E2E_SLOT="${SG_E2E_SLOT:-9}"
  "$ROOT/e2e/cluster" up --nodes 1 --label 1:swarmgate.ingress=true
  eval "$("$ROOT/e2e/cluster" env)"
  ADDR=$(sed -n 's/^NODE1_ADDR=//p' "$SG_E2E_STATE/cluster.env")
  "$ROOT/e2e/images/build" --build-dir "$BUILD"
  echo "quickstart: stop it with: SG_E2E_SLOT=$SG_E2E_SLOT SG_E2E_STATE=$SG_E2E_STATE $ROOT/e2e/cluster down"
fi

# The operator, as users deploy it (the manager's /var/run/docker.sock), one
# replica per manager up to two, its port published on the managers.
MANAGERS=$(docker node ls --filter role=manager -q | wc -l)
SWARMGATE_IMAGE=swarmgate/operator:dev SWARMGATE_REPLICAS=$((MANAGERS >= 2 ? 2 : 1)) \
  docker stack deploy -c "$ROOT/charts/swarmgate/stack.yml" \
  -c "$ROOT/charts/swarmgate/publish.yml" swarmgate >/dev/null
for _ in $(seq 60); do
  curl -sf -m 2 "http://$ADDR:9090/readyz" >/dev/null && break
  sleep 1
done
curl -sf -m 2 "http://$ADDR:9090/readyz" >/dev/null || { echo "quickstart: operator not ready" >&2; exit 1; }

"$SG" validate -f "$ROOT/crds/samples/quickstart"
"$SG" apply -f "$ROOT/crds/samples/quickstart/servicecluster-demo.yaml"
# The sample backend joins the cluster's network, which the operator creates.
for _ in $(seq 30); do docker network inspect sg-demo >/dev/null 2>&1 && break; sleep 1; done
if ! docker service inspect hello >/dev/null 2>&1; then
  docker service create -d --name hello --network sg-demo \
    --env 'SG_SERVICE={{.Service.Name}}' --env 'SG_TASK={{.Task.Name}}' swarmgate/echo:dev >/dev/null
fi
"$SG" apply -f "$ROOT/crds/samples/quickstart/route-hello.yaml" --wait --timeout 90s
"$SG" get servicecluster
"$SG" get route -o wide

echo "quickstart: curl -H 'Host: hello.localhost' http://$ADDR:8080/"
for _ in $(seq 30); do
  if out=$(curl -sf -m 2 -H 'Host: hello.localhost' "http://$ADDR:8080/"); then
    echo "$out"
    echo "quickstart: traffic flows through the proxy to the hello service"
    exit 0
  fi
  sleep 1
done
echo "quickstart: no answer through the proxy" >&2
exit 1
