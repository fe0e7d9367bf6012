// MelodAI — licensed under the Apache License 2.0.
// The validator set of a PBFT ledger: n public keys indexed 0..n-1, the fault bound f and the
// quorum size 2f+1. Shared by consensus and by offline verifiers of blocks.
#pragma once

#include <cstdint>
#include <vector>

#include "core/status.h"
#include "crypto/ed25519.h"

namespace melodai::ledger {

// Invariants: n() >= 1, f() == (n() - 1) / 3, quorum() == 2 f() + 1 <= n(), keys distinct.
// Immutable after Create; thread-safe.
class ValidatorSet {
 public:
  // kInvalidArgument when `keys` is empty, larger than kMaxValidators or holds duplicates.
  static core::Result<ValidatorSet> Create(std::vector<crypto::Ed25519PublicKey> keys);

  static constexpr uint32_t kMaxValidators = 256;

  uint32_t n() const { return static_cast<uint32_t>(keys_.size()); }
  uint32_t f() const { return (n() - 1) / 3; }
  uint32_t quorum() const { return 2 * f() + 1; }
  // Matching replies a client needs: f + 1.
  uint32_t reply_quorum() const { return f() + 1; }
  // The primary of `view`.
  uint32_t Primary(uint64_t view) const { return static_cast<uint32_t>(view % n()); }
  bool Contains(uint32_t replica) const { return replica < n(); }
  // REQUIRES: Contains(replica).
  const crypto::Ed25519PublicKey& key(uint32_t replica) const;
  const std::vector<crypto::Ed25519PublicKey>& keys() const { return keys_; }

 private:
  explicit ValidatorSet(std::vector<crypto::Ed25519PublicKey> keys) : keys_(std::move(keys)) {}
  std::vector<crypto::Ed25519PublicKey> keys_;
};

}  // namespace melodai::ledger
