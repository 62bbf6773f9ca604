#!/usr/bin/env bash
# Tests the running API against its own OpenAPI document with Schemathesis (from PyPI, pinned):
# `ems web` on a free port, against a fresh database seeded with the demo data, is exercised once
# as an administrator and once as a customer, with generated valid and invalid requests for every
# operation. Any 5xx, any status the document does not list, and any response that does not fit
# the documented schema, content type or headers fails the run. Everything it starts (the server,
# the database) is removed again, whatever the outcome.
#
# Needs PostgreSQL, RabbitMQ and NATS on 127.0.0.1 (scripts/services.sh) and target/debug/ems
# (built when missing; EMS_BIN names another). Settings: EMS_SCHEMATHESIS_EXAMPLES (examples per
# operation and phase, default 50), EMS_SCHEMATHESIS_SEED (to replay a run),
# EMS_POSTGRES_ADMIN_URL (the server's maintenance database).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

examples=${EMS_SCHEMATHESIS_EXAMPLES:-50}
admin_database_url=${EMS_POSTGRES_ADMIN_URL:-postgres://postgres:postgres@127.0.0.1:5432/postgres}

ems=${EMS_BIN:-target/debug/ems}
if [[ ! -x $ems ]]; then
  echo "==> building ems"
  cargo build --quiet --bin ems
fi
ensure_schemathesis
schemathesis=$EMS_SCHEMATHESIS_BIN

# One name for the database and the queue and subject namespace, so nothing is shared with any
# other EMS on the same services.
name=ems_schemathesis_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
export EMS_DATABASE_URL=${admin_database_url%/*}/$name
export EMS_NAMESPACE=$name
export EMS_ADMIN_USERNAME=admin
export EMS_ADMIN_PASSWORD=schemathesis-admin
export EMS_DEMO_PASSWORD=schemathesis-demo
EMS_JWT_SECRET=$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')
export EMS_JWT_SECRET
export EMS_LOG=${EMS_LOG:-warn}

work=$(mktemp -d)
server=""
cleanup() {
  if [[ -n $server ]] && kill -0 "$server" 2>/dev/null; then
    kill -TERM "$server"
    wait "$server" 2>/dev/null || true
  fi
  psql -q "$admin_database_url" -c "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null ||
    echo "warning: could not drop the database $name" >&2
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> seeding the demo data into a fresh database $name"
"$ems" seed --demo >/dev/null

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port
"$ems" web --listen "127.0.0.1:$port" --ui-dir "$work/no-dashboard" >"$work/server.log" 2>&1 &
server=$!
for ((i = 0; i < 240; i++)); do
  curl -fsS -o /dev/null "$base/readyz" 2>/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log" >&2; echo "error: ems web exited" >&2; exit 1; }
  sleep 0.25
done
curl -fsS -o /dev/null "$base/readyz" || { cat "$work/server.log" >&2; echo "error: ems web is not ready" >&2; exit 1; }

access_token() { # username password
  curl -fsS "$base/api/auth/login" -H 'Content-Type: application/json' \
    -d "{\"username\": \"$1\", \"password\": \"$2\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
admin_token=$(access_token admin "$EMS_ADMIN_PASSWORD")
customer_token=$(access_token ana "$EMS_DEMO_PASSWORD")

# The checks that hold for any request, valid or not. Left out: negative_data_rejection and
# positive_data_acceptance, which judge generated data by the schema alone and cannot know the
# rules the document states only in words (a date's range, a username's characters); the
# stateful and authorisation checks need links and several accounts the document does not
# describe. No operation is excluded: a random id deletes nothing that exists, and a random
# username cannot lock the seeded accounts out.
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance

status=0
run_as() { # who token
  echo "==> schemathesis as $1: $examples examples per operation and phase"
  local reports=$PWD/target/schemathesis/$1
  # From the scratch folder, where Schemathesis keeps its own state (.schemathesis/).
  (cd "$work" && "$schemathesis" run "$base/api/openapi.json" --url "$base" \
    -H "Authorization: Bearer $2" \
    --checks "$checks" \
    --phases examples,coverage,fuzzing \
    --max-examples "$examples" \
    ${EMS_SCHEMATHESIS_SEED:+--seed "$EMS_SCHEMATHESIS_SEED"} \
    --workers 2 \
    --no-color \
    --generation-database none \
    --report junit --report-dir "$reports") || status=1
}
run_as administrator "$admin_token"
run_as customer "$customer_token"

if ! kill -0 "$server" 2>/dev/null; then
  echo "error: ems web died during the run" >&2
  status=1
fi
if grep -q '"level":"ERROR"\| ERROR ' "$work/server.log"; then
  echo "==> the server logged errors:" >&2
  grep '"level":"ERROR"\| ERROR ' "$work/server.log" | tail -n 20 >&2
fi
if [[ $status -ne 0 ]]; then
  echo "error: schemathesis found problems (reports in target/schemathesis)" >&2
fi
exit $status
