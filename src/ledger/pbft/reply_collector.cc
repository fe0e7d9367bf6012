// MelodAI — licensed under the Apache License 2.0.
// ReplyCollector: f+1 matching signed replies.
#include "ledger/pbft/reply_collector.h"

namespace melodai::ledger::pbft {

void ReplyCollector::Expect(const crypto::Digest32& transaction_hash) {
  if (!accepted_.contains(transaction_hash)) votes_[transaction_hash];
}

core::Result<std::vector<crypto::Digest32>> ReplyCollector::Add(std::string_view reply_bytes) {
  MELODAI_ASSIGN_OR_RETURN(SignedMessage message, DecodeSignedMessage(reply_bytes));
  if (message.type != MessageType::kReply || !validators_.Contains(message.replica)) {
    return core::InvalidArgumentError("reply: not a REPLY from a validator");
  }
  if (!VerifyMessageSignature(message, validators_.key(message.replica))) {
    return core::InvalidArgumentError("reply: bad signature from replica " +
                                      std::to_string(message.replica));
  }
  MELODAI_ASSIGN_OR_RETURN(Reply reply, DecodeReply(message.body));
  std::vector<crypto::Digest32> newly_accepted;
  for (const ReplyEntry& entry : reply.entries) {
    auto it = votes_.find(entry.transaction_hash);
    if (it == votes_.end()) continue;
    AcceptedReply vote{reply.height, reply.block_hash, entry.code};
    it->second[message.replica] = vote;
    uint32_t matching = 0;
    for (const auto& [replica, other] : it->second) matching += other == vote ? 1 : 0;
    if (matching >= validators_.reply_quorum()) {
      accepted_[entry.transaction_hash] = vote;
      newly_accepted.push_back(entry.transaction_hash);
      votes_.erase(it);
    }
  }
  return newly_accepted;
}

std::optional<AcceptedReply> ReplyCollector::Result(const crypto::Digest32& transaction_hash) const {
  auto it = accepted_.find(transaction_hash);
  if (it == accepted_.end()) return std::nullopt;
  return it->second;
}

}  // namespace melodai::ledger::pbft
