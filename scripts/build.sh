#!/usr/bin/env bash
# MelodAI — configures and builds into build/ (Release with debug info, warnings as errors).
# Usage: scripts/build.sh [extra cmake -D options...]; BUILD_DIR and TARGETS may be set.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
JOBS=${JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMELODAI_WERROR=ON "$@"
# shellcheck disable=SC2086
cmake --build "$BUILD_DIR" -j "$JOBS" ${TARGETS:+--target $TARGETS}
