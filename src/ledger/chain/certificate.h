// MelodAI — licensed under the Apache License 2.0.
// Commit certificates: 2f+1 COMMIT signatures on (view, height, batch digest). With the
// validator set alone anyone can check that a block was committed by the PBFT quorum.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "ledger/chain/block.h"
#include "ledger/chain/validator_set.h"

namespace melodai::ledger {

// Every PBFT signature covers kConsensusSignatureDomain | type u8 | replica u32 | body. The
// COMMIT message type and body layout are fixed here so that certificates can be verified
// without the pbft library; pbft/messages.h static_asserts that it uses the same values.
inline constexpr std::string_view kConsensusSignatureDomain = "melodai/pbft/v1";
inline constexpr uint8_t kCommitMessageType = 4;

struct CommitVote {
  uint32_t replica = 0;
  crypto::Ed25519Signature signature{};
  friend bool operator==(const CommitVote&, const CommitVote&) = default;
};

struct CommitCertificate {
  uint64_t view = 0;
  uint64_t height = 0;
  crypto::Digest32 batch_digest{};
  std::vector<CommitVote> votes;  // Sorted by replica, distinct.
  friend bool operator==(const CommitCertificate&, const CommitCertificate&) = default;
};

// The COMMIT body: view u64 | height u64 | batch_digest [32].
std::string CommitBody(uint64_t view, uint64_t height, const crypto::Digest32& batch_digest);
// The bytes a replica signs for its COMMIT: domain | kCommitMessageType | replica | body.
std::string CommitSigningBytes(uint64_t view, uint64_t height,
                               const crypto::Digest32& batch_digest, uint32_t replica);

// Wire format: view u64 | height u64 | digest | vote_count u32 | (replica u32 | sig [64])*.
std::string EncodeCommitCertificate(const CommitCertificate& certificate);
core::Result<CommitCertificate> DecodeCommitCertificate(std::string_view bytes);

// OK when the certificate holds >= validators.quorum() votes of distinct known replicas, each a
// valid signature. kDataLoss (naming the vote) otherwise. Thread-safe.
core::Status VerifyCommitCertificate(const CommitCertificate& certificate,
                                     const ValidatorSet& validators);

// Offline verification of a committed block: the certificate is valid, matches the block's
// height, its view is at or after the proposal view, the proposer is the primary of that view, the transactions root and batch
// digest match, and every transaction is correctly signed. kDataLoss naming the first problem.
core::Status VerifyCommittedBlock(const Block& block, const CommitCertificate& certificate,
                                  const ValidatorSet& validators);

}  // namespace melodai::ledger
