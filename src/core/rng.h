// MelodAI — licensed under the Apache License 2.0.
// Seeded, portable pseudo-random numbers. The generator (xoshiro256**) and every distribution
// are written here so that a seed gives the same stream with any compiler or standard library;
// std::uniform_int_distribution and friends are implementation-defined and would not.
#pragma once

#include <cmath>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "core/check.h"

namespace melodai::core {

// SplitMix64 step: used to expand seeds and to derive independent streams.
uint64_t SplitMix64(uint64_t& state);

// Not cryptographic. Not thread-safe: give each thread its own Fork().
// Invariant: state_ is never all zero.
class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t seed() const { return seed_; }

  uint64_t NextU64();
  uint32_t NextU32() { return static_cast<uint32_t>(NextU64() >> 32); }

  // Uniform integer in [0, bound). REQUIRES: bound > 0. Unbiased (Lemire's method).
  uint64_t Uniform(uint64_t bound);
  // Uniform integer in [low, high]. REQUIRES: low <= high.
  int64_t UniformInt(int64_t low, int64_t high);
  // Uniform double in [0, 1) with 53 random bits.
  double UniformDouble();
  // Bernoulli trial with success probability p.
  bool Bernoulli(double p) { return UniformDouble() < p; }
  // Standard normal (Marsaglia polar method).
  double Normal();
  double Normal(double mean, double stddev) { return mean + stddev * Normal(); }
  // Gamma(shape, 1) (Marsaglia & Tsang). REQUIRES: shape > 0.
  double Gamma(double shape);
  // A point of the simplex drawn from Dirichlet(alpha, ..., alpha) of dimension `size`.
  std::vector<double> Dirichlet(double alpha, size_t size);
  // Index drawn with probability proportional to weights[i]. REQUIRES: a positive total.
  size_t Categorical(std::span<const double> weights);

  // Fisher–Yates shuffle.
  template <typename T>
  void Shuffle(std::span<T> values) {
    for (size_t i = values.size(); i > 1; --i) {
      size_t j = static_cast<size_t>(Uniform(i));
      std::swap(values[i - 1], values[j]);
    }
  }
  template <typename T>
  void Shuffle(std::vector<T>& values) {
    Shuffle(std::span<T>(values));
  }

  // An independent generator for sub-stream `stream` (for example a thread or a client id);
  // the same (seed, stream) always gives the same child.
  Rng Fork(uint64_t stream) const;

 private:
  uint64_t seed_;
  uint64_t state_[4];
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

// Walker's alias table: O(1) sampling from a fixed discrete distribution.
class AliasTable {
 public:
  // REQUIRES: weights non-empty, all >= 0, positive sum.
  explicit AliasTable(std::span<const double> weights);
  size_t Sample(Rng& rng) const;
  size_t size() const { return probability_.size(); }

 private:
  std::vector<double> probability_;
  std::vector<uint32_t> alias_;
};

}  // namespace melodai::core
