#!/usr/bin/env bash
# Deploys compose/stack.yml for real on this machine's Docker Swarm and checks it from outside,
# as its users and operators would (ems/tests/swarm.rs):
#   - through Traefik's published port: the dashboard, a login over /api, a live alert over /ws
#     caused by readings published into the stack's RabbitMQ;
#   - monitor replicas numbered by their task slots, scaled 3 -> 5 -> 3 under a stream of readings;
#   - a monitor and the active balancer killed mid-stream: hourly totals equal what was published;
#   - a rolling update of web and notifier under requests and a held WebSocket;
#   - the JWT secret rotated as docs/deployment.md says.
#
#   scripts/swarm-test.sh [--keep]
#
#   --keep   leave the stack running afterwards (remove it with `docker stack rm emstest`)
#
# No registry is needed: the base image is made with debootstrap, PostgreSQL, RabbitMQ, NATS and
# Traefik images are built from Debian's packages and PyPI (compose/local/), and the ems image is
# compose/Dockerfile's runtime stage around the `ems` and dashboard built here. Images are cached
# in the engine and rebuilt only when their inputs change. A Docker engine is started (and stopped
# at the end) if none answers; a Swarm is initialised (and left at the end) if the engine is in
# none. Settings: EMS_SWARM_STACK (emstest), EMS_SWARM_HTTP_PORT (18480), EMS_TEST_AMQP_PORT
# (35672), EMS_TEST_PG_PORT (35432), EMS_TEST_MQTT_PORT (31883), EMS_SWARM_TIMEOUT (seconds for
# the stack to come up, 300).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/docker.sh

keep=""
while (($#)); do
  case $1 in
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,23p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "swarm-test.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

stack=${EMS_SWARM_STACK:-emstest}
export EMS_HTTP_PORT=${EMS_SWARM_HTTP_PORT:-18480}
export EMS_TEST_AMQP_PORT=${EMS_TEST_AMQP_PORT:-35672}
export EMS_TEST_PG_PORT=${EMS_TEST_PG_PORT:-35432}
export RABBITMQ_MANAGEMENT_PORT=${EMS_TEST_RABBITMQ_MANAGEMENT_PORT:-35673}
# Published in host mode: not MQTT's 1883, which a broker of the host's own may hold.
export EMS_MQTT_PORT=${EMS_TEST_MQTT_PORT:-31883}
export EMS_PUBLISH_MODE=host EMS_NETWORK=$stack EMS_SECRETS_PREFIX=$stack
export RABBITMQ_PASSWORD=${RABBITMQ_PASSWORD:-ems-swarm-test}
compose_files=(compose/stack.yml compose/stack.local.yml compose/stack.test.yml)
timeout=${EMS_SWARM_TIMEOUT:-300}
phase_started=$SECONDS
phase() {
  echo "==> [$((SECONDS - phase_started))s] $*"
}

ensure_cargo
ensure_docker_engine
started_swarm=""
added_labels=()

cleanup() {
  local status=$?
  set +e
  if ((status != 0)); then
    echo "==> the Swarm test failed: the stack's state and logs follow" >&2
    docker stack ps --no-trunc "$stack" 2>&1 | head -n 60 >&2
    for service in $(docker stack services -q "$stack" 2>/dev/null); do
      name=$(docker service inspect -f '{{.Spec.Name}}' "$service")
      echo "---- logs of $name (last 60 lines) ----" >&2
      docker service logs --no-task-ids --tail 60 "$service" 2>&1 >&2
    done
  fi
  if [[ -z $keep ]]; then
    remove_stack
    for label in "${added_labels[@]}"; do
      docker node update --label-rm "$label" "$node" >/dev/null 2>&1
    done
    if [[ -n $started_swarm ]]; then
      echo "==> leaving the Swarm this script initialised"
      docker swarm leave --force >/dev/null 2>&1
    fi
    stop_docker_engine_if_started
  fi
  exit $status
}
trap cleanup EXIT

# The stack, its network, volumes and secrets; waits until its containers are gone.
remove_stack() {
  docker stack rm "$stack" >/dev/null 2>&1 || true
  for ((i = 0; i < 120; i++)); do
    [[ -z $(docker ps -aq -f "label=com.docker.stack.namespace=$stack") ]] && break
    sleep 1
  done
  docker ps -aq -f "label=com.docker.stack.namespace=$stack" | xargs -r docker rm -f >/dev/null 2>&1
  # The network goes once its last endpoint has (`docker stack rm` may try too early).
  for ((i = 0; i < 30; i++)); do
    docker network inspect "$stack" >/dev/null 2>&1 || break
    docker network rm "$stack" >/dev/null 2>&1 || sleep 1
  done
  docker volume ls -q -f "label=com.docker.stack.namespace=$stack" | xargs -r docker volume rm >/dev/null 2>&1
  docker secret ls -q -f "name=${stack}_" | xargs -r docker secret rm >/dev/null 2>&1
  return 0
}

if [[ $(docker info -f '{{.Swarm.LocalNodeState}}') != active ]]; then
  echo "==> docker swarm init"
  docker swarm init --advertise-addr 127.0.0.1 >/dev/null
  started_swarm=1
fi
node=$(docker info -f '{{.Swarm.NodeID}}')
for label in ems.db ems.broker; do
  if [[ -z $(docker node inspect -f "{{index .Spec.Labels \"$label\"}}" "$node") ]]; then
    docker node update --label-add "$label=true" "$node" >/dev/null
    added_labels+=("$label")
  fi
done
remove_stack # what a previous, interrupted run may have left

phase "images"
ensure_base_image
base_id=$(docker image inspect -f '{{.Id}}' "$BASE_IMAGE")
context=target/swarm
rm -rf "$context"
mkdir -p "$context/local"
cp compose/local/* "$context/local/"
# Containers verify TLS (PyPI) with the host's CA bundle, which may hold a local proxy's CA.
cp /etc/ssl/certs/ca-certificates.crt "$context/local/host-ca.crt"
for service in postgres rabbitmq nats traefik; do
  hash=$(cat "compose/local/$service"* | sha256sum | cut -c1-16)
  build_cached "ems-local/$service:latest" "$base_id-$hash" --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    -f "$context/local/$service.Dockerfile" "$context/local"
done

echo "==> building ems (release) and the dashboard"
cargo build --release --quiet --bin ems
build_ui >"$context/ui-build.log" 2>&1 || { cat "$context/ui-build.log" >&2; exit 1; }
mkdir -p "$context/ems/target/release" "$context/ems/web/ui" "$context/ems/compose"
cp target/release/ems "$context/ems/target/release/ems"
cp -r web/ui/dist "$context/ems/web/ui/dist"
ensure_embedding_model
mkdir -p "$context/ems/target/models"
cp -r "$EMS_EMBEDDING_MODEL" "$context/ems/target/models/all-minilm-l6-v2"
cp compose/Dockerfile compose/entrypoint.sh "$context/ems/compose/"
hash=$(cd "$context/ems" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)
export EMS_IMAGE=ems-local/ems:$hash
build_cached "$EMS_IMAGE" "$base_id-$hash" --build-arg EMS_BUILD=host --build-arg "BASE_IMAGE=$BASE_IMAGE" \
  -f "$context/ems/compose/Dockerfile" "$context/ems"
docker image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' | grep -E '^ems-local/(debian|postgres|rabbitmq|nats|traefik|ems):' |
  grep -E "latest|bookworm|$hash" | sed 's/^/    /' || true

phase "secrets and deploy"
random() { head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_'; }
export EMS_SWARM_ADMIN_PASSWORD=${EMS_SWARM_ADMIN_PASSWORD:-$(random | head -c 24)}
random | docker secret create "${stack}_jwt_secret_v1" - >/dev/null
export EMS_SWARM_DB_PASSWORD=${EMS_SWARM_DB_PASSWORD:-$(random)}
printf %s "$EMS_SWARM_DB_PASSWORD" | docker secret create "${stack}_db_password_v1" - >/dev/null
printf none | docker secret create "${stack}_ai_api_key_v1" - >/dev/null
printf %s "$EMS_SWARM_ADMIN_PASSWORD" | docker secret create "${stack}_admin_password_v1" - >/dev/null
deploy_started=$SECONDS
args=()
for file in "${compose_files[@]}"; do args+=(-c "$file"); done
docker stack deploy "${args[@]}" "$stack" >/dev/null

# Every replicated service at its replica count, and the one-shot seed done.
converged() {
  local line name current wanted
  while read -r line; do
    name=${line%% *}
    current=${line##* }
    wanted=${current#*/}
    current=${current%/*}
    [[ $name == "${stack}_seed" || $name == "${stack}_simulator" ]] && continue
    [[ $current == "$wanted" ]] || return 1
  done < <(docker stack services "$stack" --format '{{.Name}} {{.Replicas}}')
  docker service ps "${stack}_seed" --format '{{.CurrentState}}' | grep -q '^Complete'
}
for ((i = 0; ; i++)); do
  converged && break
  if ((i >= timeout)); then
    echo "error: the stack did not come up within ${timeout}s" >&2
    docker stack services "$stack" >&2
    exit 1
  fi
  sleep 1
done
stack_start=$((SECONDS - deploy_started))
phase "the stack is up: every service at its replica count and the seed done in ${stack_start}s"

# Tasks running is not yet routed: Traefik reads the Swarm's tasks every few seconds, and answers
# 404 for a path until it has a router for it. Wait until the API answers through Traefik and
# `/ws` reaches a notifier (which refuses a request without a token; web would serve the page).
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$EMS_HTTP_PORT$1" || true; }
for ((i = 0; ; i++)); do
  api=$(status_of /api/openapi.json) ws=$(status_of /ws)
  [[ $api == 200 && $ws =~ ^4 && $ws != 404 ]] && break
  if ((i >= timeout)); then
    echo "error: Traefik did not route /api and /ws within ${timeout}s (last: /api/openapi.json $api, /ws $ws)" >&2
    exit 1
  fi
  sleep 1
done
phase "Traefik routes /api to web (200) and /ws to a notifier ($ws without a token) after $((SECONDS - deploy_started))s"
docker stack services "$stack" --format '    {{.Name}} {{.Replicas}} {{.Image}}'

phase "checks (ems/tests/swarm.rs)"
export EMS_SWARM_STACK=$stack EMS_SWARM_COMPOSE_FILES="${compose_files[*]/#/$PWD/}"
cargo test --quiet -p ems --test swarm -- --ignored --nocapture --test-threads=1
phase "the Swarm test passed"
