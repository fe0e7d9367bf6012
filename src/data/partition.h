// MelodAI — licensed under the Apache License 2.0.
// Federated partitioners: which sequences (playlists, users) live on which simulated device.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"
#include "data/interactions.h"

namespace melodai::data {

// clients[c] = indices of the sequences client c holds, ascending.
struct Partition {
  std::vector<std::vector<uint32_t>> clients;
  size_t ClientCount() const { return clients.size(); }
};

// One client per sequence (a playlist or a Last.fm user is its own device).
Partition NaturalPartition(const Interactions& sequences);

// A label per sequence for non-IID partitioning: the sequence's most frequent artist
// (ties -> the smaller artist id) folded into `label_count` buckets.
std::vector<uint32_t> DominantArtistLabels(const Interactions& sequences, const Catalog& catalog,
                                           uint32_t label_count);

// Dirichlet(alpha) non-IID partition (Hsu et al. 2019): for each label, client shares are
// drawn from Dir(alpha) and that label's sequences dealt out accordingly. Small alpha gives
// skewed clients. kInvalidArgument for alpha <= 0, client_count == 0 or more clients than
// sequences. Every client receives at least one sequence.
core::Result<Partition> DirichletPartition(std::span<const uint32_t> labels, size_t client_count,
                                           double alpha, uint64_t seed);

}  // namespace melodai::data
