// MelodAI — licensed under the Apache License 2.0.
// Deterministic simulation of a PBFT cluster: the real pbft::Replica and TransferApp over
// SimNetwork and SimKvStore, with seeded network faults, crashes/restarts and Byzantine
// replicas, checking safety invariants after every step and liveness after the network heals.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ledger/pbft/replica.h"
#include "testing/sim_network.h"

namespace melodai::sim {

// What a Byzantine replica does with the real replica's outputs.
enum class Byzantine : uint8_t {
  kNone = 0,
  kEquivocate,    // As primary: a different, validly signed pre-prepare to half the replicas.
  kBadSignature,  // Corrupts the signature of half of its messages.
  kWithhold,      // Drops most of its messages (to some peers always).
  kReplay,        // Re-sends its own old messages at random later times.
  kTwins,         // A second instance with the same identity and key, on another partition.
  kGarbage,       // Adds truncated and random bytes to its traffic.
  kCount,
};
std::string_view ByzantineName(Byzantine behaviour);

struct CrashEvent {
  uint32_t replica = 0;
  int64_t at_ms = 0;
  int64_t down_ms = 0;
  uint32_t after_writes = 0;  // 0: crash between writes at at_ms; k: at the k-th next write.
  bool apply_crashing_write = false;
};

struct PartitionEvent {
  int64_t at_ms = 0;
  int64_t duration_ms = 0;
  std::vector<uint32_t> group;  // Replicas cut off from the rest.
};

struct SimOptions {
  uint64_t seed = 1;
  uint32_t n = 4;
  ledger::pbft::ReplicaConfig replica;  // replica_id is set per replica.
  testing::SimNetworkOptions network;
  std::vector<Byzantine> byzantine;  // Per replica id (kNone when shorter).
  std::vector<CrashEvent> crashes;
  std::vector<PartitionEvent> partitions;
  uint32_t clients = 3;
  uint32_t transactions_per_client = 6;
  int64_t tick_ms = 10;
  int64_t heal_ms = 3000;            // Faults (except Byzantine ones) stop here.
  int64_t liveness_budget_ms = 40'000;  // After healing, every transaction must commit.
  uint64_t max_view_changes_after_heal = 0;  // 0: derived from f.
  bool trace = false;
};

// A scenario chosen by the seed: network faults, f or fewer Byzantine replicas, crashes,
// partitions, checkpoint and snapshot settings.
SimOptions RandomScenario(uint64_t seed, uint32_t n);

struct SimResult {
  bool ok = true;
  std::string failure;      // The first violated property, with time and replica.
  std::string description;  // The scenario, one line.
  uint64_t final_height = 0;
  uint64_t max_view = 0;
  uint64_t view_changes_after_heal = 0;
  uint64_t committed_transactions = 0;
  uint64_t messages_sent = 0;
  uint64_t restarts = 0;
  uint64_t snapshots_installed = 0;
  uint64_t fetched_blocks = 0;
  int64_t end_ms = 0;
};

// Runs one simulation. Deterministic: the same options give the same result.
SimResult RunSimulation(const SimOptions& options);

}  // namespace melodai::sim
