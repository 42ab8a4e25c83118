#!/usr/bin/env bash
# The README's test command: installs the Debian packages the tests need when any is missing, then runs the whole
# suite (`dotnet test SharpLM.slnx`, extra arguments passed on). The packages: PyTorch 1.13 and numpy for the parity
# tests against a plain PyTorch BERT (tests/reference/), chromium for the playground page's browser test, and Open MPI
# (openmpi-bin, libopenmpi-dev) for the data-parallel tests, which start real mpirun; libgomp1 (GCC's OpenMP runtime)
# for llama.cpp's CPU library, which the GGUF tests load through LLamaSharp.
# As root it installs them with apt-get; otherwise through `sudo -n` when that needs no password; else it says which
# command to run and stops. .ci/run calls this script.
set -uo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(python3 python3-torch python3-numpy chromium openmpi-bin libopenmpi-dev libgomp1)
missing=()
for package in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  if ! command -v apt-get >/dev/null; then
    echo "tests/run.sh: the tests need ${missing[*]} (Debian packages), and this system has no apt-get; install their equivalents, then run: dotnet test SharpLM.slnx" >&2
    exit 1
  fi
  if [ "$(id -u)" -eq 0 ]; then as_root=()
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then as_root=(sudo -n)
  else
    echo "tests/run.sh: the tests need the Debian packages ${missing[*]}. Install them as root, then run this again:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  echo "tests/run.sh: installing ${missing[*]} (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || {
    echo "tests/run.sh: apt-get could not install ${missing[*]}" >&2
    exit 1
  }
fi

exec dotnet test SharpLM.slnx "$@"
