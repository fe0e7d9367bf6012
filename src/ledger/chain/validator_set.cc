// MelodAI — licensed under the Apache License 2.0.
// ValidatorSet construction and lookups.

#include "ledger/chain/validator_set.h"

#include <set>

namespace melodai::ledger {

core::Result<ValidatorSet> ValidatorSet::Create(std::vector<crypto::Ed25519PublicKey> keys) {
  if (keys.empty()) return core::InvalidArgumentError("validator set: no validators");
  if (keys.size() > kMaxValidators) {
    return core::InvalidArgumentError("validator set: " + std::to_string(keys.size()) +
                                      " validators exceed the limit of " +
                                      std::to_string(kMaxValidators));
  }
  std::set<crypto::Ed25519PublicKey> distinct(keys.begin(), keys.end());
  if (distinct.size() != keys.size()) {
    return core::InvalidArgumentError("validator set: duplicate validator key");
  }
  ValidatorSet set(std::move(keys));
  MELODAI_CHECK_LE(set.quorum(), set.n());
  return set;
}

const crypto::Ed25519PublicKey& ValidatorSet::key(uint32_t replica) const {
  MELODAI_CHECK(Contains(replica));
  return keys_[replica];
}

}  // namespace melodai::ledger
