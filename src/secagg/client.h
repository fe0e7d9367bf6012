// MelodAI — licensed under the Apache License 2.0.
// The client side of one secure-aggregation round (Bonawitz et al. 2017 with SecAgg+
// neighbourhoods): a single-threaded state machine that turns each server message into the
// next client message, validating everything the server sends.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "core/status.h"
#include "crypto/ed25519.h"
#include "crypto/key_agreement.h"
#include "crypto/random_source.h"
#include "crypto/secret.h"
#include "secagg/config.h"
#include "secagg/messages.h"

namespace melodai::secagg {

// Identity (Ed25519) public keys of every client of the round, indexed by client id: the PKI
// that lets clients detect a server substituting keys or survivor lists.
using IdentityRegistry = std::vector<crypto::Ed25519PublicKey>;

// Invariants: phase_ only moves forward, one step per successful call; a failed call leaves
// the state unchanged except that kAborted ends the round (phase_ = kDone, aborted_ = true).
// peers_ holds the neighbours whose signed keys arrived in the key list; a peer is in U2
// (has_shares) exactly when its share for us decrypted correctly. The client never reveals
// both shares of one peer. Not thread-safe; `random` must outlive the client.
class Client {
 public:
  // kInvalidArgument for a bad config, an id outside the round, or a registry of the wrong size
  // or whose entry for `client_id` is not `identity`'s public key.
  static core::Result<std::unique_ptr<Client>> Create(
      const RoundConfig& config, uint32_t client_id, crypto::Ed25519KeyPair identity,
      std::shared_ptr<const IdentityRegistry> registry, crypto::RandomSource& random);

  uint32_t id() const { return id_; }
  // The next step the client expects; kDone after Unmask or an abort.
  Phase phase() const { return phase_; }
  bool aborted() const { return aborted_; }

  // Step 0: fresh encryption and mask key pairs, signed with the identity key.
  // kFailedPrecondition when called twice.
  core::Result<AdvertiseKeysMessage> AdvertiseKeys();

  // Step 1: checks the neighbours' signed keys, Shamir-shares the mask secret key and a fresh
  // self-mask seed among them and seals each share for its holder.
  // kFailedPrecondition (wrong round or phase, message for another client), kNotFound (unknown
  // client), kInvalidArgument (a non-neighbour, our own or duplicate keys), kDataLoss (bad
  // signature), kAborted (fewer than threshold neighbours).
  core::Result<ShareKeysMessage> ShareKeys(const KeyListMessage& message);

  // Step 2: opens the shares addressed to us and returns input + self mask + pairwise masks
  // with every neighbour that sent shares, modulo 2^modulus_bits.
  // kInvalidArgument (input of the wrong size or with an element >= 2^modulus_bits, a share
  // from a client that is not a neighbour with keys), kDataLoss (a share fails
  // authentication or names the wrong owner/holder), kAborted (fewer than threshold shares),
  // kFailedPrecondition (round, phase, target).
  core::Result<MaskedInputMessage> MaskInput(const EncryptedSharesMessage& message,
                                             std::span<const uint64_t> input);

  // Step 3 (consistency check), full graph: signs the survivor list (U3) after checking that
  // it contains us, only known neighbours that sent shares, and at least threshold of them.
  // kFailedPrecondition in a SecAgg+ round (it signs its neighbourhood instead).
  core::Result<ConsistencySignatureMessage> SignSurvivors(const SurvivorListMessage& message);

  // Step 3, SecAgg+: the same checks on the survivors among N[u] = N(u) ∪ {u}, then signs
  // (domain, round, our id, that list). Nothing in this step or the next grows with n.
  // kFailedPrecondition (round, phase, target, a full-graph round, a list without us),
  // kNotFound (unknown client), kInvalidArgument (a non-neighbour, a neighbour that never
  // sent us shares, an unsorted list), kAborted (fewer than threshold neighbours survived).
  core::Result<ConsistencySignatureMessage> SignNeighbourhood(
      const NeighbourhoodSurvivorsMessage& message);

  // Step 4: checks that the request carries the list we signed and at least threshold valid
  // signatures from us and our neighbours, then reveals for each peer with shares the
  // self-seed share if it survived and the mask-key share if it did not — never both.
  // kInvalidArgument (another survivor list, an unknown signer), kDataLoss (bad signature),
  // kAborted (too few signatures), kFailedPrecondition (round, phase).
  // kFailedPrecondition in a SecAgg+ round.
  core::Result<UnmaskingResponseMessage> Unmask(const UnmaskingRequestMessage& message);

  // Step 4, SecAgg+: the request carries neighbours' signed neighbourhood lists. Each must
  // come from a neighbour, verify, and agree with the list we signed on every client both
  // neighbourhoods contain (at least us and the signer); at least threshold neighbours must
  // confirm before we reveal anything (same revelation rule as above). A validly signed list
  // that disagrees proves the server told two of us different stories, so we abort at once
  // rather than let it pick which signatures to show. kNotFound (unknown signer),
  // kInvalidArgument (non-neighbour, repeated signer, malformed bitmap), kDataLoss (bad
  // signature; the state is unchanged), kAborted (a conflicting view, or too few
  // confirmations), kFailedPrecondition (round, phase, target, a full-graph round).
  core::Result<UnmaskingResponseMessage> Unmask(const NeighbourhoodUnmaskingRequestMessage& message);

 private:
  struct Peer {
    AdvertisedKeys keys;
    std::optional<crypto::SecretBytes> encryption_key;  // Derived in ShareKeys.
    bool has_shares = false;
    std::vector<uint64_t> mask_key_share;   // The peer's s_sk share held by us.
    std::vector<uint64_t> self_seed_share;  // The peer's b share held by us.
  };

  using PeerMap = std::map<uint32_t, Peer>;

  Client(const RoundConfig& config, uint32_t client_id, crypto::Ed25519KeyPair identity,
         std::shared_ptr<const IdentityRegistry> registry, crypto::RandomSource& random);
  core::Status CheckEnvelope(Phase expected, uint64_t round_id, uint32_t target_id) const;
  core::Status Abort(std::string message);
  core::Result<PeerMap> AcceptKeyList(const KeyListMessage& message) const;
  core::Status OpenShares(const EncryptedSharesMessage& message);
  core::Status VerifySurvivorSignatures(const UnmaskingRequestMessage& message) const;
  core::Status VerifyNeighbourhoodSignatures(const NeighbourhoodUnmaskingRequestMessage& message) const;
  // Checks a survivor list and returns how many neighbours it lists (see SignSurvivors).
  core::Result<size_t> CountNeighbourSurvivors(const std::vector<uint32_t>& survivors) const;
  // The final step once the consistency check passed: one share per peer with shares.
  UnmaskingResponseMessage Reveal();
  // SecAgg+ rounds scope the consistency check to neighbourhoods.
  bool neighbourhood_scoped() const { return config_.neighbour_count != 0; }

  RoundConfig config_;
  uint32_t id_;
  NeighbourGraph graph_;
  crypto::Ed25519KeyPair identity_;
  std::shared_ptr<const IdentityRegistry> registry_;
  crypto::RandomSource& random_;
  Phase phase_ = Phase::kAdvertiseKeys;
  bool aborted_ = false;
  std::optional<crypto::X25519KeyPair> encryption_pair_;
  std::optional<crypto::X25519KeyPair> mask_pair_;
  crypto::SecretBytes self_seed_;
  PeerMap peers_;
  // The list we signed: U3 (full graph) or U3 ∩ N[id_] (SecAgg+).
  std::vector<uint32_t> survivors_;
};

}  // namespace melodai::secagg
