// MelodAI — licensed under the Apache License 2.0.
// Round-parameter validation, defaults and the SecAgg+ neighbour graph.
#include "secagg/config.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>

#include "core/rng.h"
#include "crypto/hash.h"
#include "crypto/random_source.h"

namespace melodai::secagg {

std::string_view PhaseName(Phase phase) {
  switch (phase) {
    case Phase::kAdvertiseKeys:
      return "advertise_keys";
    case Phase::kShareKeys:
      return "share_keys";
    case Phase::kMaskedInputCollection:
      return "masked_input";
    case Phase::kConsistencyCheck:
      return "consistency_check";
    case Phase::kUnmasking:
      return "unmasking";
    case Phase::kDone:
      return "done";
  }
  return "unknown";
}

core::Status ValidateRoundConfig(const RoundConfig& config) {
  if (config.client_count < kMinClients || config.client_count > kMaxClients) {
    return core::InvalidArgumentError(fmt::format("client_count {} outside [{}, {}]",
                                                  config.client_count, kMinClients, kMaxClients));
  }
  if (config.neighbour_count != 0) {
    if (config.neighbour_count >= config.client_count - 1 || config.neighbour_count % 2 != 0 ||
        config.neighbour_count < 2) {
      return core::InvalidArgumentError(fmt::format(
          "neighbour_count {} must be even, >= 2 and below client_count - 1 = {} (0 = full graph)",
          config.neighbour_count, config.client_count - 1));
    }
  }
  const uint32_t k = EffectiveNeighbourCount(config);
  if (config.threshold <= k / 2 || config.threshold > k) {
    return core::InvalidArgumentError(
        fmt::format("threshold {} must lie in ({}, {}] for {} neighbours", config.threshold,
                    k / 2, k, k));
  }
  if (config.dimension == 0 || config.dimension > kMaxDimension) {
    return core::InvalidArgumentError(
        fmt::format("dimension {} outside [1, {}]", config.dimension, kMaxDimension));
  }
  if (config.modulus_bits != 32 && config.modulus_bits != 64) {
    return core::InvalidArgumentError(
        fmt::format("modulus_bits {} must be 32 or 64", config.modulus_bits));
  }
  if (config.prg != crypto::PrgKind::kAes128Ctr && config.prg != crypto::PrgKind::kChaCha20) {
    return core::InvalidArgumentError("unknown PRG kind");
  }
  return core::Status::Ok();
}

uint32_t EffectiveNeighbourCount(const RoundConfig& config) {
  return config.neighbour_count == 0 ? config.client_count - 1 : config.neighbour_count;
}

uint32_t DefaultNeighbourCount(uint32_t client_count) {
  MELODAI_CHECK_GE(client_count, kMinClients);
  const uint32_t log2 = static_cast<uint32_t>(std::bit_width(client_count - 1));  // ceil(log2 n)
  uint32_t k = 3 * log2;
  k += k % 2;
  return k >= client_count - 1 ? 0 : k;
}

uint32_t DefaultThreshold(uint32_t neighbour_count) {
  MELODAI_CHECK_GE(neighbour_count, 2u);
  return std::max((2 * neighbour_count + 2) / 3, neighbour_count / 2 + 1);
}

NeighbourGraph::NeighbourGraph(const RoundConfig& config)
    : client_count_(config.client_count),
      degree_(EffectiveNeighbourCount(config)),
      full_(config.neighbour_count == 0) {
  MELODAI_CHECK(ValidateRoundConfig(config).ok());
  if (full_) return;
  // The permutation is public; a ChaCha20 stream keyed by a hash of (round, seed) makes it
  // unpredictable before the seed is chosen and identical for every party afterwards.
  std::array<uint8_t, 16> material{};
  for (int i = 0; i < 8; ++i) {
    material[i] = static_cast<uint8_t>(config.round_id >> (8 * i));
    material[8 + i] = static_cast<uint8_t>(config.graph_seed >> (8 * i));
  }
  crypto::Blake2bHasher hasher;
  hasher.Update(crypto::AsBytes("melodai.secagg.graph.v1"));
  hasher.Update(material);
  const crypto::Digest32 key = hasher.Finish();
  crypto::DeterministicRandomSource stream(key);
  std::array<uint8_t, 8> seed_bytes{};
  stream.Fill(seed_bytes);
  uint64_t seed = 0;
  for (int i = 0; i < 8; ++i) seed |= uint64_t{seed_bytes[i]} << (8 * i);
  core::Rng rng(seed);
  order_.resize(client_count_);
  for (uint32_t i = 0; i < client_count_; ++i) order_[i] = i;
  rng.Shuffle(order_);
  position_.resize(client_count_);
  for (uint32_t i = 0; i < client_count_; ++i) position_[order_[i]] = i;
}

bool NeighbourGraph::AreNeighbours(uint32_t a, uint32_t b) const {
  MELODAI_CHECK_LT(a, client_count_);
  MELODAI_CHECK_LT(b, client_count_);
  if (a == b) return false;
  if (full_) return true;
  const uint32_t forward = (position_[b] + client_count_ - position_[a]) % client_count_;
  const uint32_t distance = std::min(forward, client_count_ - forward);
  return distance <= degree_ / 2;
}

std::vector<uint32_t> NeighbourGraph::Neighbours(uint32_t client) const {
  MELODAI_CHECK_LT(client, client_count_);
  std::vector<uint32_t> neighbours;
  neighbours.reserve(degree_);
  if (full_) {
    for (uint32_t other = 0; other < client_count_; ++other) {
      if (other != client) neighbours.push_back(other);
    }
  } else {
    const uint32_t position = position_[client];
    for (uint32_t step = 1; step <= degree_ / 2; ++step) {
      neighbours.push_back(order_[(position + step) % client_count_]);
      neighbours.push_back(order_[(position + client_count_ - step) % client_count_]);
    }
    std::sort(neighbours.begin(), neighbours.end());
  }
  MELODAI_CHECK_EQ(neighbours.size(), degree_);
  return neighbours;
}

}  // namespace melodai::secagg
