// MelodAI — licensed under the Apache License 2.0.
// The validator process: one consensus thread owning the PBFT Replica (with the transfer
// application and the RocksDB store), the Asio transport and the client port feeding it
// through a bounded Inbox, and a Prometheus /metrics server.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "crypto/hash.h"
#include "node/config.h"

namespace melodai::node {

// Invariants: the Replica, the application and the store are touched only by the thread
// inside Run(); network threads only push into the Inbox. Destruction stops the network
// threads before the replica and the store go away.
class Node {
 public:
  // Reads the key and genesis, opens the store (refusing one made for another genesis),
  // recovers the replica and binds the peer, client and metrics ports. Errors from each step
  // are returned with context (kFailedPrecondition for a store locked by another process or a
  // key that is not validator `validator_id`'s).
  static core::Result<std::unique_ptr<Node>> Create(const NodeConfig& config);
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // Runs the consensus loop on the calling thread until `stop` is set (then OK) or the
  // replica halts on a storage failure (then that error).
  core::Status Run(const std::atomic<bool>& stop);

  uint16_t peer_port() const;
  uint16_t client_port() const;
  uint16_t metrics_port() const;  // 0 when metrics are off.

 private:
  struct Impl;
  explicit Node(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// What a validator's store holds, read offline (the node must not be running).
struct StoreSummary {
  uint64_t height = 0;
  uint64_t view = 0;
  crypto::Digest32 last_block_hash{};
  crypto::Digest32 state_root{};
  // BLAKE2b-256 over the block hashes of heights 1..height: equal chains give equal digests.
  crypto::Digest32 chain_digest{};
  std::vector<crypto::Digest32> transaction_hashes;  // Filled when requested.
  uint64_t transaction_count = 0;
};

// Recovers a replica from the configured store without networking and walks its chain.
// kFailedPrecondition when the store is in use; errors of Recover/ReadBlock otherwise.
core::Result<StoreSummary> InspectStore(const NodeConfig& config, bool list_transactions);

}  // namespace melodai::node
