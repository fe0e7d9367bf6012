// MelodAI — licensed under the Apache License 2.0.
// One entry point for every dataset: detects the format of a path, reads it with the right
// reader and keeps a binary cache so the second load of unchanged inputs skips parsing.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"
#include "core/thread_pool.h"
#include "data/csv_reader.h"
#include "data/dataset.h"

namespace melodai::data {

enum class DataFormat : uint8_t { kAuto, kMpd, kLastfm, kCsv, kArff };

// Parses "auto", "mpd", "lastfm", "csv", "arff".
core::Result<DataFormat> ParseDataFormat(std::string_view text);
std::string_view DataFormatName(DataFormat format);

// A folder with mpd.slice.*.json files -> kMpd; a folder with user_artists.dat -> kLastfm;
// a .csv/.tsv file -> kCsv; a .arff file, or a folder with exactly one, -> kArff.
// kNotFound when the path does not exist, kInvalidArgument when nothing matches.
core::Result<DataFormat> DetectDataFormat(const std::filesystem::path& path);

struct LoadOptions {
  DataFormat format = DataFormat::kAuto;
  bool use_cache = true;
  std::filesystem::path cache_dir;  // empty: DefaultCacheDir()
  CsvOptions csv;
  core::ThreadPool* pool = nullptr;  // borrowed; parses MPD slices in parallel when set
};

struct LoadInfo {
  DataFormat format = DataFormat::kAuto;
  bool from_cache = false;
  bool cache_written = false;
  double seconds = 0.0;
  std::filesystem::path cache_file;
  std::string cache_note;  // why the cache was not used or not written, if so
};

// Loads `path`. A missing, stale or corrupt cache is rebuilt (and said so in info->cache_note);
// a cache that cannot be written is a warning, not an error.
core::Result<Dataset> LoadDataset(const std::filesystem::path& path, const LoadOptions& options,
                                  LoadInfo* info = nullptr);

}  // namespace melodai::data
