// MelodAI — licensed under the Apache License 2.0.
// Where tests find the real datasets and where they may write scratch files.
#pragma once

#include <filesystem>
#include <string_view>

namespace melodai::testing {

// The shared real-data folder: $MELODAI_SHARED_DATA if set, else ../shared/data beside the
// source tree. Tests use it directly and never skip when it is missing: they fail.
std::filesystem::path SharedDataDir();

// A fresh empty folder for one test, below the build tree; `name` should be unique per test.
std::filesystem::path MakeTempDir(std::string_view name);

}  // namespace melodai::testing
