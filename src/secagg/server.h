// MelodAI — licensed under the Apache License 2.0.
// The server side of one secure-aggregation round: collects each phase's client messages,
// routes keys and sealed shares, sums masked inputs as they arrive, and finally removes the
// self masks of survivors and the pairwise masks of dropped clients from rebuilt secrets.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <vector>

#include "core/status.h"
#include "crypto/shamir.h"
#include "secagg/client.h"
#include "secagg/config.h"
#include "secagg/masking.h"
#include "secagg/messages.h"

namespace melodai::secagg {

// Every Handle* rejects, without changing state: a message of another round or phase
// (kFailedPrecondition; a replay of an earlier step lands here), an unknown client
// (kNotFound), a client that did not complete the previous step (kFailedPrecondition), a
// second message from the same client (kAlreadyExists), bad signatures (kDataLoss) and
// malformed contents (kInvalidArgument). Every Finish* closes a phase and returns kAborted,
// ending the round, when fewer than threshold clients took part.
//
// Invariants: phase_ only moves forward; U1 ⊇ U2 ⊇ U3 ⊇ U4 ⊇ U5 (the per-client flags);
// sum_ is the sum of the masked inputs of U3; revealed_[u] holds only self-seed shares if u is
// in U3 and only mask-key shares otherwise, so the server never holds both shares of a client.
// Not thread-safe.
class Server {
 public:
  // kInvalidArgument for a bad config or a registry that does not list every client.
  static core::Result<std::unique_ptr<Server>> Create(
      const RoundConfig& config, std::shared_ptr<const IdentityRegistry> registry);

  Phase phase() const { return phase_; }
  bool aborted() const { return aborted_; }
  // U3 after FinishMaskedInput: the clients whose inputs are in the sum.
  const std::vector<uint32_t>& survivors() const { return survivors_; }

  core::Status HandleAdvertiseKeys(const AdvertiseKeysMessage& message);
  // One key list per client of U1, holding its neighbours in U1.
  core::Result<std::vector<KeyListMessage>> FinishAdvertiseKeys();

  core::Status HandleShareKeys(const ShareKeysMessage& message);
  // One message per client of U2 with the shares sealed for it by other members of U2.
  core::Result<std::vector<EncryptedSharesMessage>> FinishShareKeys();

  core::Status HandleMaskedInput(const MaskedInputMessage& message);
  core::Result<SurvivorListMessage> FinishMaskedInput();

  core::Status HandleConsistencySignature(const ConsistencySignatureMessage& message);
  core::Result<UnmaskingRequestMessage> FinishConsistencyCheck();

  core::Status HandleUnmaskingResponse(const UnmaskingResponseMessage& message);
  // The sum of the inputs of survivors() modulo 2^modulus_bits, one element per dimension.
  // kAborted when a secret cannot be rebuilt from threshold shares; kDataLoss when a rebuilt
  // mask key does not match the advertised public key (corrupt shares).
  core::Result<std::vector<uint64_t>> FinishUnmasking();

 private:
  struct ClientState {
    bool advertised = false;  // U1
    bool shared = false;      // U2
    bool masked = false;      // U3
    bool signed_list = false; // U4
    bool responded = false;   // U5
    AdvertisedKeys keys;
    crypto::Ed25519Signature survivor_signature{};
  };

  Server(const RoundConfig& config, std::shared_ptr<const IdentityRegistry> registry);
  core::Status CheckIncoming(Phase phase, uint64_t round_id, uint32_t client_id) const;
  core::Status CheckShareTargets(const ShareKeysMessage& message) const;
  core::Status CheckRevealedShares(const UnmaskingResponseMessage& message) const;
  core::Status Abort(Phase phase, size_t count);
  size_t Count(bool ClientState::*flag) const;
  core::Result<crypto::SecretBytes> Rebuild(uint32_t owner) const;
  // Appends the masks to remove: every survivor's self mask and, for each client that shared
  // keys but sent no input, its pairwise masks with surviving neighbours.
  core::Status CollectMasks(std::vector<MaskSpec>& masks) const;
  core::Status CollectDroppedClientMasks(uint32_t dropped, std::vector<MaskSpec>& masks) const;

  RoundConfig config_;
  NeighbourGraph graph_;
  std::shared_ptr<const IdentityRegistry> registry_;
  Phase phase_ = Phase::kAdvertiseKeys;
  bool aborted_ = false;
  std::vector<ClientState> clients_;
  std::vector<std::vector<EncryptedShare>> inbox_;  // Per holder; peer_id = owner.
  std::vector<uint32_t> sum_;                       // Masked sum, wire words.
  std::vector<uint32_t> survivors_;
  std::map<uint32_t, std::vector<crypto::ShamirShare>> revealed_;  // Per owner.
};

}  // namespace melodai::secagg
