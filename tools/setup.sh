#!/bin/bash
# Installs every Debian package the project needs to build, test and run
# (Debian 12). Uses sudo when not root. Safe to run again.
#   tools/setup.sh          build, test and run
#   tools/setup.sh --bench  also PyTorch and OpenBLAS for tools/compare_bench.sh
#   tools/setup.sh --fuzz   also clang and its libFuzzer runtime for fuzz/
set -euo pipefail

packages=(
  bazel-bootstrap       # Bazel 4.2.3, works offline with third_party/ stand-ins
  g++
  git
  pkg-config
  libdnnl-dev           # oneDNN 2.6: dense math
  libabsl-dev           # Abseil: flags, status, strings, time
  libprotobuf-dev       # Protocol Buffers runtime
  protobuf-compiler     # protoc
  libgtest-dev          # GoogleTest
  libgmock-dev          # GoogleMock (matchers in tests)
  zlib1g-dev            # compressed checkpoints
  libpng-dev            # Pathfinder PNGs (official files, data render)
  openmpi-bin           # mpirun: data-parallel training (lra/dist), its test
  libopenmpi-dev        # OpenMPI headers and libmpi
  chromium              # the HTML report's browser test (headless)
  python3               # tools/dup_classes.py and its test
)
for option in "$@"; do
  case "$option" in
    --bench | --golden) packages+=(python3 python3-torch libopenblas0-pthread) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev libomp-dev time) ;;  # time: fuzz.sh's CPU column
    *)
      echo "setup: unknown option '$option' (allowed: --bench, --golden, --fuzz)" >&2
      exit 2
      ;;
  esac
done

sudo=""
if [[ "$(id -u)" != 0 ]]; then
  if ! command -v sudo >/dev/null; then
    echo "setup: not root and no sudo; install as root: apt-get install ${packages[*]}" >&2
    exit 1
  fi
  sudo="sudo"
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: all packages present" >&2
