// MelodAI — licensed under the Apache License 2.0.
// Format detection, reader dispatch and the cache around them.
#include "data/loader.h"

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/file_util.h"
#include "data/arff_reader.h"
#include "data/cache.h"
#include "data/lastfm_reader.h"
#include "data/mpd_reader.h"

namespace melodai::data {
namespace {

bool EndsWith(const std::string& text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The files a dataset is read from (they make up the cache fingerprint).
core::Result<std::vector<std::filesystem::path>> InputFiles(const std::filesystem::path& path,
                                                            DataFormat format) {
  switch (format) {
    case DataFormat::kMpd: return core::ListFiles(path, "mpd.slice.", ".json");
    case DataFormat::kLastfm: {
      std::vector<std::filesystem::path> files;
      for (const char* name : {"artists.dat", "user_artists.dat", "user_friends.dat", "tags.dat",
                               "user_taggedartists.dat"}) {
        if (std::filesystem::exists(path / name)) files.push_back(path / name);
      }
      return files;
    }
    case DataFormat::kArff: {
      std::filesystem::path arff = path;
      if (std::filesystem::is_directory(path)) {
        MELODAI_ASSIGN_OR_RETURN(auto found, core::ListFiles(path, "", ".arff"));
        if (found.size() != 1) return core::InvalidArgumentError("expected one .arff file in " + path.string());
        arff = found.front();
      }
      std::vector<std::filesystem::path> files = {arff};
      std::filesystem::path xml = arff;
      xml.replace_extension(".xml");
      if (std::filesystem::exists(xml)) files.push_back(xml);
      return files;
    }
    case DataFormat::kCsv: return std::vector<std::filesystem::path>{path};
    case DataFormat::kAuto: break;
  }
  return core::InternalError("format not resolved");
}

core::Result<Dataset> ReadUncached(const std::filesystem::path& path, DataFormat format,
                                   const std::vector<std::filesystem::path>& files,
                                   const LoadOptions& options) {
  switch (format) {
    case DataFormat::kMpd: return ReadMpdFolder(path, options.pool);
    case DataFormat::kLastfm: return ReadLastfmFolder(path);
    case DataFormat::kArff: return ReadMulanArff(files.front(), files.size() > 1 ? files[1] : std::filesystem::path());
    case DataFormat::kCsv: return ReadCsvInteractions(path, options.csv);
    case DataFormat::kAuto: break;
  }
  return core::InternalError("format not resolved");
}

// Everything that changes what a reader returns, for the fingerprint.
std::string OptionsTag(DataFormat format, const LoadOptions& options) {
  std::string tag(DataFormatName(format));
  if (format == DataFormat::kCsv) {
    const CsvOptions& csv = options.csv;
    tag += "|" + std::string(1, csv.delimiter) + "|" + (csv.has_header ? "h" : "n") + "|" + csv.user_column +
           "|" + csv.item_column + "|" + csv.timestamp_column + "|" + csv.weight_column + "|" +
           std::to_string(static_cast<int>(csv.media_type));
  }
  return tag;
}

}  // namespace

core::Result<DataFormat> ParseDataFormat(std::string_view text) {
  if (text == "auto") return DataFormat::kAuto;
  if (text == "mpd") return DataFormat::kMpd;
  if (text == "lastfm") return DataFormat::kLastfm;
  if (text == "csv") return DataFormat::kCsv;
  if (text == "arff") return DataFormat::kArff;
  return core::InvalidArgumentError("unknown data format '" + std::string(text) +
                                    "' (use auto, mpd, lastfm, csv or arff)");
}

std::string_view DataFormatName(DataFormat format) {
  switch (format) {
    case DataFormat::kAuto: return "auto";
    case DataFormat::kMpd: return "mpd";
    case DataFormat::kLastfm: return "lastfm";
    case DataFormat::kCsv: return "csv";
    case DataFormat::kArff: return "arff";
  }
  return "unknown";
}

core::Result<DataFormat> DetectDataFormat(const std::filesystem::path& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return core::NotFoundError(path.string() + " does not exist");
  if (std::filesystem::is_directory(path, error)) {
    MELODAI_ASSIGN_OR_RETURN(auto slices, core::ListFiles(path, "mpd.slice.", ".json"));
    if (!slices.empty()) return DataFormat::kMpd;
    if (std::filesystem::exists(path / "user_artists.dat")) return DataFormat::kLastfm;
    MELODAI_ASSIGN_OR_RETURN(auto arffs, core::ListFiles(path, "", ".arff"));
    if (arffs.size() == 1) return DataFormat::kArff;
    return core::InvalidArgumentError(
        "cannot tell the format of folder " + path.string() +
        ": no mpd.slice.*.json files, no user_artists.dat, no single .arff file");
  }
  const std::string name = path.filename().string();
  if (EndsWith(name, ".csv") || EndsWith(name, ".tsv") || EndsWith(name, ".txt")) return DataFormat::kCsv;
  if (EndsWith(name, ".arff")) return DataFormat::kArff;
  if (EndsWith(name, ".json")) {
    return core::InvalidArgumentError(path.string() + " is one JSON file: pass the folder of mpd.slice.*.json files");
  }
  return core::InvalidArgumentError("cannot tell the format of " + path.string() + " from its name (use --format)");
}

core::Result<Dataset> LoadDataset(const std::filesystem::path& path, const LoadOptions& options,
                                  LoadInfo* info) {
  LoadInfo local;
  LoadInfo& out = info != nullptr ? *info : local;
  core::Stopwatch watch;
  DataFormat format = options.format;
  if (format == DataFormat::kAuto) {
    MELODAI_ASSIGN_OR_RETURN(format, DetectDataFormat(path));
  }
  out.format = format;
  MELODAI_ASSIGN_OR_RETURN(auto files, InputFiles(path, format));
  if (files.empty()) {
    return core::NotFoundError("no input files for format " + std::string(DataFormatName(format)) + " in " +
                               path.string());
  }
  uint64_t fingerprint = 0;
  if (options.use_cache) {
    MELODAI_ASSIGN_OR_RETURN(fingerprint, FingerprintInputs(OptionsTag(format, options), files));
    const std::filesystem::path cache_dir = options.cache_dir.empty() ? DefaultCacheDir() : options.cache_dir;
    out.cache_file = CacheFileFor(cache_dir, path);
    auto bytes = core::ReadFile(out.cache_file);
    if (bytes.ok()) {
      auto cached = DecodeDataset(*bytes, fingerprint);
      if (cached.ok()) {
        out.from_cache = true;
        out.seconds = watch.ElapsedSeconds();
        return cached;
      }
      out.cache_note = "cache ignored: " + cached.status().ToString();
    }
  }
  MELODAI_ASSIGN_OR_RETURN(Dataset dataset, ReadUncached(path, format, files, options));
  if (options.use_cache) {
    core::Status written = core::WriteFileAtomic(out.cache_file, EncodeDataset(dataset, fingerprint));
    out.cache_written = written.ok();
    if (!written.ok()) out.cache_note += (out.cache_note.empty() ? "" : "; ") + written.ToString();
  }
  out.seconds = watch.ElapsedSeconds();
  return dataset;
}

}  // namespace melodai::data
