#!/usr/bin/env bash
# MelodAI — the main job from a fresh machine: install packages, build, run `melodai demo` on the
# embedded synthetic world. Extra arguments go to `melodai demo` (e.g. --data ../shared/data/mpd).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
MELODAI_BUILD_TESTS=OFF TARGETS=melodai bash scripts/build.sh -DMELODAI_BUILD_TESTS=OFF
./build/melodai demo "$@"
