// MelodAI — licensed under the Apache License 2.0.
// The peer handshake: a pure state machine (no sockets) so that it can be unit-tested and
// fuzzed. Both sides send HELLO {magic, version, network id, own id, fresh nonce}, then AUTH:
// an Ed25519 signature by the validator key over both nonces and both ids. Each side thereby
// answers the other's challenge, so both directions are authenticated and replays of old
// transcripts fail.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "net/transport.h"

namespace melodai::net {

inline constexpr uint32_t kHandshakeMagic = 0x4d4c4e31;  // "MLN1"
inline constexpr uint8_t kHandshakeVersion = 1;
inline constexpr size_t kNonceBytes = 32;
using Nonce = std::array<uint8_t, kNonceBytes>;

struct Hello {
  uint8_t version = kHandshakeVersion;
  crypto::Digest32 network_id{};  // The genesis hash: nodes of another network are refused.
  PeerId peer_id = 0;             // Who the sender claims to be.
  Nonce nonce{};                  // The challenge the other side must sign.
};
// Wire size of a HELLO: magic, kind, version, network id, peer id, nonce.
inline constexpr size_t kHelloBytes = 4 + 1 + 1 + 32 + 4 + kNonceBytes;
// Wire size of an AUTH: magic, kind, signature.
inline constexpr size_t kAuthBytes = 4 + 1 + 64;

std::string EncodeHello(const Hello& hello);
// kDataLoss naming the field when `bytes` is not exactly one well-formed HELLO.
core::Result<Hello> DecodeHello(std::string_view bytes);
std::string EncodeAuth(const crypto::Ed25519Signature& signature);
// kDataLoss when `bytes` is not exactly one well-formed AUTH.
core::Result<crypto::Ed25519Signature> DecodeAuth(std::string_view bytes);

// The bytes `signer` signs to answer `verifier`'s challenge (domain-separated).
std::string AuthTranscript(const crypto::Digest32& network_id, PeerId signer, PeerId verifier,
                           const Nonce& signer_nonce, const Nonce& verifier_nonce);

// One side of one handshake.
// Invariants: the state only moves forward (kSendHello -> kAwaitHello -> kAwaitAuth ->
// kDone), or to kFailed from which it never leaves; peer_id() is set iff state is kDone.
// Borrows `key` and `validator_keys`, which must outlive it. Not thread-safe.
class Handshake {
 public:
  enum class State { kAwaitHello, kAwaitAuth, kDone, kFailed };

  // `expected_peer` is set on the dialing side (it knows whom it called); the accepting side
  // accepts any validator other than itself.
  // REQUIRES: self < validator_keys.size(); expected_peer (if any) < validator_keys.size().
  Handshake(PeerId self, const crypto::Ed25519KeyPair& key,
            std::span<const crypto::Ed25519PublicKey> validator_keys,
            const crypto::Digest32& network_id, const Nonce& own_nonce,
            std::optional<PeerId> expected_peer);

  // The HELLO frame payload to send first.
  std::string HelloPayload() const;

  // Feeds the peer's HELLO; returns the AUTH payload to send. kDataLoss on malformed bytes,
  // kFailedPrecondition on a wrong network, version, an unknown id, our own id, a different
  // id than expected, or a message out of order. Any error fails the handshake.
  core::Result<std::string> OnHello(std::string_view payload);

  // Feeds the peer's AUTH; OK means the peer proved its identity (see peer_id()).
  // kDataLoss on malformed bytes, kFailedPrecondition on a bad signature or out of order.
  core::Status OnAuth(std::string_view payload);

  State state() const { return state_; }
  std::optional<PeerId> peer_id() const {
    if (state_ != State::kDone || !peer_hello_.has_value()) return std::nullopt;
    return peer_hello_->peer_id;
  }

 private:
  core::Status Fail(core::Status status);

  PeerId self_;
  const crypto::Ed25519KeyPair& key_;
  std::span<const crypto::Ed25519PublicKey> validator_keys_;
  crypto::Digest32 network_id_;
  Nonce own_nonce_;
  std::optional<PeerId> expected_peer_;
  std::optional<Hello> peer_hello_;
  State state_ = State::kAwaitHello;
};

}  // namespace melodai::net
