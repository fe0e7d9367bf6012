#!/usr/bin/env bash
# MelodAI — installs every Debian 12 package the project builds, tests and benchmarks with.
# Idempotent: packages already present are skipped quickly. Run as root (or with sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git ccache
  clang libclang-rt-14-dev
  libtorch-dev libopenblas0-pthread
  libsodium-dev libssl-dev librocksdb-dev libasio-dev libcpp-httplib-dev nlohmann-json3-dev
  libsimdjson-dev libcli11-dev libspdlog-dev libfmt-dev libeigen3-dev
  libtomlplusplus-dev libgtest-dev libgmock-dev libbenchmark-dev
  python3
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
    missing+=("$package")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  SUDO="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
