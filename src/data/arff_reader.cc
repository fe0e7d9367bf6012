// MelodAI — licensed under the Apache License 2.0.
// Mulan ARFF reader: a line-based header parser, a quote-aware value splitter shared by dense
// and sparse rows, and a small scanner for the <label name="..."> elements of the XML.
#include "data/arff_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <unordered_map>
#include <utility>

#include "core/file_util.h"
#include "core/logging.h"

namespace melodai::data {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxAttributes = size_t{1} << 20;
constexpr size_t kMaxQuotedBytes = 40;  // longest input text echoed in an error message

enum class AttributeKind : uint8_t { kNumeric, kString, kDate, kNominal };
enum class AttributeRole : uint8_t { kIgnored, kFeature, kLabel, kName };

struct Attribute {
  std::string name;
  AttributeKind kind = AttributeKind::kNumeric;
  std::vector<std::string> nominal_values;
  AttributeRole role = AttributeRole::kIgnored;
  uint32_t label = 0;  // tag id when role == kLabel
};

std::string Quoted(std::string_view text) {
  if (text.size() <= kMaxQuotedBytes) return fmt::format("'{}'", text);
  return fmt::format("'{}...'", text.substr(0, kMaxQuotedBytes));
}

core::Status LineError(std::string_view file, size_t line, std::string_view message) {
  return core::DataLossError(fmt::format("{}:{}: {}", file, line, message));
}

std::string_view Trim(std::string_view text) {
  const size_t begin = text.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return {};
  const size_t end = text.find_last_not_of(" \t\r\n");
  return text.substr(begin, end - begin + 1);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool StartsWithKeyword(std::string_view line, std::string_view keyword) {
  if (line.size() < keyword.size() || !EqualsIgnoreCase(line.substr(0, keyword.size()), keyword)) {
    return false;
  }
  return line.size() == keyword.size() || line[keyword.size()] == ' ' ||
         line[keyword.size()] == '\t';
}

// Reads one token from the front of `text`: a '...' or "..." string with backslash escapes, or
// a run up to whitespace / `stop`. Returns nullopt on an unterminated quote.
std::optional<std::string> TakeToken(std::string_view& text, std::string_view stop) {
  text = Trim(text);
  std::string token;
  if (!text.empty() && (text[0] == '\'' || text[0] == '"')) {
    const char quote = text[0];
    for (size_t i = 1; i < text.size(); ++i) {
      if (text[i] == '\\' && i + 1 < text.size()) {
        token += text[++i];
      } else if (text[i] == quote) {
        text.remove_prefix(i + 1);
        return token;
      } else {
        token += text[i];
      }
    }
    return std::nullopt;
  }
  size_t end = 0;
  while (end < text.size() && text[end] != ' ' && text[end] != '\t' &&
         stop.find(text[end]) == std::string_view::npos) {
    ++end;
  }
  token.assign(text.substr(0, end));
  text.remove_prefix(end);
  return token;
}

// Splits comma-separated values, honouring quotes. Each value is trimmed and unquoted; for a
// sparse row the "index value" pairs stay whole. Returns false on an unterminated quote.
bool SplitValues(std::string_view text, std::vector<std::string>& values) {
  values.clear();
  std::string current;
  char quote = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quote != 0) {
      if (c == '\\' && i + 1 < text.size()) {
        current += text[++i];
      } else if (c == quote) {
        quote = 0;
      } else {
        current += c;
      }
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == ',') {
      values.emplace_back(Trim(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (quote != 0) return false;
  values.emplace_back(Trim(current));
  return true;
}

// Parses a whole decimal number (an optional leading '+' is accepted, as ARFF writers emit it).
bool ParseDouble(std::string_view text, double& value) {
  if (!text.empty() && text[0] == '+') text.remove_prefix(1);
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

std::string DecodeXmlEntities(std::string_view text) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string out;
  for (size_t i = 0; i < text.size();) {
    bool replaced = false;
    if (text[i] == '&') {
      for (const auto& [entity, character] : kEntities) {
        if (text.substr(i, entity.size()) == entity) {
          out += character;
          i += entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

// Finds the value of attribute `name` inside the start tag `tag` ("<label ...>").
std::optional<std::string> TagAttribute(std::string_view tag, std::string_view name) {
  size_t position = 0;
  while ((position = tag.find(name, position)) != std::string_view::npos) {
    const bool starts_word =
        position > 0 && (tag[position - 1] == ' ' || tag[position - 1] == '\t' ||
                         tag[position - 1] == '\n' || tag[position - 1] == '\r');
    std::string_view rest = tag.substr(position + name.size());
    position += name.size();
    rest = Trim(rest);
    if (!starts_word || rest.empty() || rest[0] != '=') continue;
    rest = Trim(rest.substr(1));
    if (rest.empty() || (rest[0] != '"' && rest[0] != '\'')) return std::nullopt;
    const size_t close = rest.find(rest[0], 1);
    if (close == std::string_view::npos) return std::nullopt;
    return DecodeXmlEntities(rest.substr(1, close - 1));
  }
  return std::nullopt;
}

}  // namespace

core::Result<std::vector<std::string>> ParseMulanLabels(std::string_view xml,
                                                        std::string_view file_name) {
  std::vector<std::string> labels;
  size_t position = 0;
  size_t line = 1, counted = 0;  // line of `counted`, advanced incrementally (linear time)
  while ((position = xml.find('<', position)) != std::string_view::npos) {
    line += static_cast<size_t>(std::count(xml.begin() + counted, xml.begin() + position, '\n'));
    counted = position;
    if (xml.substr(position, 4) == "<!--") {
      const size_t close = xml.find("-->", position + 4);
      if (close == std::string_view::npos)
        return LineError(file_name, line, "unterminated comment");
      position = close + 3;
      continue;
    }
    const size_t close = xml.find('>', position);
    if (close == std::string_view::npos) return LineError(file_name, line, "unterminated tag");
    const std::string_view tag = xml.substr(position, close - position + 1);
    position = close + 1;
    if (tag.size() < 7 || tag.substr(0, 6) != "<label" ||
        std::string_view(" \t\r\n/>").find(tag[6]) == std::string_view::npos) {
      continue;
    }
    std::optional<std::string> name = TagAttribute(tag, "name");
    if (!name || name->empty()) {
      return LineError(file_name, line, "<label> element without a quoted, non-empty name");
    }
    labels.push_back(std::move(*name));
  }
  return labels;
}

namespace {

// Parses one ARFF file. Usage: ParseHeader(), AssignRoles(), ParseData(), then read the
// public results.
class ArffParser {
 public:
  ArffParser(std::string_view file, std::string_view content) : file_(file), content_(content) {}

  // Parses the header up to @data; fills relation_ and attributes_.
  core::Status ParseHeader();
  // Gives roles to attributes; kInvalidArgument when a label is missing or not 0/1-valued.
  core::Status AssignRoles(const std::vector<std::string>& labels, std::string_view xml_file);
  // Parses every data row into names_, features_ and row_tags_.
  core::Status ParseData();

  std::string relation_;
  std::vector<Attribute> attributes_;
  size_t feature_dim_ = 0;
  std::vector<std::string> names_;
  std::vector<float> features_;
  std::vector<std::vector<uint32_t>> row_tags_;

 private:
  // Advances to the next non-blank, non-comment line; false at the end of the file.
  bool NextLine(std::string_view& line);
  core::Status ParseAttribute(std::string_view rest);
  core::Status ParseRow(std::string_view line);
  core::Status ParseSparseRow(float* features, std::vector<uint32_t>& tags, std::string& name);
  // Stores the value of attribute `index` for the current row.
  core::Status SetValue(size_t index, std::string_view value, float* features,
                        std::vector<uint32_t>& tags, std::string& name);
  core::Status Error(std::string_view message) const { return LineError(file_, line_, message); }

  std::string_view file_;
  std::string_view content_;
  size_t position_ = 0;
  size_t line_ = 0;
  std::unordered_map<std::string, size_t> attribute_index_;
  std::vector<std::string> values_;   // scratch for one row
  std::vector<bool> seen_;            // scratch: attributes set by a sparse row
  std::vector<size_t> feature_rank_;  // attribute index -> column among the features
};

bool ArffParser::NextLine(std::string_view& line) {
  while (position_ < content_.size()) {
    size_t end = content_.find('\n', position_);
    if (end == std::string_view::npos) end = content_.size();
    line = Trim(content_.substr(position_, end - position_));
    position_ = end + 1;
    ++line_;
    if (!line.empty() && line[0] != '%') return true;
  }
  return false;
}

core::Status ArffParser::ParseHeader() {
  std::string_view line;
  while (NextLine(line)) {
    if (StartsWithKeyword(line, "@relation")) {
      std::string_view rest = line.substr(9);
      std::optional<std::string> name = TakeToken(rest, "");
      if (!name || name->empty()) return Error("@relation without a name");
      relation_ = std::move(*name);
    } else if (StartsWithKeyword(line, "@attribute")) {
      MELODAI_RETURN_IF_ERROR(ParseAttribute(line.substr(10)));
    } else if (StartsWithKeyword(line, "@data")) {
      if (relation_.empty()) return Error("@data before @relation");
      if (attributes_.empty()) return Error("@data before any @attribute");
      return core::Status::Ok();
    } else {
      return Error(fmt::format("expected @relation, @attribute or @data, found {}", Quoted(line)));
    }
  }
  return LineError(file_, line_, "no @data section");
}

core::Status ArffParser::ParseAttribute(std::string_view rest) {
  if (attributes_.size() >= kMaxAttributes) return Error("too many attributes");
  std::optional<std::string> name = TakeToken(rest, "{");
  if (!name || name->empty()) return Error("@attribute without a name");
  Attribute attribute;
  attribute.name = std::move(*name);
  const std::string_view type = Trim(rest);
  if (!type.empty() && type.front() == '{') {
    if (type.back() != '}') return Error("nominal attribute type without a closing '}'");
    if (!SplitValues(type.substr(1, type.size() - 2), attribute.nominal_values)) {
      return Error("unterminated quote in nominal values");
    }
    attribute.kind = AttributeKind::kNominal;
  } else {
    std::string_view type_rest = type;
    const std::string word = TakeToken(type_rest, "").value_or("");
    if (EqualsIgnoreCase(word, "numeric") || EqualsIgnoreCase(word, "real") ||
        EqualsIgnoreCase(word, "integer")) {
      attribute.kind = AttributeKind::kNumeric;
    } else if (EqualsIgnoreCase(word, "string")) {
      attribute.kind = AttributeKind::kString;
    } else if (EqualsIgnoreCase(word, "date")) {
      attribute.kind = AttributeKind::kDate;
    } else {
      return Error(fmt::format("unsupported attribute type {}", Quoted(type)));
    }
  }
  if (!attribute_index_.try_emplace(attribute.name, attributes_.size()).second) {
    return Error(fmt::format("duplicate attribute {}", Quoted(attribute.name)));
  }
  attributes_.push_back(std::move(attribute));
  return core::Status::Ok();
}

core::Status ArffParser::AssignRoles(const std::vector<std::string>& labels,
                                     std::string_view xml_file) {
  if (labels.empty())
    return core::InvalidArgumentError(fmt::format("{}: no <label> elements", xml_file));
  for (size_t l = 0; l < labels.size(); ++l) {
    const auto it = attribute_index_.find(labels[l]);
    if (it == attribute_index_.end()) {
      return core::InvalidArgumentError(fmt::format("{}: label {} is not an attribute of {}",
                                                    xml_file, Quoted(labels[l]), file_));
    }
    Attribute& attribute = attributes_[it->second];
    const bool binary_nominal =
        attribute.kind == AttributeKind::kNominal &&
        std::all_of(attribute.nominal_values.begin(), attribute.nominal_values.end(),
                    [](const std::string& v) { return v == "0" || v == "1"; });
    if (attribute.kind != AttributeKind::kNumeric && !binary_nominal) {
      return core::InvalidArgumentError(fmt::format(
          "{}: label {} is neither numeric nor nominal {{0,1}}", file_, Quoted(labels[l])));
    }
    if (attribute.role == AttributeRole::kLabel) {
      return core::InvalidArgumentError(
          fmt::format("{}: label {} listed twice", xml_file, Quoted(labels[l])));
    }
    attribute.role = AttributeRole::kLabel;
    attribute.label = static_cast<uint32_t>(l);
  }
  bool has_name = false;
  feature_rank_.assign(attributes_.size(), 0);
  for (size_t a = 0; a < attributes_.size(); ++a) {
    Attribute& attribute = attributes_[a];
    if (attribute.role == AttributeRole::kLabel) continue;
    if (attribute.kind == AttributeKind::kNumeric) {
      attribute.role = AttributeRole::kFeature;
      feature_rank_[a] = feature_dim_++;
    } else if (attribute.kind == AttributeKind::kString && !has_name) {
      attribute.role = AttributeRole::kName;
      has_name = true;
    }
  }
  return core::Status::Ok();
}

core::Status ArffParser::SetValue(size_t index, std::string_view value, float* features,
                                  std::vector<uint32_t>& tags, std::string& name) {
  const Attribute& attribute = attributes_[index];
  if (attribute.kind == AttributeKind::kNominal && value != "?" &&
      std::find(attribute.nominal_values.begin(), attribute.nominal_values.end(), value) ==
          attribute.nominal_values.end()) {
    return Error(fmt::format("value {} of {} is not one of its nominal values", Quoted(value),
                             Quoted(attribute.name)));
  }
  double number = 0.0;
  const bool numeric =
      attribute.kind == AttributeKind::kNumeric || attribute.role == AttributeRole::kLabel;
  if (numeric && value != "?" && !ParseDouble(value, number)) {
    return Error(
        fmt::format("value {} of {} is not a number", Quoted(value), Quoted(attribute.name)));
  }
  switch (attribute.role) {
    case AttributeRole::kFeature:
      *features =
          value == "?" ? std::numeric_limits<float>::quiet_NaN() : static_cast<float>(number);
      break;
    case AttributeRole::kLabel:
      if (value == "?" || number == 0.0) break;
      if (number != 1.0) {
        return Error(fmt::format("label {} has value {}, expected 0 or 1", Quoted(attribute.name),
                                 Quoted(value)));
      }
      tags.push_back(attribute.label);
      break;
    case AttributeRole::kName:
      name.assign(value);
      break;
    case AttributeRole::kIgnored:
      break;
  }
  return core::Status::Ok();
}

core::Status ArffParser::ParseSparseRow(float* features, std::vector<uint32_t>& tags,
                                        std::string& name) {
  std::fill(seen_.begin(), seen_.end(), false);
  for (const std::string& entry : values_) {
    if (entry.empty() && values_.size() == 1) break;  // "{}": every value absent
    std::string_view rest = entry;
    const std::optional<std::string> index_text = TakeToken(rest, "");
    size_t index = 0;
    const char* begin = index_text ? index_text->data() : nullptr;
    const char* end = index_text ? begin + index_text->size() : nullptr;
    if (!index_text || index_text->empty() || std::from_chars(begin, end, index).ptr != end) {
      return Error(fmt::format("sparse entry {} does not start with an index", Quoted(entry)));
    }
    if (index >= attributes_.size()) {
      return Error(
          fmt::format("sparse index {} outside the {} attributes", index, attributes_.size()));
    }
    if (seen_[index]) return Error(fmt::format("sparse index {} given twice", index));
    seen_[index] = true;
    MELODAI_RETURN_IF_ERROR(
        SetValue(index, Trim(rest), features + feature_rank_[index], tags, name));
  }
  // Absent entries hold 0, which for a nominal attribute means its first declared value.
  for (size_t a = 0; a < attributes_.size(); ++a) {
    const Attribute& attribute = attributes_[a];
    if (seen_[a] || attribute.kind == AttributeKind::kString ||
        attribute.kind == AttributeKind::kDate) {
      continue;
    }
    const std::string_view absent =
        attribute.kind == AttributeKind::kNominal && !attribute.nominal_values.empty()
            ? std::string_view(attribute.nominal_values[0])
            : std::string_view("0");
    MELODAI_RETURN_IF_ERROR(SetValue(a, absent, features + feature_rank_[a], tags, name));
  }
  return core::Status::Ok();
}

core::Status ArffParser::ParseRow(std::string_view line) {
  const bool sparse = line.front() == '{';
  if (sparse && line.back() != '}') return Error("sparse row without a closing '}'");
  if (!SplitValues(sparse ? line.substr(1, line.size() - 2) : line, values_)) {
    return Error("unterminated quote");
  }
  const size_t row = names_.size();
  features_.resize(features_.size() + feature_dim_, 0.0f);
  float* features = features_.data() + row * feature_dim_;
  std::vector<uint32_t> tags;
  std::string name = fmt::format("song {}", row);
  if (sparse) {
    MELODAI_RETURN_IF_ERROR(ParseSparseRow(features, tags, name));
  } else {
    if (values_.size() != attributes_.size()) {
      return Error(
          fmt::format("row has {} values, expected {}", values_.size(), attributes_.size()));
    }
    for (size_t a = 0; a < attributes_.size(); ++a) {
      MELODAI_RETURN_IF_ERROR(SetValue(a, values_[a], features + feature_rank_[a], tags, name));
    }
  }
  std::sort(tags.begin(), tags.end());
  names_.push_back(std::move(name));
  row_tags_.push_back(std::move(tags));
  return core::Status::Ok();
}

core::Status ArffParser::ParseData() {
  seen_.assign(attributes_.size(), false);
  std::string_view line;
  while (NextLine(line)) MELODAI_RETURN_IF_ERROR(ParseRow(line));
  MELODAI_CHECK_EQ(features_.size(), names_.size() * feature_dim_);
  MELODAI_CHECK_EQ(row_tags_.size(), names_.size());
  return core::Status::Ok();
}

core::Result<Dataset> BuildDataset(ArffParser& parser, const fs::path& arff,
                                   const std::vector<std::string>& labels) {
  Dataset dataset;
  dataset.source = "arff";
  dataset.description = arff.string();
  Catalog& catalog = dataset.catalog;
  catalog.Reserve(parser.names_.size(), parser.names_.size() * 32);
  for (size_t row = 0; row < parser.names_.size(); ++row) {
    const ItemId item =
        catalog.AddItem(fmt::format("{}:{}", parser.relation_, row), parser.names_[row], "");
    MELODAI_CHECK_EQ(item, row);
  }
  MELODAI_RETURN_IF_ERROR(catalog.SetFeatures(parser.feature_dim_, std::move(parser.features_)));
  ItemTags& tags = dataset.item_tags;
  for (const std::string& label : labels) tags.tag_names.Append(label);
  for (const std::vector<uint32_t>& row_tags : parser.row_tags_) {
    tags.tags.insert(tags.tags.end(), row_tags.begin(), row_tags.end());
    tags.offsets.push_back(tags.tags.size());
  }
  return dataset;
}

}  // namespace

core::Result<Dataset> ReadMulanArff(const fs::path& arff, const fs::path& labels_xml) {
  fs::path xml_path = labels_xml;
  if (xml_path.empty()) xml_path = arff.parent_path() / (arff.stem().string() + ".xml");
  MELODAI_ASSIGN_OR_RETURN(const std::string arff_content, core::ReadFile(arff));
  MELODAI_ASSIGN_OR_RETURN(const std::string xml_content, core::ReadFile(xml_path));
  const std::string arff_name = arff.filename().string();
  const std::string xml_name = xml_path.filename().string();
  MELODAI_ASSIGN_OR_RETURN(const std::vector<std::string> labels,
                           ParseMulanLabels(xml_content, xml_name));
  ArffParser parser(arff_name, arff_content);
  MELODAI_RETURN_IF_ERROR(parser.ParseHeader());
  MELODAI_RETURN_IF_ERROR(parser.AssignRoles(labels, xml_name));
  MELODAI_RETURN_IF_ERROR(parser.ParseData());
  MELODAI_ASSIGN_OR_RETURN(Dataset dataset, BuildDataset(parser, arff, labels));
  MELODAI_LOG_INFO("read ARFF {}: {} songs, {} features, {} labels, {} label assignments",
                   arff.string(), dataset.catalog.size(), dataset.catalog.feature_dim(),
                   labels.size(), dataset.item_tags.tags.size());
  return dataset;
}

}  // namespace melodai::data
