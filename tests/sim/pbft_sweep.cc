// MelodAI — licensed under the Apache License 2.0.
// The long PBFT simulation sweep, outside ctest:
//   melodai_pbft_sweep [--n 4] [--first 1] [--count 100000]
// Prints failing seeds (replay one with --first <seed> --count 1) and a summary.

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "tests/sim/pbft_simulation.h"

int main(int argc, char** argv) {
  uint32_t n = 4;
  uint64_t first = 1;
  uint64_t count = 10'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--n") == 0) n = static_cast<uint32_t>(std::stoul(argv[i + 1]));
    else if (std::strcmp(argv[i], "--first") == 0) first = std::stoull(argv[i + 1]);
    else if (std::strcmp(argv[i], "--count") == 0) count = std::stoull(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: %s [--n N] [--first SEED] [--count COUNT]\n", argv[0]);
      return 2;
    }
  }
  if (n < 1 || n > 64) {
    std::fprintf(stderr, "--n must be in [1, 64]\n");
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  uint64_t failures = 0, height = 0, view_changes = 0, restarts = 0, snapshots = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    melodai::sim::SimOptions options = melodai::sim::RandomScenario(seed, n);
    options.trace = std::getenv("MELODAI_SIM_TRACE") != nullptr;
    melodai::sim::SimResult result = melodai::sim::RunSimulation(options);
    height += result.final_height;
    view_changes += result.max_view;
    restarts += result.restarts;
    snapshots += result.snapshots_installed;
    if (!result.ok) {
      ++failures;
      std::printf("FAILED seed %llu: %s\n  %s\n", static_cast<unsigned long long>(seed),
                  result.description.c_str(), result.failure.c_str());
      std::fflush(stdout);
    }
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("n=%u seeds=%llu..%llu failures=%llu blocks=%llu views=%llu restarts=%llu "
              "snapshots=%llu time=%.1fs\n",
              n, static_cast<unsigned long long>(first),
              static_cast<unsigned long long>(first + count - 1),
              static_cast<unsigned long long>(failures), static_cast<unsigned long long>(height),
              static_cast<unsigned long long>(view_changes),
              static_cast<unsigned long long>(restarts),
              static_cast<unsigned long long>(snapshots), seconds);
  return failures == 0 ? 0 : 1;
}
