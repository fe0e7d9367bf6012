// MelodAI — licensed under the Apache License 2.0.
// Whole-file reads and crash-safe writes, with errors that name the path.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace melodai::core {

// Reads the whole file. kNotFound if it does not exist, kIoError on other failures.
Result<std::string> ReadFile(const std::filesystem::path& path);

// Writes to "<path>.tmp.<pid>", fsyncs, then renames over `path`, so a crash leaves either
// the old or the new content, never a torn file. Creates parent folders.
Status WriteFileAtomic(const std::filesystem::path& path, std::string_view content);

// Regular files in `folder` whose names start with `prefix` and end with `suffix`, sorted
// by name in byte order. kNotFound if the folder does not exist.
Result<std::vector<std::filesystem::path>> ListFiles(const std::filesystem::path& folder,
                                                     std::string_view prefix,
                                                     std::string_view suffix);

}  // namespace melodai::core
