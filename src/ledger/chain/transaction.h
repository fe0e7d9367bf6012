// MelodAI — licensed under the Apache License 2.0.
// Signed ledger transactions: a type byte, the sender's Ed25519 key, the sender's nonce (replay
// protection), an opaque payload interpreted by the Application, and the signature.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"

namespace melodai::ledger {

// Size limits of one transaction (bytes on the wire).
inline constexpr size_t kMaxTransactionPayloadBytes = 16 * 1024;
inline constexpr size_t kTransactionOverheadBytes = 1 + 32 + 8 + 4 + 64;
inline constexpr size_t kMaxTransactionBytes =
    kTransactionOverheadBytes + kMaxTransactionPayloadBytes;

struct Transaction {
  uint8_t type = 0;
  crypto::Ed25519PublicKey sender;
  uint64_t nonce = 0;
  std::string payload;
  crypto::Ed25519Signature signature{};

  friend bool operator==(const Transaction&, const Transaction&) = default;
};

// The bytes the sender signs: a domain tag, then type, sender, nonce, payload length, payload.
// REQUIRES: tx.payload.size() <= kMaxTransactionPayloadBytes. Thread-safe (pure).
std::string TransactionSigningBytes(const Transaction& tx);

// Sets tx.signature. REQUIRES: key.public_key() == tx.sender and the payload is within limits.
void SignTransaction(Transaction& tx, const crypto::Ed25519KeyPair& key);

// True when tx.signature is a valid signature of TransactionSigningBytes(tx) by tx.sender.
bool VerifyTransactionSignature(const Transaction& tx);

// Wire format (little-endian): type u8 | sender [32] | nonce u64 | payload_size u32 | payload |
// signature [64]. REQUIRES: payload within limits.
std::string EncodeTransaction(const Transaction& tx);
// Appends the encoding of tx to `out` (used inside blocks and messages).
void AppendTransaction(std::string& out, const Transaction& tx);

// Strict decoding of exactly one transaction: kDataLoss on truncation, oversize payload or
// trailing bytes. Does not check the signature.
core::Result<Transaction> DecodeTransaction(std::string_view bytes);
// Decodes one transaction starting at `offset` and advances it; kDataLoss on bad input.
core::Result<Transaction> DecodeTransactionAt(std::string_view bytes, size_t& offset);

// BLAKE2b-256 of the wire encoding (covers the signature). Thread-safe.
crypto::Digest32 TransactionHash(const Transaction& tx);

}  // namespace melodai::ledger
