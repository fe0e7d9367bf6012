// MelodAI — licensed under the Apache License 2.0.
// Dataset cache encoding. Layout: "MLDAIDS\0" | u32 version | u64 fingerprint | u64 payload
// size | u64 payload checksum (Hash64) | payload (source, description, catalog, sequences,
// item tags, social edges).
#include "data/cache.h"

#include <sys/stat.h>

#include <cstdlib>
#include <cstring>

#include "core/bytes.h"

namespace melodai::data {
namespace {

constexpr char kMagic[8] = {'M', 'L', 'D', 'A', 'I', 'D', 'S', '\0'};
constexpr size_t kHeaderBytes = sizeof(kMagic) + 4 + 8 + 8 + 8;
constexpr size_t kMaxDescriptionBytes = 1 << 16;
constexpr size_t kMaxEdges = size_t{1} << 32;

void EncodeTags(const ItemTags& tags, core::ByteWriter& writer) {
  tags.tag_names.Encode(writer);
  writer.PutArray<uint64_t>(tags.offsets);
  writer.PutArray<uint32_t>(tags.tags);
}

core::Status DecodeTags(core::ByteReader& reader, size_t item_count, ItemTags& tags) {
  MELODAI_RETURN_IF_ERROR(tags.tag_names.Decode(reader, "item_tags.names"));
  MELODAI_RETURN_IF_ERROR(reader.GetArray(tags.offsets, "item_tags.offsets", item_count + 1));
  MELODAI_RETURN_IF_ERROR(reader.GetArray(tags.tags, "item_tags.tags", size_t{1} << 34));
  if (tags.offsets.empty() || tags.offsets.front() != 0 || tags.offsets.back() != tags.tags.size()) {
    return core::DataLossError("item tag offsets do not span the tags");
  }
  if (tags.offsets.size() != 1 && tags.offsets.size() != item_count + 1) {
    return core::DataLossError("item tag offsets do not match the catalog");
  }
  for (size_t i = 1; i < tags.offsets.size(); ++i) {
    if (tags.offsets[i] < tags.offsets[i - 1]) return core::DataLossError("item tag offsets decrease");
  }
  for (uint32_t tag : tags.tags) {
    if (tag >= tags.tag_names.size()) return core::DataLossError("item tag id out of range");
  }
  return core::Status::Ok();
}

core::Status DecodePayload(core::ByteReader& reader, Dataset& dataset) {
  MELODAI_RETURN_IF_ERROR(reader.GetString(dataset.source, "source", kMaxDescriptionBytes));
  MELODAI_RETURN_IF_ERROR(reader.GetString(dataset.description, "description", kMaxDescriptionBytes));
  MELODAI_RETURN_IF_ERROR(dataset.catalog.Decode(reader));
  MELODAI_RETURN_IF_ERROR(dataset.sequences.Decode(reader, dataset.catalog.size()));
  MELODAI_RETURN_IF_ERROR(DecodeTags(reader, dataset.catalog.size(), dataset.item_tags));
  std::vector<uint32_t> edges;
  MELODAI_RETURN_IF_ERROR(reader.GetArray(edges, "social_edges", kMaxEdges));
  if (edges.size() % 2 != 0) return core::DataLossError("social edge list has an odd length");
  dataset.social_edges.reserve(edges.size() / 2);
  for (size_t i = 0; i < edges.size(); i += 2) {
    if (edges[i] >= dataset.sequences.size() || edges[i + 1] >= dataset.sequences.size()) {
      return core::DataLossError("social edge refers to a missing sequence");
    }
    dataset.social_edges.emplace_back(edges[i], edges[i + 1]);
  }
  if (!reader.done()) return core::DataLossError("trailing bytes after the dataset payload");
  return core::Status::Ok();
}

}  // namespace

core::Result<uint64_t> FingerprintInputs(std::string_view tag,
                                         const std::vector<std::filesystem::path>& files) {
  core::ByteWriter writer;
  writer.PutU32(kDatasetCacheVersion);
  writer.PutString(tag);
  for (const auto& file : files) {
    struct stat info {};
    if (::stat(file.c_str(), &info) != 0) {
      return core::IoError("cannot stat " + file.string() + ": " + std::strerror(errno));
    }
    writer.PutString(file.filename().string());
    writer.PutU64(static_cast<uint64_t>(info.st_size));
    writer.PutI64(static_cast<int64_t>(info.st_mtim.tv_sec) * 1'000'000'000 + info.st_mtim.tv_nsec);
  }
  const uint64_t fingerprint = core::Hash64(writer.buffer(), 0x6d656c6f);
  return fingerprint == 0 ? 1 : fingerprint;  // 0 means "accept any" in DecodeDataset.
}

std::string EncodeDataset(const Dataset& dataset, uint64_t fingerprint) {
  core::ByteWriter payload;
  payload.Reserve(dataset.sequences.event_count() * 8 + dataset.catalog.size() * 96);
  payload.PutString(dataset.source);
  payload.PutString(dataset.description);
  dataset.catalog.Encode(payload);
  dataset.sequences.Encode(payload);
  EncodeTags(dataset.item_tags, payload);
  std::vector<uint32_t> edges;
  edges.reserve(dataset.social_edges.size() * 2);
  for (const auto& [a, b] : dataset.social_edges) {
    edges.push_back(a);
    edges.push_back(b);
  }
  payload.PutArray<uint32_t>(edges);

  core::ByteWriter file;
  file.Reserve(kHeaderBytes + payload.size());
  file.PutRaw(kMagic, sizeof(kMagic));
  file.PutU32(kDatasetCacheVersion);
  file.PutU64(fingerprint);
  file.PutU64(payload.size());
  file.PutU64(core::Hash64(payload.buffer()));
  file.PutRaw(payload.buffer().data(), payload.size());
  return file.Release();
}

core::Result<Dataset> DecodeDataset(std::string_view bytes, uint64_t expected_fingerprint) {
  if (bytes.size() < kHeaderBytes || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return core::DataLossError("not a MelodAI dataset cache (bad magic or too short)");
  }
  core::ByteReader header(bytes.substr(sizeof(kMagic), kHeaderBytes - sizeof(kMagic)));
  uint32_t version = 0;
  uint64_t fingerprint = 0, payload_size = 0, checksum = 0;
  MELODAI_RETURN_IF_ERROR(header.GetU32(version, "version"));
  MELODAI_RETURN_IF_ERROR(header.GetU64(fingerprint, "fingerprint"));
  MELODAI_RETURN_IF_ERROR(header.GetU64(payload_size, "payload_size"));
  MELODAI_RETURN_IF_ERROR(header.GetU64(checksum, "checksum"));
  if (version != kDatasetCacheVersion) {
    return core::DataLossError("dataset cache version " + std::to_string(version) + ", expected " +
                               std::to_string(kDatasetCacheVersion));
  }
  if (expected_fingerprint != 0 && fingerprint != expected_fingerprint) {
    return core::FailedPreconditionError("dataset cache is stale (inputs changed)");
  }
  const std::string_view payload = bytes.substr(kHeaderBytes);
  if (payload.size() != payload_size) {
    return core::DataLossError("dataset cache payload is " + std::to_string(payload.size()) +
                               " bytes, header says " + std::to_string(payload_size));
  }
  if (core::Hash64(payload) != checksum) return core::DataLossError("dataset cache checksum mismatch");
  Dataset dataset;
  core::ByteReader reader(payload);
  MELODAI_RETURN_IF_ERROR(DecodePayload(reader, dataset).WithContext("dataset cache"));
  return dataset;
}

std::filesystem::path DefaultCacheDir() {
  if (const char* dir = std::getenv("MELODAI_CACHE_DIR"); dir != nullptr && *dir != '\0') return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::filesystem::path(xdg) / "melodai";
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return std::filesystem::path(home) / ".cache" / "melodai";
  }
  return ".melodai-cache";
}

std::filesystem::path CacheFileFor(const std::filesystem::path& cache_dir,
                                   const std::filesystem::path& input) {
  std::error_code error;
  std::filesystem::path absolute = std::filesystem::weakly_canonical(input, error);
  if (error) absolute = std::filesystem::absolute(input);
  const std::string text = absolute.string();
  std::string stem = absolute.filename().string();
  if (stem.empty()) stem = absolute.parent_path().filename().string();
  char hash[17];
  std::snprintf(hash, sizeof(hash), "%016llx", static_cast<unsigned long long>(core::Hash64(text)));
  return cache_dir / (stem + "-" + hash + ".mds");
}

}  // namespace melodai::data
