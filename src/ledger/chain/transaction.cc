// MelodAI — licensed under the Apache License 2.0.
// Transaction signing, verification and strict wire decoding.

#include "ledger/chain/transaction.h"

#include <span>

#include "core/bytes.h"

namespace melodai::ledger {
namespace {

constexpr std::string_view kTransactionDomain = "melodai/tx/v1";

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

void AppendBody(core::ByteWriter& writer, const Transaction& tx) {
  MELODAI_CHECK_LE(tx.payload.size(), kMaxTransactionPayloadBytes);
  writer.PutU8(tx.type);
  writer.PutRaw(tx.sender.bytes.data(), tx.sender.bytes.size());
  writer.PutU64(tx.nonce);
  writer.PutU32(static_cast<uint32_t>(tx.payload.size()));
  writer.PutRaw(tx.payload.data(), tx.payload.size());
}

}  // namespace

std::string TransactionSigningBytes(const Transaction& tx) {
  core::ByteWriter writer;
  writer.PutRaw(kTransactionDomain.data(), kTransactionDomain.size());
  AppendBody(writer, tx);
  return writer.Release();
}

void SignTransaction(Transaction& tx, const crypto::Ed25519KeyPair& key) {
  MELODAI_CHECK(key.public_key() == tx.sender);
  tx.signature = key.Sign(AsBytes(TransactionSigningBytes(tx)));
}

bool VerifyTransactionSignature(const Transaction& tx) {
  if (tx.payload.size() > kMaxTransactionPayloadBytes) return false;
  return crypto::Ed25519Verify(tx.sender, AsBytes(TransactionSigningBytes(tx)), tx.signature);
}

void AppendTransaction(std::string& out, const Transaction& tx) {
  core::ByteWriter writer;
  writer.Reserve(kTransactionOverheadBytes + tx.payload.size());
  AppendBody(writer, tx);
  writer.PutRaw(tx.signature.data(), tx.signature.size());
  out += writer.buffer();
}

std::string EncodeTransaction(const Transaction& tx) {
  std::string out;
  AppendTransaction(out, tx);
  return out;
}

core::Result<Transaction> DecodeTransactionAt(std::string_view bytes, size_t& offset) {
  if (offset > bytes.size()) return core::DataLossError("transaction: offset past the end");
  core::ByteReader reader(bytes.substr(offset));
  Transaction tx;
  MELODAI_RETURN_IF_ERROR(reader.GetU8(tx.type, "transaction.type"));
  MELODAI_RETURN_IF_ERROR(
      reader.GetRaw(tx.sender.bytes.data(), tx.sender.bytes.size(), "transaction.sender"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(tx.nonce, "transaction.nonce"));
  uint32_t payload_size = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU32(payload_size, "transaction.payload_size"));
  if (payload_size > kMaxTransactionPayloadBytes) {
    return core::DataLossError("transaction.payload_size: " + std::to_string(payload_size) +
                               " exceeds the limit of " +
                               std::to_string(kMaxTransactionPayloadBytes));
  }
  tx.payload.resize(payload_size);
  MELODAI_RETURN_IF_ERROR(reader.GetRaw(tx.payload.data(), payload_size, "transaction.payload"));
  MELODAI_RETURN_IF_ERROR(
      reader.GetRaw(tx.signature.data(), tx.signature.size(), "transaction.signature"));
  offset += reader.offset();
  return tx;
}

core::Result<Transaction> DecodeTransaction(std::string_view bytes) {
  size_t offset = 0;
  MELODAI_ASSIGN_OR_RETURN(Transaction tx, DecodeTransactionAt(bytes, offset));
  if (offset != bytes.size()) {
    return core::DataLossError("transaction: " + std::to_string(bytes.size() - offset) +
                               " trailing bytes");
  }
  return tx;
}

crypto::Digest32 TransactionHash(const Transaction& tx) {
  std::string encoded = EncodeTransaction(tx);
  return crypto::Blake2b256(AsBytes(encoded));
}

}  // namespace melodai::ledger
