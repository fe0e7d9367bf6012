// MelodAI — licensed under the Apache License 2.0.
// Catalog construction and binary encoding.
#include "data/catalog.h"

#include <string>

namespace melodai::data {

ItemId Catalog::AddItem(std::string_view uri, std::string_view name, std::string_view artist,
                        MediaType type) {
  return AddItemHashed(uri, core::Hash64(uri), name, artist, type);
}

ItemId Catalog::AddItemHashed(std::string_view uri, uint64_t uri_hash, std::string_view name,
                              std::string_view artist, MediaType type) {
  const size_t before = uris_.size();
  const ItemId id = uris_.InternHashed(uri, uri_hash);
  if (uris_.size() == before) return id;
  names_.Append(name);
  artist_of_.push_back(artists_.Intern(artist));
  media_type_.push_back(type);
  if (feature_dim_ > 0) features_.resize(features_.size() + feature_dim_, 0.0f);
  return id;
}

core::Status Catalog::SetFeatures(size_t dim, std::vector<float> values) {
  if (values.size() != size() * dim) {
    return core::InvalidArgumentError("feature matrix has " + std::to_string(values.size()) +
                                      " values, expected " + std::to_string(size()) + " items x " +
                                      std::to_string(dim));
  }
  feature_dim_ = dim;
  features_ = std::move(values);
  return core::Status::Ok();
}

void Catalog::Reserve(size_t items, size_t text_bytes) {
  uris_.Reserve(items, text_bytes / 2);
  names_.Reserve(items, text_bytes / 2);
  artists_.Reserve(items / 4, text_bytes / 16);
  artist_of_.reserve(items);
  media_type_.reserve(items);
}

void Catalog::Encode(core::ByteWriter& writer) const {
  uris_.Encode(writer);
  names_.Encode(writer);
  artists_.Encode(writer);
  writer.PutArray<ArtistId>(artist_of_);
  std::vector<uint8_t> types(media_type_.size());
  for (size_t i = 0; i < types.size(); ++i) types[i] = static_cast<uint8_t>(media_type_[i]);
  writer.PutArray<uint8_t>(types);
  writer.PutU64(feature_dim_);
  writer.PutArray<float>(features_);
}

core::Status Catalog::Decode(core::ByteReader& reader) {
  constexpr size_t kMaxItems = size_t{1} << 31;
  constexpr size_t kMaxFeatureDim = 1 << 16;
  MELODAI_RETURN_IF_ERROR(uris_.Decode(reader, "catalog.uris"));
  MELODAI_RETURN_IF_ERROR(names_.Decode(reader, "catalog.names"));
  MELODAI_RETURN_IF_ERROR(artists_.Decode(reader, "catalog.artists"));
  MELODAI_RETURN_IF_ERROR(reader.GetArray(artist_of_, "catalog.artist_of", kMaxItems));
  std::vector<uint8_t> types;
  MELODAI_RETURN_IF_ERROR(reader.GetArray(types, "catalog.media_type", kMaxItems));
  uint64_t dim = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(dim, "catalog.feature_dim"));
  MELODAI_RETURN_IF_ERROR(reader.GetArray(features_, "catalog.features", size_t{1} << 34));
  const size_t items = uris_.size();
  if (names_.size() != items || artist_of_.size() != items || types.size() != items) {
    return core::DataLossError("catalog columns disagree on the item count");
  }
  if (dim > kMaxFeatureDim || features_.size() != items * dim) {
    return core::DataLossError("catalog feature matrix does not match items x dim");
  }
  for (ArtistId artist : artist_of_) {
    if (artist >= artists_.size()) return core::DataLossError("catalog artist id out of range");
  }
  media_type_.resize(items);
  for (size_t i = 0; i < items; ++i) {
    if (types[i] > 1) return core::DataLossError("catalog media type out of range");
    media_type_[i] = static_cast<MediaType>(types[i]);
  }
  feature_dim_ = dim;
  return core::Status::Ok();
}

}  // namespace melodai::data
