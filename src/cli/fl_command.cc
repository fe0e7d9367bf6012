// MelodAI — licensed under the Apache License 2.0.
// `melodai fl sim`: federated training of a neural recommender in simulation, one client per
// training playlist (or Last.fm user): sampling, local training, secure aggregation, DP,
// robust aggregation, Byzantine clients and compression, with a progress line per round and
// per-round metrics written as CSV and JSON. `melodai fl accountant`: epsilon of a DP schedule.
#include <dlfcn.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/logging.h"
#include "fl/rdp_accountant.h"
#include "fl/report.h"
#include "fl/simulator.h"
#include "node/recommender_trainer.h"
#include "rec/model_factory.h"
#include "rec/neural.h"

namespace melodai::cli {
namespace {

struct FlSimOptions {
  std::string data;
  std::string format = "auto";
  std::string model = "gru4rec";
  std::string out = "fl-sim";
  std::string save_model;  // the final global model as a model file (empty: not written)
  uint32_t clients = 0;  // 0: one per training sequence
  double fraction = 0.05;
  uint32_t rounds = 50;
  uint32_t local_epochs = 1;
  double local_lr = 0.1;
  uint32_t local_batch = 8;
  std::string local_optimizer = "sgd";
  double local_clip = 0.0;
  uint32_t local_negatives = 0;
  double local_negative_alpha = 0.0;
  double local_dropout = 0.0;
  std::string local_loss = "cross-entropy";
  std::vector<std::string> freeze;  // substrings of parameter names the private run keeps fixed
  std::string aggregator = "fedavg";
  double trim = 0.1;
  uint32_t krum_f = 1;
  uint32_t krum_m = 0;
  double bound_factor = 1.0;
  double weight_cap = 4.0;
  double min_cosine = -2.0;
  double reject_factor = 0.0;
  double prox_mu = 0.0;
  std::string server_opt = "fedavg";
  double server_lr = 1.0;
  double server_beta1 = 0.9;
  double server_beta2 = 0.99;
  double server_tau = 1e-3;
  double server_lr_decay = 1.0;
  bool keep_best = false;
  double server_ema = 0.0;
  bool uniform = false;
  double clip = 0.0;
  bool secagg = false;
  bool secagg_full_graph = false;
  double secagg_dropout = 0.0;
  double dp_epsilon = 0.0;
  double dp_delta = 1e-5;
  double noise_multiplier = 0.0;
  double dp_clip = 1.0;
  uint32_t byzantine = 0;
  std::string attack = "scale";
  double attack_scale = -10.0;
  uint32_t quantize = 32;
  double top_k = 1.0;
  double deadline_ms = 0.0;
  double dropout_probability = 0.0;
  uint32_t eval_every = 5;
  size_t eval_queries = 3000;
  bool final_full_eval = true;
  uint32_t personalize = 0;
  uint32_t personalize_epochs = 2;
  uint32_t parallel_clients = 8;
  bool no_cache = false;
  // Warm start on public data: the first `public_clients` training playlists are donors who
  // opted in (their data is not protected); `public_rounds` rounds of non-private federated
  // training on them give the starting model of the (private) run on the other clients.
  uint32_t public_clients = 0;
  uint32_t public_rounds = 0;
  double public_fraction = 0.0;  // 0: same as --fraction
  std::string public_server_opt = "fedadam";
  double public_server_lr = 0.05;
  EvalFlags flags;
};

core::Result<fl::SimulationConfig> BuildSimulationConfig(const FlSimOptions& o, uint32_t threads) {
  fl::SimulationConfig config;
  config.rounds = o.rounds;
  config.client_fraction = o.fraction;
  config.local.epochs = o.local_epochs;
  config.local.learning_rate = o.local_lr;
  config.local.batch_size = o.local_batch;
  config.local.prox_mu = o.prox_mu;
  MELODAI_ASSIGN_OR_RETURN(config.aggregator.kind, fl::ParseAggregatorKind(o.aggregator));
  config.aggregator.trim_fraction = o.trim;
  config.aggregator.krum_byzantine = o.krum_f;
  config.aggregator.krum_selected = o.krum_m;
  config.aggregator.bound_factor = o.bound_factor;
  config.aggregator.weight_cap = o.weight_cap;
  config.aggregator.min_cosine = o.min_cosine;
  config.aggregator.reject_factor = o.reject_factor;
  MELODAI_ASSIGN_OR_RETURN(config.server_optimizer.kind, fl::ParseServerOptimizerKind(o.server_opt));
  config.server_optimizer.learning_rate = o.server_lr;
  config.server_optimizer.beta1 = o.server_beta1;
  config.server_optimizer.beta2 = o.server_beta2;
  config.server_optimizer.tau = o.server_tau;
  config.server_optimizer.lr_decay = o.server_lr_decay;
  config.keep_best = o.keep_best;
  config.server_ema = o.server_ema;
  config.weighting = o.uniform ? fl::Weighting::kUniform : fl::Weighting::kExamples;
  config.clip_norm = o.clip;
  if (o.dp_epsilon > 0.0 || o.noise_multiplier > 0.0) {
    config.dp.enabled = true;
    config.dp.clip_norm = o.dp_clip;
    config.dp.noise_multiplier = o.noise_multiplier;
    config.dp.target_epsilon = o.noise_multiplier > 0.0 ? 0.0 : o.dp_epsilon;
    config.dp.delta = o.dp_delta;
    config.weighting = fl::Weighting::kUniform;
  }
  config.secagg.enabled = o.secagg;
  config.secagg.full_graph = o.secagg_full_graph;
  config.secagg.dropout_fraction = o.secagg_dropout;
  config.byzantine.attackers_per_round = o.byzantine;
  MELODAI_ASSIGN_OR_RETURN(config.byzantine.attack, fl::ParseAttackKind(o.attack));
  config.byzantine.scale = o.attack_scale;
  config.compression.quantize_bits = o.quantize;
  config.compression.top_k_fraction = o.top_k;
  config.deadline_ms = o.deadline_ms;
  config.latency.dropout_probability = o.dropout_probability;
  config.eval_every = o.eval_every;
  config.personalize_clients = o.personalize;
  config.personalize = config.local;
  config.personalize.epochs = o.personalize_epochs;
  config.personalize.prox_mu = 0.0;
  config.threads = threads;
  config.parallel_clients = o.parallel_clients;
  config.seed = o.flags.seed;
  return config;
}

// The warm-start run on the public donors: the same local training, no privacy machinery.
core::Result<fl::SimulationConfig> PublicPhaseConfig(const FlSimOptions& o, uint32_t threads) {
  FlSimOptions p = o;
  p.rounds = o.public_rounds;
  p.fraction = o.public_fraction > 0.0 ? o.public_fraction : o.fraction;
  p.server_opt = o.public_server_opt;
  p.server_lr = o.public_server_lr;
  p.aggregator = "fedavg";
  p.clip = 0.0;
  p.secagg = false;
  p.dp_epsilon = 0.0;
  p.noise_multiplier = 0.0;
  p.byzantine = 0;
  p.quantize = 32;
  p.top_k = 1.0;
  p.personalize = 0;
  p.uniform = false;  // the donors train with example weights whatever the private run uses
  return BuildSimulationConfig(p, threads);
}

// Devices train in parallel, one per thread; BLAS threads of their own would only spin against
// them. OpenBLAS (Debian's libblas provider) exposes its thread count as a C symbol.
void SingleThreadedBlas() {
  using SetThreads = void (*)(int);
  if (void* symbol = dlsym(RTLD_DEFAULT, "openblas_set_num_threads")) {
    reinterpret_cast<SetThreads>(symbol)(1);
  }
}

// The split with only the first `clients` training sequences (0 = all).
data::ProtocolSplit LimitClients(data::ProtocolSplit split, uint32_t clients) {
  if (clients == 0 || clients >= split.train.size()) return split;
  data::Interactions kept(split.train.has_timestamps(), split.train.has_weights());
  for (uint32_t s = 0; s < clients; ++s) kept.Append(split.train[s]);
  split.train = std::move(kept);
  return split;
}

int RunFlSim(const FlSimOptions& o) {
  EvalFlags flags = o.flags;
  flags.protocol = "next-item";
  auto experiment = BuildExperimentOptions(flags, {o.model});
  if (!experiment.ok()) return ReportError(experiment.status());
  auto neural = rec::MakeNeuralOptions(o.model, experiment->config);
  if (!neural.ok()) {
    return ReportError(core::InvalidArgumentError(
        fmt::format("--model {}: federated training needs a neural model (rnn, gru4rec, sasrec, transgru): {}", o.model,
                    neural.status().message())));
  }
  SingleThreadedBlas();
  core::ThreadPool pool(ResolveThreads(flags.threads));
  auto sim = BuildSimulationConfig(o, static_cast<uint32_t>(pool.thread_count()));
  if (!sim.ok()) return ReportError(sim.status());
  MELODAI_LOG_INFO("fl sim: seed {}, {} threads", flags.seed, pool.thread_count());
  auto dataset = LoadWithLog(o.data, o.format, !o.no_cache, pool);
  if (!dataset.ok()) return ReportError(dataset.status());
  auto full_split = data::MakeProtocolSplit(dataset->sequences, experiment->protocol);
  if (!full_split.ok()) return ReportError(full_split.status());
  const data::ProtocolSplit split = LimitClients(std::move(*full_split), o.clients);

  node::RecommenderTrainerOptions trainer_options;
  trainer_options.neural = *neural;
  trainer_options.local_optimizer = o.local_optimizer;
  trainer_options.local_clip_norm = o.local_clip;
  trainer_options.local_negatives = o.local_negatives;
  trainer_options.local_negative_alpha = o.local_negative_alpha;
  trainer_options.local_dropout = o.local_dropout;
  trainer_options.local_loss = o.local_loss;
  trainer_options.eval_queries = o.eval_queries;
  if (o.public_clients > 0 && o.public_rounds == 0) {
    return ReportError(core::InvalidArgumentError("--public-clients needs --public-rounds >= 1"));
  }
  if (o.public_clients > 0) {
    // The warm start: non-private rounds on the donors, whose result starts the main run.
    node::RecommenderTrainerOptions donors = trainer_options;
    donors.clients = o.public_clients;
    auto public_trainer = node::RecommenderTrainer::Create(dataset->catalog, split, donors, pool);
    if (!public_trainer.ok()) return ReportError(public_trainer.status());
    auto public_config = PublicPhaseConfig(o, static_cast<uint32_t>(pool.thread_count()));
    if (!public_config.ok()) return ReportError(public_config.status());
    MELODAI_LOG_INFO("fl sim: warm start on {} public clients, {} rounds, server {} lr {}", o.public_clients,
                     o.public_rounds, o.public_server_opt, o.public_server_lr);
    auto warm = fl::RunSimulation(**public_trainer, *public_config, [&](const fl::RoundRecord& record) {
      std::fprintf(stderr, "public %s\n", fl::FormatRoundProgress(record, o.public_rounds).c_str());
      std::fflush(stderr);
    });
    if (!warm.ok()) return ReportError(warm.status().WithContext("warm start on the public clients"));
    if (o.final_full_eval) {
      auto warm_metrics = (*public_trainer)->EvaluateAll(warm->final_weights);
      if (!warm_metrics.ok()) return ReportError(warm_metrics.status());
      std::printf("warm start (public clients only) on all %llu test queries: NDCG@10 %.4f  MAP@10 %.4f  MRR %.4f\n",
                  static_cast<unsigned long long>(warm_metrics->queries), warm_metrics->ndcg_at_10,
                  warm_metrics->map_at_10, warm_metrics->mrr);
    }
    sim->initial_weights = std::move(warm->final_weights);
    trainer_options.first_client = o.public_clients;
  }
  trainer_options.freeze = o.freeze;  // the private run only: the donors above train everything
  auto trainer = node::RecommenderTrainer::Create(dataset->catalog, split, trainer_options, pool);
  if (!trainer.ok()) return ReportError(trainer.status());
  sim->frozen = (*trainer)->frozen_blocks();
  const std::vector<std::string>& frozen_names = (*trainer)->frozen_names();
  size_t frozen_values = 0;
  for (const fl::ParameterBlock& block : sim->frozen) frozen_values += block.size;
  if (!frozen_names.empty()) {
    MELODAI_LOG_INFO("fl sim: frozen {} ({} of {} values); the federation trains the other {}",
                     fmt::join(frozen_names, ", "), frozen_values, (*trainer)->parameter_count(),
                     (*trainer)->parameter_count() - frozen_values);
  }
  core::Status valid = fl::ValidateSimulationConfig(*sim, **trainer);
  if (!valid.ok()) return ReportError(valid);
  MELODAI_LOG_INFO("fl sim: {}; {} validation queries per evaluation, {} test queries in the final one",
                   (*trainer)->Describe(),
                   std::min(o.eval_queries == 0 ? split.valid.queries.size() : o.eval_queries, split.valid.queries.size()),
                   split.test.queries.size());
  MELODAI_LOG_INFO("fl sim: {} clients per round (fraction {}), {} rounds, {} local epochs, aggregator {}, server {}",
                   fl::ExpectedClientsPerRound(*sim, (*trainer)->client_count()), o.fraction, o.rounds, o.local_epochs,
                   o.aggregator, o.server_opt);

  auto result = fl::RunSimulation(**trainer, *sim, [&](const fl::RoundRecord& record) {
    std::fprintf(stderr, "%s\n", fl::FormatRoundProgress(record, o.rounds).c_str());
    std::fflush(stderr);
  });
  if (!result.ok()) return ReportError(result.status());

  const std::filesystem::path out = o.out;
  std::error_code ignored;
  std::filesystem::create_directories(out, ignored);
  core::Status written = fl::WriteRoundsCsv(out / "rounds.csv", *result);
  if (written.ok()) written = fl::WriteSimulationJson(out / "simulation.json", *result, *sim);
  if (!written.ok()) return ReportError(written);
  std::printf("fl sim: %s, %u rounds -> %s/rounds.csv, %s/simulation.json\n", o.model.c_str(), o.rounds,
              o.out.c_str(), o.out.c_str());
  if (sim->dp.enabled) {
    std::printf("privacy: noise multiplier %.4f, epsilon %.3f at delta %g\n", result->noise_multiplier,
                result->final_epsilon, o.dp_delta);
  }
  if (result->best_round > 0) std::printf("kept the model of round %u (best validation NDCG@10)\n", result->best_round);
  if (o.final_full_eval) {
    auto final_metrics = (*trainer)->EvaluateAll(result->final_weights);
    if (!final_metrics.ok()) return ReportError(final_metrics.status());
    std::printf("final model on all %llu test queries (next-item): NDCG@10 %.4f  MAP@10 %.4f  Recall@20 %.4f  MRR %.4f\n",
                static_cast<unsigned long long>(final_metrics->queries), final_metrics->ndcg_at_10,
                final_metrics->map_at_10, final_metrics->recall_at_20, final_metrics->mrr);
    nlohmann::json summary = {{"model", o.model},
                              {"clients", (*trainer)->client_count()},
                              {"final_test_queries", final_metrics->queries},
                              {"final_ndcg@10", final_metrics->ndcg_at_10},
                              {"final_map@10", final_metrics->map_at_10},
                              {"final_recall@20", final_metrics->recall_at_20},
                              {"final_mrr", final_metrics->mrr},
                              {"best_round", result->best_round},
                              {"noise_multiplier", result->noise_multiplier},
                              {"final_epsilon", result->final_epsilon},
                              {"local_optimizer", o.local_optimizer},
                              {"local_clip", o.local_clip},
                              {"local_negatives", o.local_negatives},
                              {"local_negative_alpha", o.local_negative_alpha},
                              {"local_dropout", o.local_dropout},
                              {"local_loss", o.local_loss},
                              {"frozen", frozen_names},
                              {"server_ema", o.server_ema},
                              {"public_clients", o.public_clients},
                              {"public_rounds", o.public_rounds},
                              {"neural", nlohmann::json::parse(neural->ToJson())}};
    written = WriteJson(out / "summary.json", summary);
    if (!written.ok()) return ReportError(written);
  }
  if (!o.save_model.empty()) {
    auto model = (*trainer)->model().MakeRecommender(result->final_weights);
    if (!model.ok()) return ReportError(model.status());
    auto* federated = dynamic_cast<rec::NeuralRecommender*>(model->get());
    if (federated == nullptr) return ReportError(core::InternalError("the federated model is not a neural recommender"));
    written = federated->Save(o.save_model);
    if (!written.ok()) return ReportError(written);
    std::printf("model: %s (use it with `melodai recommend --model %s`)\n", o.save_model.c_str(), o.save_model.c_str());
  }
  if (result->personalization.clients > 0) {
    const fl::PersonalizationSummary& p = result->personalization;
    std::printf("personalization over %u devices: NDCG@10 %.4f global -> %.4f personalised (mean gain %+.4f)\n",
                p.clients, p.mean_global_ndcg_at_10, p.mean_personalized_ndcg_at_10, p.mean_gain);
  }
  return kExitOk;
}

int RunAccountant(double q, uint64_t steps, double sigma, double delta) {
  if (!(q > 0.0 && q <= 1.0) || steps == 0 || !(sigma > 0.0) || !(delta > 0.0 && delta < 1.0)) {
    return ReportError(core::InvalidArgumentError("accountant needs 0 < q <= 1, steps >= 1, sigma > 0, 0 < delta < 1"));
  }
  const fl::PrivacySpent classic = fl::ComputeEpsilon(q, sigma, steps, delta, fl::RdpConversion::kClassic);
  const fl::PrivacySpent improved = fl::ComputeEpsilon(q, sigma, steps, delta, fl::RdpConversion::kImproved);
  std::printf("sampled Gaussian: q %g, sigma %g, %llu steps, delta %g -> epsilon %.4f (order %u); %.4f with the "
              "improved conversion (order %u)\n",
              q, sigma, static_cast<unsigned long long>(steps), delta, classic.epsilon, classic.order,
              improved.epsilon, improved.order);
  return kExitOk;
}

}  // namespace

void RegisterFlCommand(CLI::App& app, int& exit_code) {
  CLI::App* fl = app.add_subcommand("fl", "Federated learning: simulation of many devices training one model");
  fl->require_subcommand(1);
  auto options = std::make_shared<FlSimOptions>();
  CLI::App* sim = fl->add_subcommand("sim", "Federated training of a neural recommender, one client per playlist");
  sim->add_option("--data", options->data, "Dataset path (MPD slice folder, Last.fm folder, ...)")->required();
  sim->add_option("--format", options->format, "Dataset format (auto, mpd, lastfm, arff, csv)");
  sim->add_option("--model", options->model, "rnn, gru4rec, sasrec or transgru (sizes via --param)");
  sim->add_option("--out", options->out, "Folder for rounds.csv, simulation.json and summary.json");
  sim->add_option("--save-model", options->save_model, "Write the final global model to this file");
  sim->add_option("--clients", options->clients, "Clients: the first N training sequences (0 = all)");
  sim->add_option("--fraction", options->fraction, "Fraction of clients sampled per round");
  sim->add_option("--rounds", options->rounds, "Rounds");
  sim->add_option("--local-epochs", options->local_epochs, "Local epochs per round");
  sim->add_option("--local-lr", options->local_lr, "Local learning rate");
  sim->add_option("--local-batch", options->local_batch, "Local batch (sequences or windows per step)");
  sim->add_option("--local-optimizer", options->local_optimizer, "sgd or adagrad");
  sim->add_option("--local-clip", options->local_clip, "Local gradient-norm clipping per step (0 = off)");
  sim->add_option("--local-negatives", options->local_negatives,
                  "Sampled softmax in local training: targets + N negatives per step (0 = full softmax)");
  sim->add_option("--local-negative-alpha", options->local_negative_alpha,
                  "Negatives drawn ~ item count^alpha, logQ-corrected (0 = uniform)");
  sim->add_option("--local-loss", options->local_loss,
                  "Local loss: cross-entropy, or bpr-max (GRU4Rec's ranking loss over the same candidates, with "
                  "the model's bpreg and elu_param)")
      ->check(CLI::IsMember({"cross-entropy", "bpr-max"}));
  sim->add_option("--local-dropout", options->local_dropout,
                  "Dropout on the states fed to the output layer in local training, seeded masks (0 = off)");
  sim->add_option("--freeze", options->freeze,
                  "Keep the parameters whose names contain these strings fixed in the (private) run, e.g. "
                  "--freeze item (the item rows) after a warm start; DP noise then covers only the trained rest")
      ->delimiter(',');
  sim->add_option("--aggregator", options->aggregator, "fedavg, fedprox, median, trimmed_mean, krum, multi_krum, geometric_median, norm_bounded");
  sim->add_option("--bound-factor", options->bound_factor,
                  "norm_bounded: clip every update to this multiple of the round's median update norm");
  sim->add_option("--min-cosine", options->min_cosine,
                  "norm_bounded: drop updates whose cosine with the sum of the others is below this "
                  "(e.g. 0; below -1 = off)");
  sim->add_option("--reject-factor", options->reject_factor,
                  "norm_bounded: drop (instead of clip) updates longer than this multiple of the round's "
                  "median update norm (0 = off, else >= 1)");
  sim->add_option("--weight-cap", options->weight_cap,
                  "norm_bounded: cap every weight at this multiple of the round's median weight");
  sim->add_option("--trim", options->trim, "Trimmed mean: fraction dropped at each end");
  sim->add_option("--krum-f", options->krum_f, "Krum: Byzantine updates tolerated");
  sim->add_option("--krum-m", options->krum_m, "Multi-Krum: updates averaged (0 = n - f)");
  sim->add_option("--prox-mu", options->prox_mu, "FedProx proximal strength");
  sim->add_option("--server-opt", options->server_opt, "fedavg, fedavgm, fedadam, fedyogi");
  sim->add_option("--server-lr", options->server_lr, "Server learning rate");
  sim->add_option("--server-beta1", options->server_beta1, "Server momentum");
  sim->add_option("--server-beta2", options->server_beta2, "Server second-moment decay");
  sim->add_option("--server-tau", options->server_tau, "Server adaptivity");
  sim->add_option("--server-lr-decay", options->server_lr_decay, "Server learning rate multiplied by this every round");
  sim->add_flag("--keep-best", options->keep_best, "Keep the round with the best validation NDCG@10 as the final model");
  sim->add_option("--server-ema", options->server_ema,
                  "Serve a moving average of the global weights: average = d * average + (1 - d) * weights "
                  "after every round (0 = off)");
  sim->add_flag("--uniform", options->uniform, "Weigh clients equally instead of by examples");
  sim->add_option("--clip", options->clip, "L2 clipping of every update (required with --secagg)");
  sim->add_flag("--secagg", options->secagg, "Secure aggregation (the server sees only the sum)");
  sim->add_flag("--secagg-full-graph", options->secagg_full_graph, "Bonawitz et al. full graph instead of SecAgg+");
  sim->add_option("--secagg-dropout", options->secagg_dropout, "Clients lost inside the secure aggregation protocol");
  sim->add_option("--dp-epsilon", options->dp_epsilon, "User-level DP: target epsilon (finds the noise multiplier)");
  sim->add_option("--dp-delta", options->dp_delta, "User-level DP: delta");
  sim->add_option("--noise-multiplier", options->noise_multiplier, "User-level DP: fixed noise multiplier z");
  sim->add_option("--dp-clip", options->dp_clip, "User-level DP: clipping norm S");
  sim->add_option("--byzantine", options->byzantine, "Attackers among each round's sampled clients");
  sim->add_option("--attack", options->attack, "scale, signflip or noise");
  sim->add_option("--attack-scale", options->attack_scale, "Factor of the scale attack");
  sim->add_option("--quantize", options->quantize, "Upload encoding: 32 (float) or 8 bits");
  sim->add_option("--top-k", options->top_k, "Upload only this fraction of coordinates (error feedback on)");
  sim->add_option("--deadline-ms", options->deadline_ms, "Round deadline on the simulated clock (0 = none)");
  sim->add_option("--dropout", options->dropout_probability, "Chance that a sampled client never answers");
  sim->add_option("--public-clients", options->public_clients,
                  "Warm start: the first N training playlists are public donors (opt-in, not protected); the "
                  "run itself uses the others");
  sim->add_option("--public-rounds", options->public_rounds, "Warm start: non-private rounds on the public donors");
  sim->add_option("--public-fraction", options->public_fraction,
                  "Warm start: fraction of the donors per round (0 = --fraction)");
  sim->add_option("--public-server-opt", options->public_server_opt, "Warm start: server optimizer");
  sim->add_option("--public-server-lr", options->public_server_lr, "Warm start: server learning rate");
  sim->add_option("--eval-every", options->eval_every, "Evaluate every k rounds (and after the last)");
  sim->add_option("--eval-queries", options->eval_queries, "Validation queries per evaluation (0 = all)");
  sim->add_option("--personalize", options->personalize, "Devices that fine-tune the final model (report the gain)");
  sim->add_option("--personalize-epochs", options->personalize_epochs, "Fine-tuning epochs");
  sim->add_option("--parallel-clients", options->parallel_clients, "Update buffers alive at once (memory bound)");
  sim->add_flag("--no-final-eval{false}", options->final_full_eval, "Skip the final evaluation on every test query");
  sim->add_flag("--no-cache", options->no_cache, "Parse the dataset again instead of using the cache");
  sim->add_option("--seed", options->flags.seed, "Seed of the split and of every random choice");
  sim->add_option("--threads", options->flags.threads, "Worker threads (0 = all)");
  sim->add_option("--param", options->flags.params, "Model hyperparameter key=value (repeatable)");
  sim->callback([options, &exit_code] { exit_code = RunFlSim(*options); });

  auto q = std::make_shared<double>(256.0 / 60000.0);
  auto steps = std::make_shared<uint64_t>(14063);
  auto sigma = std::make_shared<double>(1.1);
  auto delta = std::make_shared<double>(1e-5);
  CLI::App* accountant = fl->add_subcommand("accountant", "Epsilon of the subsampled Gaussian mechanism (RDP)");
  accountant->add_option("--q", *q, "Sampling rate");
  accountant->add_option("--steps", *steps, "Compositions (rounds)");
  accountant->add_option("--sigma", *sigma, "Noise multiplier");
  accountant->add_option("--delta", *delta, "Delta");
  accountant->callback([=, &exit_code] { exit_code = RunAccountant(*q, *steps, *sigma, *delta); });
}

}  // namespace melodai::cli
