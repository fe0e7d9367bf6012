// MelodAI — licensed under the Apache License 2.0.
// `melodai secagg bench`: runs one in-process secure-aggregation round with random inputs and
// a dropout fraction, checks the result against the plain sum and prints per-phase client and
// server time and bytes per client. Times are CPU time of the thread doing the work by default
// (the figures stay meaningful on a machine shared with other jobs), wall time on request.
#include <time.h>

#include <cstdio>
#include <memory>
#include <string>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/rng.h"
#include "core/thread_pool.h"
#include "crypto/random_source.h"
#include "secagg/round_driver.h"

namespace melodai::cli {
namespace {

// The CPU time consumed by the calling thread. Valid for the round driver, whose every
// measurement starts and ends on one thread; not a general-purpose Clock.
class ThreadCpuClock final : public core::Clock {
 public:
  int64_t NowNanos() const override {
    timespec now{};
    // Cannot fail for CLOCK_THREAD_CPUTIME_ID on a valid address (Linux, POSIX.1-2001).
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
  }
  int64_t WallMillis() const override { return core::SystemClock::Instance().WallMillis(); }
};

struct SecaggBenchOptions {
  uint32_t clients = 100;
  uint64_t dimension = 100'000;
  double dropout = 0.0;
  std::string dropout_phase = "masked_input";
  uint32_t neighbours = 0;  // 0: full graph; use --secagg-plus for the default k.
  bool secagg_plus = false;
  uint32_t threshold = 0;   // 0: DefaultThreshold.
  std::string prg = "aes";
  uint32_t modulus_bits = 32;
  uint64_t seed = 1;
  size_t threads = 1;
  std::string clock = "cpu";  // cpu: thread CPU time; wall: steady clock.
};

core::Result<secagg::Phase> ParsePhase(const std::string& name) {
  for (size_t i = 0; i < secagg::kPhaseCount; ++i) {
    const auto phase = static_cast<secagg::Phase>(i);
    if (secagg::PhaseName(phase) == name) return phase;
  }
  return core::InvalidArgumentError("--dropout-phase: unknown phase " + name);
}

core::Result<secagg::RoundConfig> BuildConfig(const SecaggBenchOptions& options) {
  secagg::RoundConfig config;
  config.round_id = 1;
  config.client_count = options.clients;
  config.dimension = options.dimension;
  config.modulus_bits = options.modulus_bits;
  config.graph_seed = options.seed;
  MELODAI_ASSIGN_OR_RETURN(config.prg, crypto::ParsePrgKind(options.prg));
  if (options.clients < secagg::kMinClients || options.clients > secagg::kMaxClients) {
    return core::InvalidArgumentError("--clients out of range");
  }
  config.neighbour_count = options.neighbours;
  if (options.secagg_plus && options.neighbours == 0) {
    config.neighbour_count = secagg::DefaultNeighbourCount(options.clients);
  }
  const uint32_t k = secagg::EffectiveNeighbourCount(config);
  config.threshold = options.threshold != 0 ? options.threshold : secagg::DefaultThreshold(k);
  MELODAI_RETURN_IF_ERROR(secagg::ValidateRoundConfig(config));
  return config;
}

void PrintReport(const secagg::RoundConfig& config, const secagg::AggregationResult& result,
                 const std::string& clock, double wall_seconds) {
  std::printf("times: %s seconds (%s)\n", clock.c_str(),
              clock == "cpu" ? "CPU time of the thread doing the work" : "steady clock");
  std::printf("%-18s %7s %14s %12s %14s %14s\n", "phase", "clients", "client_s/each", "server_s",
              "up_B/client", "down_B/client");
  double server_total = 0;
  double client_total = 0;
  uint64_t bytes_total = 0;
  for (size_t i = 0; i < secagg::kPhaseCount; ++i) {
    const secagg::PhaseStats& stats = result.phases[i];
    const double participants = std::max<double>(1, stats.participants);
    const double recipients = std::max<double>(1, stats.recipients);
    std::printf("%-18s %7u %14.6f %12.6f %14.0f %14.0f\n",
                std::string(secagg::PhaseName(static_cast<secagg::Phase>(i))).c_str(),
                stats.participants, stats.client_seconds / participants, stats.server_seconds,
                static_cast<double>(stats.bytes_to_server) / participants,
                static_cast<double>(stats.bytes_from_server) / recipients);
    server_total += stats.server_seconds;
    client_total += stats.client_seconds / participants;
    bytes_total += stats.bytes_to_server + stats.bytes_from_server;
  }
  std::printf("neighbours %u threshold %u survivors %zu of %u\n",
              secagg::EffectiveNeighbourCount(config), config.threshold, result.survivors.size(),
              config.client_count);
  std::printf("server total %.3f s (one core); client total %.3f s per client; "
              "bytes per client %.0f (up+down, all phases); round wall time %.3f s\n",
              server_total, client_total,
              static_cast<double>(bytes_total) / config.client_count, wall_seconds);
}

int RunSecaggBench(const SecaggBenchOptions& options) {
  auto config = BuildConfig(options);
  if (!config.ok()) return ReportError(config.status());
  auto phase = ParsePhase(options.dropout_phase);
  if (!phase.ok()) return ReportError(phase.status());
  if (options.dropout < 0 || options.dropout > 1) {
    return ReportError(core::InvalidArgumentError("--dropout must lie in [0, 1]"));
  }
  if (options.clock != "cpu" && options.clock != "wall") {
    return ReportError(core::InvalidArgumentError("--clock must be cpu or wall"));
  }
  MELODAI_LOG_INFO("secagg bench: seed {}, {} clients, dimension {}, dropout {} at {}, prg {}",
                   options.seed, options.clients, options.dimension, options.dropout,
                   options.dropout_phase, options.prg);
  core::Rng rng(options.seed);
  const secagg::DropoutSchedule schedule =
      secagg::DropoutSchedule::Random(config->client_count, options.dropout, *phase, rng);
  const uint64_t mask = config->modulus_bits == 64 ? ~uint64_t{0} : 0xffffffffu;
  const uint64_t dimension = config->dimension;
  const secagg::InputProvider inputs = [&rng, mask, dimension](uint32_t client) {
    core::Rng client_rng = rng.Fork(client);
    std::vector<uint64_t> input(dimension);
    for (uint64_t& value : input) value = client_rng.NextU64() & mask;
    return input;
  };
  core::ThreadPool pool(ResolveThreads(options.threads));
  secagg::DriverOptions driver;
  driver.pool = &pool;
  const ThreadCpuClock cpu_clock;
  if (options.clock == "cpu") driver.clock = &cpu_clock;
  crypto::DeterministicRandomSource random(options.seed);
  core::Stopwatch watch;
  auto result = secagg::RunSecureAggregation(*config, inputs, schedule, random, driver);
  const double wall_seconds = watch.ElapsedSeconds();
  if (!result.ok()) return ReportError(result.status());
  // Check the result against the plain sum of the survivors' inputs.
  std::vector<uint64_t> expected(dimension, 0);
  for (uint32_t client : result->survivors) {
    const std::vector<uint64_t> input = inputs(client);
    for (size_t i = 0; i < dimension; ++i) expected[i] = (expected[i] + input[i]) & mask;
  }
  if (expected != result->sum) {
    return ReportError(core::InternalError("secure sum differs from the plain sum"));
  }
  PrintReport(*config, *result, options.clock, wall_seconds);
  std::printf("sum verified against the plain sum of %zu survivors\n", result->survivors.size());
  return kExitOk;
}

}  // namespace

void RegisterSecaggCommand(CLI::App& app, int& exit_code) {
  CLI::App* secagg = app.add_subcommand("secagg", "Secure aggregation tools");
  secagg->require_subcommand(1);
  auto options = std::make_shared<SecaggBenchOptions>();
  CLI::App* bench = secagg->add_subcommand("bench", "Time one in-process secure-aggregation round");
  bench->add_option("--clients", options->clients, "number of clients")->capture_default_str();
  bench->add_option("--dim", options->dimension, "vector dimension")->capture_default_str();
  bench->add_option("--dropout", options->dropout, "fraction of clients that drop")->capture_default_str();
  bench->add_option("--dropout-phase", options->dropout_phase,
                    "advertise_keys | share_keys | masked_input | consistency_check | unmasking")
      ->capture_default_str();
  bench->add_option("--neighbours", options->neighbours, "SecAgg+ neighbours k (0 = full graph)");
  bench->add_flag("--secagg-plus", options->secagg_plus, "SecAgg+ with the default k = 3 ceil(log2 n)");
  bench->add_option("--threshold", options->threshold, "shares needed (0 = ceil(2k/3))");
  bench->add_option("--prg", options->prg, "aes | chacha")->capture_default_str();
  bench->add_option("--modulus-bits", options->modulus_bits, "32 | 64")->capture_default_str();
  bench->add_option("--seed", options->seed, "random seed")->capture_default_str();
  bench->add_option("--threads", options->threads, "client threads (0 = all cores)")->capture_default_str();
  bench->add_option("--clock", options->clock, "cpu (thread CPU time) | wall")
      ->capture_default_str();
  bench->callback([options, &exit_code] { exit_code = RunSecaggBench(*options); });
}

}  // namespace melodai::cli
