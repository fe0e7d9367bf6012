// MelodAI — licensed under the Apache License 2.0.
// Delimited-text interaction reader: a record splitter (minimal RFC 4180 quoting), column
// resolution by header name or position, and grouping of rows into per-user sequences.
#include "data/csv_reader.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <deque>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/check.h"
#include "core/file_util.h"
#include "data/string_pool.h"
#include "data/text_position.h"

namespace melodai::data {
namespace {

constexpr size_t kMaxIds = (size_t{1} << 31) - 1;  // StringPool and Catalog id limit
constexpr size_t kNoColumn = SIZE_MAX;
constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";
constexpr size_t kExcerptBytes = 40;      // longest field text quoted in an error
constexpr size_t kHeaderListBytes = 200;  // longest header listing in an error

core::Status FailAt(std::string_view file_name, std::string_view text, size_t offset,
                    std::string_view what) {
  return core::DataLossError(FormatPosition(file_name, text, offset) + ": " + std::string(what));
}

// The field quoted for an error message: at most kExcerptBytes, control bytes shown as '?'.
std::string Excerpt(std::string_view value) {
  size_t length = std::min(value.size(), kExcerptBytes);
  // Do not cut a UTF-8 sequence: back off to the start of the character at the cut.
  while (length < value.size() && length > 0 && (value[length] & 0xC0) == 0x80) --length;
  std::string result = "\"";
  for (char c : value.substr(0, length)) {
    result += static_cast<unsigned char>(c) < 0x20 || c == 0x7F ? '?' : c;
  }
  if (value.size() > length) result += "...";
  return result + "\"";
}

std::string_view TrimBlanks(std::string_view value) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return value;
}

// One field of the current record and the byte offset where it starts.
struct Field {
  std::string_view text;
  size_t offset = 0;
};

// Splits the text into records of fields. Field texts point into the input, or for quoted
// fields with doubled quotes into scratch strings that stay valid until the next Next().
// The input must outlive the reader.
class RecordReader {
 public:
  RecordReader(std::string_view text, std::string_view file_name, char delimiter)
      : text_(text), file_name_(file_name), delimiter_(delimiter) {
    if (text_.substr(0, kByteOrderMark.size()) == kByteOrderMark) {
      position_ = kByteOrderMark.size();
    }
  }

  // Reads the next non-blank record into `fields`; false at the end of the text.
  // kDataLoss for an unterminated quote or text after a closing quote.
  core::Result<bool> Next(std::vector<Field>& fields);
  // The offset just after the last field of the record Next() returned.
  size_t record_end() const { return record_end_; }
  // The offset where that record starts.
  size_t record_begin() const { return record_begin_; }

 private:
  void SkipBlankLines();
  void ReadPlain(Field& field);
  core::Status ReadQuoted(Field& field);
  std::string& NextScratch();

  std::string_view text_;
  std::string_view file_name_;
  char delimiter_;
  size_t position_ = 0;
  size_t record_begin_ = 0;
  size_t record_end_ = 0;
  std::deque<std::string> scratch_;  // deque: growing it never moves existing strings
  size_t scratch_used_ = 0;
};

void RecordReader::SkipBlankLines() {
  while (position_ < text_.size()) {
    const char c = text_[position_];
    const bool bare_cr =
        c == '\r' && (position_ + 1 == text_.size() || text_[position_ + 1] == '\n');
    if (c != '\n' && !bare_cr) return;
    position_ += bare_cr && position_ + 1 < text_.size() ? 2 : 1;
  }
}

core::Result<bool> RecordReader::Next(std::vector<Field>& fields) {
  fields.clear();
  scratch_used_ = 0;
  SkipBlankLines();
  if (position_ >= text_.size()) return false;
  record_begin_ = position_;
  while (true) {
    Field field;
    field.offset = position_;
    if (position_ < text_.size() && text_[position_] == '"') {
      MELODAI_RETURN_IF_ERROR(ReadQuoted(field));
    } else {
      ReadPlain(field);
    }
    fields.push_back(field);
    if (position_ >= text_.size()) break;
    const char c = text_[position_++];
    if (c == '\n') break;
    MELODAI_CHECK_EQ(c, delimiter_);  // ReadPlain and ReadQuoted stop only there.
  }
  return true;
}

void RecordReader::ReadPlain(Field& field) {
  const size_t begin = position_;
  while (position_ < text_.size() && text_[position_] != delimiter_ && text_[position_] != '\n') {
    ++position_;
  }
  size_t end = position_;
  const bool at_line_end = position_ == text_.size() || text_[position_] == '\n';
  if (at_line_end && end > begin && text_[end - 1] == '\r') --end;
  field.text = text_.substr(begin, end - begin);
  record_end_ = end;
}

std::string& RecordReader::NextScratch() {
  if (scratch_used_ == scratch_.size()) scratch_.emplace_back();
  std::string& scratch = scratch_[scratch_used_++];
  scratch.clear();
  return scratch;
}

core::Status RecordReader::ReadQuoted(Field& field) {
  const size_t open = position_;
  size_t chunk_begin = open + 1;
  std::string* unescaped = nullptr;
  while (true) {
    const size_t quote = text_.find('"', chunk_begin);
    if (quote == std::string_view::npos) {
      return FailAt(file_name_, text_, open, "unterminated quoted field");
    }
    if (quote + 1 < text_.size() && text_[quote + 1] == '"') {  // "" stands for one quote
      if (unescaped == nullptr) unescaped = &NextScratch();
      unescaped->append(text_.substr(chunk_begin, quote + 1 - chunk_begin));
      chunk_begin = quote + 2;
      continue;
    }
    if (unescaped == nullptr) {
      field.text = text_.substr(open + 1, quote - open - 1);
    } else {
      unescaped->append(text_.substr(chunk_begin, quote - chunk_begin));
      field.text = *unescaped;
    }
    position_ = quote + 1;
    break;
  }
  record_end_ = position_;
  if (position_ == text_.size()) return core::Status::Ok();
  const char c = text_[position_];
  if (c == '\r' && (position_ + 1 == text_.size() || text_[position_ + 1] == '\n')) {
    ++position_;
    return core::Status::Ok();
  }
  if (c == delimiter_ || c == '\n') return core::Status::Ok();
  return FailAt(file_name_, text_, position_,
                "unexpected character after the closing quote of a field");
}

// Which field of a record holds each column; kNoColumn when the file has no such column.
struct Columns {
  size_t user = kNoColumn;
  size_t item = kNoColumn;
  size_t timestamp = kNoColumn;
  size_t weight = kNoColumn;
  size_t field_count = 0;  // a data row needs at least this many fields
};

class CsvParser {
 public:
  CsvParser(std::string_view text, std::string_view file_name, const CsvOptions& options)
      : text_(text),
        file_name_(file_name),
        options_(options),
        reader_(text, file_name, options.delimiter) {}

  core::Result<Dataset> Parse();

 private:
  core::Status ResolveHeader(const std::vector<Field>& header);
  core::Status ResolvePositional(const std::vector<Field>& first_row);
  core::Status AddRow(const std::vector<Field>& fields);
  core::Status MissingField(size_t field_count) const;
  core::Status ParseTimestamp(const Field& field, int64_t& value) const;
  core::Status ParseWeight(const Field& field, float& value) const;
  Dataset Build();
  core::Status Fail(size_t offset, std::string_view what) const {
    return FailAt(file_name_, text_, offset, what);
  }

  struct Event {
    uint32_t user = 0;
    ItemId item = 0;
    int64_t timestamp = 0;
    float weight = 0.0f;
  };

  std::string_view text_;
  std::string_view file_name_;
  const CsvOptions& options_;
  RecordReader reader_;
  Columns columns_;
  StringPool users_;
  std::vector<int64_t> user_external_ids_;  // one per user, by first appearance
  Catalog catalog_;
  std::vector<Event> events_;
};

core::Result<Dataset> CsvParser::Parse() {
  std::vector<Field> fields;
  MELODAI_ASSIGN_OR_RETURN(const bool any, reader_.Next(fields));
  if (!any) {
    return Fail(text_.size(), options_.has_header ? "empty file: expected a header row"
                                                  : "empty file: expected at least one row");
  }
  if (options_.has_header) {
    MELODAI_RETURN_IF_ERROR(ResolveHeader(fields));
  } else {
    MELODAI_RETURN_IF_ERROR(ResolvePositional(fields));
    MELODAI_RETURN_IF_ERROR(AddRow(fields));
  }
  while (true) {
    MELODAI_ASSIGN_OR_RETURN(const bool more, reader_.Next(fields));
    if (!more) break;
    MELODAI_RETURN_IF_ERROR(AddRow(fields));
  }
  return Build();
}

core::Status CsvParser::ResolveHeader(const std::vector<Field>& header) {
  const std::pair<const std::string*, size_t*> wanted[] = {
      {&options_.user_column, &columns_.user},
      {&options_.item_column, &columns_.item},
      {&options_.timestamp_column, &columns_.timestamp},
      {&options_.weight_column, &columns_.weight},
  };
  for (size_t index = 0; index < header.size(); ++index) {
    const std::string_view name = TrimBlanks(header[index].text);
    for (const auto& [column_name, column] : wanted) {
      if (column_name->empty() || name != *column_name) continue;
      if (*column != kNoColumn) {
        return Fail(header[index].offset,
                    "column '" + *column_name + "' appears twice in the header (fields " +
                        std::to_string(*column + 1) + " and " + std::to_string(index + 1) + ")");
      }
      *column = index;
    }
  }
  const std::pair<const std::string*, size_t> required[] = {
      {&options_.user_column, columns_.user},
      {&options_.item_column, columns_.item},
  };
  for (const auto& [required_name, column] : required) {
    if (column != kNoColumn) continue;
    std::string found;
    for (const Field& field : header) {
      if (found.size() > kHeaderListBytes) break;
      found += (found.empty() ? "" : ", ") + std::string(TrimBlanks(field.text));
    }
    return Fail(reader_.record_begin(), "header has no column named '" + *required_name +
                                            "' (found: " + Excerpt(found) + ")");
  }
  for (size_t column : {columns_.user, columns_.item, columns_.timestamp, columns_.weight}) {
    if (column != kNoColumn) columns_.field_count = std::max(columns_.field_count, column + 1);
  }
  return core::Status::Ok();
}

core::Status CsvParser::ResolvePositional(const std::vector<Field>& first_row) {
  if (first_row.size() < 2) {
    return Fail(reader_.record_end(), "row has " + std::to_string(first_row.size()) +
                                          " field, expected at least 2 (user, item)");
  }
  columns_.user = 0;
  columns_.item = 1;
  if (first_row.size() >= 3) columns_.timestamp = 2;
  if (first_row.size() >= 4) columns_.weight = 3;
  columns_.field_count = std::min<size_t>(first_row.size(), 4);
  return core::Status::Ok();
}

core::Status CsvParser::MissingField(size_t field_count) const {
  // Name the leftmost column the row lacks.
  const std::pair<size_t, std::string_view> columns[] = {
      {columns_.user, "user"},
      {columns_.item, "item"},
      {columns_.timestamp, "timestamp"},
      {columns_.weight, "weight"},
  };
  size_t missing = kNoColumn;
  std::string_view missing_name;
  for (const auto& [column, name] : columns) {
    if (column != kNoColumn && column >= field_count && column < missing) {
      missing = column;
      missing_name = name;
    }
  }
  MELODAI_CHECK_NE(missing, kNoColumn);
  return Fail(reader_.record_end(), "row has " + std::to_string(field_count) + " fields, but the " +
                                        std::string(missing_name) + " column is field " +
                                        std::to_string(missing + 1));
}

core::Status CsvParser::ParseTimestamp(const Field& field, int64_t& value) const {
  const std::string_view digits = TrimBlanks(field.text);
  const char* end = digits.data() + digits.size();
  const auto [stop, error] = std::from_chars(digits.data(), end, value);
  if (error == std::errc::result_out_of_range) {
    return Fail(field.offset, "timestamp out of the int64 range: " + Excerpt(field.text));
  }
  if (digits.empty() || error != std::errc() || stop != end) {
    return Fail(field.offset, "timestamp: expected an integer, found " + Excerpt(field.text));
  }
  return core::Status::Ok();
}

core::Status CsvParser::ParseWeight(const Field& field, float& value) const {
  const std::string_view digits = TrimBlanks(field.text);
  const char* end = digits.data() + digits.size();
  double parsed = 0.0;
  const auto [stop, error] = std::from_chars(digits.data(), end, parsed);
  if (error == std::errc::result_out_of_range) {
    return Fail(field.offset, "weight out of range: " + Excerpt(field.text));
  }
  if (digits.empty() || error != std::errc() || stop != end) {
    return Fail(field.offset, "weight: expected a number, found " + Excerpt(field.text));
  }
  if (!std::isfinite(parsed)) {
    return Fail(field.offset, "weight must be finite, found " + Excerpt(field.text));
  }
  if (std::fabs(parsed) > std::numeric_limits<float>::max()) {
    return Fail(field.offset, "weight outside the float range: " + Excerpt(field.text));
  }
  value = static_cast<float>(parsed);
  return core::Status::Ok();
}

core::Status CsvParser::AddRow(const std::vector<Field>& fields) {
  if (fields.size() < columns_.field_count) return MissingField(fields.size());
  const Field& user = fields[columns_.user];
  const Field& item = fields[columns_.item];
  if (user.text.empty()) return Fail(user.offset, "empty user field");
  if (item.text.empty()) return Fail(item.offset, "empty item field");
  Event event;
  if (columns_.timestamp != kNoColumn) {
    MELODAI_RETURN_IF_ERROR(ParseTimestamp(fields[columns_.timestamp], event.timestamp));
  }
  if (columns_.weight != kNoColumn) {
    MELODAI_RETURN_IF_ERROR(ParseWeight(fields[columns_.weight], event.weight));
  }
  if (users_.size() >= kMaxIds || catalog_.size() >= kMaxIds) {
    return core::ResourceExhaustedError(std::string(file_name_) + ": more than " +
                                        std::to_string(kMaxIds) + " users or items");
  }
  const size_t users_before = users_.size();
  event.user = users_.Intern(user.text);
  if (users_.size() != users_before) {
    int64_t numeric = 0;
    const char* end = user.text.data() + user.text.size();
    const auto [stop, error] = std::from_chars(user.text.data(), end, numeric);
    const bool is_number = error == std::errc() && stop == end;
    user_external_ids_.push_back(is_number ? numeric : static_cast<int64_t>(event.user));
  }
  event.item = catalog_.AddItem(item.text, item.text, "", options_.media_type);
  events_.push_back(event);
  return core::Status::Ok();
}

Dataset CsvParser::Build() {
  const bool has_timestamps = columns_.timestamp != kNoColumn;
  const bool has_weights = columns_.weight != kNoColumn;
  // Counting sort by user: stable, so each user's events keep file order.
  const size_t user_count = users_.size();
  std::vector<size_t> begin(user_count + 1, 0);
  for (const Event& event : events_) ++begin[event.user + 1];
  for (size_t user = 0; user < user_count; ++user) begin[user + 1] += begin[user];
  std::vector<Event> sorted(events_.size());
  std::vector<size_t> cursor(begin.begin(), begin.end() - 1);
  for (const Event& event : events_) sorted[cursor[event.user]++] = event;

  Dataset dataset;
  dataset.source = "csv";
  dataset.description = std::string(file_name_);
  dataset.sequences = Interactions(has_timestamps, has_weights);
  dataset.sequences.Reserve(user_count, sorted.size());
  std::vector<ItemId> items;
  std::vector<int64_t> timestamps;
  std::vector<float> weights;
  for (size_t user = 0; user < user_count; ++user) {
    const auto first = sorted.begin() + static_cast<ptrdiff_t>(begin[user]);
    const auto last = sorted.begin() + static_cast<ptrdiff_t>(begin[user + 1]);
    if (has_timestamps) {
      std::stable_sort(first, last,
                       [](const Event& a, const Event& b) { return a.timestamp < b.timestamp; });
    }
    items.clear();
    timestamps.clear();
    weights.clear();
    for (auto event = first; event != last; ++event) {
      items.push_back(event->item);
      if (has_timestamps) timestamps.push_back(event->timestamp);
      if (has_weights) weights.push_back(event->weight);
    }
    dataset.sequences.Append(items, timestamps, weights, user_external_ids_[user],
                             users_.Get(static_cast<uint32_t>(user)));
  }
  dataset.catalog = std::move(catalog_);
  return dataset;
}

core::Status ValidateOptions(const CsvOptions& options) {
  const char delimiter = options.delimiter;
  if (delimiter == '"' || delimiter == '\n' || delimiter == '\r') {
    return core::InvalidArgumentError("CSV delimiter must not be a quote or a line break");
  }
  if (!options.has_header) return core::Status::Ok();
  if (options.user_column.empty() || options.item_column.empty()) {
    return core::InvalidArgumentError("CSV user and item column names must not be empty");
  }
  const std::string* names[] = {&options.user_column, &options.item_column,
                                &options.timestamp_column, &options.weight_column};
  for (size_t i = 0; i < 4; ++i) {
    for (size_t j = i + 1; j < 4; ++j) {
      if (!names[i]->empty() && *names[i] == *names[j]) {
        return core::InvalidArgumentError("CSV column name '" + *names[i] +
                                          "' is given for two columns");
      }
    }
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<Dataset> ParseCsvInteractions(std::string_view text, std::string_view file_name,
                                           const CsvOptions& options) {
  MELODAI_RETURN_IF_ERROR(ValidateOptions(options));
  return CsvParser(text, file_name, options).Parse();
}

core::Result<Dataset> ReadCsvInteractions(const std::filesystem::path& path,
                                          const CsvOptions& options) {
  MELODAI_RETURN_IF_ERROR(ValidateOptions(options));
  MELODAI_ASSIGN_OR_RETURN(const std::string text, core::ReadFile(path));
  return CsvParser(text, path.string(), options).Parse();
}

}  // namespace melodai::data
