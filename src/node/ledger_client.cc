// MelodAI — licensed under the Apache License 2.0.
// LedgerClient: connections, receiver threads, reply verification and f+1 vote counting.
#include "node/ledger_client.h"

#include <fmt/format.h>

#include <chrono>

#include "core/logging.h"
#include "ledger/pbft/messages.h"

namespace melodai::node {

struct LedgerClient::Peer {
  uint32_t id = 0;
  std::unique_ptr<net::BlockingClient> connection;
  std::mutex send_mutex;  // Serializes writers; the receiver thread only reads.
  std::thread receiver;
};

LedgerClient::LedgerClient(Genesis genesis) : genesis_(std::move(genesis)) {}

LedgerClient::~LedgerClient() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  for (auto& peer : peers_) {
    if (peer != nullptr && peer->receiver.joinable()) peer->receiver.join();
  }
}

core::Result<std::unique_ptr<LedgerClient>> LedgerClient::Connect(const Genesis& genesis,
                                                                  int timeout_ms) {
  std::unique_ptr<LedgerClient> client(new LedgerClient(genesis));
  client->peers_.resize(genesis.validators.size());
  size_t reachable = 0;
  for (uint32_t id = 0; id < genesis.validators.size(); ++id) {
    const HostPort& address = genesis.validators[id].client_address;
    auto connection = net::BlockingClient::Connect(address.host, address.port, timeout_ms,
                                                   ledger::pbft::kMaxMessageBytes);
    if (!connection.ok()) {
      MELODAI_LOG_WARN("client: validator {} unreachable: {}", id, connection.status().ToString());
      continue;
    }
    auto peer = std::make_unique<Peer>();
    peer->id = id;
    peer->connection = std::move(connection).value();
    client->peers_[id] = std::move(peer);
    ++reachable;
  }
  if (reachable < genesis.max_faulty() + 1) {
    return core::UnavailableError(fmt::format(
        "client: only {} of {} validators reachable; {} needed for replies", reachable,
        genesis.validators.size(), genesis.max_faulty() + 1));
  }
  LedgerClient* raw = client.get();
  for (auto& peer : client->peers_) {
    if (peer != nullptr) peer->receiver = std::thread([raw, &peer = *peer] { raw->ReceiveLoop(peer); });
  }
  return client;
}

void LedgerClient::ReceiveLoop(Peer& peer) {
  while (true) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    auto frame = peer.connection->Receive(100);
    if (!frame.ok()) {
      MELODAI_LOG_WARN("client: connection to validator {} ended: {}", peer.id,
                       frame.status().ToString());
      return;
    }
    if (!frame->has_value()) continue;
    auto message = net::DecodeClientMessage(**frame);
    if (!message.ok()) {
      std::lock_guard lock(mutex_);
      ++invalid_replies_;
      continue;
    }
    if (message->kind == net::ClientMessageKind::kReply) {
      OnReply(peer.id, message->body);
    } else {
      OnOther(peer.id, *message);
    }
  }
}

void LedgerClient::OnReply(uint32_t validator, std::string_view bytes) {
  auto signed_message = ledger::pbft::DecodeSignedMessage(bytes);
  bool valid = signed_message.ok() && signed_message->type == ledger::pbft::MessageType::kReply &&
               signed_message->replica == validator &&
               ledger::pbft::VerifyMessageSignature(*signed_message,
                                                    genesis_.validators[validator].public_key);
  std::optional<ledger::pbft::Reply> reply;
  if (valid) {
    auto decoded = ledger::pbft::DecodeReply(signed_message->body);
    if (decoded.ok()) reply = std::move(decoded).value();
  }
  std::lock_guard lock(mutex_);
  if (!reply.has_value()) {
    ++invalid_replies_;
    return;
  }
  const uint32_t quorum = reply_quorum();
  for (const ledger::pbft::ReplyEntry& entry : reply->entries) {
    if (confirmed_.contains(entry.transaction_hash)) continue;
    const VoteKey key{entry.code, reply->height, reply->block_hash};
    std::set<uint32_t>& voters = votes_[entry.transaction_hash][key];
    voters.insert(validator);
    if (voters.size() >= quorum) {
      confirmed_.insert(entry.transaction_hash);
      votes_.erase(entry.transaction_hash);
      new_confirmations_.push_back({entry.transaction_hash, entry.code, reply->height,
                                    reply->block_hash});
    }
  }
  changed_.notify_all();
}

void LedgerClient::OnOther(uint32_t validator, const net::ClientMessage& message) {
  std::lock_guard lock(mutex_);
  if (message.kind == net::ClientMessageKind::kRejected) {
    auto rejection = net::DecodeRejection(message.body);
    if (!rejection.ok()) {
      ++invalid_replies_;
      return;
    }
    rejections_.push_back({validator, std::move(rejection).value()});
  } else {
    answers_[validator].push_back(message);
  }
  changed_.notify_all();
}

core::Result<crypto::Digest32> LedgerClient::Submit(const ledger::Transaction& tx,
                                                    const std::vector<uint32_t>& targets) {
  const std::string encoded = ledger::EncodeTransaction(tx);
  std::vector<std::vector<uint32_t>> all_targets = {targets};
  MELODAI_RETURN_IF_ERROR(SubmitMany({encoded}, all_targets));
  return ledger::TransactionHash(tx);
}

core::Status LedgerClient::SubmitMany(const std::vector<std::string>& encoded,
                                      const std::vector<std::vector<uint32_t>>& targets) {
  MELODAI_CHECK(targets.size() == encoded.size() || targets.size() == 1);
  // Group the frames per validator so each gets one write.
  std::vector<std::vector<std::string>> per_validator(peers_.size());
  for (size_t i = 0; i < encoded.size(); ++i) {
    const std::vector<uint32_t>& chosen = targets.size() == 1 ? targets[0] : targets[i];
    const std::string frame = net::EncodeClientMessage(net::ClientMessageKind::kSubmit, encoded[i]);
    if (chosen.empty()) {
      for (uint32_t id : connected()) per_validator[id].push_back(frame);
    } else {
      for (uint32_t id : chosen) {
        if (id < peers_.size()) per_validator[id].push_back(frame);
      }
    }
  }
  size_t written = 0;
  for (uint32_t id = 0; id < peers_.size(); ++id) {
    if (per_validator[id].empty() || peers_[id] == nullptr) continue;
    std::lock_guard lock(peers_[id]->send_mutex);
    if (peers_[id]->connection->SendMany(per_validator[id]).ok()) ++written;
  }
  if (written == 0 && !encoded.empty()) {
    return core::UnavailableError("client: no validator accepted the transactions");
  }
  return core::Status::Ok();
}

core::Status LedgerClient::WatchMany(const std::vector<crypto::Digest32>& hashes,
                                     const std::vector<uint32_t>& targets) {
  MELODAI_CHECK_EQ(hashes.size(), targets.size());
  std::vector<std::vector<std::string>> per_validator(peers_.size());
  for (size_t i = 0; i < hashes.size(); ++i) {
    if (targets[i] >= peers_.size()) continue;
    per_validator[targets[i]].push_back(net::EncodeClientMessage(
        net::ClientMessageKind::kWatch,
        std::string_view(reinterpret_cast<const char*>(hashes[i].data()), hashes[i].size())));
  }
  size_t written = 0;
  for (uint32_t id = 0; id < peers_.size(); ++id) {
    if (per_validator[id].empty() || peers_[id] == nullptr) continue;
    std::lock_guard lock(peers_[id]->send_mutex);
    if (peers_[id]->connection->SendMany(per_validator[id]).ok()) ++written;
  }
  if (written == 0 && !hashes.empty()) return core::UnavailableError("client: no validator to watch");
  return core::Status::Ok();
}

std::vector<Confirmation> LedgerClient::TakeConfirmations(int timeout_ms) {
  std::unique_lock lock(mutex_);
  changed_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                    [this] { return !new_confirmations_.empty(); });
  std::vector<Confirmation> result;
  result.swap(new_confirmations_);
  return result;
}

std::vector<ClientRejection> LedgerClient::TakeRejections() {
  std::lock_guard lock(mutex_);
  std::vector<ClientRejection> result;
  result.swap(rejections_);
  return result;
}

core::Result<net::NodeStatus> LedgerClient::Status(uint32_t validator, int timeout_ms) {
  if (validator >= peers_.size() || peers_[validator] == nullptr) {
    return core::UnavailableError(fmt::format("client: validator {} not connected", validator));
  }
  {
    std::lock_guard lock(peers_[validator]->send_mutex);
    MELODAI_RETURN_IF_ERROR(peers_[validator]->connection->Send(
        net::EncodeClientMessage(net::ClientMessageKind::kStatusRequest, "")));
  }
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto& answers = answers_[validator];
    for (auto it = answers.begin(); it != answers.end(); ++it) {
      if (it->kind != net::ClientMessageKind::kStatus) continue;
      auto status = net::DecodeNodeStatus(it->body);
      answers.erase(it);
      return status;
    }
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return core::DeadlineExceededError(fmt::format("client: validator {} did not answer", validator));
    }
  }
}

core::Result<std::string> LedgerClient::Query(uint32_t validator, const std::string& request,
                                              int timeout_ms) {
  if (validator >= peers_.size() || peers_[validator] == nullptr) {
    return core::UnavailableError(fmt::format("client: validator {} not connected", validator));
  }
  {
    std::lock_guard lock(peers_[validator]->send_mutex);
    MELODAI_RETURN_IF_ERROR(peers_[validator]->connection->Send(
        net::EncodeClientMessage(net::ClientMessageKind::kQuery, request)));
  }
  std::unique_lock lock(mutex_);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto& answers = answers_[validator];
    for (auto it = answers.begin(); it != answers.end(); ++it) {
      if (it->kind != net::ClientMessageKind::kQueryResult) continue;
      auto result = net::DecodeQueryResult(it->body);
      answers.erase(it);
      if (!result.ok()) return result.status();
      if (result->status_code != 0) {
        return core::Status(static_cast<core::StatusCode>(std::min<uint8_t>(result->status_code, 13)),
                            result->value);
      }
      return result->value;
    }
    if (changed_.wait_until(lock, deadline) == std::cv_status::timeout) {
      return core::DeadlineExceededError(fmt::format("client: validator {} did not answer", validator));
    }
  }
}

std::vector<uint32_t> LedgerClient::connected() const {
  std::vector<uint32_t> ids;
  for (const auto& peer : peers_) {
    if (peer != nullptr) ids.push_back(peer->id);
  }
  return ids;
}

uint64_t LedgerClient::invalid_replies() const {
  std::lock_guard lock(mutex_);
  return invalid_replies_;
}

}  // namespace melodai::node
