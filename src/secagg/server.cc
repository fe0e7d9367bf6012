// MelodAI — licensed under the Apache License 2.0.
// The secure-aggregation server state machine (see server.h).
#include "secagg/server.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "crypto/hash.h"
#include "crypto/key_agreement.h"
#include "secagg/internal/protocol_util.h"
#include "secagg/masking.h"

namespace melodai::secagg {

core::Result<std::unique_ptr<Server>> Server::Create(
    const RoundConfig& config, std::shared_ptr<const IdentityRegistry> registry) {
  MELODAI_RETURN_IF_ERROR(ValidateRoundConfig(config));
  if (registry == nullptr || registry->size() != config.client_count) {
    return core::InvalidArgumentError("identity registry does not list every client");
  }
  return std::unique_ptr<Server>(new Server(config, std::move(registry)));
}

Server::Server(const RoundConfig& config, std::shared_ptr<const IdentityRegistry> registry)
    : config_(config),
      graph_(config),
      registry_(std::move(registry)),
      clients_(config.client_count),
      inbox_(config.client_count) {}

core::Status Server::CheckIncoming(Phase phase, uint64_t round_id, uint32_t client_id) const {
  if (round_id != config_.round_id) {
    return core::FailedPreconditionError(
        fmt::format("server: {} message of round {} in round {}", PhaseName(phase), round_id,
                    config_.round_id));
  }
  if (client_id >= config_.client_count) {
    return core::NotFoundError(fmt::format("server: unknown client {}", client_id));
  }
  if (phase_ != phase) {
    return core::FailedPreconditionError(fmt::format("server: {} message from client {} in phase {}",
                                                     PhaseName(phase), client_id, PhaseName(phase_)));
  }
  return core::Status::Ok();
}

size_t Server::Count(bool ClientState::*flag) const {
  return static_cast<size_t>(std::count_if(clients_.begin(), clients_.end(),
                                            [flag](const ClientState& c) { return c.*flag; }));
}

core::Status Server::Abort(Phase phase, size_t count) {
  aborted_ = true;
  phase_ = Phase::kDone;
  sum_.clear();
  revealed_.clear();
  return core::AbortedError(fmt::format("secure aggregation round {} aborted in {}: {} clients, threshold {}",
                                        config_.round_id, PhaseName(phase), count, config_.threshold));
}

core::Status Server::HandleAdvertiseKeys(const AdvertiseKeysMessage& message) {
  const AdvertisedKeys& keys = message.keys;
  MELODAI_RETURN_IF_ERROR(CheckIncoming(Phase::kAdvertiseKeys, message.round_id, keys.client_id));
  ClientState& state = clients_[keys.client_id];
  if (state.advertised) {
    return core::AlreadyExistsError(fmt::format("server: client {} advertised twice", keys.client_id));
  }
  if (!crypto::Ed25519Verify((*registry_)[keys.client_id],
                             crypto::AsBytes(AdvertisedKeysSigningBytes(config_.round_id, keys)),
                             keys.signature)) {
    return core::DataLossError(fmt::format("server: bad key signature of client {}", keys.client_id));
  }
  if (keys.encryption_key == keys.mask_key) {
    return core::InvalidArgumentError(fmt::format("server: client {} reuses one key", keys.client_id));
  }
  state.advertised = true;
  state.keys = keys;
  return core::Status::Ok();
}

core::Result<std::vector<KeyListMessage>> Server::FinishAdvertiseKeys() {
  if (phase_ != Phase::kAdvertiseKeys) return core::FailedPreconditionError("server: not advertising");
  const size_t count = Count(&ClientState::advertised);
  if (count < config_.threshold) return Abort(Phase::kAdvertiseKeys, count);
  std::vector<KeyListMessage> lists;
  for (uint32_t client = 0; client < config_.client_count; ++client) {
    if (!clients_[client].advertised) continue;
    KeyListMessage list;
    list.round_id = config_.round_id;
    list.target_id = client;
    for (uint32_t peer : graph_.Neighbours(client)) {
      if (clients_[peer].advertised) list.entries.push_back(clients_[peer].keys);
    }
    lists.push_back(std::move(list));
  }
  phase_ = Phase::kShareKeys;
  return lists;
}

core::Status Server::CheckShareTargets(const ShareKeysMessage& message) const {
  size_t expected = 0;
  for (uint32_t peer : graph_.Neighbours(message.client_id)) expected += clients_[peer].advertised;
  if (message.shares.size() != expected) {
    return core::InvalidArgumentError(fmt::format("server: client {} sent {} shares, expected {}",
                                                  message.client_id, message.shares.size(), expected));
  }
  std::set<uint32_t> targets;
  for (const EncryptedShare& share : message.shares) {
    if (share.peer_id >= config_.client_count || !graph_.AreNeighbours(message.client_id, share.peer_id) ||
        !clients_[share.peer_id].advertised || !targets.insert(share.peer_id).second) {
      return core::InvalidArgumentError(fmt::format("server: client {} sent a share for client {}",
                                                    message.client_id, share.peer_id));
    }
    if (share.ciphertext.size() != kShareCiphertextBytes) {
      return core::InvalidArgumentError("server: share ciphertext of the wrong size");
    }
  }
  return core::Status::Ok();
}

core::Status Server::HandleShareKeys(const ShareKeysMessage& message) {
  MELODAI_RETURN_IF_ERROR(CheckIncoming(Phase::kShareKeys, message.round_id, message.client_id));
  ClientState& state = clients_[message.client_id];
  if (!state.advertised) {
    return core::FailedPreconditionError(
        fmt::format("server: client {} shares keys without advertising", message.client_id));
  }
  if (state.shared) {
    return core::AlreadyExistsError(fmt::format("server: client {} shared keys twice", message.client_id));
  }
  MELODAI_RETURN_IF_ERROR(CheckShareTargets(message));
  for (const EncryptedShare& share : message.shares) {
    inbox_[share.peer_id].push_back(EncryptedShare{message.client_id, share.ciphertext});
  }
  state.shared = true;
  return core::Status::Ok();
}

core::Result<std::vector<EncryptedSharesMessage>> Server::FinishShareKeys() {
  if (phase_ != Phase::kShareKeys) return core::FailedPreconditionError("server: not sharing keys");
  const size_t count = Count(&ClientState::shared);
  if (count < config_.threshold) return Abort(Phase::kShareKeys, count);
  std::vector<EncryptedSharesMessage> messages;
  for (uint32_t client = 0; client < config_.client_count; ++client) {
    if (!clients_[client].shared) continue;
    EncryptedSharesMessage message;
    message.round_id = config_.round_id;
    message.target_id = client;
    message.shares = std::move(inbox_[client]);
    std::sort(message.shares.begin(), message.shares.end(),
              [](const EncryptedShare& a, const EncryptedShare& b) { return a.peer_id < b.peer_id; });
    messages.push_back(std::move(message));
  }
  inbox_.clear();
  sum_.assign(config_.dimension * WordsPerElement(config_.modulus_bits), 0);
  phase_ = Phase::kMaskedInputCollection;
  return messages;
}

core::Status Server::HandleMaskedInput(const MaskedInputMessage& message) {
  MELODAI_RETURN_IF_ERROR(
      CheckIncoming(Phase::kMaskedInputCollection, message.round_id, message.client_id));
  ClientState& state = clients_[message.client_id];
  if (!state.shared) {
    return core::FailedPreconditionError(
        fmt::format("server: masked input from client {} that did not share keys", message.client_id));
  }
  if (state.masked) {
    return core::AlreadyExistsError(fmt::format("server: second masked input of client {}", message.client_id));
  }
  if (message.modulus_bits != config_.modulus_bits || message.words.size() != sum_.size()) {
    return core::InvalidArgumentError(fmt::format(
        "server: masked input of client {} has {} words of {} bits, expected {} of {}",
        message.client_id, message.words.size(), message.modulus_bits, sum_.size(), config_.modulus_bits));
  }
  AddWords(config_.modulus_bits, sum_, message.words);
  state.masked = true;
  return core::Status::Ok();
}

core::Result<SurvivorListMessage> Server::FinishMaskedInput() {
  if (phase_ != Phase::kMaskedInputCollection) {
    return core::FailedPreconditionError("server: not collecting masked inputs");
  }
  const size_t count = Count(&ClientState::masked);
  if (count < config_.threshold) return Abort(Phase::kMaskedInputCollection, count);
  survivors_.clear();
  for (uint32_t client = 0; client < config_.client_count; ++client) {
    if (clients_[client].masked) survivors_.push_back(client);
  }
  phase_ = Phase::kConsistencyCheck;
  return SurvivorListMessage{config_.round_id, survivors_};
}

core::Status Server::CheckRecipient(Phase phase, bool neighbourhood_round, uint32_t client,
                                   bool ClientState::*flag) const {
  if (phase_ != phase) {
    return core::FailedPreconditionError(
        fmt::format("server: not in phase {} (in {})", PhaseName(phase), PhaseName(phase_)));
  }
  if (neighbourhood_scoped() != neighbourhood_round) {
    return core::FailedPreconditionError(fmt::format(
        "server: round {} uses {} messages", config_.round_id,
        neighbourhood_scoped() ? "SecAgg+ neighbourhood" : "full-graph"));
  }
  if (client >= config_.client_count) {
    return core::NotFoundError(fmt::format("server: unknown client {}", client));
  }
  if (!(clients_[client].*flag)) {
    return core::FailedPreconditionError(
        fmt::format("server: client {} did not complete the previous step", client));
  }
  return core::Status::Ok();
}

std::vector<uint32_t> Server::NeighbourhoodSurvivors(const std::vector<uint32_t>& closed) const {
  std::vector<uint32_t> survivors;
  for (uint32_t member : closed) {
    if (clients_[member].masked) survivors.push_back(member);
  }
  return survivors;
}

core::Result<NeighbourhoodSurvivorsMessage> Server::NeighbourhoodSurvivorsFor(uint32_t client) const {
  MELODAI_RETURN_IF_ERROR(
      CheckRecipient(Phase::kConsistencyCheck, true, client, &ClientState::masked));
  return NeighbourhoodSurvivorsMessage{
      config_.round_id, client,
      NeighbourhoodSurvivors(internal::ClosedNeighbourhood(graph_, client))};
}

core::Status Server::HandleConsistencySignature(const ConsistencySignatureMessage& message) {
  MELODAI_RETURN_IF_ERROR(CheckIncoming(Phase::kConsistencyCheck, message.round_id, message.client_id));
  ClientState& state = clients_[message.client_id];
  if (!state.masked) {
    return core::FailedPreconditionError(
        fmt::format("server: survivor signature from non-survivor {}", message.client_id));
  }
  if (state.signed_list) {
    return core::AlreadyExistsError(fmt::format("server: client {} signed twice", message.client_id));
  }
  std::string signed_bytes;
  std::vector<uint8_t> bitmap;
  if (neighbourhood_scoped()) {
    const std::vector<uint32_t> closed = internal::ClosedNeighbourhood(graph_, message.client_id);
    const std::vector<uint32_t> survivors = NeighbourhoodSurvivors(closed);
    signed_bytes = NeighbourhoodSigningBytes(config_.round_id, message.client_id, survivors);
    bitmap = internal::SurvivorBitmap(closed, survivors);
  } else {
    signed_bytes = SurvivorListSigningBytes(config_.round_id, survivors_);
  }
  if (!crypto::Ed25519Verify((*registry_)[message.client_id], crypto::AsBytes(signed_bytes),
                             message.signature)) {
    return core::DataLossError(
        fmt::format("server: bad survivor-list signature of client {}", message.client_id));
  }
  state.signed_list = true;
  state.survivor_signature = message.signature;
  state.survivor_bitmap = std::move(bitmap);
  return core::Status::Ok();
}

core::Result<UnmaskingRequestMessage> Server::FinishConsistencyCheck() {
  if (phase_ != Phase::kConsistencyCheck) return core::FailedPreconditionError("server: not checking");
  const size_t count = Count(&ClientState::signed_list);
  if (count < config_.threshold) return Abort(Phase::kConsistencyCheck, count);
  UnmaskingRequestMessage request;
  request.round_id = config_.round_id;
  request.survivors = survivors_;
  for (uint32_t client = 0; client < config_.client_count; ++client) {
    if (clients_[client].signed_list) {
      request.signatures.push_back({client, clients_[client].survivor_signature});
    }
  }
  phase_ = Phase::kUnmasking;
  return request;
}

core::Result<UnmaskingRequestMessage> Server::UnmaskingRequestFor(uint32_t client) const {
  MELODAI_RETURN_IF_ERROR(CheckRecipient(Phase::kUnmasking, false, client, &ClientState::signed_list));
  UnmaskingRequestMessage request;
  request.round_id = config_.round_id;
  request.survivors = survivors_;
  std::vector<uint32_t> signers = internal::ClosedNeighbourhood(graph_, client);
  for (uint32_t signer : signers) {
    if (clients_[signer].signed_list) {
      request.signatures.push_back({signer, clients_[signer].survivor_signature});
    }
  }
  return request;
}

core::Result<NeighbourhoodUnmaskingRequestMessage> Server::NeighbourhoodUnmaskingRequestFor(
    uint32_t client) const {
  MELODAI_RETURN_IF_ERROR(CheckRecipient(Phase::kUnmasking, true, client, &ClientState::signed_list));
  NeighbourhoodUnmaskingRequestMessage request;
  request.round_id = config_.round_id;
  request.target_id = client;
  // The client's own signature is not sent: it checks its neighbours' views against its own.
  for (uint32_t signer : graph_.Neighbours(client)) {
    const ClientState& state = clients_[signer];
    if (state.signed_list) {
      request.signatures.push_back({signer, state.survivor_bitmap, state.survivor_signature});
    }
  }
  return request;
}

core::Status Server::CheckRevealedShares(const UnmaskingResponseMessage& message) const {
  std::set<uint32_t> owners;
  for (const RevealedShare& share : message.shares) {
    const uint32_t owner = share.owner_id;
    if (owner >= config_.client_count || !graph_.AreNeighbours(message.client_id, owner) ||
        !clients_[owner].shared || !owners.insert(owner).second) {
      return core::InvalidArgumentError(fmt::format("server: client {} revealed a share of client {}",
                                                    message.client_id, owner));
    }
    const ShareKind expected = clients_[owner].masked ? ShareKind::kSelfMaskSeed : ShareKind::kMaskKey;
    if (share.kind != expected) {
      return core::InvalidArgumentError(fmt::format(
          "server: client {} revealed the wrong kind of share of client {}", message.client_id, owner));
    }
    if (share.values.size() != kShareValueCount) {
      return core::InvalidArgumentError("server: revealed share of the wrong length");
    }
  }
  return core::Status::Ok();
}

core::Status Server::HandleUnmaskingResponse(const UnmaskingResponseMessage& message) {
  MELODAI_RETURN_IF_ERROR(CheckIncoming(Phase::kUnmasking, message.round_id, message.client_id));
  ClientState& state = clients_[message.client_id];
  if (!state.signed_list) {
    return core::FailedPreconditionError(
        fmt::format("server: unmasking response from client {} that did not sign", message.client_id));
  }
  if (state.responded) {
    return core::AlreadyExistsError(fmt::format("server: client {} responded twice", message.client_id));
  }
  MELODAI_RETURN_IF_ERROR(CheckRevealedShares(message));
  for (const RevealedShare& share : message.shares) {
    revealed_[share.owner_id].push_back(
        crypto::ShamirShare{uint64_t{message.client_id} + 1, share.values});
  }
  state.responded = true;
  return core::Status::Ok();
}

core::Result<crypto::SecretBytes> Server::Rebuild(uint32_t owner) const {
  auto shares = revealed_.find(owner);
  const size_t count = shares == revealed_.end() ? 0 : shares->second.size();
  if (count < config_.threshold) {
    return core::AbortedError(fmt::format("secure aggregation round {} aborted: {} shares of client {}, threshold {}",
                                          config_.round_id, count, owner, config_.threshold));
  }
  return crypto::ShamirCombine(shares->second, config_.threshold, kSecretBytes);
}

core::Status Server::CollectDroppedClientMasks(uint32_t dropped, std::vector<MaskSpec>& masks) const {
  MELODAI_ASSIGN_OR_RETURN(const crypto::SecretBytes secret, Rebuild(dropped));
  const crypto::X25519KeyPair pair = crypto::X25519KeyPair::FromSecretKey(
      std::span<const uint8_t, crypto::kX25519KeyBytes>(secret.data(), secret.size()));
  if (pair.public_key() != clients_[dropped].keys.mask_key) {
    return core::DataLossError(fmt::format(
        "server: rebuilt mask key of client {} does not match its advertised key", dropped));
  }
  for (uint32_t peer : graph_.Neighbours(dropped)) {
    if (!clients_[peer].masked) continue;
    // The survivor added PairwiseSign(peer, dropped) * mask; take it away again.
    const MaskSign survivor_sign = internal::PairwiseSign(peer, dropped);
    const MaskSign removal = survivor_sign == MaskSign::kAdd ? MaskSign::kSubtract : MaskSign::kAdd;
    MELODAI_ASSIGN_OR_RETURN(MaskSpec mask, internal::PairwiseMask(config_, pair, clients_[peer].keys.mask_key, removal));
    masks.push_back(mask);
    crypto::SecureWipe(mask.seed);
  }
  return core::Status::Ok();
}

core::Status Server::CollectMasks(std::vector<MaskSpec>& masks) const {
  for (uint32_t survivor : survivors_) {
    MELODAI_ASSIGN_OR_RETURN(const crypto::SecretBytes seed, Rebuild(survivor));
    MaskSpec mask;
    std::copy(seed.span().begin(), seed.span().end(), mask.seed.begin());
    mask.sign = MaskSign::kSubtract;
    masks.push_back(mask);
    crypto::SecureWipe(mask.seed);
  }
  for (uint32_t client = 0; client < config_.client_count; ++client) {
    if (!clients_[client].shared || clients_[client].masked) continue;
    MELODAI_RETURN_IF_ERROR(CollectDroppedClientMasks(client, masks));
  }
  return core::Status::Ok();
}

core::Result<std::vector<uint64_t>> Server::FinishUnmasking() {
  if (phase_ != Phase::kUnmasking) return core::FailedPreconditionError("server: not unmasking");
  const size_t count = Count(&ClientState::responded);
  if (count < config_.threshold) return Abort(Phase::kUnmasking, count);
  std::vector<MaskSpec> masks;
  const core::Status collected = CollectMasks(masks);
  if (!collected.ok()) {
    internal::ApplyAndWipe(config_, masks, {});  // Only wipes.
    if (collected.code() == core::StatusCode::kAborted) {
      aborted_ = true;
      phase_ = Phase::kDone;
    }
    return collected;
  }
  internal::ApplyAndWipe(config_, masks, sum_);
  phase_ = Phase::kDone;
  revealed_.clear();
  return WordsToElements(config_.modulus_bits, sum_);
}

}  // namespace melodai::secagg
