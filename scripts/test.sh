#!/usr/bin/env bash
# MelodAI — the test job from a fresh machine: install packages, build everything with warnings
# as errors, run every ctest label (unit, integration, sim) against the real data in ../shared/data,
# then build the fuzzers with clang and give each a short smoke run over its seed corpus.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
if [[ ! -d ../shared/data/mpd ]]; then
  echo "test: ../shared/data/mpd is missing: the tests need the real datasets beside the checkout" >&2
  exit 1
fi
bash scripts/build.sh -DMELODAI_BUILD_TESTS=ON
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 900
bash scripts/fuzz.sh smoke
