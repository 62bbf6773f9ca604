#!/usr/bin/env bash
# Fills the scaling table of docs/performance.md: `ems bench pipeline` with 1, 2, 3 and 4 monitor
# replicas (200 devices), then with 1,000, 10,000 and 100,000 devices (3 replicas), each run with
# its raw broker hop measured beside it; and a CPU profile of every process on the machine during
# one pipeline run, drawn as a flame graph (docs/pipeline-flamegraph.svg).
#
#   scripts/scaling.sh            all of it (about 10 minutes on 2 cores)
#   scripts/scaling.sh table      only the table
#   scripts/scaling.sh profile    only the flame graph
#   EMS_SCALING_READINGS=N        readings per throughput run (default 100000)
#
# Needs PostgreSQL, RabbitMQ and NATS as services.sh provides them; the profile needs Linux's
# `perf` (Debian's linux-perf) and inferno (from crates.io, built once into target/tools).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh

ensure_cargo
ensure_services
echo "==> building ems (release)"
cargo build --release --quiet --bin ems

what=${1:-all}
case $what in
  all | table | profile) ;;
  *)
    echo "usage: scripts/scaling.sh [all|table|profile]" >&2
    exit 2
    ;;
esac
readings=${EMS_SCALING_READINGS:-100000}
out=target/scaling
mkdir -p "$out"
rows=()

# run LABEL ARGS...: one pipeline benchmark; its report goes to target/scaling/LABEL.txt and a
# row of the table to `rows`.
run() {
  local label=$1
  shift
  echo "==> pipeline: $label"
  target/release/ems --log warn bench pipeline --readings "$readings" --latency-seconds 5 "$@" \
    >"$out/$label.txt" 2>"$out/$label.log" || {
    echo "error: the benchmark ($label) failed; see $out/$label.log" >&2
    tail -n 20 "$out/$label.log" >&2
    exit 1
  }
  cat "$out/$label.txt"
  rows+=("$(awk -v label="$label" '
    /raw broker single hop/ { raw = $(NF - 1) }
    /full pipeline/ { pipeline = $(NF - 1) }
    /pipeline \/ raw hop/ { ratio = $NF }
    /publish-to-alert latency/ { p99 = $(NF - 1) }
    /cores busy during the pipeline run:/ { sub(/.*run: /, ""); split($0, parts, ", "); busiest = parts[1] ", " parts[2] }
    /peak RSS monitor 1/ { monitor = $(NF - 1) }
    END { printf "| %s | %s | %s | %s | %s | %s | %s |", label, raw, pipeline, ratio, p99, monitor, busiest }
  ' "$out/$label.txt")")
}

table() {
  for replicas in 1 2 3 4; do
    run "$replicas monitor$([[ $replicas == 1 ]] || echo s), 200 devices" --monitors "$replicas" --devices 200
  done
  for devices in 1000 10000 100000; do
    run "3 monitors, $devices devices" --monitors 3 --devices "$devices"
  done

  markdown=$(
    echo "| setup | raw hop msg/s | pipeline readings/s | pipeline / raw | alert p99 ms (half load) | monitor peak RSS MiB | busiest (cores) |"
    echo "|---|---:|---:|---:|---:|---:|---|"
    printf '%s\n' "${rows[@]}"
  )
  echo "$markdown"

  # The table goes between the markers in docs/performance.md, with the date and the machine.
  {
    echo "<!-- scaling:begin -->"
    echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores, $readings readings per run (\`scripts/scaling.sh\`):"
    echo
    echo "$markdown"
    echo "<!-- scaling:end -->"
  } >"$out/table.md"
  awk -v table="$out/table.md" '
    /<!-- scaling:begin -->/ { while ((getline line < table) > 0) print line; skipping = 1; next }
    /<!-- scaling:end -->/ { skipping = 0; next }
    !skipping { print }
  ' docs/performance.md >"$out/performance.md"
  mv "$out/performance.md" docs/performance.md
  echo "==> docs/performance.md: scaling table updated"
}

profile() {
  command -v perf >/dev/null || apt_install linux-perf
  if [[ ! -x $ems_tools/inferno/bin/inferno-flamegraph ]]; then
    echo "==> installing inferno (flame graphs) from crates.io into target/tools/inferno"
    cargo install --quiet --locked --root "$ems_tools/inferno" inferno
  fi
  echo "==> profiling every process during one pipeline throughput run (3 monitors, 200 devices)"
  target/release/ems --log warn bench pipeline --readings "$readings" --rounds 1 --latency-seconds 1 \
    >"$out/profiled.txt" 2>"$out/profiled.log" &
  bench=$!
  # The profile starts when the benchmark says the throughput run starts (after the raw hop and
  # the replicas' start: "<n> messages/s; the full pipeline ...") and lasts about as long as it.
  until grep -qF "; the full pipeline ..." "$out/profiled.log"; do
    kill -0 "$bench" 2>/dev/null || { echo "error: the profiled benchmark stopped; see $out/profiled.log" >&2; exit 1; }
    sleep 0.1
  done
  as_root perf record --quiet -a -F 199 --call-graph dwarf,16384 -o "$out/perf.data" -- sleep 5 2>/dev/null
  wait "$bench"
  # Idle time (the kernel's `swapper`) is left out: the picture is of the work.
  as_root perf script -i "$out/perf.data" 2>/dev/null |
    "$ems_tools/inferno/bin/inferno-collapse-perf" --all | grep -v '^swapper' >"$out/stacks.folded"
  "$ems_tools/inferno/bin/inferno-flamegraph" --title "EMS pipeline: every process, 5 s of a throughput run (idle left out)" \
    --width 1400 <"$out/stacks.folded" >docs/pipeline-flamegraph.svg
  echo "==> docs/pipeline-flamegraph.svg: $(wc -l <"$out/stacks.folded") distinct stacks"
  # Where the samples went, by process: the first frame of each folded stack is its command.
  awk -F';' '{ split($NF, tail, " "); count[$1] += tail[length(tail)]; total += tail[length(tail)] }
    END { for (name in count) printf "  %5.1f%%  %s\n", 100 * count[name] / total, name }' \
    "$out/stacks.folded" | sort -rn | head -n 8
}

[[ $what == profile ]] || table
[[ $what == table ]] || profile
