#!/usr/bin/env bash
# Installs every Debian/Ubuntu package Pincer needs to build, test and run.
# Idempotent and non-interactive: packages already present are skipped, so a second run
# makes no changes and needs no root.
set -euo pipefail

packages=(
  # toolchain
  g++ cmake ninja-build ccache pkg-config make git
  # libraries
  libsqlite3-dev libssl-dev libcli11-dev libspdlog-dev libfmt-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  # tests and benchmarks
  python3 python3-pytest python3-requests python3-httpx python3-cryptography wrk curl ca-certificates
  # fuzzing (libFuzzer comes with clang's runtime)
  clang libclang-rt-dev
  # sandboxes
  bubblewrap libseccomp-dev procps python3-minimal
)

# Boost >= 1.81 (Asio, Beast, JSON): Debian 12 ships it as 1.81 beside the default 1.74;
# newer releases have it as the default.
if apt-cache show libboost1.81-dev >/dev/null 2>&1; then
  packages+=(libboost1.81-dev libboost-json1.81-dev)
else
  packages+=(libboost-dev libboost-json-dev)
fi

# Node.js and npm drive the official openai and @anthropic-ai/sdk packages in the functional
# tests. Keep a Node that is already installed (e.g. from NodeSource, which bundles npm).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

# Debian 12 names clang's runtime per version.
if ! apt-cache show libclang-rt-dev >/dev/null 2>&1; then
  packages=("${packages[@]/libclang-rt-dev/libclang-rt-14-dev}")
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
  else
    echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
