// MelodAI — licensed under the Apache License 2.0.
// Wire messages of a secure-aggregation round, one type per step, with explicit little-endian
// encodings. Decoders treat their input as hostile: exact sizes, counts bounded by kMaxClients
// and kMaxDimension, sorted id lists, no trailing bytes; any violation is kDataLoss naming the
// field. Semantic checks (round, phase, membership) belong to Client and Server.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/aead.h"
#include "crypto/ed25519.h"
#include "crypto/key_agreement.h"
#include "crypto/shamir.h"
#include "secagg/config.h"

namespace melodai::secagg {

// First byte of every encoded message.
enum class MessageKind : uint8_t {
  kAdvertiseKeys = 1,         // client -> server
  kKeyList = 2,               // server -> client
  kShareKeys = 3,             // client -> server
  kEncryptedShares = 4,       // server -> client
  kMaskedInput = 5,           // client -> server
  kSurvivorList = 6,          // server -> client
  kConsistencySignature = 7,  // client -> server
  kUnmaskingRequest = 8,      // server -> client
  kUnmaskingResponse = 9,     // client -> server
  // SecAgg+ rounds replace kSurvivorList and kUnmaskingRequest with these two, which carry
  // only the target's neighbourhood, so no message of such a round grows with n.
  kNeighbourhoodSurvivors = 10,         // server -> client
  kNeighbourhoodUnmaskingRequest = 11,  // server -> client
};
inline constexpr uint8_t kMaxMessageKind = 11;

// A survivor bitmap covers a closed neighbourhood, at most every client of a round.
inline constexpr size_t kMaxSurvivorBitmapBytes = (kMaxClients + 7) / 8;

// Secrets are 32 bytes (X25519 scalar, PRG seed), so a share is 5 field elements.
inline constexpr size_t kSecretBytes = 32;
inline constexpr size_t kShareValueCount = crypto::ShamirChunkCount(kSecretBytes);
static_assert(kShareValueCount == 5);
// Plaintext of an encrypted share: owner u32 | holder u32 | mask-key share | self-seed share.
inline constexpr size_t kSharePlaintextBytes = 4 + 4 + 2 * kShareValueCount * 8;
inline constexpr size_t kShareCiphertextBytes = kSharePlaintextBytes + crypto::kAeadOverheadBytes;

// One client's advertised public keys, signed with its identity key over
// (domain, round, client, encryption key, mask key).
struct AdvertisedKeys {
  uint32_t client_id = 0;
  crypto::X25519PublicKey encryption_key;  // For encrypting shares (c_pk).
  crypto::X25519PublicKey mask_key;        // For pairwise masks (s_pk).
  crypto::Ed25519Signature signature{};
  friend bool operator==(const AdvertisedKeys&, const AdvertisedKeys&) = default;
};

struct AdvertiseKeysMessage {
  uint64_t round_id = 0;
  AdvertisedKeys keys;
  friend bool operator==(const AdvertiseKeysMessage&, const AdvertiseKeysMessage&) = default;
};

// The advertised keys of the target's neighbours that took part, increasing client id.
struct KeyListMessage {
  uint64_t round_id = 0;
  uint32_t target_id = 0;
  std::vector<AdvertisedKeys> entries;
  friend bool operator==(const KeyListMessage&, const KeyListMessage&) = default;
};

// A sealed share; peer_id is the holder in ShareKeys and the owner in EncryptedShares.
struct EncryptedShare {
  uint32_t peer_id = 0;
  std::vector<uint8_t> ciphertext;  // Exactly kShareCiphertextBytes.
  friend bool operator==(const EncryptedShare&, const EncryptedShare&) = default;
};

struct ShareKeysMessage {
  uint64_t round_id = 0;
  uint32_t client_id = 0;
  std::vector<EncryptedShare> shares;  // Increasing peer id.
  friend bool operator==(const ShareKeysMessage&, const ShareKeysMessage&) = default;
};

struct EncryptedSharesMessage {
  uint64_t round_id = 0;
  uint32_t target_id = 0;
  std::vector<EncryptedShare> shares;  // Increasing peer (owner) id.
  friend bool operator==(const EncryptedSharesMessage&, const EncryptedSharesMessage&) = default;
};

// The masked input: dimension elements of modulus_bits / 32 little-endian words each.
struct MaskedInputMessage {
  uint64_t round_id = 0;
  uint32_t client_id = 0;
  uint32_t modulus_bits = 32;
  std::vector<uint32_t> words;
  friend bool operator==(const MaskedInputMessage&, const MaskedInputMessage&) = default;
};

// The clients whose masked inputs the server holds (U3), strictly increasing.
struct SurvivorListMessage {
  uint64_t round_id = 0;
  std::vector<uint32_t> survivors;
  friend bool operator==(const SurvivorListMessage&, const SurvivorListMessage&) = default;
};

// A client's identity signature over (domain, round, survivor list).
struct ConsistencySignatureMessage {
  uint64_t round_id = 0;
  uint32_t client_id = 0;
  crypto::Ed25519Signature signature{};
  friend bool operator==(const ConsistencySignatureMessage&,
                         const ConsistencySignatureMessage&) = default;
};

struct SurvivorSignature {
  uint32_t client_id = 0;
  crypto::Ed25519Signature signature{};
  friend bool operator==(const SurvivorSignature&, const SurvivorSignature&) = default;
};

struct UnmaskingRequestMessage {
  uint64_t round_id = 0;
  std::vector<uint32_t> survivors;               // Strictly increasing, as signed.
  std::vector<SurvivorSignature> signatures;     // Increasing client id.
  friend bool operator==(const UnmaskingRequestMessage&, const UnmaskingRequestMessage&) = default;
};

// SecAgg+: the survivors (U3) among the target's closed neighbourhood N[u] = N(u) ∪ {u},
// strictly increasing. The target signs this list instead of the global U3.
struct NeighbourhoodSurvivorsMessage {
  uint64_t round_id = 0;
  uint32_t target_id = 0;
  std::vector<uint32_t> survivors;
  friend bool operator==(const NeighbourhoodSurvivorsMessage&,
                         const NeighbourhoodSurvivorsMessage&) = default;
};

// A neighbour's signed neighbourhood list. The list travels as a bitmap over the signer's
// closed neighbourhood N[w] in increasing id order (bit i is bit i % 8 of byte i / 8; the
// graph is public, so the receiver rebuilds the ids): (k + 1) / 8 bytes instead of 4 per
// survivor, which keeps the request's k lists at O(k) signatures plus k^2 / 8 bytes.
struct NeighbourhoodSignature {
  uint32_t client_id = 0;
  std::vector<uint8_t> survivor_bitmap;  // At most kMaxSurvivorBitmapBytes.
  crypto::Ed25519Signature signature{};
  friend bool operator==(const NeighbourhoodSignature&, const NeighbourhoodSignature&) = default;
};

// SecAgg+: the signed neighbourhood lists of the target's neighbours that signed (U4),
// increasing client id.
struct NeighbourhoodUnmaskingRequestMessage {
  uint64_t round_id = 0;
  uint32_t target_id = 0;
  std::vector<NeighbourhoodSignature> signatures;
  friend bool operator==(const NeighbourhoodUnmaskingRequestMessage&,
                         const NeighbourhoodUnmaskingRequestMessage&) = default;
};

enum class ShareKind : uint8_t {
  kSelfMaskSeed = 1,  // Share of b_u: revealed when u's masked input arrived.
  kMaskKey = 2,       // Share of s_sk_u: revealed when u dropped before sending it.
};

struct RevealedShare {
  uint32_t owner_id = 0;
  ShareKind kind = ShareKind::kSelfMaskSeed;
  std::vector<uint64_t> values;  // Exactly kShareValueCount field elements.
  friend bool operator==(const RevealedShare&, const RevealedShare&) = default;
};

struct UnmaskingResponseMessage {
  uint64_t round_id = 0;
  uint32_t client_id = 0;
  std::vector<RevealedShare> shares;  // Increasing owner id, one per owner.
  friend bool operator==(const UnmaskingResponseMessage&,
                         const UnmaskingResponseMessage&) = default;
};

// The kind byte of an encoded message; kDataLoss when empty or unknown.
core::Result<MessageKind> PeekMessageKind(std::string_view bytes);

// Encoders (thread-safe, never fail) and strict decoders (kDataLoss, see the file comment).
std::string Encode(const AdvertiseKeysMessage& message);
std::string Encode(const KeyListMessage& message);
std::string Encode(const ShareKeysMessage& message);
std::string Encode(const EncryptedSharesMessage& message);
std::string Encode(const MaskedInputMessage& message);
std::string Encode(const SurvivorListMessage& message);
std::string Encode(const ConsistencySignatureMessage& message);
std::string Encode(const UnmaskingRequestMessage& message);
std::string Encode(const UnmaskingResponseMessage& message);
std::string Encode(const NeighbourhoodSurvivorsMessage& message);
std::string Encode(const NeighbourhoodUnmaskingRequestMessage& message);

core::Result<AdvertiseKeysMessage> DecodeAdvertiseKeys(std::string_view bytes);
core::Result<KeyListMessage> DecodeKeyList(std::string_view bytes);
core::Result<ShareKeysMessage> DecodeShareKeys(std::string_view bytes);
core::Result<EncryptedSharesMessage> DecodeEncryptedShares(std::string_view bytes);
core::Result<MaskedInputMessage> DecodeMaskedInput(std::string_view bytes);
core::Result<SurvivorListMessage> DecodeSurvivorList(std::string_view bytes);
core::Result<ConsistencySignatureMessage> DecodeConsistencySignature(std::string_view bytes);
core::Result<UnmaskingRequestMessage> DecodeUnmaskingRequest(std::string_view bytes);
core::Result<UnmaskingResponseMessage> DecodeUnmaskingResponse(std::string_view bytes);
core::Result<NeighbourhoodSurvivorsMessage> DecodeNeighbourhoodSurvivors(std::string_view bytes);
core::Result<NeighbourhoodUnmaskingRequestMessage> DecodeNeighbourhoodUnmaskingRequest(
    std::string_view bytes);

// Decodes any message by its kind byte and re-encodes it; for fuzzing and diagnostics.
// Returns the re-encoding (equal to `bytes` for every valid input) or the decoder's error.
core::Result<std::string> DecodeAndReencode(std::string_view bytes);

// The byte strings that identity signatures cover.
std::string AdvertisedKeysSigningBytes(uint64_t round_id, const AdvertisedKeys& keys);
std::string SurvivorListSigningBytes(uint64_t round_id, const std::vector<uint32_t>& survivors);
// SecAgg+: (domain, round, signer, survivors among N[signer]). Binding the signer keeps one
// client's signature from standing in for another's list.
std::string NeighbourhoodSigningBytes(uint64_t round_id, uint32_t signer,
                                      const std::vector<uint32_t>& survivors);

}  // namespace melodai::secagg
