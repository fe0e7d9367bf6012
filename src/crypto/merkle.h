// MelodAI — licensed under the Apache License 2.0.
// Binary Merkle trees over BLAKE2b-256 with RFC 6962 style domain separation
// (leaf = H(0x00 || data), node = H(0x01 || left || right)); an odd node at the end of a level
// is promoted unchanged. Inclusion proofs for light verification of ledger contents.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "crypto/hash.h"

namespace melodai::crypto {

// Longest proof VerifyMerkleProof accepts (a tree of up to 2^64 leaves).
inline constexpr size_t kMaxMerkleProofSiblings = 64;

// BLAKE2b-256 of 0x00 || data. Thread-safe.
Digest32 MerkleLeafHash(std::span<const uint8_t> data);
// The root over `leaf_hashes` in order; Blake2b256 of nothing for zero leaves; the leaf hash
// itself for one leaf. Thread-safe.
Digest32 MerkleRoot(std::span<const Digest32> leaf_hashes);

struct MerkleProof {
  uint64_t index = 0;               // Position of the leaf.
  uint64_t leaf_count = 0;          // Number of leaves in the tree.
  std::vector<Digest32> siblings;   // Bottom-up; levels where the node is promoted are skipped.
};

// The inclusion proof of leaf `index`. REQUIRES: index < leaf_hashes.size(). Thread-safe.
MerkleProof MakeMerkleProof(std::span<const Digest32> leaf_hashes, uint64_t index);
// True when `proof` shows `leaf_hash` at proof.index of a tree of proof.leaf_count leaves with
// root `root`. False (never aborts) for inconsistent index/count or a wrong sibling count, so
// proofs from the network can be passed directly. The root alone does not bind leaf_count (a
// count with the same path shape also verifies): authenticate the count separately, as a block
// header does. Thread-safe.
bool VerifyMerkleProof(const Digest32& root, const Digest32& leaf_hash, const MerkleProof& proof);

}  // namespace melodai::crypto
