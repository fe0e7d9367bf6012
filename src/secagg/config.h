// MelodAI — licensed under the Apache License 2.0.
// Parameters of one secure-aggregation round (clients, threshold, neighbourhood size, vector
// dimension, modulus, PRG) with their limits, and the SecAgg+ neighbour graph: a k-regular
// Harary graph over a permutation of the clients drawn from the round's public seed.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/prg.h"

namespace melodai::secagg {

// Hard limits, checked by ValidateRoundConfig and by every decoder.
inline constexpr uint32_t kMaxClients = 10'000;              // Clients per round.
inline constexpr uint64_t kMaxDimension = uint64_t{1} << 26;  // Elements per vector (67M).
inline constexpr uint32_t kMinClients = 3;

// The phases of a round, in order. A client that drops "at" a phase sends nothing from that
// phase on.
enum class Phase : uint8_t {
  kAdvertiseKeys = 0,
  kShareKeys = 1,
  kMaskedInputCollection = 2,
  kConsistencyCheck = 3,
  kUnmasking = 4,
  kDone = 5,
};
inline constexpr size_t kPhaseCount = 5;
std::string_view PhaseName(Phase phase);

struct RoundConfig {
  uint64_t round_id = 0;
  // Clients are numbered 0 .. client_count - 1; their identity keys form the registry.
  uint32_t client_count = 0;
  // Each client shares its secrets among its neighbours; `threshold` shares rebuild them.
  // The server also aborts a phase that ends with fewer than `threshold` clients.
  // REQUIRES: neighbours / 2 < threshold <= neighbours.
  uint32_t threshold = 0;
  // 0 selects the full graph (every other client, the original protocol); otherwise SecAgg+
  // with this many neighbours (even, below client_count - 1).
  uint32_t neighbour_count = 0;
  uint64_t dimension = 0;        // Elements per input vector.
  uint32_t modulus_bits = 32;    // Arithmetic modulo 2^32 or 2^64.
  crypto::PrgKind prg = crypto::PrgKind::kAes128Ctr;
  uint64_t graph_seed = 0;       // Public; with round_id it fixes the SecAgg+ graph.
};

// kInvalidArgument naming the first bad field.
core::Status ValidateRoundConfig(const RoundConfig& config);

// The neighbourhood size actually used: client_count - 1 for the full graph.
uint32_t EffectiveNeighbourCount(const RoundConfig& config);

// SecAgg+ default: 3 * ceil(log2 n) rounded up to even; the full graph when that reaches n - 1.
uint32_t DefaultNeighbourCount(uint32_t client_count);
// ceil(2k / 3), at least k / 2 + 1: tolerates a third of a neighbourhood dropping out.
uint32_t DefaultThreshold(uint32_t neighbour_count);

// The neighbour relation of a round. Full graph: everyone is everyone's neighbour. SecAgg+:
// clients sit on a ring in a pseudo-random order (derived from round_id and graph_seed by a
// ChaCha20 stream) and each is joined to the k/2 nearest on either side (Harary graph H(k, n)),
// so the graph is k-regular, symmetric and identical for every party.
// Invariants: position_[order_[i]] == i; k_ < n_ or full_. Immutable; thread-safe.
class NeighbourGraph {
 public:
  // REQUIRES: ValidateRoundConfig(config).ok().
  explicit NeighbourGraph(const RoundConfig& config);

  uint32_t client_count() const { return client_count_; }
  uint32_t degree() const { return degree_; }
  // REQUIRES: a, b < client_count(). False for a == b.
  bool AreNeighbours(uint32_t a, uint32_t b) const;
  // The neighbours of `client` in increasing id order. REQUIRES: client < client_count().
  std::vector<uint32_t> Neighbours(uint32_t client) const;

 private:
  uint32_t client_count_;
  uint32_t degree_;
  bool full_;
  std::vector<uint32_t> order_;     // Ring position -> client.
  std::vector<uint32_t> position_;  // Client -> ring position.
};

}  // namespace melodai::secagg
