// MelodAI — licensed under the Apache License 2.0.
// Commit certificate encoding and offline verification of committed blocks.

#include "ledger/chain/certificate.h"

#include <set>

#include "core/bytes.h"

namespace melodai::ledger {
namespace {

constexpr size_t kCommitVoteBytes = 4 + 64;
constexpr size_t kCertificateFixedBytes = 8 + 8 + 32 + 4;

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

}  // namespace

std::string CommitBody(uint64_t view, uint64_t height, const crypto::Digest32& batch_digest) {
  core::ByteWriter writer;
  writer.PutU64(view);
  writer.PutU64(height);
  writer.PutRaw(batch_digest.data(), batch_digest.size());
  return writer.Release();
}

std::string CommitSigningBytes(uint64_t view, uint64_t height,
                               const crypto::Digest32& batch_digest, uint32_t replica) {
  core::ByteWriter writer;
  writer.PutRaw(kConsensusSignatureDomain.data(), kConsensusSignatureDomain.size());
  writer.PutU8(kCommitMessageType);
  writer.PutU32(replica);
  std::string body = CommitBody(view, height, batch_digest);
  writer.PutRaw(body.data(), body.size());
  return writer.Release();
}

std::string EncodeCommitCertificate(const CommitCertificate& certificate) {
  core::ByteWriter writer;
  writer.Reserve(kCertificateFixedBytes + certificate.votes.size() * kCommitVoteBytes);
  writer.PutU64(certificate.view);
  writer.PutU64(certificate.height);
  writer.PutRaw(certificate.batch_digest.data(), certificate.batch_digest.size());
  writer.PutU32(static_cast<uint32_t>(certificate.votes.size()));
  for (const CommitVote& vote : certificate.votes) {
    writer.PutU32(vote.replica);
    writer.PutRaw(vote.signature.data(), vote.signature.size());
  }
  return writer.Release();
}

core::Result<CommitCertificate> DecodeCommitCertificate(std::string_view bytes) {
  core::ByteReader reader(bytes);
  CommitCertificate certificate;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(certificate.view, "certificate.view"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(certificate.height, "certificate.height"));
  MELODAI_RETURN_IF_ERROR(reader.GetRaw(certificate.batch_digest.data(),
                                        certificate.batch_digest.size(), "certificate.digest"));
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU32(count, "certificate.vote_count"));
  if (count > ValidatorSet::kMaxValidators || count * kCommitVoteBytes > reader.remaining()) {
    return core::DataLossError("certificate.vote_count: " + std::to_string(count) +
                               " is invalid");
  }
  certificate.votes.resize(count);
  for (uint32_t i = 0; i < count; ++i) {
    CommitVote& vote = certificate.votes[i];
    MELODAI_RETURN_IF_ERROR(reader.GetU32(vote.replica, "certificate.votes.replica"));
    MELODAI_RETURN_IF_ERROR(
        reader.GetRaw(vote.signature.data(), vote.signature.size(), "certificate.votes.sig"));
  }
  if (!reader.done()) {
    return core::DataLossError("certificate: " + std::to_string(reader.remaining()) +
                               " trailing bytes");
  }
  return certificate;
}

core::Status VerifyCommitCertificate(const CommitCertificate& certificate,
                                     const ValidatorSet& validators) {
  std::set<uint32_t> seen;
  for (size_t i = 0; i < certificate.votes.size(); ++i) {
    const CommitVote& vote = certificate.votes[i];
    std::string where = "certificate of height " + std::to_string(certificate.height) +
                        ": vote " + std::to_string(i);
    if (!validators.Contains(vote.replica)) {
      return core::DataLossError(where + " names unknown replica " +
                                 std::to_string(vote.replica));
    }
    if (!seen.insert(vote.replica).second) {
      return core::DataLossError(where + " repeats replica " + std::to_string(vote.replica));
    }
    std::string signed_bytes = CommitSigningBytes(certificate.view, certificate.height,
                                                  certificate.batch_digest, vote.replica);
    if (!crypto::Ed25519Verify(validators.key(vote.replica), AsBytes(signed_bytes),
                               vote.signature)) {
      return core::DataLossError(where + " has a bad signature");
    }
  }
  if (seen.size() < validators.quorum()) {
    return core::DataLossError("certificate of height " + std::to_string(certificate.height) +
                               ": " + std::to_string(seen.size()) + " votes, quorum is " +
                               std::to_string(validators.quorum()));
  }
  return core::Status::Ok();
}

core::Status VerifyCommittedBlock(const Block& block, const CommitCertificate& certificate,
                                  const ValidatorSet& validators) {
  const BlockHeader& header = block.header;
  std::string where = "block " + std::to_string(header.height);
  if (certificate.height != header.height) {
    return core::DataLossError(where + ": certificate is for height " +
                               std::to_string(certificate.height));
  }
  if (certificate.view < header.view) {
    return core::DataLossError(where + ": certificate view precedes the proposal view");
  }
  if (header.proposer != validators.Primary(header.view)) {
    return core::DataLossError(where + ": proposer is not the primary of its view");
  }
  if (TransactionsRoot(block.transactions) != header.transactions_root) {
    return core::DataLossError(where + ": transactions root mismatch");
  }
  if (BatchDigest(header.height, header.view, header.timestamp_ms, header.transactions_root) !=
      certificate.batch_digest) {
    return core::DataLossError(where + ": batch digest differs from the certificate");
  }
  for (size_t i = 0; i < block.transactions.size(); ++i) {
    if (!VerifyTransactionSignature(block.transactions[i])) {
      return core::DataLossError(where + ": transaction " + std::to_string(i) +
                                 " has a bad signature");
    }
  }
  return VerifyCommitCertificate(certificate, validators);
}

}  // namespace melodai::ledger
