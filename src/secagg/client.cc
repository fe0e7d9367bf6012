// MelodAI — licensed under the Apache License 2.0.
// The secure-aggregation client state machine: key advertisement, share dealing, masking,
// survivor-list signing and share revelation.
#include "secagg/client.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <set>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/shamir.h"
#include "secagg/internal/protocol_util.h"
#include "secagg/masking.h"

namespace melodai::secagg {

core::Result<std::unique_ptr<Client>> Client::Create(
    const RoundConfig& config, uint32_t client_id, crypto::Ed25519KeyPair identity,
    std::shared_ptr<const IdentityRegistry> registry, crypto::RandomSource& random) {
  MELODAI_RETURN_IF_ERROR(ValidateRoundConfig(config));
  if (client_id >= config.client_count) {
    return core::InvalidArgumentError(fmt::format("client id {} outside the round", client_id));
  }
  if (registry == nullptr || registry->size() != config.client_count) {
    return core::InvalidArgumentError("identity registry does not list every client");
  }
  if ((*registry)[client_id] != identity.public_key()) {
    return core::InvalidArgumentError(fmt::format("registry key of client {} differs", client_id));
  }
  return std::unique_ptr<Client>(
      new Client(config, client_id, std::move(identity), std::move(registry), random));
}

Client::Client(const RoundConfig& config, uint32_t client_id, crypto::Ed25519KeyPair identity,
               std::shared_ptr<const IdentityRegistry> registry, crypto::RandomSource& random)
    : config_(config),
      id_(client_id),
      graph_(config),
      identity_(std::move(identity)),
      registry_(std::move(registry)),
      random_(random) {}

core::Status Client::CheckEnvelope(Phase expected, uint64_t round_id, uint32_t target_id) const {
  if (round_id != config_.round_id) {
    return core::FailedPreconditionError(fmt::format(
        "client {}: message of round {} in round {}", id_, round_id, config_.round_id));
  }
  if (target_id != id_) {
    return core::FailedPreconditionError(
        fmt::format("client {}: message addressed to client {}", id_, target_id));
  }
  if (phase_ != expected) {
    return core::FailedPreconditionError(fmt::format("client {}: {} message while in phase {}",
                                                     id_, PhaseName(expected), PhaseName(phase_)));
  }
  return core::Status::Ok();
}

core::Status Client::Abort(std::string message) {
  aborted_ = true;
  phase_ = Phase::kDone;
  self_seed_ = crypto::SecretBytes();
  mask_pair_.reset();
  encryption_pair_.reset();
  return core::AbortedError(fmt::format("client {}: {}", id_, message));
}

core::Result<AdvertiseKeysMessage> Client::AdvertiseKeys() {
  if (phase_ != Phase::kAdvertiseKeys) {
    return core::FailedPreconditionError(fmt::format("client {}: keys already advertised", id_));
  }
  encryption_pair_.emplace(crypto::X25519KeyPair::Generate(random_));
  mask_pair_.emplace(crypto::X25519KeyPair::Generate(random_));
  AdvertiseKeysMessage message;
  message.round_id = config_.round_id;
  message.keys.client_id = id_;
  message.keys.encryption_key = encryption_pair_->public_key();
  message.keys.mask_key = mask_pair_->public_key();
  message.keys.signature =
      identity_.Sign(crypto::AsBytes(AdvertisedKeysSigningBytes(config_.round_id, message.keys)));
  phase_ = Phase::kShareKeys;
  return message;
}

core::Result<Client::PeerMap> Client::AcceptKeyList(
    const KeyListMessage& message) const {
  PeerMap peers;
  std::set<crypto::X25519PublicKey> seen_keys = {encryption_pair_->public_key(),
                                                  mask_pair_->public_key()};
  for (const AdvertisedKeys& keys : message.entries) {
    const uint32_t peer = keys.client_id;
    if (peer >= config_.client_count) {
      return core::NotFoundError(fmt::format("client {}: key list names unknown client {}", id_, peer));
    }
    if (!graph_.AreNeighbours(id_, peer)) {
      return core::InvalidArgumentError(
          fmt::format("client {}: key list names non-neighbour {}", id_, peer));
    }
    if (!crypto::Ed25519Verify((*registry_)[peer],
                               crypto::AsBytes(AdvertisedKeysSigningBytes(config_.round_id, keys)),
                               keys.signature)) {
      return core::DataLossError(fmt::format("client {}: bad key signature of client {}", id_, peer));
    }
    if (!seen_keys.insert(keys.encryption_key).second || !seen_keys.insert(keys.mask_key).second ||
        peers.count(peer) != 0) {
      return core::InvalidArgumentError(fmt::format("client {}: duplicate keys of client {}", id_, peer));
    }
    peers[peer].keys = keys;
  }
  return peers;
}

core::Result<ShareKeysMessage> Client::ShareKeys(const KeyListMessage& message) {
  MELODAI_RETURN_IF_ERROR(CheckEnvelope(Phase::kShareKeys, message.round_id, message.target_id));
  MELODAI_ASSIGN_OR_RETURN(PeerMap peers, AcceptKeyList(message));
  if (peers.size() < config_.threshold) {
    return Abort(fmt::format("{} neighbours advertised keys, threshold {}", peers.size(),
                             config_.threshold));
  }
  const std::vector<uint8_t> encrypt_context = internal::KdfContext("encrypt", config_.round_id);
  for (auto& [peer_id, peer] : peers) {
    MELODAI_ASSIGN_OR_RETURN(crypto::SecretBytes key,
                             crypto::X25519DeriveSharedKey(*encryption_pair_, peer.keys.encryption_key,
                                                           encrypt_context));
    peer.encryption_key.emplace(std::move(key));
  }
  self_seed_ = crypto::SecretBytes(kSecretBytes);
  random_.Fill(self_seed_.mutable_span());
  std::vector<uint64_t> points;
  for (const auto& [peer_id, peer] : peers) points.push_back(uint64_t{peer_id} + 1);
  const std::vector<crypto::ShamirShare> key_shares =
      crypto::ShamirSplit(mask_pair_->secret_key(), config_.threshold, points, random_);
  const std::vector<crypto::ShamirShare> seed_shares =
      crypto::ShamirSplit(self_seed_.span(), config_.threshold, points, random_);
  ShareKeysMessage reply;
  reply.round_id = config_.round_id;
  reply.client_id = id_;
  size_t index = 0;
  for (const auto& [peer_id, peer] : peers) {
    std::vector<uint8_t> plaintext = internal::EncodeSharePlaintext(
        id_, peer_id, key_shares[index].values, seed_shares[index].values);
    reply.shares.push_back(EncryptedShare{
        peer_id, crypto::AeadSeal(*peer.encryption_key, plaintext,
                                  internal::ShareAssociatedData(config_.round_id, id_, peer_id),
                                  random_)});
    crypto::SecureWipe(plaintext);
    ++index;
  }
  peers_ = std::move(peers);
  phase_ = Phase::kMaskedInputCollection;
  return reply;
}

core::Status Client::OpenShares(const EncryptedSharesMessage& message) {
  std::map<uint32_t, internal::SharePlaintext> opened;
  for (const EncryptedShare& share : message.shares) {
    auto peer = peers_.find(share.peer_id);
    if (peer == peers_.end()) {
      return core::InvalidArgumentError(
          fmt::format("client {}: share from client {} without keys", id_, share.peer_id));
    }
    if (opened.count(share.peer_id) != 0) {
      return core::InvalidArgumentError(fmt::format("client {}: two shares of {}", id_, share.peer_id));
    }
    MELODAI_ASSIGN_OR_RETURN(
        const crypto::SecretBytes plaintext,
        crypto::AeadOpen(*peer->second.encryption_key, share.ciphertext,
                         internal::ShareAssociatedData(config_.round_id, share.peer_id, id_)));
    MELODAI_ASSIGN_OR_RETURN(internal::SharePlaintext decoded,
                             internal::DecodeSharePlaintext(plaintext.span()));
    if (decoded.owner != share.peer_id || decoded.holder != id_) {
      return core::DataLossError(fmt::format("client {}: share of {} names owner {} holder {}", id_,
                                             share.peer_id, decoded.owner, decoded.holder));
    }
    opened.emplace(share.peer_id, std::move(decoded));
  }
  for (auto& [owner, decoded] : opened) {
    Peer& peer = peers_.at(owner);
    peer.has_shares = true;
    peer.mask_key_share = std::move(decoded.mask_key_share);
    peer.self_seed_share = std::move(decoded.self_seed_share);
  }
  return core::Status::Ok();
}

core::Result<MaskedInputMessage> Client::MaskInput(const EncryptedSharesMessage& message,
                                                   std::span<const uint64_t> input) {
  MELODAI_RETURN_IF_ERROR(
      CheckEnvelope(Phase::kMaskedInputCollection, message.round_id, message.target_id));
  if (input.size() != config_.dimension) {
    return core::InvalidArgumentError(fmt::format("client {}: input of {} elements, expected {}",
                                                  id_, input.size(), config_.dimension));
  }
  if (config_.modulus_bits < 64) {
    const uint64_t limit = uint64_t{1} << config_.modulus_bits;
    const auto bad = std::find_if(input.begin(), input.end(), [limit](uint64_t v) { return v >= limit; });
    if (bad != input.end()) {
      return core::InvalidArgumentError(fmt::format("client {}: input element {} is >= 2^{}", id_,
                                                    bad - input.begin(), config_.modulus_bits));
    }
  }
  MELODAI_RETURN_IF_ERROR(OpenShares(message));
  if (message.shares.size() < config_.threshold) {
    return Abort(fmt::format("{} neighbours shared keys, threshold {}", message.shares.size(),
                             config_.threshold));
  }
  MaskedInputMessage reply;
  reply.round_id = config_.round_id;
  reply.client_id = id_;
  reply.modulus_bits = config_.modulus_bits;
  std::vector<MaskSpec> masks(1);
  std::copy(self_seed_.span().begin(), self_seed_.span().end(), masks[0].seed.begin());
  for (const auto& [peer_id, peer] : peers_) {
    if (!peer.has_shares) continue;
    auto mask = internal::PairwiseMask(config_, *mask_pair_, peer.keys.mask_key,
                                       internal::PairwiseSign(id_, peer_id));
    if (!mask.ok()) {
      internal::ApplyAndWipe(config_, masks, {});  // Only wipes: nothing to mask.
      return mask.status();
    }
    masks.push_back(*mask);
    crypto::SecureWipe(mask->seed);
  }
  reply.words = ElementsToWords(config_.modulus_bits, input);
  internal::ApplyAndWipe(config_, masks, reply.words);
  // The secrets live on only as shares held by the neighbours.
  self_seed_ = crypto::SecretBytes();
  mask_pair_.reset();
  phase_ = Phase::kConsistencyCheck;
  return reply;
}

core::Result<size_t> Client::CountNeighbourSurvivors(const std::vector<uint32_t>& survivors) const {
  if (!std::binary_search(survivors.begin(), survivors.end(), id_)) {
    return core::FailedPreconditionError(fmt::format("client {}: not in the survivor list", id_));
  }
  size_t neighbour_survivors = 0;
  for (uint32_t survivor : survivors) {
    if (survivor >= config_.client_count) {
      return core::NotFoundError(fmt::format("client {}: unknown survivor {}", id_, survivor));
    }
    if (survivor == id_ || !graph_.AreNeighbours(id_, survivor)) continue;
    auto peer = peers_.find(survivor);
    if (peer == peers_.end() || !peer->second.has_shares) {
      return core::InvalidArgumentError(
          fmt::format("client {}: survivor {} never shared keys with us", id_, survivor));
    }
    ++neighbour_survivors;
  }
  return neighbour_survivors;
}

core::Result<ConsistencySignatureMessage> Client::SignSurvivors(const SurvivorListMessage& message) {
  MELODAI_RETURN_IF_ERROR(CheckEnvelope(Phase::kConsistencyCheck, message.round_id, id_));
  if (neighbourhood_scoped()) {
    return core::FailedPreconditionError(
        fmt::format("client {}: a SecAgg+ round signs its neighbourhood, not the global list", id_));
  }
  MELODAI_ASSIGN_OR_RETURN(const size_t neighbour_survivors,
                           CountNeighbourSurvivors(message.survivors));
  if (neighbour_survivors < config_.threshold) {
    return Abort(fmt::format("{} neighbours survived, threshold {}", neighbour_survivors,
                             config_.threshold));
  }
  survivors_ = message.survivors;
  ConsistencySignatureMessage reply;
  reply.round_id = config_.round_id;
  reply.client_id = id_;
  reply.signature =
      identity_.Sign(crypto::AsBytes(SurvivorListSigningBytes(config_.round_id, survivors_)));
  phase_ = Phase::kUnmasking;
  return reply;
}

core::Result<ConsistencySignatureMessage> Client::SignNeighbourhood(
    const NeighbourhoodSurvivorsMessage& message) {
  MELODAI_RETURN_IF_ERROR(
      CheckEnvelope(Phase::kConsistencyCheck, message.round_id, message.target_id));
  if (!neighbourhood_scoped()) {
    return core::FailedPreconditionError(
        fmt::format("client {}: a full-graph round signs the global survivor list", id_));
  }
  const std::vector<uint32_t>& survivors = message.survivors;
  // The decoder guarantees order; in-process callers may not, and the checks below (and the
  // bitmap the server derives from the same list) rely on it.
  if (std::adjacent_find(survivors.begin(), survivors.end(), std::greater_equal<>()) !=
      survivors.end()) {
    return core::InvalidArgumentError(
        fmt::format("client {}: neighbourhood list not strictly increasing", id_));
  }
  for (uint32_t survivor : survivors) {
    if (survivor < config_.client_count && survivor != id_ && !graph_.AreNeighbours(id_, survivor)) {
      return core::InvalidArgumentError(
          fmt::format("client {}: neighbourhood list names non-neighbour {}", id_, survivor));
    }
  }
  MELODAI_ASSIGN_OR_RETURN(const size_t neighbour_survivors, CountNeighbourSurvivors(survivors));
  if (neighbour_survivors < config_.threshold) {
    return Abort(fmt::format("{} neighbours survived, threshold {}", neighbour_survivors,
                             config_.threshold));
  }
  survivors_ = survivors;
  ConsistencySignatureMessage reply;
  reply.round_id = config_.round_id;
  reply.client_id = id_;
  reply.signature = identity_.Sign(
      crypto::AsBytes(NeighbourhoodSigningBytes(config_.round_id, id_, survivors_)));
  phase_ = Phase::kUnmasking;
  return reply;
}

core::Status Client::VerifySurvivorSignatures(const UnmaskingRequestMessage& message) const {
  const std::string signed_bytes = SurvivorListSigningBytes(config_.round_id, survivors_);
  size_t valid = 0;
  for (const SurvivorSignature& entry : message.signatures) {
    if (!std::binary_search(survivors_.begin(), survivors_.end(), entry.client_id)) {
      return core::InvalidArgumentError(
          fmt::format("client {}: signature of non-survivor {}", id_, entry.client_id));
    }
    if (entry.client_id != id_ && !graph_.AreNeighbours(id_, entry.client_id)) continue;
    if (!crypto::Ed25519Verify((*registry_)[entry.client_id], crypto::AsBytes(signed_bytes),
                               entry.signature)) {
      return core::DataLossError(
          fmt::format("client {}: bad survivor-list signature of {}", id_, entry.client_id));
    }
    ++valid;
  }
  if (valid < config_.threshold) {
    return core::AbortedError(fmt::format("{} survivor-list signatures, threshold {}", valid,
                                          config_.threshold));
  }
  return core::Status::Ok();
}

core::Status Client::VerifyNeighbourhoodSignatures(
    const NeighbourhoodUnmaskingRequestMessage& message) const {
  size_t confirmed = 0;
  for (size_t i = 0; i < message.signatures.size(); ++i) {
    const NeighbourhoodSignature& entry = message.signatures[i];
    const uint32_t signer = entry.client_id;
    if (signer >= config_.client_count) {
      return core::NotFoundError(fmt::format("client {}: signature of unknown client {}", id_, signer));
    }
    if (!graph_.AreNeighbours(id_, signer)) {
      return core::InvalidArgumentError(
          fmt::format("client {}: signature of non-neighbour {}", id_, signer));
    }
    // Counting a signer twice would let a minority confirm us.
    if (i > 0 && signer <= message.signatures[i - 1].client_id) {
      return core::InvalidArgumentError(
          fmt::format("client {}: signers not strictly increasing at {}", id_, signer));
    }
    const std::vector<uint32_t> closed = internal::ClosedNeighbourhood(graph_, signer);
    MELODAI_ASSIGN_OR_RETURN(const std::vector<uint32_t> theirs,
                             internal::SurvivorsFromBitmap(closed, entry.survivor_bitmap));
    if (!crypto::Ed25519Verify(
            (*registry_)[signer],
            crypto::AsBytes(NeighbourhoodSigningBytes(config_.round_id, signer, theirs)),
            entry.signature)) {
      return core::DataLossError(
          fmt::format("client {}: bad neighbourhood signature of {}", id_, signer));
    }
    // Compare on N[us] ∩ N[signer]: always us and the signer, plus common neighbours. These
    // are the clients whose status both of us act on (as holders of shares, or as the owner
    // whose shares are being revealed).
    for (uint32_t other : closed) {
      if (other != id_ && !graph_.AreNeighbours(id_, other)) continue;
      const bool they_saw = std::binary_search(theirs.begin(), theirs.end(), other);
      const bool we_saw = std::binary_search(survivors_.begin(), survivors_.end(), other);
      if (they_saw != we_saw) {
        return core::AbortedError(fmt::format(
            "server equivocated: neighbour {} signed client {} as {}, we were told {}", signer,
            other, they_saw ? "surviving" : "dropped", we_saw ? "surviving" : "dropped"));
      }
    }
    ++confirmed;
  }
  if (confirmed < config_.threshold) {
    return core::AbortedError(fmt::format("{} neighbours confirmed our neighbourhood, threshold {}",
                                          confirmed, config_.threshold));
  }
  return core::Status::Ok();
}

UnmaskingResponseMessage Client::Reveal() {
  UnmaskingResponseMessage reply;
  reply.round_id = config_.round_id;
  reply.client_id = id_;
  for (const auto& [peer_id, peer] : peers_) {
    if (!peer.has_shares) continue;
    const bool survived = std::binary_search(survivors_.begin(), survivors_.end(), peer_id);
    // Exactly one of the two shares per peer: b if its masked input is in the sum, s_sk if not.
    reply.shares.push_back(RevealedShare{
        peer_id, survived ? ShareKind::kSelfMaskSeed : ShareKind::kMaskKey,
        survived ? peer.self_seed_share : peer.mask_key_share});
  }
  peers_.clear();
  phase_ = Phase::kDone;
  return reply;
}

core::Result<UnmaskingResponseMessage> Client::Unmask(const UnmaskingRequestMessage& message) {
  MELODAI_RETURN_IF_ERROR(CheckEnvelope(Phase::kUnmasking, message.round_id, id_));
  if (neighbourhood_scoped()) {
    return core::FailedPreconditionError(
        fmt::format("client {}: a SecAgg+ round needs a neighbourhood unmasking request", id_));
  }
  if (message.survivors != survivors_) {
    return core::InvalidArgumentError(
        fmt::format("client {}: survivor list differs from the one it signed", id_));
  }
  const core::Status verified = VerifySurvivorSignatures(message);
  if (verified.code() == core::StatusCode::kAborted) return Abort(verified.message());
  MELODAI_RETURN_IF_ERROR(verified);
  return Reveal();
}

core::Result<UnmaskingResponseMessage> Client::Unmask(
    const NeighbourhoodUnmaskingRequestMessage& message) {
  MELODAI_RETURN_IF_ERROR(CheckEnvelope(Phase::kUnmasking, message.round_id, message.target_id));
  if (!neighbourhood_scoped()) {
    return core::FailedPreconditionError(
        fmt::format("client {}: a full-graph round needs the global unmasking request", id_));
  }
  const core::Status verified = VerifyNeighbourhoodSignatures(message);
  if (verified.code() == core::StatusCode::kAborted) return Abort(verified.message());
  MELODAI_RETURN_IF_ERROR(verified);
  return Reveal();
}

}  // namespace melodai::secagg
