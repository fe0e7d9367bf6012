// MelodAI — licensed under the Apache License 2.0.
// Encoding and strict decoding of the secure-aggregation wire messages. Layout of every
// message: kind u8 | round_id u64 | body; counts are u32, ids u32, keys and signatures raw.
#include "secagg/messages.h"

#include <fmt/format.h>

#include "core/bytes.h"

namespace melodai::secagg {
namespace {

using core::ByteReader;
using core::ByteWriter;

void PutHeader(ByteWriter& writer, MessageKind kind, uint64_t round_id) {
  writer.PutU8(static_cast<uint8_t>(kind));
  writer.PutU64(round_id);
}

template <size_t N>
void PutBytes(ByteWriter& writer, const std::array<uint8_t, N>& bytes) {
  writer.PutRaw(bytes.data(), N);
}

core::Status GetHeader(ByteReader& reader, MessageKind kind, uint64_t& round_id) {
  uint8_t byte = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU8(byte, "message kind"));
  if (byte != static_cast<uint8_t>(kind)) {
    return core::DataLossError(
        fmt::format("message kind {} where {} was expected", byte, static_cast<int>(kind)));
  }
  return reader.GetU64(round_id, "round_id");
}

core::Status GetClientId(ByteReader& reader, uint32_t& id, std::string_view field) {
  MELODAI_RETURN_IF_ERROR(reader.GetU32(id, field));
  if (id >= kMaxClients) {
    return core::DataLossError(fmt::format("{} {} exceeds the client limit {}", field, id, kMaxClients));
  }
  return core::Status::Ok();
}

// Reads a u32 count and checks it against `max_count` and the bytes left (each item takes at
// least `min_item_bytes`), so a hostile count cannot make us allocate.
core::Status GetCount(ByteReader& reader, uint32_t& count, std::string_view field, size_t max_count,
                      size_t min_item_bytes) {
  MELODAI_RETURN_IF_ERROR(reader.GetU32(count, field));
  if (count > max_count || uint64_t{count} * min_item_bytes > reader.remaining()) {
    return core::DataLossError(fmt::format("{} {} exceeds its limit or the message", field, count));
  }
  return core::Status::Ok();
}

core::Status CheckIncreasing(bool first, uint32_t previous, uint32_t current, std::string_view field) {
  if (!first && current <= previous) {
    return core::DataLossError(fmt::format("{} not strictly increasing ({} after {})", field,
                                           current, previous));
  }
  return core::Status::Ok();
}

core::Status GetDone(const ByteReader& reader, std::string_view message) {
  if (!reader.done()) {
    return core::DataLossError(fmt::format("{}: {} trailing bytes", message, reader.remaining()));
  }
  return core::Status::Ok();
}

template <size_t N>
core::Status GetBytes(ByteReader& reader, std::array<uint8_t, N>& bytes, std::string_view field) {
  return reader.GetRaw(bytes.data(), N, field);
}

void PutAdvertisedKeys(ByteWriter& writer, const AdvertisedKeys& keys) {
  writer.PutU32(keys.client_id);
  PutBytes(writer, keys.encryption_key.bytes);
  PutBytes(writer, keys.mask_key.bytes);
  PutBytes(writer, keys.signature);
}
constexpr size_t kAdvertisedKeysBytes = 4 + 32 + 32 + 64;

core::Status GetAdvertisedKeys(ByteReader& reader, AdvertisedKeys& keys) {
  MELODAI_RETURN_IF_ERROR(GetClientId(reader, keys.client_id, "client_id"));
  MELODAI_RETURN_IF_ERROR(GetBytes(reader, keys.encryption_key.bytes, "encryption_key"));
  MELODAI_RETURN_IF_ERROR(GetBytes(reader, keys.mask_key.bytes, "mask_key"));
  return GetBytes(reader, keys.signature, "signature");
}

void PutShares(ByteWriter& writer, const std::vector<EncryptedShare>& shares) {
  writer.PutU32(static_cast<uint32_t>(shares.size()));
  for (const EncryptedShare& share : shares) {
    writer.PutU32(share.peer_id);
    writer.PutRaw(share.ciphertext.data(), share.ciphertext.size());
  }
}

core::Status GetShares(ByteReader& reader, std::vector<EncryptedShare>& shares) {
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(reader, count, "share count", kMaxClients, 4 + kShareCiphertextBytes));
  shares.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    MELODAI_RETURN_IF_ERROR(GetClientId(reader, shares[i].peer_id, "share peer_id"));
    MELODAI_RETURN_IF_ERROR(
        CheckIncreasing(i == 0, i == 0 ? 0 : shares[i - 1].peer_id, shares[i].peer_id, "share peers"));
    shares[i].ciphertext.resize(kShareCiphertextBytes);
    MELODAI_RETURN_IF_ERROR(reader.GetRaw(shares[i].ciphertext.data(), kShareCiphertextBytes, "ciphertext"));
  }
  return core::Status::Ok();
}

void PutIds(ByteWriter& writer, const std::vector<uint32_t>& ids) {
  writer.PutU32(static_cast<uint32_t>(ids.size()));
  for (uint32_t id : ids) writer.PutU32(id);
}

core::Status GetIds(ByteReader& reader, std::vector<uint32_t>& ids, std::string_view field) {
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(reader, count, field, kMaxClients, 4));
  ids.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    MELODAI_RETURN_IF_ERROR(GetClientId(reader, ids[i], field));
    MELODAI_RETURN_IF_ERROR(CheckIncreasing(i == 0, i == 0 ? 0 : ids[i - 1], ids[i], field));
  }
  return core::Status::Ok();
}

}  // namespace

core::Result<MessageKind> PeekMessageKind(std::string_view bytes) {
  if (bytes.empty()) return core::DataLossError("empty secagg message");
  const uint8_t kind = static_cast<uint8_t>(bytes[0]);
  if (kind == 0 || kind > kMaxMessageKind) {
    return core::DataLossError(fmt::format("unknown secagg message kind {}", kind));
  }
  return static_cast<MessageKind>(kind);
}

std::string Encode(const AdvertiseKeysMessage& message) {
  ByteWriter writer;
  PutHeader(writer, MessageKind::kAdvertiseKeys, message.round_id);
  PutAdvertisedKeys(writer, message.keys);
  return writer.Release();
}

core::Result<AdvertiseKeysMessage> DecodeAdvertiseKeys(std::string_view bytes) {
  ByteReader reader(bytes);
  AdvertiseKeysMessage message;
  MELODAI_RETURN_IF_ERROR(GetHeader(reader, MessageKind::kAdvertiseKeys, message.round_id));
  MELODAI_RETURN_IF_ERROR(GetAdvertisedKeys(reader, message.keys));
  MELODAI_RETURN_IF_ERROR(GetDone(reader, "AdvertiseKeys"));
  return message;
}

std::string Encode(const KeyListMessage& message) {
  ByteWriter writer;
  PutHeader(writer, MessageKind::kKeyList, message.round_id);
  writer.PutU32(message.target_id);
  writer.PutU32(static_cast<uint32_t>(message.entries.size()));
  for (const AdvertisedKeys& keys : message.entries) PutAdvertisedKeys(writer, keys);
  return writer.Release();
}

core::Result<KeyListMessage> DecodeKeyList(std::string_view bytes) {
  ByteReader reader(bytes);
  KeyListMessage message;
  MELODAI_RETURN_IF_ERROR(GetHeader(reader, MessageKind::kKeyList, message.round_id));
  MELODAI_RETURN_IF_ERROR(GetClientId(reader, message.target_id, "target_id"));
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(reader, count, "key count", kMaxClients, kAdvertisedKeysBytes));
  message.entries.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    MELODAI_RETURN_IF_ERROR(GetAdvertisedKeys(reader, message.entries[i]));
    MELODAI_RETURN_IF_ERROR(CheckIncreasing(i == 0, i == 0 ? 0 : message.entries[i - 1].client_id,
                                            message.entries[i].client_id, "key list"));
  }
  MELODAI_RETURN_IF_ERROR(GetDone(reader, "KeyList"));
  return message;
}

std::string Encode(const ShareKeysMessage& message) {
  ByteWriter writer;
  PutHeader(writer, MessageKind::kShareKeys, message.round_id);
  writer.PutU32(message.client_id);
  PutShares(writer, message.shares);
  return writer.Release();
}

core::Result<ShareKeysMessage> DecodeShareKeys(std::string_view bytes) {
  ByteReader reader(bytes);
  ShareKeysMessage message;
  MELODAI_RETURN_IF_ERROR(GetHeader(reader, MessageKind::kShareKeys, message.round_id));
  MELODAI_RETURN_IF_ERROR(GetClientId(reader, message.client_id, "client_id"));
  MELODAI_RETURN_IF_ERROR(GetShares(reader, message.shares));
  MELODAI_RETURN_IF_ERROR(GetDone(reader, "ShareKeys"));
  return message;
}

std::string Encode(const EncryptedSharesMessage& message) {
  ByteWriter writer;
  PutHeader(writer, MessageKind::kEncryptedShares, message.round_id);
  writer.PutU32(message.target_id);
  PutShares(writer, message.shares);
  return writer.Release();
}

core::Result<EncryptedSharesMessage> DecodeEncryptedShares(std::string_view bytes) {
  ByteReader reader(bytes);
  EncryptedSharesMessage message;
  MELODAI_RETURN_IF_ERROR(GetHeader(reader, MessageKind::kEncryptedShares, message.round_id));
  MELODAI_RETURN_IF_ERROR(GetClientId(reader, message.target_id, "target_id"));
  MELODAI_RETURN_IF_ERROR(GetShares(reader, message.shares));
  MELODAI_RETURN_IF_ERROR(GetDone(reader, "EncryptedShares"));
  return message;
}

std::string Encode(const MaskedInputMessage& message) {
  ByteWriter writer;
  writer.Reserve(1 + 8 + 4 + 4 + 8 + message.words.size() * 4);
  PutHeader(writer, MessageKind::kMaskedInput, message.round_id);
  writer.PutU32(message.client_id);
  writer.PutU32(message.modulus_bits);
  writer.PutArray(std::span<const uint32_t>(message.words));
  return writer.Release();
}

core::Result<MaskedInputMessage> DecodeMaskedInput(std::string_view bytes) {
  ByteReader reader(bytes);
  MaskedInputMessage message;
  MELODAI_RETURN_IF_ERROR(GetHeader(reader, MessageKind::kMaskedInput, message.round_id));
  MELODAI_RETURN_IF_ERROR(GetClientId(reader, message.client_id, "client_id"));
  MELODAI_RETURN_IF_ERROR(reader.GetU32(message.modulus_bits, "modulus_bits"));
  if (message.modulus_bits != 32 && message.modulus_bits != 64) {
    return core::DataLossError(fmt::format("modulus_bits {} is not 32 or 64", message.modulus_bits));
  }
  MELODAI_RETURN_IF_ERROR(reader.GetArray(message.words, "masked words", 2 * kMaxDimension));
  if (message.words.empty() || message.words.size() % (message.modulus_bits / 32) != 0) {
    return core::DataLossError(fmt::format("{} masked words do not form whole {}-bit elements",
                                           message.words.size(), message.modulus_bits));
  }
  MELODAI_RETURN_IF_ERROR(GetDone(reader, "MaskedInput"));
  return message;
}

std::string Encode(const SurvivorListMessage& message) {
  ByteWriter writer;
  PutHeader(writer, MessageKind::kSurvivorList, message.round_id);
  PutIds(writer, message.survivors);
  return writer.Release();
}

core::Result<SurvivorListMessage> DecodeSurvivorList(std::string_view bytes) {
  ByteReader reader(bytes);
  SurvivorListMessage message;
  MELODAI_RETURN_IF_ERROR(GetHeader(reader, MessageKind::kSurvivorList, message.round_id));
  MELODAI_RETURN_IF_ERROR(GetIds(reader, message.survivors, "survivors"));
  MELODAI_RETURN_IF_ERROR(GetDone(reader, "SurvivorList"));
  return message;
}

std::string Encode(const ConsistencySignatureMessage& message) {
  ByteWriter writer;
  PutHeader(writer, MessageKind::kConsistencySignature, message.round_id);
  writer.PutU32(message.client_id);
  PutBytes(writer, message.signature);
  return writer.Release();
}

core::Result<ConsistencySignatureMessage> DecodeConsistencySignature(std::string_view bytes) {
  ByteReader reader(bytes);
  ConsistencySignatureMessage message;
  MELODAI_RETURN_IF_ERROR(GetHeader(reader, MessageKind::kConsistencySignature, message.round_id));
  MELODAI_RETURN_IF_ERROR(GetClientId(reader, message.client_id, "client_id"));
  MELODAI_RETURN_IF_ERROR(GetBytes(reader, message.signature, "signature"));
  MELODAI_RETURN_IF_ERROR(GetDone(reader, "ConsistencySignature"));
  return message;
}

std::string Encode(const UnmaskingRequestMessage& message) {
  ByteWriter writer;
  PutHeader(writer, MessageKind::kUnmaskingRequest, message.round_id);
  PutIds(writer, message.survivors);
  writer.PutU32(static_cast<uint32_t>(message.signatures.size()));
  for (const SurvivorSignature& entry : message.signatures) {
    writer.PutU32(entry.client_id);
    PutBytes(writer, entry.signature);
  }
  return writer.Release();
}

core::Result<UnmaskingRequestMessage> DecodeUnmaskingRequest(std::string_view bytes) {
  ByteReader reader(bytes);
  UnmaskingRequestMessage message;
  MELODAI_RETURN_IF_ERROR(GetHeader(reader, MessageKind::kUnmaskingRequest, message.round_id));
  MELODAI_RETURN_IF_ERROR(GetIds(reader, message.survivors, "survivors"));
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(reader, count, "signature count", kMaxClients, 4 + 64));
  message.signatures.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    SurvivorSignature& entry = message.signatures[i];
    MELODAI_RETURN_IF_ERROR(GetClientId(reader, entry.client_id, "signer"));
    MELODAI_RETURN_IF_ERROR(CheckIncreasing(
        i == 0, i == 0 ? 0 : message.signatures[i - 1].client_id, entry.client_id, "signers"));
    MELODAI_RETURN_IF_ERROR(GetBytes(reader, entry.signature, "signature"));
  }
  MELODAI_RETURN_IF_ERROR(GetDone(reader, "UnmaskingRequest"));
  return message;
}

std::string Encode(const UnmaskingResponseMessage& message) {
  ByteWriter writer;
  PutHeader(writer, MessageKind::kUnmaskingResponse, message.round_id);
  writer.PutU32(message.client_id);
  writer.PutU32(static_cast<uint32_t>(message.shares.size()));
  for (const RevealedShare& share : message.shares) {
    writer.PutU32(share.owner_id);
    writer.PutU8(static_cast<uint8_t>(share.kind));
    for (uint64_t value : share.values) writer.PutU64(value);
  }
  return writer.Release();
}

core::Result<UnmaskingResponseMessage> DecodeUnmaskingResponse(std::string_view bytes) {
  ByteReader reader(bytes);
  UnmaskingResponseMessage message;
  MELODAI_RETURN_IF_ERROR(GetHeader(reader, MessageKind::kUnmaskingResponse, message.round_id));
  MELODAI_RETURN_IF_ERROR(GetClientId(reader, message.client_id, "client_id"));
  uint32_t count = 0;
  constexpr size_t kShareBytes = 4 + 1 + kShareValueCount * 8;
  MELODAI_RETURN_IF_ERROR(GetCount(reader, count, "revealed share count", kMaxClients, kShareBytes));
  message.shares.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    RevealedShare& share = message.shares[i];
    MELODAI_RETURN_IF_ERROR(GetClientId(reader, share.owner_id, "share owner"));
    MELODAI_RETURN_IF_ERROR(CheckIncreasing(i == 0, i == 0 ? 0 : message.shares[i - 1].owner_id,
                                            share.owner_id, "share owners"));
    uint8_t kind = 0;
    MELODAI_RETURN_IF_ERROR(reader.GetU8(kind, "share kind"));
    if (kind != static_cast<uint8_t>(ShareKind::kSelfMaskSeed) &&
        kind != static_cast<uint8_t>(ShareKind::kMaskKey)) {
      return core::DataLossError(fmt::format("unknown share kind {}", kind));
    }
    share.kind = static_cast<ShareKind>(kind);
    share.values.resize(kShareValueCount);
    for (uint64_t& value : share.values) {
      MELODAI_RETURN_IF_ERROR(reader.GetU64(value, "share value"));
      if (value >= crypto::kShamirPrime) return core::DataLossError("share value outside the field");
    }
  }
  MELODAI_RETURN_IF_ERROR(GetDone(reader, "UnmaskingResponse"));
  return message;
}

std::string Encode(const NeighbourhoodSurvivorsMessage& message) {
  ByteWriter writer;
  PutHeader(writer, MessageKind::kNeighbourhoodSurvivors, message.round_id);
  writer.PutU32(message.target_id);
  PutIds(writer, message.survivors);
  return writer.Release();
}

core::Result<NeighbourhoodSurvivorsMessage> DecodeNeighbourhoodSurvivors(std::string_view bytes) {
  ByteReader reader(bytes);
  NeighbourhoodSurvivorsMessage message;
  MELODAI_RETURN_IF_ERROR(GetHeader(reader, MessageKind::kNeighbourhoodSurvivors, message.round_id));
  MELODAI_RETURN_IF_ERROR(GetClientId(reader, message.target_id, "target_id"));
  MELODAI_RETURN_IF_ERROR(GetIds(reader, message.survivors, "neighbourhood survivors"));
  MELODAI_RETURN_IF_ERROR(GetDone(reader, "NeighbourhoodSurvivors"));
  return message;
}

std::string Encode(const NeighbourhoodUnmaskingRequestMessage& message) {
  ByteWriter writer;
  PutHeader(writer, MessageKind::kNeighbourhoodUnmaskingRequest, message.round_id);
  writer.PutU32(message.target_id);
  writer.PutU32(static_cast<uint32_t>(message.signatures.size()));
  for (const NeighbourhoodSignature& entry : message.signatures) {
    writer.PutU32(entry.client_id);
    writer.PutU32(static_cast<uint32_t>(entry.survivor_bitmap.size()));
    writer.PutRaw(entry.survivor_bitmap.data(), entry.survivor_bitmap.size());
    PutBytes(writer, entry.signature);
  }
  return writer.Release();
}

core::Result<NeighbourhoodUnmaskingRequestMessage> DecodeNeighbourhoodUnmaskingRequest(
    std::string_view bytes) {
  ByteReader reader(bytes);
  NeighbourhoodUnmaskingRequestMessage message;
  MELODAI_RETURN_IF_ERROR(
      GetHeader(reader, MessageKind::kNeighbourhoodUnmaskingRequest, message.round_id));
  MELODAI_RETURN_IF_ERROR(GetClientId(reader, message.target_id, "target_id"));
  uint32_t count = 0;
  // Each entry: signer, bitmap length (the bitmap itself may be empty here; the client checks
  // its length against the graph), signature.
  MELODAI_RETURN_IF_ERROR(GetCount(reader, count, "neighbourhood signature count", kMaxClients, 4 + 4 + 64));
  message.signatures.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    NeighbourhoodSignature& entry = message.signatures[i];
    MELODAI_RETURN_IF_ERROR(GetClientId(reader, entry.client_id, "signer"));
    MELODAI_RETURN_IF_ERROR(CheckIncreasing(
        i == 0, i == 0 ? 0 : message.signatures[i - 1].client_id, entry.client_id, "signers"));
    uint32_t bitmap_bytes = 0;
    MELODAI_RETURN_IF_ERROR(
        GetCount(reader, bitmap_bytes, "survivor bitmap bytes", kMaxSurvivorBitmapBytes, 1));
    entry.survivor_bitmap.resize(bitmap_bytes);
    MELODAI_RETURN_IF_ERROR(reader.GetRaw(entry.survivor_bitmap.data(), bitmap_bytes, "survivor bitmap"));
    MELODAI_RETURN_IF_ERROR(GetBytes(reader, entry.signature, "signature"));
  }
  MELODAI_RETURN_IF_ERROR(GetDone(reader, "NeighbourhoodUnmaskingRequest"));
  return message;
}

namespace {

template <typename Decoded>
core::Result<std::string> Reencode(core::Result<Decoded> decoded) {
  if (!decoded.ok()) return decoded.status();
  return Encode(*decoded);
}

}  // namespace

core::Result<std::string> DecodeAndReencode(std::string_view bytes) {
  MELODAI_ASSIGN_OR_RETURN(const MessageKind kind, PeekMessageKind(bytes));
  switch (kind) {
    case MessageKind::kAdvertiseKeys:
      return Reencode(DecodeAdvertiseKeys(bytes));
    case MessageKind::kKeyList:
      return Reencode(DecodeKeyList(bytes));
    case MessageKind::kShareKeys:
      return Reencode(DecodeShareKeys(bytes));
    case MessageKind::kEncryptedShares:
      return Reencode(DecodeEncryptedShares(bytes));
    case MessageKind::kMaskedInput:
      return Reencode(DecodeMaskedInput(bytes));
    case MessageKind::kSurvivorList:
      return Reencode(DecodeSurvivorList(bytes));
    case MessageKind::kConsistencySignature:
      return Reencode(DecodeConsistencySignature(bytes));
    case MessageKind::kUnmaskingRequest:
      return Reencode(DecodeUnmaskingRequest(bytes));
    case MessageKind::kUnmaskingResponse:
      return Reencode(DecodeUnmaskingResponse(bytes));
    case MessageKind::kNeighbourhoodSurvivors:
      return Reencode(DecodeNeighbourhoodSurvivors(bytes));
    case MessageKind::kNeighbourhoodUnmaskingRequest:
      return Reencode(DecodeNeighbourhoodUnmaskingRequest(bytes));
  }
  return core::InternalError("unhandled secagg message kind");
}

std::string AdvertisedKeysSigningBytes(uint64_t round_id, const AdvertisedKeys& keys) {
  ByteWriter writer;
  writer.PutString("melodai.secagg.advertise.v1");
  writer.PutU64(round_id);
  writer.PutU32(keys.client_id);
  PutBytes(writer, keys.encryption_key.bytes);
  PutBytes(writer, keys.mask_key.bytes);
  return writer.Release();
}

std::string SurvivorListSigningBytes(uint64_t round_id, const std::vector<uint32_t>& survivors) {
  ByteWriter writer;
  writer.PutString("melodai.secagg.survivors.v1");
  writer.PutU64(round_id);
  PutIds(writer, survivors);
  return writer.Release();
}

std::string NeighbourhoodSigningBytes(uint64_t round_id, uint32_t signer,
                                      const std::vector<uint32_t>& survivors) {
  ByteWriter writer;
  writer.PutString("melodai.secagg.neighbourhood.v1");
  writer.PutU64(round_id);
  writer.PutU32(signer);
  PutIds(writer, survivors);
  return writer.Release();
}

}  // namespace melodai::secagg
