// MelodAI — licensed under the Apache License 2.0.
// Dataset: what every reader returns — a catalog, the interaction sequences over it, and the
// optional side information some sources carry (item tags, a social graph).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "data/catalog.h"
#include "data/interactions.h"
#include "data/string_pool.h"

namespace melodai::data {

// Item -> tag ids, CSR. Tags come from Last.fm tag assignments or Mulan ARFF label columns.
struct ItemTags {
  StringPool tag_names;
  std::vector<uint64_t> offsets{0};  // one entry per catalog item + 1 (or only {0} when absent)
  std::vector<uint32_t> tags;
  bool empty() const { return tags.empty(); }
};

struct Dataset {
  std::string source;       // "mpd", "lastfm", "arff", "csv" or "synthetic"
  std::string description;  // the folder or file it came from
  Catalog catalog;
  Interactions sequences;   // in the order of the source (MPD: slice files by name, then array)
  ItemTags item_tags;
  // Undirected friend edges between sequence indices (Last.fm user_friends), each once, a < b.
  std::vector<std::pair<uint32_t, uint32_t>> social_edges;
};

}  // namespace melodai::data
