// MelodAI — licensed under the Apache License 2.0.
// The in-process round driver: runs one Server and n Clients through a whole round with
// an injected dropout schedule, passing every message through its wire encoding, and reports
// per-phase time and bytes. Used by tests, simulations, benchmarks and the FL round driver;
// also the float (fixed-point) wrapper and the secure sum of scalars.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/clock.h"
#include "core/rng.h"
#include "core/status.h"
#include "core/thread_pool.h"
#include "crypto/random_source.h"
#include "secagg/config.h"
#include "secagg/fixed_point.h"

namespace melodai::secagg {

// drop_at[c] is the first phase in which client c sends nothing (it goes silent from then on);
// Phase::kDone means it never drops.
struct DropoutSchedule {
  std::vector<Phase> drop_at;

  // Nobody drops.
  static DropoutSchedule None(uint32_t client_count);
  // round(fraction * client_count) distinct clients, drawn with `rng`, drop at `phase`.
  // REQUIRES: 0 <= fraction <= 1.
  static DropoutSchedule Random(uint32_t client_count, double fraction, Phase phase, core::Rng& rng);
};

struct PhaseStats {
  uint32_t participants = 0;       // Clients that sent this phase's message.
  uint32_t recipients = 0;         // Clients that were sent this phase's server message.
  double client_seconds = 0;       // Summed over those clients (one core each); producing
                                   // the input (InputProvider) is not counted.
  double server_seconds = 0;       // Handling, closing the phase and its messages.
  uint64_t bytes_to_server = 0;    // Summed over clients.
  uint64_t bytes_from_server = 0;  // Summed over the clients that received them.
};

struct AggregationResult {
  std::vector<uint64_t> sum;        // Modulo 2^modulus_bits, one element per dimension.
  std::vector<uint32_t> survivors;  // Clients whose inputs are in `sum` (U3).
  std::array<PhaseStats, kPhaseCount> phases{};
};

struct DriverOptions {
  core::ThreadPool* pool = nullptr;    // Runs independent clients in parallel when given.
  // For the statistics only; SystemClock when null. Every measurement starts and ends on one
  // thread, so a clock of the calling thread's CPU time also works (it excludes time the
  // thread spends descheduled on a shared machine).
  const core::Clock* clock = nullptr;
  size_t batch_clients = 8;            // Masked inputs in flight at once (bounds memory).
};

// Element values of client c; called from pool threads, so it must be thread-safe. Each
// element must be < 2^modulus_bits and the vector config.dimension long.
using InputProvider = std::function<std::vector<uint64_t>(uint32_t client)>;

// Runs a full round. Identity keys and per-client randomness are drawn from `random` (so a
// DeterministicRandomSource replays a round exactly). Returns kInvalidArgument for a bad
// config, schedule or input, kAborted when fewer than threshold clients remain at some phase
// (or a client aborts), and any status a client or the server raises. The server's time is
// that of one core.
core::Result<AggregationResult> RunSecureAggregation(const RoundConfig& config,
                                                     const InputProvider& inputs,
                                                     const DropoutSchedule& dropouts,
                                                     crypto::RandomSource& random,
                                                     const DriverOptions& options = {});
// The same with inputs given up front, one vector per client.
core::Result<AggregationResult> RunSecureAggregation(const RoundConfig& config,
                                                     std::span<const std::vector<uint64_t>> inputs,
                                                     const DropoutSchedule& dropouts,
                                                     crypto::RandomSource& random,
                                                     const DriverOptions& options = {});

struct FloatAggregationResult {
  std::vector<double> sum;          // Sum of the survivors' clipped, quantized inputs.
  std::vector<uint32_t> survivors;
  std::array<PhaseStats, kPhaseCount> phases{};
};

// Fixed-point wrapper: encodes each client's floats with `fixed`, aggregates and decodes.
// kInvalidArgument when fixed.modulus_bits differs from config.modulus_bits or when
// ValidateFixedPoint(fixed, config.client_count) fails (the sum could wrap).
core::Result<FloatAggregationResult> RunSecureAggregationFloat(
    const RoundConfig& config, const FixedPointConfig& fixed,
    std::span<const std::vector<float>> inputs, const DropoutSchedule& dropouts,
    crypto::RandomSource& random, const DriverOptions& options = {});

struct SecureSumResult {
  uint64_t sum = 0;                 // Exact sum of the survivors' values.
  std::vector<uint32_t> survivors;
};

// Secure sum of one non-negative integer per client (for example contribution scores) on the
// same machinery: a round of dimension 1 modulo 2^64. kInvalidArgument unless
// config.dimension == 1, config.modulus_bits == 64, values.size() == client_count, every
// value <= max_value and client_count * max_value < 2^64 (so the sum cannot wrap).
core::Result<SecureSumResult> RunSecureSum(const RoundConfig& config,
                                           std::span<const uint64_t> values, uint64_t max_value,
                                           const DropoutSchedule& dropouts,
                                           crypto::RandomSource& random,
                                           const DriverOptions& options = {});

}  // namespace melodai::secagg
