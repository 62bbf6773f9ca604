#!/usr/bin/env bash
# Runs the README's two commands, unchanged, on a clean Debian 12: a container made from
# ems-local/debian:bookworm (debootstrap's minbase, see docker.sh) in which only ca-certificates,
# git, curl, gcc and libc6-dev are installed by hand, as on a new machine. It
#   1. clones this repository (its committed HEAD; the uncommitted work is not in a clone),
#   2. starts scripts/run.sh and waits until the dashboard answers on http://127.0.0.1:8080/ and
#      the banner is printed; checks that the dashboard's page and its script are served, the API
#      docs and metrics answer, and a demo customer (ana / ems-demo) can sign in and use the token,
#   3. stops run.sh with SIGTERM and checks that it exits and leaves no `ems` behind,
#   4. runs scripts/test.sh and requires it to pass (with --setup-only: only its set-up, which
#      installs and starts what the tests need, then stops; for a CI that has run the suites on
#      its own machine already and is short of time).
# Everything run.sh and test.sh install (PostgreSQL, RabbitMQ, NATS, Node.js, Chromium, the npm
# packages) is installed from scratch every time. The Rust toolchain is the host's, mounted
# read-only (RUSTUP_HOME and the rustup proxies in CARGO_HOME/bin). To keep the build short, the
# crates downloaded into CARGO_HOME and the clone's target/ (less target/tools) live in the Docker
# volumes ems-fresh-cargo and ems-fresh-target, which later runs reuse.
#
#   scripts/fresh-machine-test.sh [--worktree] [--cold] [--keep] [--setup-only]
#
#   --worktree  test the working tree as it is (a clone, then the tracked and untracked files that
#               git does not ignore copied over it, deleted ones removed) instead of HEAD
#   --cold      build with new, empty volumes (removed afterwards) instead of the cached ones, as
#               on a machine that never built EMS (EMS_FRESH_COLD=1 does the same)
#   --keep      leave the container (and --cold's volumes) for a look inside afterwards
#   --setup-only  step 4 runs `scripts/test.sh --setup-only` (EMS_FRESH_SETUP_ONLY=1 does the same)
#
# Settings: EMS_FRESH_TIMEOUT (seconds for run.sh to bring the dashboard up, 2400),
# EMS_FRESH_TEST_TIMEOUT (seconds for test.sh, 2400), EMS_FRESH_LOGS (where the logs go,
# target/fresh-machine). The host's local CA certificates (/usr/local/share/ca-certificates),
# if any, are trusted inside as well, so that a host behind a TLS-inspecting proxy works the same.
# Needs a Docker engine (started if none answers, as docker.sh does) and no container registry.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/services.sh
source scripts/docker.sh

worktree=""
cold=${EMS_FRESH_COLD:-}
[[ $cold == 1 ]] || cold=""
keep=""
setup_only=${EMS_FRESH_SETUP_ONLY:-}
[[ $setup_only == 1 ]] || setup_only=""
while (($#)); do
  case $1 in
    --worktree) worktree=1; shift ;;
    --cold) cold=1; shift ;;
    --keep) keep=1; shift ;;
    --setup-only) setup_only=1; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d'  | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fresh-machine-test.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
done

run_timeout=${EMS_FRESH_TIMEOUT:-2400}
test_timeout=${EMS_FRESH_TEST_TIMEOUT:-2400}
logs=${EMS_FRESH_LOGS:-$PWD/target/fresh-machine}
container=ems-fresh-$$
src=/src/ems
url=http://127.0.0.1:8080
root=$PWD
summary=()
started=$SECONDS
phase_name="" phase_started=$SECONDS current_log=""

phase() { # name: starts timing a phase (and ends the one before)
  end_phase
  phase_name=$1 phase_started=$SECONDS
  echo "==> [$((SECONDS - started))s] $phase_name"
}
end_phase() {
  [[ -n $phase_name ]] || return 0
  summary+=("$(printf '%-52s %5ds' "$phase_name" $((SECONDS - phase_started)))")
  phase_name=""
}

# Writes each line to the log with the seconds since the phase began; shows the ==> lines.
stamp() { # log
  local log=$1 begun=$SECONDS line
  while IFS= read -r line || [[ -n $line ]]; do
    printf '[%4ds] %s\n' $((SECONDS - begun)) "$line" >>"$log"
    if [[ $line == '==> '* || $line == error:* ]]; then
      printf '    [%4ds] %s\n' $((SECONDS - begun)) "$line"
    fi
  done
}

in_container() {
  docker exec "$container" bash -c "$1"
}

fail() {
  echo "error: $*" >&2
  exit 1
}

# The host's Rust toolchain, as rustup installed it.
rustup_home=${RUSTUP_HOME:-$HOME/.rustup}
cargo_bin=${CARGO_HOME:-$HOME/.cargo}/bin
[[ -d $rustup_home/toolchains && -x $cargo_bin/cargo && -x $cargo_bin/rustup ]] ||
  fail "no rustup toolchain found (RUSTUP_HOME $rustup_home, proxies in $cargo_bin): install Rust with rustup"

commit=$(git rev-parse HEAD)
if [[ -n $worktree ]]; then
  what="the working tree (on commit ${commit:0:12})"
else
  what="a clone of commit ${commit:0:12} (HEAD)"
  [[ -z $(git status --porcelain --untracked-files=no) ]] ||
    echo "==> note: the uncommitted changes are not tested (--worktree tests them)"
fi

ensure_docker_engine
ensure_base_image

# Warm runs share the cache volumes, so only one of them at a time.
if [[ -z $cold ]]; then
  cargo_volume=ems-fresh-cargo target_volume=ems-fresh-target
  exec 9>"${TMPDIR:-/tmp}/ems-fresh-machine.lock"
  flock -n 9 || {
    echo "==> another fresh-machine test uses the cache volumes; waiting for it"
    flock -w $((run_timeout + test_timeout)) 9 || fail "the other fresh-machine test did not end in time"
  }
else
  cargo_volume=ems-fresh-cargo-cold-$$ target_volume=ems-fresh-target-cold-$$
fi
volume_state() {
  if docker volume inspect "$1" >/dev/null 2>&1; then echo "$1 (reused)"; else echo "$1 (new)"; fi
}
echo "==> build cache: $(volume_state "$cargo_volume") for CARGO_HOME, $(volume_state "$target_volume") for target/"
[[ -z $cold ]] || echo "==> --cold: these volumes are new and are removed afterwards"

mkdir -p "$logs"
rm -f "$logs"/*.log
readers=()

cleanup() {
  local status=$?
  set +e
  trap - INT TERM
  for reader in "${readers[@]}"; do kill "$reader" 2>/dev/null; done
  if ((status != 0)) && docker container inspect "$container" >/dev/null 2>&1; then
    echo "==> the fresh-machine test FAILED${phase_name:+ in: $phase_name}, after $((SECONDS - started))s" >&2
    ((${#summary[@]} == 0)) || printf '    done: %s\n' "${summary[@]}" >&2
    if [[ -n $current_log && -s $current_log ]]; then
      echo "---- the last 80 lines of $current_log ----" >&2
      tail -n 80 "$current_log" >&2
    fi
    echo "---- inside the container: processes and the services' logs ----" >&2
    in_container 'ps -eo pid,ppid,stat,etime,args --width 200 2>/dev/null | cut -c1-200
      for log in /var/log/postgresql/*.log /var/log/rabbitmq/*.log /var/log/nats-server.log; do
        [[ -s $log ]] || continue
        echo "---- $log (last 20 lines) ----"; tail -n 20 "$log"
      done' >&2 2>&1
    echo "==> full logs in $logs" >&2
  fi
  if [[ -n $keep ]]; then
    echo "==> --keep: the container $container is left (docker exec -it $container bash; docker rm -f $container)"
  else
    docker rm -f "$container" >/dev/null 2>&1
    [[ -z $cold ]] || docker volume rm "$cargo_volume" "$target_volume" >/dev/null 2>&1
  fi
  stop_docker_engine_if_started
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

phase "Debian 12 container, apt-get install git curl gcc"
mounts=(
  -v "$root:/repo:ro"
  -v "$rustup_home:/root/.rustup:ro"
  -v "$cargo_volume:/root/.cargo"
  -v "$cargo_bin:/root/.cargo/bin:ro"
  -v "$target_volume:/cache/target"
)
environment=(
  -e HOME=/root
  -e PATH=/root/.cargo/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
  -e RUSTUP_HOME=/root/.rustup -e CARGO_HOME=/root/.cargo -e RUSTUP_AUTO_INSTALL=0
)
[[ -z ${CI:-} ]] || environment+=(-e "CI=$CI")
local_cas=""
if compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
  # Node.js reads only its own CA list unless told of the system's.
  local_cas=1
  mounts+=(-v /usr/local/share/ca-certificates:/usr/local/share/ca-certificates/host:ro)
  environment+=(-e NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt)
fi
# --init reaps the daemons' orphans as a real init would; /dev/shm as large as a machine's.
docker run -d --init --name "$container" --hostname ems-fresh --shm-size 1g \
  "${mounts[@]}" "${environment[@]}" "$BASE_IMAGE" sleep infinity >/dev/null
current_log=$logs/prepare.log
{
  [[ -z $local_cas ]] || in_container 'update-ca-certificates >/dev/null'
  in_container 'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates git curl gcc libc6-dev >/dev/null'
} >"$current_log" 2>&1 || fail "could not install the first packages into the container"

if [[ -n $worktree ]]; then
  phase "git clone, the working tree copied over it"
else
  phase "git clone"
fi
current_log=$logs/clone.log
in_container "git -c safe.directory=/repo clone --quiet file:///repo $src && cd $src && git checkout --quiet $commit" \
  >"$current_log" 2>&1 || fail "could not clone the repository into the container"
if [[ -n $worktree ]]; then
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' file; do if [[ -e $file || -L $file ]]; then printf '%s\0' "$file"; fi; done |
    tar --null -T - -cf - | docker exec -i "$container" tar -C "$src" -xf - ||
    fail "could not copy the working tree into the container"
  git ls-files -z --deleted | docker exec -i "$container" bash -c "cd $src && xargs -0 -r rm -f"
fi
# target/ is the cached volume; Node.js and the JWT secret are not kept from earlier runs.
in_container "rm -rf /cache/target/tools /cache/target/ems-jwt-secret && ln -s /cache/target $src/target"
echo "    testing $what"

phase "scripts/run.sh until the dashboard answers"
current_log=$logs/run.log
docker exec "$container" bash -c "cd $src && { scripts/run.sh & echo \$! >/tmp/run.pid; wait \$!; echo \"run.sh exited with status \$?\"; }" \
  2>&1 | stamp "$current_log" &
run_reader=$!
readers+=("$run_reader")
until grep -q 'EMS is running\.' "$current_log" 2>/dev/null &&
  in_container "curl -fsS -o /dev/null --max-time 5 $url/" 2>/dev/null; do
  kill -0 "$run_reader" 2>/dev/null || fail "run.sh ended before the dashboard answered"
  ((SECONDS - phase_started < run_timeout)) ||
    fail "the dashboard did not answer within ${run_timeout}s (EMS_FRESH_TIMEOUT)"
  sleep 2
done

phase "checks: the dashboard's page, a demo login"
current_log=$logs/checks.log
: >"$current_log"
page=$(in_container "curl -fsS --max-time 10 $url/") || fail "GET / failed"
[[ $page == *'<title>EMS</title>'* && $page == *'<div id="app">'* ]] ||
  fail "GET / did not serve the dashboard's page: $(head -c 300 <<<"$page")"
script=$(grep -o 'src="/assets/[^"]*\.js"' <<<"$page" | head -n 1 | cut -d'"' -f2) ||
  fail "the dashboard's page names no built script (is it the unbuilt index.html?)"
in_container "curl -fsS --max-time 10 -o /dev/null $url$script" || fail "GET $script failed"
in_container "curl -fsS --max-time 10 -o /dev/null $url/api/docs/" || fail "GET /api/docs/ failed"
in_container "curl -fsS --max-time 10 -o /dev/null $url/metrics" || fail "GET /metrics failed"
session=$(in_container "curl -sS --max-time 10 -w '\n%{http_code}' -H 'content-type: application/json' \
  -d '{\"username\":\"ana\",\"password\":\"ems-demo\"}' $url/api/auth/login") || fail "POST /api/auth/login failed"
echo "POST /api/auth/login: $session" >>"$current_log"
[[ ${session##*$'\n'} == 200 ]] || fail "the demo login answered ${session##*$'\n'}: ${session%$'\n'*}"
token=$(grep -o '"access_token":"[^"]*"' <<<"$session" | cut -d'"' -f4) || true
[[ -n $token ]] || fail "the demo login's answer carries no access token: ${session%$'\n'*}"
me=$(in_container "curl -fsS --max-time 10 -H 'authorization: Bearer $token' $url/api/me") ||
  fail "GET /api/me with the demo login's token failed"
echo "GET /api/me: $me" >>"$current_log"
[[ $me == *'"username":"ana"'* ]] || fail "GET /api/me did not answer for ana: $me"
ticket=$(in_container "curl -fsS --max-time 10 -X POST -H 'authorization: Bearer $token' $url/api/ws-ticket") ||
  fail "POST /api/ws-ticket with the demo login's token failed"
[[ $ticket == *'"ticket":"'* ]] || fail "POST /api/ws-ticket answered without a ticket: $ticket"
echo "    dashboard page and script, /api/docs/ and /metrics served; ana signed in, GET /api/me answered, a WebSocket ticket issued"

phase "run.sh stopped with SIGTERM"
current_log=$logs/run.log
in_container 'kill -TERM "$(cat /tmp/run.pid)"'
for ((i = 0; i < 120; i++)); do
  kill -0 "$run_reader" 2>/dev/null || break
  sleep 0.5
done
kill -0 "$run_reader" 2>/dev/null && fail "run.sh did not exit within 60s of SIGTERM"
status=$(grep -o 'run.sh exited with status [0-9]*' "$current_log" | grep -o '[0-9]*$') || true
case $status in
  0 | 143) ;;
  *) fail "run.sh exited with status ${status:-unknown} after SIGTERM" ;;
esac
left=$(in_container 'for p in /proc/[0-9]*; do
    [[ $(readlink "$p/exe" 2>/dev/null) == */release/ems ]] && echo "${p#/proc/}: $(tr "\0" " " <"$p/cmdline")"
  done; true')
[[ -z $left ]] || fail "run.sh exited but left ems processes behind: $left"
in_container "! (exec 3<>/dev/tcp/127.0.0.1/8080) 2>/dev/null" || fail "127.0.0.1:8080 still answers after run.sh exited"
echo "    run.sh exited with status $status; no ems left, port 8080 closed"

test_command="scripts/test.sh${setup_only:+ --setup-only}"
phase "$test_command"
current_log=$logs/test.log
timeout "$test_timeout" docker exec "$container" bash -c "cd $src && $test_command" 2>&1 | stamp "$current_log" || {
  status=$?
  ((status != 124)) || fail "test.sh did not finish within ${test_timeout}s (EMS_FRESH_TEST_TIMEOUT)"
  fail "test.sh failed (status $status)"
}
grep -E '^\[ *[0-9]+s\] +[0-9]+ passed, [0-9]+ failed' "$current_log" | tail -n 1 |
  sed -E 's/^\[ *[0-9]+s\] +/    end-to-end tests: /' || true
end_phase

cache=$(in_container 'du -sh /root/.cargo/registry /cache/target 2>/dev/null | awk "{printf \"%s %s, \", \$2, \$1}"') || true
written=$(docker ps -a -s --filter "name=^$container\$" --format '{{.Size}}') || true
echo "==> the fresh-machine test passed in $((SECONDS - started))s, testing $what:"
printf '    %s\n' "${summary[@]}"
echo "    cache volumes ($([[ -n $cold ]] && echo "cold, removed now" || echo "warm, kept")): ${cache%, }"
echo "    written into the container (apt packages, Node.js, npm packages, the clone): $written"
echo "    logs in $logs"
