// MelodAI — licensed under the Apache License 2.0.
// Reader for generic interaction logs in delimited text: one row per event with a user, an
// item and optionally a timestamp and a weight. One user becomes one sequence.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.h"
#include "data/catalog.h"
#include "data/dataset.h"

namespace melodai::data {

struct CsvOptions {
  // Field separator; must not be '"', '\r' or '\n'.
  char delimiter = ',';
  // With a header, columns are found by name (any order; other columns are ignored). Without
  // one, columns are positional: user, item, then timestamp if the first row has 3 or more
  // fields, then weight if it has 4 or more; further fields are ignored.
  bool has_header = true;
  // Header names of the columns (user and item are required; timestamp and weight are used
  // when the header has them; an empty timestamp or weight name ignores that column). Names
  // are compared exactly, after trimming spaces and tabs. Unused without a header.
  std::string user_column = "user";
  std::string item_column = "item";
  std::string timestamp_column = "timestamp";
  std::string weight_column = "weight";
  // The media type given to every catalog item.
  MediaType media_type = MediaType::kTrack;
};

// Format (minimal RFC 4180): records end at "\n" or "\r\n"; blank lines are skipped; a field
// may be quoted ("a,b"), a quoted field may hold delimiters, line breaks and doubled quotes
// (""), and only a delimiter or a line end may follow its closing quote. A UTF-8 byte order
// mark at the start is skipped. Unquoted fields are taken literally.
// Values: user and item must be non-empty; timestamp is a decimal int64; weight is a decimal
// number that is finite and fits a float. Numbers may be surrounded by spaces or tabs.
// Result: source "csv"; one sequence per user in order of first appearance, whose events are
// sorted by timestamp (stable, so ties keep file order) when there is a timestamp column, and
// in file order otherwise. Sequence name = the user field; external_id = the user field when
// it is a decimal int64, else the sequence index. Items are interned by the item field (uri =
// name = item field, artist "" meaning unknown) in order of first appearance.

// Parses `text`; `file_name` labels errors ("<file>:<line>:<column> (byte N): ...") and
// becomes the description. Returns kInvalidArgument for bad `options`; kDataLoss for an
// empty input, a header without the user or item column, a row with too few fields, an
// unterminated quote, an empty user or item, or a malformed, non-finite or out-of-range
// number; kResourceExhausted beyond 2^31 - 1 users or items. Thread-safe.
core::Result<Dataset> ParseCsvInteractions(std::string_view text, std::string_view file_name,
                                           const CsvOptions& options);

// Reads `path` and parses it as above, with the path in errors and as the description.
// Adds kNotFound (no such file) and kIoError (unreadable) to the codes of the parser.
core::Result<Dataset> ReadCsvInteractions(const std::filesystem::path& path,
                                          const CsvOptions& options);

}  // namespace melodai::data
