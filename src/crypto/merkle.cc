// MelodAI — licensed under the Apache License 2.0.
// Merkle roots, proofs and verification (see merkle.h for the tree shape).
#include "crypto/merkle.h"

#include <utility>

#include "core/check.h"

namespace melodai::crypto {
namespace {

constexpr uint8_t kLeafTag = 0x00;
constexpr uint8_t kNodeTag = 0x01;

Digest32 NodeHash(const Digest32& left, const Digest32& right) {
  Blake2bHasher hasher;
  const uint8_t tag = kNodeTag;
  hasher.Update({&tag, 1});
  hasher.Update(left);
  hasher.Update(right);
  return hasher.Finish();
}

// One level up: pairs hashed, an odd last node promoted.
std::vector<Digest32> NextLevel(const std::vector<Digest32>& level) {
  std::vector<Digest32> next;
  next.reserve((level.size() + 1) / 2);
  for (size_t i = 0; i + 1 < level.size(); i += 2) next.push_back(NodeHash(level[i], level[i + 1]));
  if (level.size() % 2 == 1) next.push_back(level.back());
  return next;
}

}  // namespace

Digest32 MerkleLeafHash(std::span<const uint8_t> data) {
  Blake2bHasher hasher;
  const uint8_t tag = kLeafTag;
  hasher.Update({&tag, 1});
  hasher.Update(data);
  return hasher.Finish();
}

Digest32 MerkleRoot(std::span<const Digest32> leaf_hashes) {
  if (leaf_hashes.empty()) return Blake2b256({});
  std::vector<Digest32> level(leaf_hashes.begin(), leaf_hashes.end());
  while (level.size() > 1) level = NextLevel(level);
  MELODAI_CHECK_EQ(level.size(), 1u);
  return level[0];
}

MerkleProof MakeMerkleProof(std::span<const Digest32> leaf_hashes, uint64_t index) {
  MELODAI_CHECK_LT(index, leaf_hashes.size());
  MerkleProof proof;
  proof.index = index;
  proof.leaf_count = leaf_hashes.size();
  std::vector<Digest32> level(leaf_hashes.begin(), leaf_hashes.end());
  uint64_t position = index;
  while (level.size() > 1) {
    const uint64_t sibling = position ^ 1;
    if (sibling < level.size()) proof.siblings.push_back(level[sibling]);
    level = NextLevel(level);
    position /= 2;
  }
  MELODAI_CHECK_LE(proof.siblings.size(), kMaxMerkleProofSiblings);
  return proof;
}

bool VerifyMerkleProof(const Digest32& root, const Digest32& leaf_hash, const MerkleProof& proof) {
  if (proof.leaf_count == 0 || proof.index >= proof.leaf_count) return false;
  if (proof.siblings.size() > kMaxMerkleProofSiblings) return false;
  Digest32 current = leaf_hash;
  uint64_t position = proof.index;
  uint64_t level_size = proof.leaf_count;
  size_t used = 0;
  while (level_size > 1) {
    const bool is_right = (position & 1) == 1;
    const bool has_sibling = is_right || position + 1 < level_size;
    if (has_sibling) {
      if (used == proof.siblings.size()) return false;
      const Digest32& sibling = proof.siblings[used++];
      current = is_right ? NodeHash(sibling, current) : NodeHash(current, sibling);
    }
    position /= 2;
    level_size = level_size / 2 + level_size % 2;
  }
  return used == proof.siblings.size() && current == root;
}

}  // namespace melodai::crypto
