// MelodAI — licensed under the Apache License 2.0.
// Helpers shared by the secure-aggregation client and server: key-derivation contexts, the
// associated data and plaintext layout of encrypted shares, and pairwise-mask expansion.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "crypto/key_agreement.h"
#include "secagg/config.h"
#include "secagg/masking.h"
#include "secagg/messages.h"

namespace melodai::secagg::internal {

// Context bytes for X25519DeriveSharedKey: domain, purpose ("encrypt" or "mask") and round.
std::vector<uint8_t> KdfContext(std::string_view purpose, uint64_t round_id);

// Associated data of the share that `owner` sealed for `holder` in `round_id`.
std::vector<uint8_t> ShareAssociatedData(uint64_t round_id, uint32_t owner, uint32_t holder);

// Plaintext: owner u32 | holder u32 | mask-key share values | self-seed share values.
std::vector<uint8_t> EncodeSharePlaintext(uint32_t owner, uint32_t holder,
                                          std::span<const uint64_t> mask_key_share,
                                          std::span<const uint64_t> self_seed_share);
struct SharePlaintext {
  uint32_t owner = 0;
  uint32_t holder = 0;
  std::vector<uint64_t> mask_key_share;
  std::vector<uint64_t> self_seed_share;
};
// kDataLoss on a wrong size or a value outside the field.
core::Result<SharePlaintext> DecodeSharePlaintext(std::span<const uint8_t> plaintext);

// The pairwise mask between the owner of `mine` and the owner of `theirs`, to be applied with
// `sign`: its seed is KDF(X25519(mine, theirs), "mask", round). kInvalidArgument for a
// low-order peer key. The caller wipes the returned seed.
core::Result<MaskSpec> PairwiseMask(const RoundConfig& config, const crypto::X25519KeyPair& mine,
                                    const crypto::X25519PublicKey& theirs, MaskSign sign);

// Applies `masks` to `words` and wipes the seeds.
void ApplyAndWipe(const RoundConfig& config, std::vector<MaskSpec>& masks, std::span<uint32_t> words);

// SecAgg+ neighbourhood lists. The closed neighbourhood N[c] = N(c) ∪ {c}, increasing id.
std::vector<uint32_t> ClosedNeighbourhood(const NeighbourGraph& graph, uint32_t client);
// The bitmap of `survivors` over `closed` (both increasing; REQUIRES survivors ⊆ closed).
std::vector<uint8_t> SurvivorBitmap(const std::vector<uint32_t>& closed,
                                    const std::vector<uint32_t>& survivors);
// The inverse: the members of `closed` whose bit is set. kInvalidArgument unless the bitmap
// is exactly (|closed| + 7) / 8 bytes with zero padding bits (one encoding per list).
core::Result<std::vector<uint32_t>> SurvivorsFromBitmap(const std::vector<uint32_t>& closed,
                                                        const std::vector<uint8_t>& bitmap);

// The sign with which client `self` adds the mask it shares with `peer`: the smaller id adds,
// the larger subtracts, so the pair cancels in the sum.
inline MaskSign PairwiseSign(uint32_t self, uint32_t peer) {
  return self < peer ? MaskSign::kAdd : MaskSign::kSubtract;
}

}  // namespace melodai::secagg::internal
