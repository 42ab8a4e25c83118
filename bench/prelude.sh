# Sourced by the bench scripts: moves to the repository root, makes the work folder ($work, BENCH_WORK
# to choose it), installs the Debian packages the script names if any is missing (as root), builds the
# Release binaries and names them $bench and $sharplm.
# usage: . "$(dirname "$0")/prelude.sh" PACKAGE...
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
work="${BENCH_WORK:-$(mktemp -d)}"
mkdir -p "$work"
for package in "$@"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
    break
  fi
done
dotnet build -c Release bench/SharpLM.Bench >/dev/null
dotnet build -c Release src/SharpLM.Cli >/dev/null
bench="dotnet bench/SharpLM.Bench/bin/Release/net10.0/linux-x64/SharpLM.Bench.dll"
sharplm="dotnet src/SharpLM.Cli/bin/Release/net10.0/linux-x64/SharpLM.Cli.dll"

# hf_config SHARPLM_CONFIG OUTPUT: the config of Hugging Face's BertForPreTraining for a SharpLM model's
# config.json (the same model, with the vocabulary projection on every position), for the PyTorch runs.
hf_config() {
  python3 - "$1" "$2" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["sharplm_sparse_mlm"] = False
json.dump(config, open(sys.argv[2], "w"), indent=2)
PY
}
