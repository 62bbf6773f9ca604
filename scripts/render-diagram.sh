#!/usr/bin/env bash
# Renders docs/deployment.puml to docs/deployment.svg with Debian's plantuml (installed if
# missing; it needs Java). With an argument, writes deployment.svg into that directory instead
# (the tests render to a temporary directory and compare with docs/deployment.svg).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs}

if ! command -v plantuml >/dev/null; then
  echo "==> installing plantuml (apt-get install plantuml)" >&2
  sudo=
  [[ $(id -u) == 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq plantuml >/dev/null
fi

mkdir -p "$out"
# -nometadata: no embedded source or version, so the same source renders to the same bytes.
# Headless Java; a fixed font keeps the layout the same from one machine to the next.
JAVA_TOOL_OPTIONS="${JAVA_TOOL_OPTIONS:-} -Djava.awt.headless=true" \
  plantuml -tsvg -nometadata -charset UTF-8 -o "$(realpath "$out")" docs/deployment.puml 2> >(grep -v '^Picked up JAVA_TOOL_OPTIONS' >&2)
[[ -s $out/deployment.svg ]] || { echo "render-diagram.sh: no $out/deployment.svg" >&2; exit 1; }
echo "==> $out/deployment.svg"
