// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for the binary dataset cache decoder: a cache file on disk is untrusted
// (truncated by a crash, corrupted, or written by another version). Any bytes must decode to a
// consistent Dataset or give a Status, never crash; a decoded dataset re-encodes to the same
// bytes. The first input byte picks the mode: even = the bytes are a whole cache file; odd =
// the bytes are a payload, wrapped here in a valid header (correct size and checksum) so that
// mutations reach the payload decoder instead of stopping at the checksum.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/bytes.h"
#include "core/check.h"
#include "data/cache.h"

namespace {

std::string WrapPayload(std::string_view payload) {
  melodai::core::ByteWriter file;
  file.PutRaw("MLDAIDS\0", 8);
  file.PutU32(melodai::data::kDatasetCacheVersion);
  file.PutU64(7);  // fingerprint
  file.PutU64(payload.size());
  file.PutU64(melodai::core::Hash64(payload));
  file.PutRaw(payload.data(), payload.size());
  return file.Release();
}

void CheckDataset(const melodai::data::Dataset& dataset) {
  MELODAI_CHECK_LE(dataset.sequences.ItemBound(), dataset.catalog.size());
  for (size_t s = 0; s < dataset.sequences.size(); ++s) {
    const melodai::data::SequenceView view = dataset.sequences[s];
    MELODAI_CHECK_EQ(view.timestamps.size(), dataset.sequences.has_timestamps() ? view.size() : 0u);
    MELODAI_CHECK_EQ(view.weights.size(), dataset.sequences.has_weights() ? view.size() : 0u);
  }
  for (melodai::data::ItemId item = 0; item < dataset.catalog.size(); ++item) {
    MELODAI_CHECK_LT(dataset.catalog.artist(item), dataset.catalog.artist_count());
    (void)dataset.catalog.uri(item);
    (void)dataset.catalog.name(item);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  const std::string bytes = (data[0] & 1) != 0 ? WrapPayload(rest) : std::string(rest);
  auto decoded = melodai::data::DecodeDataset(bytes, 0);
  if (!decoded.ok()) return 0;
  CheckDataset(*decoded);
  uint64_t fingerprint = 0;
  std::memcpy(&fingerprint, bytes.data() + 12, sizeof(fingerprint));
  MELODAI_CHECK(melodai::data::EncodeDataset(*decoded, fingerprint) == bytes);
  return 0;
}
