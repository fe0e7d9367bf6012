// MelodAI — licensed under the Apache License 2.0.
// The in-process round driver (clients in parallel batches, server sequential), the float
// wrapper and the secure sum of scalars.
#include "secagg/round_driver.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include "crypto/ed25519.h"
#include "secagg/client.h"
#include "secagg/messages.h"
#include "secagg/server.h"

namespace melodai::secagg {
namespace {

// One client's step; `watch` times it and may be reset once the step has gathered data the
// client already holds (its input), so that only protocol work is reported.
using StepFunction =
    std::function<core::Result<std::string>(uint32_t client, core::Stopwatch& watch)>;
using DeliverFunction = std::function<core::Status(std::string_view bytes)>;

// Invariants: clients_[c] and randoms_[c] exist for every client after Setup; inbox_[c] holds
// the encoded server message client c will read in the current phase (empty: none).
class RoundRunner {
 public:
  RoundRunner(const RoundConfig& config, const InputProvider& inputs,
              const DropoutSchedule& dropouts, const DriverOptions& options)
      : config_(config),
        inputs_(inputs),
        dropouts_(dropouts),
        options_(options),
        clock_(options.clock != nullptr ? *options.clock : core::SystemClock::Instance()),
        inbox_(config.client_count) {}

  core::Result<AggregationResult> Run(crypto::RandomSource& random);

 private:
  core::Status Setup(crypto::RandomSource& random);
  std::vector<uint32_t> Active(Phase phase) const;
  core::Status ClientStep(Phase phase, size_t batch, const StepFunction& step,
                          const DeliverFunction& deliver);
  void Post(Phase phase, uint32_t client, std::string bytes);
  PhaseStats& Stats(Phase phase) { return result_.phases[static_cast<size_t>(phase)]; }
  core::Status RunKeyPhases();
  core::Status RunMaskingPhases();

  const RoundConfig& config_;
  const InputProvider& inputs_;
  const DropoutSchedule& dropouts_;
  const DriverOptions& options_;
  const core::Clock& clock_;
  std::vector<std::unique_ptr<crypto::DeterministicRandomSource>> randoms_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::unique_ptr<Server> server_;
  std::vector<std::string> inbox_;
  AggregationResult result_;
};

core::Status RoundRunner::Setup(crypto::RandomSource& random) {
  auto registry = std::make_shared<IdentityRegistry>();
  std::vector<crypto::Ed25519KeyPair> identities;
  identities.reserve(config_.client_count);
  for (uint32_t client = 0; client < config_.client_count; ++client) {
    std::array<uint8_t, 32> seed{};
    random.Fill(seed);
    identities.push_back(crypto::Ed25519KeyPair::FromSeed(seed));
    registry->push_back(identities.back().public_key());
    random.Fill(seed);
    randoms_.push_back(std::make_unique<crypto::DeterministicRandomSource>(seed));
    crypto::SecureWipe(seed);
  }
  MELODAI_ASSIGN_OR_RETURN(server_, Server::Create(config_, registry));
  for (uint32_t client = 0; client < config_.client_count; ++client) {
    MELODAI_ASSIGN_OR_RETURN(std::unique_ptr<Client> created,
                             Client::Create(config_, client, std::move(identities[client]),
                                            registry, *randoms_[client]));
    clients_.push_back(std::move(created));
  }
  return core::Status::Ok();
}

std::vector<uint32_t> RoundRunner::Active(Phase phase) const {
  std::vector<uint32_t> active;
  for (uint32_t client = 0; client < config_.client_count; ++client) {
    const bool has_input = phase == Phase::kAdvertiseKeys || !inbox_[client].empty();
    if (dropouts_.drop_at[client] > phase && has_input) active.push_back(client);
  }
  return active;
}

core::Status RoundRunner::ClientStep(Phase phase, size_t batch, const StepFunction& step,
                                     const DeliverFunction& deliver) {
  const std::vector<uint32_t> active = Active(phase);
  PhaseStats& stats = Stats(phase);
  for (size_t begin = 0; begin < active.size(); begin += batch) {
    const size_t count = std::min(batch, active.size() - begin);
    std::vector<std::optional<core::Result<std::string>>> replies(count);
    std::vector<double> seconds(count, 0.0);
    auto body = [&](size_t first, size_t last, size_t /*worker*/) {
      for (size_t i = first; i < last; ++i) {
        core::Stopwatch watch(clock_);
        replies[i].emplace(step(active[begin + i], watch));
        seconds[i] = watch.ElapsedSeconds();
      }
    };
    if (options_.pool != nullptr) {
      options_.pool->ParallelFor(count, 1, body);
    } else {
      body(0, count, 0);
    }
    for (size_t i = 0; i < count; ++i) {
      const uint32_t client = active[begin + i];
      stats.client_seconds += seconds[i];
      if (!replies[i]->ok()) return replies[i]->status().WithContext(fmt::format("client {}", client));
      const std::string& bytes = replies[i]->value();
      ++stats.participants;
      stats.bytes_to_server += bytes.size();
      core::Stopwatch watch(clock_);
      const core::Status delivered = deliver(bytes);
      stats.server_seconds += watch.ElapsedSeconds();
      MELODAI_RETURN_IF_ERROR(delivered);
    }
  }
  for (std::string& message : inbox_) message.clear();
  return core::Status::Ok();
}

void RoundRunner::Post(Phase phase, uint32_t client, std::string bytes) {
  Stats(phase).bytes_from_server += bytes.size();
  ++Stats(phase).recipients;
  inbox_[client] = std::move(bytes);
}

core::Status RoundRunner::RunKeyPhases() {
  MELODAI_RETURN_IF_ERROR(ClientStep(
      Phase::kAdvertiseKeys, config_.client_count,
      [&](uint32_t c, core::Stopwatch& /*watch*/) -> core::Result<std::string> {
        MELODAI_ASSIGN_OR_RETURN(const AdvertiseKeysMessage message, clients_[c]->AdvertiseKeys());
        return Encode(message);
      },
      [&](std::string_view bytes) -> core::Status {
        MELODAI_ASSIGN_OR_RETURN(const AdvertiseKeysMessage message, DecodeAdvertiseKeys(bytes));
        return server_->HandleAdvertiseKeys(message);
      }));
  core::Stopwatch watch(clock_);
  MELODAI_ASSIGN_OR_RETURN(const std::vector<KeyListMessage> lists, server_->FinishAdvertiseKeys());
  for (const KeyListMessage& list : lists) Post(Phase::kShareKeys, list.target_id, Encode(list));
  Stats(Phase::kAdvertiseKeys).server_seconds += watch.ElapsedSeconds();

  MELODAI_RETURN_IF_ERROR(ClientStep(
      Phase::kShareKeys, config_.client_count,
      [&](uint32_t c, core::Stopwatch& /*watch*/) -> core::Result<std::string> {
        MELODAI_ASSIGN_OR_RETURN(const KeyListMessage list, DecodeKeyList(inbox_[c]));
        MELODAI_ASSIGN_OR_RETURN(const ShareKeysMessage message, clients_[c]->ShareKeys(list));
        return Encode(message);
      },
      [&](std::string_view bytes) -> core::Status {
        MELODAI_ASSIGN_OR_RETURN(const ShareKeysMessage message, DecodeShareKeys(bytes));
        return server_->HandleShareKeys(message);
      }));
  watch.Reset();
  MELODAI_ASSIGN_OR_RETURN(const std::vector<EncryptedSharesMessage> routed, server_->FinishShareKeys());
  for (const EncryptedSharesMessage& message : routed) {
    Post(Phase::kMaskedInputCollection, message.target_id, Encode(message));
  }
  Stats(Phase::kShareKeys).server_seconds += watch.ElapsedSeconds();
  return core::Status::Ok();
}

core::Status RoundRunner::RunMaskingPhases() {
  const size_t threads = options_.pool != nullptr ? options_.pool->thread_count() : 1;
  MELODAI_RETURN_IF_ERROR(ClientStep(
      Phase::kMaskedInputCollection, std::max<size_t>(1, options_.batch_clients) * threads,
      [&](uint32_t c, core::Stopwatch& watch) -> core::Result<std::string> {
        // The input is the client's own data, produced before the round: not protocol time.
        const std::vector<uint64_t> input = inputs_(c);
        watch.Reset();
        MELODAI_ASSIGN_OR_RETURN(const EncryptedSharesMessage shares,
                                 DecodeEncryptedShares(inbox_[c]));
        MELODAI_ASSIGN_OR_RETURN(const MaskedInputMessage message,
                                 clients_[c]->MaskInput(shares, input));
        return Encode(message);
      },
      [&](std::string_view bytes) -> core::Status {
        MELODAI_ASSIGN_OR_RETURN(const MaskedInputMessage message, DecodeMaskedInput(bytes));
        return server_->HandleMaskedInput(message);
      }));
  // SecAgg+ rounds scope the consistency check to each client's neighbourhood, so no
  // message from here on grows with n; the full graph keeps the global survivor list.
  const bool neighbourhoods = config_.neighbour_count != 0;
  core::Stopwatch watch(clock_);
  MELODAI_ASSIGN_OR_RETURN(const SurvivorListMessage survivors, server_->FinishMaskedInput());
  if (neighbourhoods) {
    for (uint32_t c : survivors.survivors) {
      MELODAI_ASSIGN_OR_RETURN(const NeighbourhoodSurvivorsMessage own,
                               server_->NeighbourhoodSurvivorsFor(c));
      Post(Phase::kConsistencyCheck, c, Encode(own));
    }
  } else {
    const std::string survivor_bytes = Encode(survivors);
    for (uint32_t c : survivors.survivors) Post(Phase::kConsistencyCheck, c, survivor_bytes);
  }
  Stats(Phase::kMaskedInputCollection).server_seconds += watch.ElapsedSeconds();

  MELODAI_RETURN_IF_ERROR(ClientStep(
      Phase::kConsistencyCheck, config_.client_count,
      [&](uint32_t c, core::Stopwatch& /*watch*/) -> core::Result<std::string> {
        if (neighbourhoods) {
          MELODAI_ASSIGN_OR_RETURN(const NeighbourhoodSurvivorsMessage list,
                                   DecodeNeighbourhoodSurvivors(inbox_[c]));
          MELODAI_ASSIGN_OR_RETURN(const ConsistencySignatureMessage message,
                                   clients_[c]->SignNeighbourhood(list));
          return Encode(message);
        }
        MELODAI_ASSIGN_OR_RETURN(const SurvivorListMessage list, DecodeSurvivorList(inbox_[c]));
        MELODAI_ASSIGN_OR_RETURN(const ConsistencySignatureMessage message, clients_[c]->SignSurvivors(list));
        return Encode(message);
      },
      [&](std::string_view bytes) -> core::Status {
        MELODAI_ASSIGN_OR_RETURN(const ConsistencySignatureMessage message,
                                 DecodeConsistencySignature(bytes));
        return server_->HandleConsistencySignature(message);
      }));
  watch.Reset();
  MELODAI_ASSIGN_OR_RETURN(const UnmaskingRequestMessage request, server_->FinishConsistencyCheck());
  // Each signer gets the signatures it checks: its own and its neighbours' (full graph), its
  // neighbours' neighbourhood lists (SecAgg+).
  for (const SurvivorSignature& entry : request.signatures) {
    if (neighbourhoods) {
      MELODAI_ASSIGN_OR_RETURN(const NeighbourhoodUnmaskingRequestMessage own,
                               server_->NeighbourhoodUnmaskingRequestFor(entry.client_id));
      Post(Phase::kUnmasking, entry.client_id, Encode(own));
    } else {
      MELODAI_ASSIGN_OR_RETURN(const UnmaskingRequestMessage own,
                               server_->UnmaskingRequestFor(entry.client_id));
      Post(Phase::kUnmasking, entry.client_id, Encode(own));
    }
  }
  Stats(Phase::kConsistencyCheck).server_seconds += watch.ElapsedSeconds();

  MELODAI_RETURN_IF_ERROR(ClientStep(
      Phase::kUnmasking, config_.client_count,
      [&](uint32_t c, core::Stopwatch& /*watch*/) -> core::Result<std::string> {
        if (neighbourhoods) {
          MELODAI_ASSIGN_OR_RETURN(const NeighbourhoodUnmaskingRequestMessage message,
                                   DecodeNeighbourhoodUnmaskingRequest(inbox_[c]));
          MELODAI_ASSIGN_OR_RETURN(const UnmaskingResponseMessage reply, clients_[c]->Unmask(message));
          return Encode(reply);
        }
        MELODAI_ASSIGN_OR_RETURN(const UnmaskingRequestMessage message, DecodeUnmaskingRequest(inbox_[c]));
        MELODAI_ASSIGN_OR_RETURN(const UnmaskingResponseMessage reply, clients_[c]->Unmask(message));
        return Encode(reply);
      },
      [&](std::string_view bytes) -> core::Status {
        MELODAI_ASSIGN_OR_RETURN(const UnmaskingResponseMessage message, DecodeUnmaskingResponse(bytes));
        return server_->HandleUnmaskingResponse(message);
      }));
  watch.Reset();
  MELODAI_ASSIGN_OR_RETURN(result_.sum, server_->FinishUnmasking());
  Stats(Phase::kUnmasking).server_seconds += watch.ElapsedSeconds();
  return core::Status::Ok();
}

core::Result<AggregationResult> RoundRunner::Run(crypto::RandomSource& random) {
  MELODAI_RETURN_IF_ERROR(ValidateRoundConfig(config_));
  if (dropouts_.drop_at.size() != config_.client_count) {
    return core::InvalidArgumentError(fmt::format("dropout schedule lists {} clients, round has {}",
                                                  dropouts_.drop_at.size(), config_.client_count));
  }
  core::Stopwatch watch(clock_);
  MELODAI_RETURN_IF_ERROR(Setup(random));
  Stats(Phase::kAdvertiseKeys).client_seconds += watch.ElapsedSeconds();
  MELODAI_RETURN_IF_ERROR(RunKeyPhases());
  MELODAI_RETURN_IF_ERROR(RunMaskingPhases());
  result_.survivors = server_->survivors();
  return std::move(result_);
}

}  // namespace

DropoutSchedule DropoutSchedule::None(uint32_t client_count) {
  return DropoutSchedule{std::vector<Phase>(client_count, Phase::kDone)};
}

DropoutSchedule DropoutSchedule::Random(uint32_t client_count, double fraction, Phase phase,
                                        core::Rng& rng) {
  MELODAI_CHECK(fraction >= 0.0 && fraction <= 1.0);
  DropoutSchedule schedule = None(client_count);
  std::vector<uint32_t> order(client_count);
  for (uint32_t i = 0; i < client_count; ++i) order[i] = i;
  rng.Shuffle(order);
  const size_t dropped = static_cast<size_t>(std::llround(fraction * client_count));
  for (size_t i = 0; i < dropped; ++i) schedule.drop_at[order[i]] = phase;
  return schedule;
}

core::Result<AggregationResult> RunSecureAggregation(const RoundConfig& config,
                                                     const InputProvider& inputs,
                                                     const DropoutSchedule& dropouts,
                                                     crypto::RandomSource& random,
                                                     const DriverOptions& options) {
  RoundRunner runner(config, inputs, dropouts, options);
  return runner.Run(random);
}

core::Result<AggregationResult> RunSecureAggregation(const RoundConfig& config,
                                                     std::span<const std::vector<uint64_t>> inputs,
                                                     const DropoutSchedule& dropouts,
                                                     crypto::RandomSource& random,
                                                     const DriverOptions& options) {
  if (inputs.size() != config.client_count) {
    return core::InvalidArgumentError(
        fmt::format("{} input vectors for {} clients", inputs.size(), config.client_count));
  }
  const InputProvider provider = [inputs](uint32_t client) { return inputs[client]; };
  return RunSecureAggregation(config, provider, dropouts, random, options);
}

core::Result<FloatAggregationResult> RunSecureAggregationFloat(
    const RoundConfig& config, const FixedPointConfig& fixed,
    std::span<const std::vector<float>> inputs, const DropoutSchedule& dropouts,
    crypto::RandomSource& random, const DriverOptions& options) {
  if (fixed.modulus_bits != config.modulus_bits) {
    return core::InvalidArgumentError(fmt::format("fixed-point modulus 2^{} differs from the round's 2^{}",
                                                  fixed.modulus_bits, config.modulus_bits));
  }
  MELODAI_RETURN_IF_ERROR(ValidateFixedPoint(fixed, config.client_count));
  if (inputs.size() != config.client_count) {
    return core::InvalidArgumentError(
        fmt::format("{} input vectors for {} clients", inputs.size(), config.client_count));
  }
  for (size_t c = 0; c < inputs.size(); ++c) {
    if (inputs[c].size() != config.dimension) {
      return core::InvalidArgumentError(fmt::format("input of client {} has {} elements, expected {}",
                                                    c, inputs[c].size(), config.dimension));
    }
  }
  const InputProvider provider = [&](uint32_t client) {
    return EncodeFixedPoint(fixed, inputs[client]);
  };
  MELODAI_ASSIGN_OR_RETURN(AggregationResult aggregated,
                           RunSecureAggregation(config, provider, dropouts, random, options));
  return FloatAggregationResult{DecodeFixedPoint(fixed, aggregated.sum),
                                std::move(aggregated.survivors), aggregated.phases};
}

core::Result<SecureSumResult> RunSecureSum(const RoundConfig& config,
                                           std::span<const uint64_t> values, uint64_t max_value,
                                           const DropoutSchedule& dropouts,
                                           crypto::RandomSource& random,
                                           const DriverOptions& options) {
  if (config.dimension != 1 || config.modulus_bits != 64) {
    return core::InvalidArgumentError("secure sum needs dimension 1 and a 2^64 modulus");
  }
  if (values.size() != config.client_count) {
    return core::InvalidArgumentError(
        fmt::format("{} values for {} clients", values.size(), config.client_count));
  }
  if (max_value > std::numeric_limits<uint64_t>::max() / config.client_count) {
    return core::InvalidArgumentError(fmt::format(
        "{} values up to {} could wrap modulo 2^64", config.client_count, max_value));
  }
  for (size_t c = 0; c < values.size(); ++c) {
    if (values[c] > max_value) {
      return core::InvalidArgumentError(
          fmt::format("value of client {} exceeds the maximum {}", c, max_value));
    }
  }
  const InputProvider provider = [values](uint32_t client) {
    return std::vector<uint64_t>{values[client]};
  };
  MELODAI_ASSIGN_OR_RETURN(AggregationResult aggregated,
                           RunSecureAggregation(config, provider, dropouts, random, options));
  return SecureSumResult{aggregated.sum[0], std::move(aggregated.survivors)};
}

}  // namespace melodai::secagg
