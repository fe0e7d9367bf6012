// MelodAI — licensed under the Apache License 2.0.
// The failure path of MELODAI_CHECK.
#include "core/check.h"

#include <cstdio>
#include <cstdlib>

namespace melodai::core::internal {

void CheckFailed(const char* file, int line, const char* condition, const char* message) {
  std::fprintf(stderr, "%s:%d: CHECK failed: %s %s\n", file, line, condition, message);
  std::fflush(stderr);
  std::abort();
}

}  // namespace melodai::core::internal
