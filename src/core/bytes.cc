// MelodAI — licensed under the Apache License 2.0.
// ByteWriter / ByteReader and Hash64.
#include "core/bytes.h"

#include <bit>
#include <string>

namespace melodai::core {

void ByteWriter::PutF32(float value) { PutFixed(std::bit_cast<uint32_t>(value)); }
void ByteWriter::PutF64(double value) { PutFixed(std::bit_cast<uint64_t>(value)); }

void ByteWriter::PutString(std::string_view value) {
  PutU64(value.size());
  PutRaw(value.data(), value.size());
}

void ByteWriter::PutRaw(const void* data, size_t size) {
  if (size > 0) buffer_.append(static_cast<const char*>(data), size);
}

Status ByteReader::Truncated(std::string_view field, uint64_t wanted) const {
  return DataLossError("field '" + std::string(field) + "' at byte " + std::to_string(offset_) +
                       " wants " + std::to_string(wanted) + " bytes but only " +
                       std::to_string(remaining()) + " remain (or exceeds its limit)");
}

Status ByteReader::GetRaw(void* target, size_t size, std::string_view field) {
  if (size > remaining()) return Truncated(field, size);
  if (size > 0) std::memcpy(target, data_.data() + offset_, size);
  offset_ += size;
  return Status::Ok();
}

Status ByteReader::GetU8(uint8_t& value, std::string_view field) {
  return GetRaw(&value, sizeof(value), field);
}
Status ByteReader::GetU32(uint32_t& value, std::string_view field) {
  return GetRaw(&value, sizeof(value), field);
}
Status ByteReader::GetU64(uint64_t& value, std::string_view field) {
  return GetRaw(&value, sizeof(value), field);
}
Status ByteReader::GetI64(int64_t& value, std::string_view field) {
  return GetRaw(&value, sizeof(value), field);
}
Status ByteReader::GetF32(float& value, std::string_view field) {
  uint32_t bits = 0;
  MELODAI_RETURN_IF_ERROR(GetU32(bits, field));
  value = std::bit_cast<float>(bits);
  return Status::Ok();
}
Status ByteReader::GetF64(double& value, std::string_view field) {
  uint64_t bits = 0;
  MELODAI_RETURN_IF_ERROR(GetU64(bits, field));
  value = std::bit_cast<double>(bits);
  return Status::Ok();
}

Status ByteReader::GetString(std::string& value, std::string_view field, size_t max_size) {
  uint64_t size = 0;
  MELODAI_RETURN_IF_ERROR(GetU64(size, field));
  if (size > max_size || size > remaining()) return Truncated(field, size);
  value.assign(data_.data() + offset_, size);
  offset_ += size;
  return Status::Ok();
}

namespace {

constexpr uint64_t kPrime1 = 0x9E3779B185EBCA87ULL;
constexpr uint64_t kPrime2 = 0xC2B2AE3D27D4EB4FULL;
constexpr uint64_t kPrime3 = 0x165667B19E3779F9ULL;

inline uint64_t Load64(const char* p) {
  uint64_t value;
  std::memcpy(&value, p, sizeof(value));
  return value;
}

inline uint64_t Round(uint64_t accumulator, uint64_t input) {
  accumulator += input * kPrime2;
  accumulator = std::rotl(accumulator, 31);
  return accumulator * kPrime1;
}

inline uint64_t Avalanche(uint64_t h) {
  h ^= h >> 33;
  h *= kPrime2;
  h ^= h >> 29;
  h *= kPrime3;
  h ^= h >> 32;
  return h;
}

}  // namespace

uint64_t Hash64(std::string_view data, uint64_t seed) {
  // Four independent lanes over 32-byte stripes, then a tail, then an avalanche.
  const char* p = data.data();
  const char* end = p + data.size();
  uint64_t lanes[4] = {seed + kPrime1 + kPrime2, seed + kPrime2, seed, seed - kPrime1};
  while (end - p >= 32) {
    for (uint64_t& lane : lanes) {
      lane = Round(lane, Load64(p));
      p += 8;
    }
  }
  uint64_t h = std::rotl(lanes[0], 1) + std::rotl(lanes[1], 7) + std::rotl(lanes[2], 12) +
               std::rotl(lanes[3], 18);
  h += data.size();
  while (end - p >= 8) {
    h ^= Round(0, Load64(p));
    h = std::rotl(h, 27) * kPrime1 + kPrime3;
    p += 8;
  }
  while (p < end) {
    h ^= static_cast<uint64_t>(static_cast<unsigned char>(*p)) * kPrime3;
    h = std::rotl(h, 11) * kPrime1;
    ++p;
  }
  return Avalanche(h);
}

}  // namespace melodai::core
