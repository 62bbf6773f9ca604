#!/bin/sh
# Initialises the cluster on first start (superuser POSTGRES_USER with the password from
# POSTGRES_PASSWORD_FILE, database POSTGRES_DB), then runs PostgreSQL in the foreground.
set -eu
user=${POSTGRES_USER:-postgres}
if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
  password=$(cat "$POSTGRES_PASSWORD_FILE")
else
  password=${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD_FILE or POSTGRES_PASSWORD}
fi
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  printf '%s' "$password" >/tmp/pwfile
  initdb --username="$user" --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  rm -f /tmp/pwfile
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  if [ "${POSTGRES_DB:-$user}" != postgres ]; then
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    psql -q -v ON_ERROR_STOP=1 --username="$user" --dbname=postgres \
      -c "CREATE DATABASE \"${POSTGRES_DB:-$user}\" OWNER \"$user\""
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  echo "postgres-entrypoint: initialised $PGDATA"
fi
# exec: PostgreSQL is PID 1's child of nothing, so SIGTERM from Docker reaches it directly.
exec postgres -c listen_addresses='*' "$@"
