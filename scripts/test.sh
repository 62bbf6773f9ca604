#!/usr/bin/env bash
# Runs the whole test suite against real PostgreSQL, RabbitMQ and NATS on 127.0.0.1, starting
# (and installing if needed) those services first. Also checks formatting and lints, and tests
# the dashboard: unit tests and end-to-end tests in Debian's Chromium.
#
#   scripts/test.sh [--setup-only]
#
#   --setup-only  install and start everything the tests need (the services, the tools, the
#                 embedding model, Node.js and the dashboard's packages, Chromium), then stop
#                 without building or testing: to prepare a machine, or to check that this works
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

setup_only=""
case ${1:-} in
  "") ;;
  --setup-only) setup_only=1 ;;
  -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  *) echo "test.sh: unknown argument $1 (see scripts/test.sh --help)" >&2; exit 2 ;;
esac

ensure_cargo
ensure_services
ensure_deployment_tools
ensure_cargo_deny
ensure_embedding_model
if [[ -n $setup_only ]]; then
  ensure_schemathesis
  build_ui
  ensure_chromium
  /usr/bin/chromium --headless=new --no-sandbox --disable-gpu --dump-dom 'data:text/html,<p>ready</p>' 2>/dev/null |
    grep -q '<p>ready</p>' || { echo "error: Chromium does not run headless here" >&2; exit 1; }
  echo "==> set-up done: everything the tests need is installed and running (--setup-only: no tests run)"
  exit 0
fi

started=$SECONDS
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo deny: licences, sources and duplicate versions of the dependencies (deny.toml)"
# The advisory database is a git repository that this network cannot reach, so advisories are
# not checked here; run `cargo deny check advisories` where it can.
"$EMS_CARGO_DENY_BIN" --log-level error check licenses bans sources
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> cargo test"
cargo test --workspace
scripts/schemathesis.sh

build_ui
ensure_chromium
echo "==> dashboard: lint, unit tests, end-to-end tests in Chromium against ems all"
(
  cd web/ui
  npm run --silent lint
  npm test
  EMS_BIN="$PWD/../../target/debug/ems" npm run e2e
)
echo "==> all tests passed in $((SECONDS - started))s"
