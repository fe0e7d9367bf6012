// MelodAI — licensed under the Apache License 2.0.
// Last.fm HetRec reader: one pass per file over tab-separated lines, numbers parsed with
// std::from_chars, every error tagged with the file name and 1-based line number.
#include "data/lastfm_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/file_util.h"
#include "core/logging.h"

namespace melodai::data {
namespace {

namespace fs = std::filesystem;

constexpr size_t kMaxQuotedFieldBytes = 40;  // longest field text echoed in an error message

constexpr std::string_view kArtistsFile = "artists.dat";
constexpr std::string_view kPlaysFile = "user_artists.dat";
constexpr std::string_view kFriendsFile = "user_friends.dat";
constexpr std::string_view kTagsFile = "tags.dat";
constexpr std::string_view kTagAssignmentsFile = "user_taggedartists.dat";

using ArtistItems = std::unordered_map<uint32_t, ItemId>;

core::Status RowError(std::string_view file, size_t line, std::string_view message) {
  return core::DataLossError(fmt::format("{}:{}: {}", file, line, message));
}

std::string Quoted(std::string_view field) {
  if (field.size() <= kMaxQuotedFieldBytes) return fmt::format("'{}'", field);
  return fmt::format("'{}...'", field.substr(0, kMaxQuotedFieldBytes));
}

// Parses a whole field as an unsigned decimal integer of type T.
template <typename T>
bool ParseUnsigned(std::string_view text, T& value) {
  if (text.empty()) return false;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

// One data row: its 1-based line number and its tab-separated fields (no line end).
struct Row {
  std::string_view file;
  size_t line = 0;
  std::vector<std::string_view> fields;

  // Parses field `index` (0-based, named `column` in errors) as an unsigned integer.
  template <typename T>
  core::Status Number(size_t index, std::string_view column, T& value) const {
    if (ParseUnsigned(fields[index], value)) return core::Status::Ok();
    return RowError(file, line,
                    fmt::format("column {} ({}) is {}, not an unsigned integer in range", index + 1,
                                column, Quoted(fields[index])));
  }
};

void SplitTabs(std::string_view line, std::vector<std::string_view>& fields) {
  fields.clear();
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    if (tab == std::string_view::npos) {
      fields.push_back(line.substr(start));
      return;
    }
    fields.push_back(line.substr(start, tab - start));
    start = tab + 1;
  }
}

// Checks the header line, then calls `on_row(row)` (returning a Status) for every non-blank
// line after it that has at least as many fields as the header.
template <typename OnRow>
core::Status ForEachRow(std::string_view file, std::string_view content,
                        const std::vector<std::string_view>& header, OnRow&& on_row) {
  Row row{file, 0, {}};
  size_t position = 0;
  while (position < content.size()) {
    size_t end = content.find('\n', position);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(position, end - position);
    position = end + 1;
    ++row.line;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (row.line == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);  // UTF-8 BOM
    SplitTabs(line, row.fields);
    if (row.line == 1) {
      if (row.fields != header) {
        return RowError(file, 1,
                        fmt::format("expected the header '{}', found {}", fmt::join(header, "\\t"),
                                    Quoted(line)));
      }
      continue;
    }
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (row.fields.size() < header.size()) {
      return RowError(file, row.line,
                      fmt::format("{} fields, expected {}", row.fields.size(), header.size()));
    }
    MELODAI_RETURN_IF_ERROR(on_row(static_cast<const Row&>(row)));
  }
  if (row.line == 0) return RowError(file, 1, "empty file, expected a header line");
  return core::Status::Ok();
}

// Reads folder/name; a missing optional file gives nullopt, a missing required one kNotFound.
core::Result<std::optional<std::string>> LoadFile(const fs::path& folder, std::string_view name,
                                                  bool required) {
  core::Result<std::string> content = core::ReadFile(folder / name);
  if (content.ok()) return std::optional<std::string>(std::move(content).value());
  if (content.status().code() == core::StatusCode::kNotFound && !required) {
    return std::optional<std::string>();
  }
  return content.status();
}

std::string ArtistUri(uint32_t artist_id) { return fmt::format("lastfm:artist:{}", artist_id); }

core::Status ReadArtists(std::string_view content, Catalog& catalog, ArtistItems& items) {
  return ForEachRow(kArtistsFile, content, {"id", "name", "url", "pictureURL"},
                    [&](const Row& row) -> core::Status {
                      uint32_t id = 0;
                      MELODAI_RETURN_IF_ERROR(row.Number(0, "id", id));
                      const std::string uri = ArtistUri(id);
                      if (catalog.Find(uri)) {
                        return RowError(row.file, row.line,
                                        fmt::format("duplicate artist id {}", id));
                      }
                      const std::string_view name = row.fields[1];
                      items[id] = catalog.AddItem(uri, name, name.empty() ? uri : name);
                      return core::Status::Ok();
                    });
}

struct Play {
  uint32_t user = 0;
  ItemId item = 0;
  float weight = 0.0f;
};

// Reads user_artists.dat into one sequence per user (ascending user id, rows in file order).
core::Status ReadPlays(std::string_view content, Catalog& catalog, ArtistItems& items,
                       Interactions& sequences) {
  std::vector<Play> plays;
  auto on_row = [&](const Row& row) -> core::Status {
    uint32_t user = 0, artist = 0;
    uint64_t weight = 0;
    MELODAI_RETURN_IF_ERROR(row.Number(0, "userID", user));
    MELODAI_RETURN_IF_ERROR(row.Number(1, "artistID", artist));
    MELODAI_RETURN_IF_ERROR(row.Number(2, "weight", weight));
    auto [it, inserted] = items.try_emplace(artist, kInvalidItem);
    if (inserted) {
      const std::string uri = ArtistUri(artist);
      it->second = catalog.AddItem(uri, "", uri);
    }
    plays.push_back({user, it->second, static_cast<float>(weight)});
    return core::Status::Ok();
  };
  MELODAI_RETURN_IF_ERROR(
      ForEachRow(kPlaysFile, content, {"userID", "artistID", "weight"}, on_row));
  std::stable_sort(plays.begin(), plays.end(),
                   [](const Play& a, const Play& b) { return a.user < b.user; });
  sequences = Interactions(/*has_timestamps=*/false, /*has_weights=*/true);
  std::vector<ItemId> user_items;
  std::vector<float> user_weights;
  for (size_t begin = 0; begin < plays.size();) {
    size_t end = begin;
    user_items.clear();
    user_weights.clear();
    for (; end < plays.size() && plays[end].user == plays[begin].user; ++end) {
      user_items.push_back(plays[end].item);
      user_weights.push_back(plays[end].weight);
    }
    sequences.Append(user_items, {}, user_weights, plays[begin].user, "");
    begin = end;
  }
  return core::Status::Ok();
}

core::Status ReadFriends(std::string_view content, const Interactions& sequences,
                         std::vector<std::pair<uint32_t, uint32_t>>& edges) {
  std::unordered_map<uint32_t, uint32_t> sequence_of_user;
  for (size_t s = 0; s < sequences.size(); ++s) {
    sequence_of_user[static_cast<uint32_t>(sequences[s].external_id)] = static_cast<uint32_t>(s);
  }
  size_t skipped = 0;
  auto on_row = [&](const Row& row) -> core::Status {
    uint32_t user = 0, friend_id = 0;
    MELODAI_RETURN_IF_ERROR(row.Number(0, "userID", user));
    MELODAI_RETURN_IF_ERROR(row.Number(1, "friendID", friend_id));
    const auto a = sequence_of_user.find(user);
    const auto b = sequence_of_user.find(friend_id);
    if (a == sequence_of_user.end() || b == sequence_of_user.end() || a == b) {
      ++skipped;
      return core::Status::Ok();
    }
    edges.emplace_back(std::min(a->second, b->second), std::max(a->second, b->second));
    return core::Status::Ok();
  };
  MELODAI_RETURN_IF_ERROR(ForEachRow(kFriendsFile, content, {"userID", "friendID"}, on_row));
  std::sort(edges.begin(), edges.end());
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  if (skipped > 0) MELODAI_LOG_DEBUG("{}: skipped {} friend rows", kFriendsFile, skipped);
  return core::Status::Ok();
}

// Reads tags.dat into `tag_names` and returns tagID -> index into tag_names.
core::Result<std::unordered_map<uint32_t, uint32_t>> ReadTagNames(std::string_view content,
                                                                  StringPool& tag_names) {
  std::unordered_map<uint32_t, uint32_t> tag_index;
  auto on_row = [&](const Row& row) -> core::Status {
    uint32_t tag = 0;
    MELODAI_RETURN_IF_ERROR(row.Number(0, "tagID", tag));
    if (!tag_index.try_emplace(tag, static_cast<uint32_t>(tag_names.size())).second) {
      return RowError(row.file, row.line, fmt::format("duplicate tag id {}", tag));
    }
    tag_names.Append(row.fields[1]);
    return core::Status::Ok();
  };
  MELODAI_RETURN_IF_ERROR(ForEachRow(kTagsFile, content, {"tagID", "tagValue"}, on_row));
  return tag_index;
}

// Turns (item, tag) assignments into the per-item CSR, most assigned tag first.
void BuildItemTags(std::vector<std::pair<ItemId, uint32_t>> assignments, size_t item_count,
                   ItemTags& tags) {
  std::sort(assignments.begin(), assignments.end());
  struct TagCount {
    uint32_t tag;
    uint32_t count;
  };
  std::vector<TagCount> item_tags;
  tags.offsets.assign(1, 0);
  tags.tags.clear();
  size_t next = 0;
  for (ItemId item = 0; item < item_count; ++item) {
    item_tags.clear();
    for (; next < assignments.size() && assignments[next].first == item; ++next) {
      if (!item_tags.empty() && item_tags.back().tag == assignments[next].second) {
        ++item_tags.back().count;
      } else {
        item_tags.push_back({assignments[next].second, 1});
      }
    }
    std::stable_sort(item_tags.begin(), item_tags.end(),
                     [](const TagCount& a, const TagCount& b) { return a.count > b.count; });
    for (const TagCount& entry : item_tags) tags.tags.push_back(entry.tag);
    tags.offsets.push_back(tags.tags.size());
  }
  MELODAI_CHECK_EQ(next, assignments.size());
}

core::Status ReadTagAssignments(std::string_view tags_content, std::string_view content,
                                const ArtistItems& items, size_t item_count, ItemTags& tags) {
  MELODAI_ASSIGN_OR_RETURN(auto tag_index, ReadTagNames(tags_content, tags.tag_names));
  std::vector<std::pair<ItemId, uint32_t>> assignments;
  size_t skipped = 0;
  auto on_row = [&](const Row& row) -> core::Status {
    uint32_t user = 0, artist = 0, tag = 0, day = 0, month = 0, year = 0;
    MELODAI_RETURN_IF_ERROR(row.Number(0, "userID", user));
    MELODAI_RETURN_IF_ERROR(row.Number(1, "artistID", artist));
    MELODAI_RETURN_IF_ERROR(row.Number(2, "tagID", tag));
    MELODAI_RETURN_IF_ERROR(row.Number(3, "day", day));
    MELODAI_RETURN_IF_ERROR(row.Number(4, "month", month));
    MELODAI_RETURN_IF_ERROR(row.Number(5, "year", year));
    const auto tag_it = tag_index.find(tag);
    if (tag_it == tag_index.end()) {
      return RowError(row.file, row.line, fmt::format("tag id {} is not in {}", tag, kTagsFile));
    }
    const auto item_it = items.find(artist);
    if (item_it == items.end()) {
      ++skipped;
      return core::Status::Ok();
    }
    assignments.emplace_back(item_it->second, tag_it->second);
    return core::Status::Ok();
  };
  MELODAI_RETURN_IF_ERROR(ForEachRow(kTagAssignmentsFile, content,
                                     {"userID", "artistID", "tagID", "day", "month", "year"},
                                     on_row));
  if (skipped > 0) {
    MELODAI_LOG_DEBUG("{}: skipped {} assignments to artists outside the catalog",
                      kTagAssignmentsFile, skipped);
  }
  BuildItemTags(std::move(assignments), item_count, tags);
  return core::Status::Ok();
}

}  // namespace

core::Result<Dataset> ReadLastfmFolder(const fs::path& folder) {
  std::error_code error;
  if (!fs::is_directory(folder, error)) {
    return core::NotFoundError("Last.fm folder " + folder.string() + " does not exist");
  }
  MELODAI_ASSIGN_OR_RETURN(auto artists, LoadFile(folder, kArtistsFile, true));
  MELODAI_ASSIGN_OR_RETURN(auto plays, LoadFile(folder, kPlaysFile, true));
  MELODAI_ASSIGN_OR_RETURN(auto friends, LoadFile(folder, kFriendsFile, false));
  MELODAI_ASSIGN_OR_RETURN(auto assignments, LoadFile(folder, kTagAssignmentsFile, false));
  std::optional<std::string> tag_names;
  if (assignments) {
    MELODAI_ASSIGN_OR_RETURN(tag_names, LoadFile(folder, kTagsFile, true));
  }

  Dataset dataset;
  dataset.source = "lastfm";
  dataset.description = folder.string();
  ArtistItems items;
  MELODAI_RETURN_IF_ERROR(ReadArtists(*artists, dataset.catalog, items));
  MELODAI_RETURN_IF_ERROR(ReadPlays(*plays, dataset.catalog, items, dataset.sequences));
  if (friends) {
    MELODAI_RETURN_IF_ERROR(ReadFriends(*friends, dataset.sequences, dataset.social_edges));
  }
  if (assignments) {
    MELODAI_RETURN_IF_ERROR(ReadTagAssignments(*tag_names, *assignments, items,
                                               dataset.catalog.size(), dataset.item_tags));
  }
  MELODAI_CHECK_LE(dataset.sequences.ItemBound(), dataset.catalog.size());
  MELODAI_LOG_INFO("read Last.fm {}: {} artists, {} users, {} plays, {} friend edges",
                   folder.string(), dataset.catalog.size(), dataset.sequences.size(),
                   dataset.sequences.event_count(), dataset.social_edges.size());
  return dataset;
}

}  // namespace melodai::data
