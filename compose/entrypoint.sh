#!/bin/sh
# Entry point of the EMS image: `docker run ems <service> [flags]` runs `ems <service> [flags]`.
#
# Docker secrets arrive as files. `ems` reads EMS_JWT_SECRET_FILE and EMS_AI_API_KEY_FILE
# itself; this script covers the two that it takes only as values:
#   EMS_DATABASE_PASSWORD_FILE  builds EMS_DATABASE_URL (unless it is set) from
#                               EMS_DATABASE_USER (ems), EMS_DATABASE_HOST (postgres),
#                               EMS_DATABASE_PORT (5432), EMS_DATABASE_NAME (ems) and the password,
#                               percent-encoded
#   EMS_ADMIN_PASSWORD_FILE     sets EMS_ADMIN_PASSWORD (for `ems seed`)
set -eu

# Percent-encodes $1 byte by byte (RFC 3986 unreserved characters stay as they are).
urlencode() {
  LC_ALL=C
  rest=$1
  out=
  while [ -n "$rest" ]; do
    tail=${rest#?}
    char=${rest%"$tail"}
    rest=$tail
    case $char in
      [A-Za-z0-9._~-]) out=$out$char ;;
      *) out=$out$(printf '%%%02X' "'$char") ;;
    esac
  done
  printf '%s' "$out"
}

if [ -z "${EMS_DATABASE_URL:-}" ] && [ -n "${EMS_DATABASE_PASSWORD_FILE:-}" ]; then
  # Services without a database (the balancer) get no secret: the URL is not needed there.
  [ -r "$EMS_DATABASE_PASSWORD_FILE" ] || { echo "ems-entrypoint: $EMS_DATABASE_PASSWORD_FILE not readable; EMS_DATABASE_URL not set" >&2; exec "${EMS_BIN:-/usr/local/bin/ems}" "$@"; }
  password=$(cat "$EMS_DATABASE_PASSWORD_FILE")
  EMS_DATABASE_URL="postgres://$(urlencode "${EMS_DATABASE_USER:-ems}"):$(urlencode "$password")@${EMS_DATABASE_HOST:-postgres}:${EMS_DATABASE_PORT:-5432}/${EMS_DATABASE_NAME:-ems}"
  export EMS_DATABASE_URL
  unset password
fi

if [ -z "${EMS_ADMIN_PASSWORD:-}" ] && [ -n "${EMS_ADMIN_PASSWORD_FILE:-}" ]; then
  EMS_ADMIN_PASSWORD=$(cat "$EMS_ADMIN_PASSWORD_FILE")
  export EMS_ADMIN_PASSWORD
fi

exec "${EMS_BIN:-/usr/local/bin/ems}" "$@"
