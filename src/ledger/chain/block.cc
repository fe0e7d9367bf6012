// MelodAI — licensed under the Apache License 2.0.
// Block and header encoding, block hashes, transaction roots and batch digests.

#include "ledger/chain/block.h"

#include <algorithm>

#include "core/bytes.h"
#include "crypto/merkle.h"

namespace melodai::ledger {
namespace {

constexpr std::string_view kBatchDomain = "melodai/batch/v1";

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

void PutDigest(core::ByteWriter& writer, const crypto::Digest32& digest) {
  writer.PutRaw(digest.data(), digest.size());
}

core::Status GetDigest(core::ByteReader& reader, crypto::Digest32& digest,
                       std::string_view field) {
  return reader.GetRaw(digest.data(), digest.size(), field);
}

// Reads a little-endian u32 at `offset` and advances it.
core::Status ReadU32At(std::string_view bytes, size_t& offset, uint32_t& value,
                       std::string_view field) {
  if (offset > bytes.size()) return core::DataLossError(std::string(field) + ": past the end");
  core::ByteReader reader(bytes.substr(offset));
  MELODAI_RETURN_IF_ERROR(reader.GetU32(value, field));
  offset += 4;
  return core::Status::Ok();
}

}  // namespace

std::string EncodeBlockHeader(const BlockHeader& header) {
  core::ByteWriter writer;
  writer.Reserve(kBlockHeaderBytes);
  writer.PutU64(header.height);
  PutDigest(writer, header.previous_hash);
  writer.PutI64(header.timestamp_ms);
  PutDigest(writer, header.transactions_root);
  PutDigest(writer, header.state_root);
  writer.PutU64(header.view);
  writer.PutU32(header.proposer);
  MELODAI_CHECK_EQ(writer.size(), kBlockHeaderBytes);
  return writer.Release();
}

core::Result<BlockHeader> DecodeBlockHeader(std::string_view bytes) {
  if (bytes.size() != kBlockHeaderBytes) {
    return core::DataLossError("block header: " + std::to_string(bytes.size()) +
                               " bytes, expected " + std::to_string(kBlockHeaderBytes));
  }
  core::ByteReader reader(bytes);
  BlockHeader header;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(header.height, "header.height"));
  MELODAI_RETURN_IF_ERROR(GetDigest(reader, header.previous_hash, "header.previous_hash"));
  MELODAI_RETURN_IF_ERROR(reader.GetI64(header.timestamp_ms, "header.timestamp_ms"));
  MELODAI_RETURN_IF_ERROR(GetDigest(reader, header.transactions_root, "header.tx_root"));
  MELODAI_RETURN_IF_ERROR(GetDigest(reader, header.state_root, "header.state_root"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(header.view, "header.view"));
  MELODAI_RETURN_IF_ERROR(reader.GetU32(header.proposer, "header.proposer"));
  MELODAI_CHECK(reader.done());
  return header;
}

crypto::Digest32 BlockHash(const BlockHeader& header) {
  return crypto::Blake2b256(AsBytes(EncodeBlockHeader(header)));
}

std::string EncodeBlock(const Block& block) {
  MELODAI_CHECK_LE(block.transactions.size(), kMaxBlockTransactions);
  std::string out = EncodeBlockHeader(block.header);
  core::ByteWriter count;
  count.PutU32(static_cast<uint32_t>(block.transactions.size()));
  out += count.buffer();
  for (const Transaction& tx : block.transactions) {
    std::string encoded = EncodeTransaction(tx);
    core::ByteWriter size;
    size.PutU32(static_cast<uint32_t>(encoded.size()));
    out += size.buffer();
    out += encoded;
  }
  return out;
}

core::Result<Block> DecodeBlock(std::string_view bytes) {
  if (bytes.size() > kMaxBlockBytes) {
    return core::DataLossError("block: " + std::to_string(bytes.size()) +
                               " bytes exceed the limit");
  }
  if (bytes.size() < kBlockHeaderBytes) return core::DataLossError("block: truncated header");
  Block block;
  MELODAI_ASSIGN_OR_RETURN(block.header, DecodeBlockHeader(bytes.substr(0, kBlockHeaderBytes)));
  size_t offset = kBlockHeaderBytes;
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(ReadU32At(bytes, offset, count, "block.transaction_count"));
  if (count > kMaxBlockTransactions) {
    return core::DataLossError("block.transaction_count: " + std::to_string(count) +
                               " exceeds the limit");
  }
  block.transactions.reserve(
      std::min<size_t>(count, (bytes.size() - offset) / kTransactionOverheadBytes));
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t size = 0;
    std::string field = "block.transactions[" + std::to_string(i) + "]";
    MELODAI_RETURN_IF_ERROR(ReadU32At(bytes, offset, size, field));
    if (size > kMaxTransactionBytes || size > bytes.size() - offset) {
      return core::DataLossError(field + ": size " + std::to_string(size) + " is invalid");
    }
    auto tx = DecodeTransaction(bytes.substr(offset, size));
    if (!tx.ok()) return tx.status().WithContext(field);
    block.transactions.push_back(std::move(tx).value());
    offset += size;
  }
  if (offset != bytes.size()) {
    return core::DataLossError("block: " + std::to_string(bytes.size() - offset) +
                               " trailing bytes");
  }
  return block;
}

crypto::Digest32 TransactionsRoot(std::span<const Transaction> transactions) {
  std::vector<crypto::Digest32> leaves;
  leaves.reserve(transactions.size());
  for (const Transaction& tx : transactions) {
    crypto::Digest32 hash = TransactionHash(tx);
    leaves.push_back(crypto::MerkleLeafHash(hash));
  }
  return crypto::MerkleRoot(leaves);
}

crypto::Digest32 BatchDigest(uint64_t height, uint64_t proposal_view, int64_t timestamp_ms,
                             const crypto::Digest32& transactions_root) {
  core::ByteWriter writer;
  writer.PutRaw(kBatchDomain.data(), kBatchDomain.size());
  writer.PutU64(height);
  writer.PutU64(proposal_view);
  writer.PutI64(timestamp_ms);
  PutDigest(writer, transactions_root);
  return crypto::Blake2b256(AsBytes(writer.buffer()));
}

}  // namespace melodai::ledger
