// MelodAI — licensed under the Apache License 2.0.
// Test paths.
#include "testing/test_paths.h"

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace melodai::testing {

std::filesystem::path SharedDataDir() {
  if (const char* overridden = std::getenv("MELODAI_SHARED_DATA")) return overridden;
  return MELODAI_SHARED_DATA_DIR;
}

std::filesystem::path MakeTempDir(std::string_view name) {
  std::filesystem::path dir = std::filesystem::path(MELODAI_TEST_TMP_DIR) /
                              (std::string(name) + "." + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace melodai::testing
