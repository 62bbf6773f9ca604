#!/usr/bin/env bash
# Runs the whole test suite against real PostgreSQL, RabbitMQ and NATS on 127.0.0.1, starting
# (and installing if needed) those services first. Also checks formatting and lints.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_cargo
ensure_services

started=$SECONDS
echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings
echo "==> cargo test"
cargo test --workspace
echo "==> all tests passed in $((SECONDS - started))s"
