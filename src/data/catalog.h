// MelodAI — licensed under the Apache License 2.0.
// Catalog: every item (track or micro-video) a dataset knows, with dense ids 0..size()-1,
// its uri, display name, artist, media type and optional dense content features.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/status.h"
#include "data/string_pool.h"

namespace melodai::data {

using ItemId = uint32_t;
using ArtistId = uint32_t;
inline constexpr ItemId kInvalidItem = UINT32_MAX;

enum class MediaType : uint8_t { kTrack = 0, kVideo = 1 };

// Invariants: uris_, names_, artist_of_, media_type_ all have size() entries; uris are unique;
// features_ is empty or holds size() * feature_dim() floats.
// Thread safety: const methods may run concurrently.
class Catalog {
 public:
  // Returns the id of `uri`, adding the item when new (name, artist and type of the first
  // occurrence win).
  ItemId AddItem(std::string_view uri, std::string_view name, std::string_view artist,
                 MediaType type = MediaType::kTrack);
  // As AddItem, with uri_hash == core::Hash64(uri) already computed by the caller.
  ItemId AddItemHashed(std::string_view uri, uint64_t uri_hash, std::string_view name,
                       std::string_view artist, MediaType type = MediaType::kTrack);
  std::optional<ItemId> Find(std::string_view uri) const { return uris_.Find(uri); }

  size_t size() const { return artist_of_.size(); }
  size_t artist_count() const { return artists_.size(); }

  // REQUIRES: item < size().
  std::string_view uri(ItemId item) const { return uris_.Get(item); }
  std::string_view name(ItemId item) const { return names_.Get(item); }
  ArtistId artist(ItemId item) const { return artist_of_[item]; }
  MediaType media_type(ItemId item) const { return media_type_[item]; }
  std::string_view artist_name(ArtistId artist) const { return artists_.Get(artist); }
  std::optional<ArtistId> FindArtist(std::string_view name) const { return artists_.Find(name); }
  std::span<const ArtistId> artists_of_items() const { return artist_of_; }

  // Dense content features (audio descriptors, for example); 0 when there are none.
  size_t feature_dim() const { return feature_dim_; }
  // REQUIRES: feature_dim() > 0, item < size().
  std::span<const float> features(ItemId item) const {
    return std::span<const float>(features_).subspan(size_t{item} * feature_dim_, feature_dim_);
  }
  // kInvalidArgument unless values.size() == size() * dim.
  core::Status SetFeatures(size_t dim, std::vector<float> values);

  void Reserve(size_t items, size_t text_bytes);

  void Encode(core::ByteWriter& writer) const;
  core::Status Decode(core::ByteReader& reader);

 private:
  StringPool uris_;
  StringPool names_;
  StringPool artists_;
  std::vector<ArtistId> artist_of_;
  std::vector<MediaType> media_type_;
  size_t feature_dim_ = 0;
  std::vector<float> features_;
};

}  // namespace melodai::data
