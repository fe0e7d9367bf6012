// MelodAI — licensed under the Apache License 2.0.
// Natural and Dirichlet non-IID federated partitions.
#include "data/partition.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/rng.h"

namespace melodai::data {

Partition NaturalPartition(const Interactions& sequences) {
  Partition partition;
  partition.clients.resize(sequences.size());
  for (uint32_t s = 0; s < sequences.size(); ++s) partition.clients[s] = {s};
  return partition;
}

std::vector<uint32_t> DominantArtistLabels(const Interactions& sequences, const Catalog& catalog,
                                           uint32_t label_count) {
  MELODAI_CHECK_GT(label_count, 0u);
  std::vector<uint32_t> labels(sequences.size(), 0);
  std::vector<uint32_t> counts(catalog.artist_count(), 0);
  std::vector<ArtistId> touched;
  for (size_t s = 0; s < sequences.size(); ++s) {
    touched.clear();
    for (ItemId item : sequences.items(s)) {
      const ArtistId artist = catalog.artist(item);
      if (counts[artist]++ == 0) touched.push_back(artist);
    }
    ArtistId best = 0;
    uint32_t best_count = 0;
    for (ArtistId artist : touched) {
      if (counts[artist] > best_count || (counts[artist] == best_count && artist < best)) {
        best = artist;
        best_count = counts[artist];
      }
      counts[artist] = 0;
    }
    labels[s] = best % label_count;
  }
  return labels;
}

core::Result<Partition> DirichletPartition(std::span<const uint32_t> labels, size_t client_count,
                                           double alpha, uint64_t seed) {
  if (!(alpha > 0.0) || !std::isfinite(alpha)) {
    return core::InvalidArgumentError("Dirichlet alpha must be a positive number, got " + std::to_string(alpha));
  }
  if (client_count == 0 || client_count > labels.size()) {
    return core::InvalidArgumentError("client count must lie in [1, " + std::to_string(labels.size()) +
                                      "] (one sequence per client at least), got " +
                                      std::to_string(client_count));
  }
  core::Rng rng(seed);
  const uint32_t label_bound = labels.empty() ? 0 : *std::max_element(labels.begin(), labels.end()) + 1;
  std::vector<std::vector<uint32_t>> by_label(label_bound);
  for (uint32_t s = 0; s < labels.size(); ++s) by_label[labels[s]].push_back(s);

  Partition partition;
  partition.clients.resize(client_count);
  for (auto& members : by_label) {
    if (members.empty()) continue;
    rng.Shuffle(members);
    const std::vector<double> shares = rng.Dirichlet(alpha, client_count);
    // Cumulative cut points: client c gets members[cut[c], cut[c+1]).
    double cumulative = 0.0;
    size_t begin = 0;
    for (size_t c = 0; c < client_count; ++c) {
      cumulative += shares[c];
      size_t end = c + 1 == client_count
                       ? members.size()
                       : std::min(members.size(), static_cast<size_t>(std::llround(cumulative * static_cast<double>(members.size()))));
      end = std::max(end, begin);
      for (size_t i = begin; i < end; ++i) partition.clients[c].push_back(members[i]);
      begin = end;
    }
  }
  // Every client needs data: move one sequence from the largest client to each empty one.
  for (auto& client : partition.clients) {
    if (!client.empty()) continue;
    auto largest = std::max_element(partition.clients.begin(), partition.clients.end(),
                                    [](const auto& a, const auto& b) { return a.size() < b.size(); });
    MELODAI_CHECK_GT(largest->size(), 1u);  // client_count <= sequences guarantees a donor.
    client.push_back(largest->back());
    largest->pop_back();
  }
  for (auto& client : partition.clients) std::sort(client.begin(), client.end());
  return partition;
}

}  // namespace melodai::data
