# Sourced by run.sh and test.sh: makes sure PostgreSQL, RabbitMQ and NATS (with JetStream) answer
# on 127.0.0.1 at their default ports. A service that already answers is used as it is; one that
# does not is installed from Debian's packages (if missing) and started.
# Set EMS_SKIP_SERVICES=1 to manage the services yourself (for example on other hosts).

as_root() {
  if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_for_port() { # name port seconds
  local name=$1 port=$2 seconds=$3
  for ((i = 0; i < seconds * 4; i++)); do
    port_open "$port" && return 0
    sleep 0.25
  done
  echo "error: $name did not start listening on 127.0.0.1:$port within ${seconds}s" >&2
  return 1
}

apt_updated=""
apt_install() {
  if [[ -z $apt_updated ]]; then
    echo "==> apt-get update"
    as_root apt-get update -qq
    apt_updated=1
  fi
  echo "==> installing $* from Debian's packages"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

ensure_postgres() {
  port_open 5432 && { echo "==> PostgreSQL answers on 127.0.0.1:5432"; return; }
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  local version
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  echo "==> starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for_port PostgreSQL 5432 30
  # A fresh Debian cluster has no password for `postgres`; give it the one the default URL uses.
  as_root su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
}

ensure_rabbitmq() {
  port_open 5672 && { echo "==> RabbitMQ answers on 127.0.0.1:5672"; return; }
  command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
  echo "==> starting RabbitMQ"
  as_root rabbitmq-server -detached
  wait_for_port RabbitMQ 5672 90
}

ensure_nats() {
  port_open 4222 && { echo "==> NATS answers on 127.0.0.1:4222"; return; }
  [[ -x /usr/sbin/nats-server ]] || command -v nats-server >/dev/null || apt_install nats-server
  local binary
  binary=$(command -v nats-server || echo /usr/sbin/nats-server)
  echo "==> starting NATS with JetStream"
  as_root mkdir -p /var/lib/nats-server
  as_root start-stop-daemon --start --oknodo --background --exec "$binary" -- \
    -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_for_port NATS 4222 30
}

ensure_services() {
  if [[ ${EMS_SKIP_SERVICES:-} == 1 ]]; then
    echo "==> EMS_SKIP_SERVICES=1: using the services as configured"
    return
  fi
  ensure_postgres
  ensure_rabbitmq
  ensure_nats
}

# Node.js 20.19 or newer with npm, for the dashboard's build and tests.
ensure_node() {
  if ! command -v npm >/dev/null; then
    apt_install nodejs npm
  fi
  local version
  version=$(node -p 'process.versions.node')
  if ! node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)'; then
    echo "error: Node.js $version is too old for the dashboard's build (Vite needs 20.19 or newer); install a newer Node.js" >&2
    exit 1
  fi
}

# Debian's Chromium, which the dashboard's end-to-end tests drive (no browser is downloaded).
ensure_chromium() {
  [[ -x /usr/bin/chromium ]] || apt_install chromium
}

# Installs the dashboard's npm packages when missing or out of date, then builds it.
build_ui() {
  ensure_node
  (
    cd web/ui
    if [[ ! -d node_modules || package-lock.json -nt node_modules/.package-lock.json ]]; then
      echo "==> installing the dashboard's npm packages"
      npm ci --no-audit --no-fund --loglevel=error
    fi
    echo "==> building the dashboard"
    npm run --silent build
  )
}

# docker-compose validates the deployment files (no engine needed); plantuml renders the diagram.
ensure_deployment_tools() {
  command -v docker-compose >/dev/null || apt_install docker-compose
  command -v plantuml >/dev/null || apt_install plantuml
}

ensure_cargo() {
  if ! command -v cargo >/dev/null; then
    echo "error: cargo is not installed; install the Rust toolchain (1.88 or newer) with rustup, then run this again" >&2
    exit 1
  fi
}
