// MelodAI — licensed under the Apache License 2.0.
// The binary dataset cache: a parsed Dataset written as explicit little-endian arrays behind a
// header (magic, format version, input fingerprint, payload size and checksum), so a second
// load of the same folder is a file read and a few memcpy calls instead of a JSON parse.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "data/dataset.h"

namespace melodai::data {

inline constexpr uint32_t kDatasetCacheVersion = 1;

// Identifies the inputs a dataset was read from: `tag` (format and options) plus every
// file's name, size and modification time. Any change gives a new fingerprint.
core::Result<uint64_t> FingerprintInputs(std::string_view tag,
                                         const std::vector<std::filesystem::path>& files);

// Serializes `dataset` with its input fingerprint.
std::string EncodeDataset(const Dataset& dataset, uint64_t fingerprint);

// Parses bytes produced by EncodeDataset. kDataLoss for bad magic, unknown version, a size or
// checksum mismatch or any malformed field; kFailedPrecondition when the fingerprint differs
// from `expected_fingerprint` (a stale cache). Pass expected_fingerprint = 0 to accept any.
core::Result<Dataset> DecodeDataset(std::string_view bytes, uint64_t expected_fingerprint);

// The cache folder: $MELODAI_CACHE_DIR, else $XDG_CACHE_HOME/melodai, else ~/.cache/melodai,
// else ./.melodai-cache.
std::filesystem::path DefaultCacheDir();

// The cache file for an input path within cache_dir: "<stem>-<hash of absolute path>.mds".
std::filesystem::path CacheFileFor(const std::filesystem::path& cache_dir,
                                   const std::filesystem::path& input);

}  // namespace melodai::data
