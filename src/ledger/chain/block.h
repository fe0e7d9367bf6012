// MelodAI — licensed under the Apache License 2.0.
// Blocks: a header {height, previous hash, timestamp, Merkle root of transaction hashes, state
// root after execution, view, proposer} plus the ordered transactions. Consensus agrees on the
// batch digest (height, proposal view, timestamp, transactions root); the header is completed
// at execution.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/hash.h"
#include "ledger/chain/transaction.h"

namespace melodai::ledger {

inline constexpr size_t kMaxBlockTransactions = 20'000;
inline constexpr size_t kMaxBlockBytes = 64 * 1024 * 1024;
inline constexpr size_t kBlockHeaderBytes = 8 + 32 + 8 + 32 + 32 + 8 + 4;

struct BlockHeader {
  uint64_t height = 0;
  crypto::Digest32 previous_hash{};    // BlockHash of the header at height - 1.
  int64_t timestamp_ms = 0;            // Chosen by the primary (0 for a null block).
  crypto::Digest32 transactions_root{};  // MerkleRoot of the transaction hashes.
  crypto::Digest32 state_root{};       // Application state root after executing this block.
  uint64_t view = 0;                   // The view in which the batch was first proposed.
  uint32_t proposer = 0;               // The primary of that view.

  friend bool operator==(const BlockHeader&, const BlockHeader&) = default;
};

struct Block {
  BlockHeader header;
  std::vector<Transaction> transactions;

  friend bool operator==(const Block&, const Block&) = default;
};

// Header wire format, fixed kBlockHeaderBytes: height u64 | previous_hash | timestamp i64 |
// transactions_root | state_root | view u64 | proposer u32.
std::string EncodeBlockHeader(const BlockHeader& header);
// kDataLoss unless `bytes` is exactly one header.
core::Result<BlockHeader> DecodeBlockHeader(std::string_view bytes);
// BLAKE2b-256 of the header encoding; the chain link and the checkpoint digest.
crypto::Digest32 BlockHash(const BlockHeader& header);

// Block wire format: header | tx_count u32 | (tx_size u32 | tx)*. Strict decoding: kDataLoss on
// truncation, counts or sizes past the limits, or trailing bytes.
std::string EncodeBlock(const Block& block);
core::Result<Block> DecodeBlock(std::string_view bytes);

// MerkleRoot (crypto/merkle.h) of the TransactionHash of each transaction, in order.
crypto::Digest32 TransactionsRoot(std::span<const Transaction> transactions);

// The value consensus orders at `height`: BLAKE2b-256 of a domain tag, height, the view in
// which the batch was first proposed, timestamp and transactions root. A batch re-proposed
// after a view change keeps its proposal view, hence its digest and its block header, so
// every correct replica builds the identical header whatever view committed it.
crypto::Digest32 BatchDigest(uint64_t height, uint64_t proposal_view, int64_t timestamp_ms,
                             const crypto::Digest32& transactions_root);

}  // namespace melodai::ledger
