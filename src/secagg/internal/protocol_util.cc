// MelodAI — licensed under the Apache License 2.0.
// Key-derivation contexts, share plaintexts and pairwise masks for client and server.
#include "secagg/internal/protocol_util.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/bytes.h"
#include "crypto/secret.h"

namespace melodai::secagg::internal {
namespace {

std::vector<uint8_t> ToBytes(const std::string& text) { return {text.begin(), text.end()}; }

}  // namespace

std::vector<uint8_t> KdfContext(std::string_view purpose, uint64_t round_id) {
  core::ByteWriter writer;
  writer.PutString("melodai.secagg.kdf.v1");
  writer.PutString(purpose);
  writer.PutU64(round_id);
  return ToBytes(writer.buffer());
}

std::vector<uint8_t> ShareAssociatedData(uint64_t round_id, uint32_t owner, uint32_t holder) {
  core::ByteWriter writer;
  writer.PutString("melodai.secagg.share.v1");
  writer.PutU64(round_id);
  writer.PutU32(owner);
  writer.PutU32(holder);
  return ToBytes(writer.buffer());
}

std::vector<uint8_t> EncodeSharePlaintext(uint32_t owner, uint32_t holder,
                                          std::span<const uint64_t> mask_key_share,
                                          std::span<const uint64_t> self_seed_share) {
  MELODAI_CHECK_EQ(mask_key_share.size(), kShareValueCount);
  MELODAI_CHECK_EQ(self_seed_share.size(), kShareValueCount);
  core::ByteWriter writer;
  writer.PutU32(owner);
  writer.PutU32(holder);
  for (uint64_t value : mask_key_share) writer.PutU64(value);
  for (uint64_t value : self_seed_share) writer.PutU64(value);
  MELODAI_CHECK_EQ(writer.size(), kSharePlaintextBytes);
  return ToBytes(writer.buffer());
}

core::Result<SharePlaintext> DecodeSharePlaintext(std::span<const uint8_t> plaintext) {
  if (plaintext.size() != kSharePlaintextBytes) {
    return core::DataLossError("share plaintext has the wrong size");
  }
  core::ByteReader reader(
      std::string_view(reinterpret_cast<const char*>(plaintext.data()), plaintext.size()));
  SharePlaintext share;
  MELODAI_RETURN_IF_ERROR(reader.GetU32(share.owner, "share owner"));
  MELODAI_RETURN_IF_ERROR(reader.GetU32(share.holder, "share holder"));
  share.mask_key_share.resize(kShareValueCount);
  share.self_seed_share.resize(kShareValueCount);
  for (uint64_t& value : share.mask_key_share) {
    MELODAI_RETURN_IF_ERROR(reader.GetU64(value, "mask key share"));
  }
  for (uint64_t& value : share.self_seed_share) {
    MELODAI_RETURN_IF_ERROR(reader.GetU64(value, "self seed share"));
  }
  for (size_t i = 0; i < kShareValueCount; ++i) {
    if (share.mask_key_share[i] >= crypto::kShamirPrime ||
        share.self_seed_share[i] >= crypto::kShamirPrime) {
      return core::DataLossError("share value outside the field");
    }
  }
  return share;
}

core::Result<MaskSpec> PairwiseMask(const RoundConfig& config, const crypto::X25519KeyPair& mine,
                                    const crypto::X25519PublicKey& theirs, MaskSign sign) {
  MELODAI_ASSIGN_OR_RETURN(const crypto::SecretBytes seed,
                           crypto::X25519DeriveSharedKey(mine, theirs, KdfContext("mask", config.round_id)));
  MELODAI_CHECK_EQ(seed.size(), crypto::kPrgSeedBytes);
  MaskSpec mask;
  std::copy(seed.span().begin(), seed.span().end(), mask.seed.begin());
  mask.sign = sign;
  return mask;
}

void ApplyAndWipe(const RoundConfig& config, std::vector<MaskSpec>& masks, std::span<uint32_t> words) {
  ApplyMasks(config.prg, masks, config.modulus_bits, words);
  for (MaskSpec& mask : masks) crypto::SecureWipe(mask.seed);
  masks.clear();
}

std::vector<uint32_t> ClosedNeighbourhood(const NeighbourGraph& graph, uint32_t client) {
  std::vector<uint32_t> closed = graph.Neighbours(client);
  closed.insert(std::upper_bound(closed.begin(), closed.end(), client), client);
  return closed;
}

std::vector<uint8_t> SurvivorBitmap(const std::vector<uint32_t>& closed,
                                    const std::vector<uint32_t>& survivors) {
  std::vector<uint8_t> bitmap((closed.size() + 7) / 8, 0);
  size_t next = 0;
  for (size_t i = 0; i < closed.size() && next < survivors.size(); ++i) {
    if (closed[i] != survivors[next]) continue;
    bitmap[i / 8] |= static_cast<uint8_t>(1u << (i % 8));
    ++next;
  }
  MELODAI_CHECK_EQ(next, survivors.size());  // Every survivor is in the neighbourhood.
  return bitmap;
}

core::Result<std::vector<uint32_t>> SurvivorsFromBitmap(const std::vector<uint32_t>& closed,
                                                        const std::vector<uint8_t>& bitmap) {
  if (bitmap.size() != (closed.size() + 7) / 8) {
    return core::InvalidArgumentError(fmt::format(
        "survivor bitmap of {} bytes for a neighbourhood of {}", bitmap.size(), closed.size()));
  }
  if (closed.size() % 8 != 0 && (bitmap.back() >> (closed.size() % 8)) != 0) {
    return core::InvalidArgumentError("survivor bitmap sets bits past the neighbourhood");
  }
  std::vector<uint32_t> survivors;
  for (size_t i = 0; i < closed.size(); ++i) {
    if ((bitmap[i / 8] >> (i % 8)) & 1) survivors.push_back(closed[i]);
  }
  return survivors;
}

}  // namespace melodai::secagg::internal
