# Sourced by swarm-test.sh and fresh-machine-test.sh: a Docker engine to run containers on, and
# images built without any container registry (none is assumed reachable).
#
#   ensure_docker_engine   uses the engine that answers; otherwise installs Debian's docker.io
#                          (if dockerd is missing) and starts dockerd with its own data root
#                          (EMS_DOCKER_ROOT, default /var/lib/ems-docker), stopped again by
#                          stop_docker_engine_if_started
#   ensure_base_image      ems-local/debian:bookworm, a minimal Debian 12 made with debootstrap and
#                          `docker import`, rebuilt each month (for security updates); the root
#                          file system is cached in EMS_BUILD_CACHE (default ~/.cache/ems)
#   docker_build ARGS...   `docker build` with BuildKit (which builds only the stages a target
#                          needs), using whichever client can do that here
#
# Needs services.sh (as_root, apt_install) sourced first.

EMS_BUILD_CACHE=${EMS_BUILD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ems}
EMS_DOCKER_ROOT=${EMS_DOCKER_ROOT:-/var/lib/ems-docker}
BASE_IMAGE=ems-local/debian:bookworm
started_dockerd=""

ensure_docker_engine() {
  if docker info >/dev/null 2>&1; then
    echo "==> a Docker engine answers: $(docker info -f '{{.ServerVersion}}' 2>/dev/null)"
    return
  fi
  command -v dockerd >/dev/null || apt_install docker.io
  echo "==> starting dockerd (data root $EMS_DOCKER_ROOT, log /var/log/ems-dockerd.log)"
  as_root mkdir -p "$EMS_DOCKER_ROOT"
  as_root sh -c "dockerd --data-root '$EMS_DOCKER_ROOT' --host unix:///var/run/docker.sock \
    --pidfile /var/run/ems-dockerd.pid >>/var/log/ems-dockerd.log 2>&1 &"
  started_dockerd=1
  for ((i = 0; i < 120; i++)); do
    docker info >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "error: dockerd did not answer within 60s; see /var/log/ems-dockerd.log" >&2
  tail -n 20 /var/log/ems-dockerd.log >&2 || true
  return 1
}

stop_docker_engine_if_started() {
  [[ -n $started_dockerd ]] || return 0
  echo "==> stopping the dockerd this script started"
  local pid
  pid=$(cat /var/run/ems-dockerd.pid 2>/dev/null) || return 0
  as_root kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 60; i++)); do
    as_root kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
}

ensure_base_image() {
  local month
  month=$(date -u +%Y-%m)
  if [[ $(docker image inspect -f '{{index .Config.Labels "ems.month"}}' "$BASE_IMAGE" 2>/dev/null) == "$month" ]]; then
    echo "==> base image $BASE_IMAGE ($month) is cached"
    return
  fi
  local rootfs=$EMS_BUILD_CACHE/debian-bookworm-$month
  if [[ ! -f $rootfs/.complete ]]; then
    command -v debootstrap >/dev/null || apt_install debootstrap
    echo "==> making a Debian 12 root file system with debootstrap (about a minute)"
    as_root rm -rf "$rootfs" "$EMS_BUILD_CACHE"/debian-bookworm-*
    mkdir -p "$EMS_BUILD_CACHE"
    as_root debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" \
      http://deb.debian.org/debian >"$EMS_BUILD_CACHE/debootstrap.log" 2>&1 || {
      tail -n 20 "$EMS_BUILD_CACHE/debootstrap.log" >&2
      return 1
    }
    as_root sh -c "cat >'$rootfs/etc/apt/sources.list' <<'LIST'
deb http://deb.debian.org/debian bookworm main
deb http://deb.debian.org/debian bookworm-updates main
deb http://deb.debian.org/debian-security bookworm-security main
LIST
      rm -rf '$rootfs'/var/cache/apt/archives/*.deb '$rootfs'/var/lib/apt/lists/*
      touch '$rootfs/.complete'"
  fi
  echo "==> importing $BASE_IMAGE"
  as_root tar -C "$rootfs" --exclude=./.complete -c . |
    docker import --change "LABEL ems.month=$month" --change 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null
}

# The engine's own BuildKit: Docker 23+ clients hand `docker build` to buildx, which Debian's
# docker.io does not ship, while its own client (20.10) drives BuildKit itself.
docker_build() {
  if docker buildx version >/dev/null 2>&1; then
    docker buildx build --load "$@"
  elif [[ -x /usr/bin/docker ]] && /usr/bin/docker version -f '{{.Client.Version}}' 2>/dev/null | grep -q '^20\.'; then
    DOCKER_BUILDKIT=1 /usr/bin/docker build "$@"
  else
    DOCKER_BUILDKIT=1 docker build "$@"
  fi
}

# Builds an image only when its inputs changed: the tag's label ems.inputs holds a hash of them.
#   build_cached IMAGE HASH docker-build-arguments...
build_cached() {
  local image=$1 hash=$2
  shift 2
  if [[ $(docker image inspect -f '{{index .Config.Labels "ems.inputs"}}' "$image" 2>/dev/null) == "$hash" ]]; then
    echo "==> $image is up to date"
    return
  fi
  echo "==> building $image"
  docker_build --quiet --label "ems.inputs=$hash" -t "$image" "$@" >/dev/null
}
