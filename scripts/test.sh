#!/usr/bin/env bash
# Runs the whole test suite against real PostgreSQL, RabbitMQ and NATS on 127.0.0.1, starting
# (and installing if needed) those services first. Also checks formatting and lints, and tests
# the dashboard: unit tests and end-to-end tests in Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_cargo
ensure_services
ensure_deployment_tools
ensure_cargo_deny
ensure_embedding_model

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
