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
  // U3, the message every survivor gets in a full-graph round.
  core::Result<SurvivorListMessage> FinishMaskedInput();
  // SecAgg+ rounds send each survivor only U3 ∩ N[client] instead (after FinishMaskedInput),
  // so the consistency check costs O(k) per client, not O(n). kFailedPrecondition outside
  // the consistency check, in a full-graph round, or for a client not in U3; kNotFound for
  // an unknown client.
  core::Result<NeighbourhoodSurvivorsMessage> NeighbourhoodSurvivorsFor(uint32_t client) const;

  // Full graph: verifies the signature over U3. SecAgg+: over (round, client, U3 ∩ N[client])
  // — exactly the list NeighbourhoodSurvivorsFor gave that client.
  core::Status HandleConsistencySignature(const ConsistencySignatureMessage& message);
  // The survivor list with every signature received (U4). In a SecAgg+ round no client
  // accepts this message (the signatures cover neighbourhood lists): it only closes the phase
  // and records U3 and U4; use NeighbourhoodUnmaskingRequestFor.
  core::Result<UnmaskingRequestMessage> FinishConsistencyCheck();
  // Full graph: the request to send to `client` after FinishConsistencyCheck, the survivor
  // list with the signatures of `client` and its neighbours (here everyone).
  // kFailedPrecondition outside the unmasking phase, in a SecAgg+ round, or for a client that
  // did not sign; kNotFound for an unknown client.
  core::Result<UnmaskingRequestMessage> UnmaskingRequestFor(uint32_t client) const;
  // SecAgg+: the signed neighbourhood lists of the neighbours of `client` that signed, each
  // as a bitmap over the signer's closed neighbourhood: O(k) signatures and k^2 / 8 bytes.
  // Same errors as UnmaskingRequestFor, with the round kinds swapped.
  core::Result<NeighbourhoodUnmaskingRequestMessage> NeighbourhoodUnmaskingRequestFor(
      uint32_t client) const;

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
    std::vector<uint8_t> survivor_bitmap;  // SecAgg+: the signed list over N[client].
  };

  Server(const RoundConfig& config, std::shared_ptr<const IdentityRegistry> registry);
  core::Status CheckIncoming(Phase phase, uint64_t round_id, uint32_t client_id) const;
  // Phase and membership checks of the per-client messages after the masked-input phase.
  core::Status CheckRecipient(Phase phase, bool neighbourhood_round, uint32_t client,
                              bool ClientState::*flag) const;
  // U3 ∩ N[client], increasing.
  std::vector<uint32_t> NeighbourhoodSurvivors(const std::vector<uint32_t>& closed) const;
  bool neighbourhood_scoped() const { return config_.neighbour_count != 0; }
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
