// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for the CSV interaction reader: any bytes must give either a consistent
// Dataset or a kDataLoss Status that names the file, and never crash. An input starting with
// a byte below 0x08 uses it to pick the delimiter and header mode; others use the defaults.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "data/csv_reader.h"

namespace {

constexpr std::string_view kFileName = "fuzz.csv";
constexpr char kDelimiters[] = {',', ';', '\t', '|'};

void CheckDataset(const melodai::data::Dataset& dataset) {
  const melodai::data::Interactions& sequences = dataset.sequences;
  MELODAI_CHECK_LE(sequences.ItemBound(), dataset.catalog.size());
  for (size_t index = 0; index < sequences.size(); ++index) {
    const melodai::data::SequenceView sequence = sequences[index];
    MELODAI_CHECK_GT(sequence.size(), 0u);  // a user exists because of at least one row
    MELODAI_CHECK(!sequence.name.empty());
    for (size_t i = 1; i < sequence.timestamps.size(); ++i) {
      MELODAI_CHECK_LE(sequence.timestamps[i - 1], sequence.timestamps[i]);
    }
    for (float weight : sequence.weights) MELODAI_CHECK(std::isfinite(weight));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  melodai::data::CsvOptions options;
  if (!text.empty() && static_cast<unsigned char>(text[0]) < 0x08) {
    const auto selector = static_cast<unsigned char>(text[0]);
    options.delimiter = kDelimiters[selector & 3];
    options.has_header = (selector & 4) == 0;
    text.remove_prefix(1);
  }
  const melodai::core::Result<melodai::data::Dataset> result =
      melodai::data::ParseCsvInteractions(text, kFileName, options);
  if (!result.ok()) {
    MELODAI_CHECK(result.status().code() == melodai::core::StatusCode::kDataLoss);
    MELODAI_CHECK(result.status().message().starts_with(kFileName));
    return 0;
  }
  CheckDataset(*result);
  return 0;
}
