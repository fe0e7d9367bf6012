#!/usr/bin/env bash
# MelodAI — builds the libFuzzer targets with clang (ASan + UBSan) into build-fuzz/ and runs them.
# Usage: scripts/fuzz.sh smoke          (each target 20 s from its seed corpus; used by the tests)
#        scripts/fuzz.sh run SECONDS    (each target SECONDS, corpus kept in build-fuzz/corpus)
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=${1:-smoke}
SECONDS_EACH=${2:-30}
[[ $MODE == smoke ]] && SECONDS_EACH=20
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
  -DMELODAI_BUILD_TESTS=OFF -DMELODAI_BUILD_FUZZERS=ON -DMELODAI_SANITIZE=address,undefined >/dev/null
# Only the fuzz targets (and the libraries they link), not the whole tree.
targets=$(for source in fuzz/*_fuzz.cc; do echo "melodai_$(basename "$source" .cc)"; done)
# shellcheck disable=SC2086
cmake --build build-fuzz -j "$(nproc)" --target $targets
status=0
for fuzzer in build-fuzz/fuzz/melodai_*_fuzz; do
  name=$(basename "$fuzzer" | sed 's/^melodai_//; s/_fuzz$//')
  corpus=build-fuzz/corpus/$name
  mkdir -p "$corpus"
  echo "fuzz: $name for ${SECONDS_EACH}s"
  if ! "$fuzzer" -max_total_time="$SECONDS_EACH" -print_final_stats=1 "$corpus" "fuzz/corpus/$name" \
      2> "build-fuzz/$name.log"; then
    echo "fuzz: $name FAILED; see build-fuzz/$name.log" >&2
    tail -40 "build-fuzz/$name.log" >&2
    status=1
  else
    grep -E "stat::number_of_executed_units|Done" "build-fuzz/$name.log" | tail -2
  fi
done
exit $status
