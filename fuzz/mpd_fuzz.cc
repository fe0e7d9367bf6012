// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for the MPD slice parser: any bytes must give either a consistent Dataset
// or a kDataLoss / kResourceExhausted Status that names the file, and never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "data/mpd_reader.h"

namespace {

constexpr std::string_view kFileName = "fuzz.json";

void CheckDataset(const melodai::data::Dataset& dataset) {
  const melodai::data::Catalog& catalog = dataset.catalog;
  MELODAI_CHECK_LE(dataset.sequences.ItemBound(), catalog.size());
  MELODAI_CHECK(!dataset.sequences.has_timestamps());
  MELODAI_CHECK(!dataset.sequences.has_weights());
  // Items are unique by uri, numbered in order of first appearance, with non-empty uris.
  melodai::data::ItemId next_new = 0;
  for (melodai::data::ItemId item : dataset.sequences.all_items()) {
    MELODAI_CHECK_LE(item, next_new);
    if (item == next_new) ++next_new;
  }
  MELODAI_CHECK_EQ(next_new, catalog.size());
  for (melodai::data::ItemId item = 0; item < catalog.size(); ++item) {
    MELODAI_CHECK(!catalog.uri(item).empty());
    MELODAI_CHECK(catalog.Find(catalog.uri(item)) == item);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view json(reinterpret_cast<const char*>(data), size);
  const melodai::core::Result<melodai::data::Dataset> result =
      melodai::data::ParseMpdSlice(json, kFileName);
  if (!result.ok()) {
    const melodai::core::StatusCode code = result.status().code();
    MELODAI_CHECK(code == melodai::core::StatusCode::kDataLoss ||
                  code == melodai::core::StatusCode::kResourceExhausted);
    MELODAI_CHECK(result.status().message().starts_with(kFileName));
    return 0;
  }
  CheckDataset(*result);
  return 0;
}
