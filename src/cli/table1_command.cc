// MelodAI — licensed under the Apache License 2.0.
// `melodai bench table1`: the whitepaper's Table 1 under one protocol on real data. Every model
// (CF = ItemKNN, MF = implicit ALS and BPR-MF, vanilla RNN, GRU4Rec, SASRec, TransGRU, with
// popularity as the floor) is trained once per seed on the MPD playlist split and evaluated on
// (A) next-track prediction at every position and (B) playlist continuation; the content
// protocol (CAL500, emotions) stands in for CAL10K; RMSE appears only for rating models on
// Last.fm play counts. Writes table1.md and table1.json with seeds, hyperparameters, timings.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/thread_pool.h"
#include "data/splits.h"
#include "rec/content.h"
#include "rec/evaluator.h"
#include "rec/experiment.h"
#include "rec/model_factory.h"
#include "rec/neural.h"

namespace melodai::cli {
namespace {

struct Table1Options {
  std::string data_root = "../shared/data";
  std::string out = "table1";
  bool quick = false;
  uint32_t seeds = 1;
  uint64_t seed = 42;
  size_t threads = 0;
  std::vector<std::string> models;
};

struct ModelRow {
  std::string model;
  std::string role;  // the whitepaper's name for it
  std::string parameters;
  uint64_t seed = 0;
  double fit_seconds = 0;
  double events_per_second = 0;  // neural models only
  uint32_t best_epoch = 0;
  std::map<std::string, double> a, b;  // protocol A and B metrics
  double a_seconds = 0, b_seconds = 0;
};

std::string Role(const std::string& model) {
  if (model == "pop") return "popularity (floor)";
  if (model == "itemknn") return "CF (item kNN)";
  if (model == "als") return "MF (implicit ALS)";
  if (model == "bpr") return "MF (BPR)";
  if (model == "rnn") return "vanilla RNN";
  if (model == "gru4rec") return "GRU (GRU4Rec)";
  if (model == "sasrec") return "SASRec";
  if (model == "transgru") return "TransGRU (whitepaper)";
  return model;
}

// Hyperparameters of the quick mode: the same models, smaller and shorter.
std::map<std::string, std::string> QuickOverrides(const std::string& model) {
  if (model == "rnn" || model == "gru4rec") return {{"n_epochs", "1"}, {"layers", "128"}, {"n_sample", "512"}, {"valid_queries", "0"}};
  if (model == "sasrec" || model == "transgru") return {{"n_epochs", "1"}, {"max_length", "20"}, {"valid_queries", "0"}};
  if (model == "als") return {{"iterations", "5"}};
  if (model == "bpr") return {{"epochs", "5"}};
  return {};
}

std::string MachineLine(size_t threads) {
  std::string cpu = "unknown CPU";
  std::ifstream info("/proc/cpuinfo");
  for (std::string line; std::getline(info, line);) {
    if (line.rfind("model name", 0) == 0) {
      cpu = line.substr(line.find(':') + 2);
      break;
    }
  }
  return fmt::format("{}, {} hardware threads, {} worker threads", cpu, std::thread::hardware_concurrency(), threads);
}

bool SameInteractions(const data::Interactions& a, const data::Interactions& b) {
  if (a.size() != b.size() || a.event_count() != b.event_count()) return false;
  const auto x = a.all_items(), y = b.all_items();
  return std::equal(x.begin(), x.end(), y.begin(), y.end());
}

double Metric(const std::map<std::string, double>& metrics, const std::string& name) {
  auto found = metrics.find(name);
  return found == metrics.end() ? std::nan("") : found->second;
}

std::string Cell(double value) { return std::isnan(value) ? "–" : fmt::format("{:.4f}", value); }

core::Status RunMpd(const Table1Options& options, core::ThreadPool& pool, std::vector<ModelRow>& rows,
                    nlohmann::json& json) {
  const std::filesystem::path path = std::filesystem::path(options.data_root) / "mpd";
  MELODAI_ASSIGN_OR_RETURN(data::Dataset dataset, LoadWithLog(path, "auto", true, pool));
  EvalFlags flags;
  flags.seed = options.seed;
  flags.protocol = "next-item";
  MELODAI_ASSIGN_OR_RETURN(rec::ExperimentOptions next_item, BuildExperimentOptions(flags, {"pop"}));
  flags.protocol = "continuation";
  MELODAI_ASSIGN_OR_RETURN(rec::ExperimentOptions continuation, BuildExperimentOptions(flags, {"pop"}));
  const size_t max_queries = options.quick ? 2000 : 0;
  for (uint32_t s = 0; s < options.seeds; ++s) {
    const uint64_t seed = options.seed + s;
    next_item.protocol.seed = continuation.protocol.seed = seed;
    MELODAI_ASSIGN_OR_RETURN(data::ProtocolSplit split_a, data::MakeProtocolSplit(dataset.sequences, next_item.protocol));
    MELODAI_ASSIGN_OR_RETURN(data::ProtocolSplit split_b,
                             data::MakeProtocolSplit(dataset.sequences, continuation.protocol));
    const bool shared_train = SameInteractions(split_a.train, split_b.train);
    MELODAI_LOG_INFO("table1: seed {}: train {} playlists / {} events; A {} queries, B {} queries{}", seed,
                     split_a.train.size(), split_a.train.event_count(), split_a.test.queries.size(),
                     split_b.test.queries.size(), shared_train ? " (one training set for both)" : "");
    json["mpd"]["splits"].push_back({{"seed", seed},
                                     {"train_playlists", split_a.train.size()},
                                     {"train_events", split_a.train.event_count()},
                                     {"train_items", split_a.train_items},
                                     {"a_queries", split_a.test.queries.size()},
                                     {"b_queries", split_b.test.queries.size()}});
    for (const std::string& name : options.models) {
      rec::ModelConfig config;
      config.seed = seed;
      config.threads = pool.thread_count();
      if (options.quick) config.overrides = QuickOverrides(name);
      ModelRow row;
      row.model = name;
      row.role = Role(name);
      row.seed = seed;
      rec::EvalOptions eval_a;
      eval_a.max_queries = max_queries;
      eval_a.exclude_history = false;
      rec::EvalOptions eval_b = eval_a;
      eval_b.exclude_history = true;
      auto fit = [&](const data::ProtocolSplit& split, bool exclude) -> core::Result<std::unique_ptr<rec::Recommender>> {
        MELODAI_ASSIGN_OR_RETURN(std::unique_ptr<rec::Recommender> model, rec::MakeRecommender(name, config));
        model->SetValidation(&split.valid, exclude);
        auto* neural = dynamic_cast<rec::NeuralRecommender*>(model.get());
        int64_t last = 0;
        if (neural != nullptr) {
          neural->SetProgress([&last, name](const rec::TrainingProgress& p) {
            const int64_t now = core::SystemClock::Instance().NowNanos();
            if (now - last < 30'000'000'000LL && p.events_done < p.events_total) return;
            last = now;
            MELODAI_LOG_INFO("table1: {} epoch {}/{} {:.0f}% loss {:.4f} {:.0f} events/s", name, p.epoch, p.n_epochs,
                             100.0 * static_cast<double>(p.events_done) / static_cast<double>(std::max<uint64_t>(p.events_total, 1)),
                             p.loss, p.events_per_second);
          });
        }
        MELODAI_LOG_INFO("table1: fitting {} (seed {})", name, seed);
        core::Stopwatch watch;
        MELODAI_RETURN_IF_ERROR(model->Fit(dataset.catalog, split.train, pool).WithContext(name));
        row.fit_seconds += watch.ElapsedSeconds();
        row.parameters = model->DescribeParameters();
        if (neural != nullptr) {
          row.events_per_second = neural->training_report().events_per_second;
          row.best_epoch = neural->training_report().best_epoch;
        }
        return model;
      };
      MELODAI_ASSIGN_OR_RETURN(std::unique_ptr<rec::Recommender> model, fit(split_a, false));
      MELODAI_ASSIGN_OR_RETURN(rec::EvalResult a,
                               rec::Evaluate(*model, dataset.catalog, split_a.train, split_a.test, eval_a, pool));
      if (!shared_train) {
        MELODAI_ASSIGN_OR_RETURN(model, fit(split_b, true));
      }
      MELODAI_ASSIGN_OR_RETURN(rec::EvalResult b,
                               rec::Evaluate(*model, dataset.catalog, split_b.train, split_b.test, eval_b, pool));
      row.a = a.metrics;
      row.b = b.metrics;
      row.a_seconds = a.seconds;
      row.b_seconds = b.seconds;
      MELODAI_LOG_INFO("table1: {} seed {}: A NDCG@10 {:.4f}, B NDCG@10 {:.4f}, fit {:.1f} s", name, seed,
                       Metric(row.a, "ndcg@10"), Metric(row.b, "ndcg@10"), row.fit_seconds);
      rows.push_back(row);
      json["mpd"]["runs"].push_back({{"model", name},
                                     {"role", row.role},
                                     {"seed", seed},
                                     {"parameters", nlohmann::json::parse(row.parameters, nullptr, false)},
                                     {"fit_seconds", row.fit_seconds},
                                     {"train_events_per_second", row.events_per_second},
                                     {"best_epoch", row.best_epoch},
                                     {"a", row.a},
                                     {"b", row.b},
                                     {"a_eval_seconds", row.a_seconds},
                                     {"b_eval_seconds", row.b_seconds}});
    }
  }
  return core::Status::Ok();
}

struct Summary {
  double mean = 0, spread = 0;  // mean and (max - min) / 2 over seeds
};

Summary Summarize(const std::vector<ModelRow>& rows, const std::string& model, bool a, const std::string& metric) {
  std::vector<double> values;
  for (const ModelRow& row : rows) {
    if (row.model == model) values.push_back(Metric(a ? row.a : row.b, metric));
  }
  Summary summary;
  if (values.empty()) return {std::nan(""), 0};
  for (double v : values) summary.mean += v;
  summary.mean /= static_cast<double>(values.size());
  const auto [lo, hi] = std::minmax_element(values.begin(), values.end());
  summary.spread = (*hi - *lo) / 2;
  return summary;
}

std::string SummaryCell(const Summary& s, uint32_t seeds) {
  if (std::isnan(s.mean)) return "–";
  return seeds > 1 ? fmt::format("{:.4f} ± {:.4f}", s.mean, s.spread) : fmt::format("{:.4f}", s.mean);
}

int RunTable1(const Table1Options& options) {
  if (options.seeds == 0 || options.seeds > 10) return ReportError(core::InvalidArgumentError("--seeds must lie in [1, 10]"));
  for (const std::string& name : options.models) {
    if (!rec::MakeRecommender(name, rec::ModelConfig{}).ok()) {
      return ReportError(core::InvalidArgumentError("--model " + name + " is not a model name"));
    }
  }
  core::ThreadPool pool(ResolveThreads(options.threads));
  core::Stopwatch total;
  nlohmann::json json;
  json["command"] = fmt::format("melodai bench table1 --out {}{} --seeds {} --seed {}", options.out,
                                options.quick ? " --quick" : "", options.seeds, options.seed);
  json["machine"] = MachineLine(pool.thread_count());
  json["quick"] = options.quick;
  std::vector<ModelRow> rows;
  core::Status mpd = RunMpd(options, pool, rows, json);
  if (!mpd.ok()) return ReportError(mpd);

  // Content protocol (CAL10K stand-in) and Last.fm ratings, with the experiment runners.
  std::string content_md;
  for (const char* name : {"cal500", "emotions"}) {
    auto dataset = LoadWithLog(std::filesystem::path(options.data_root) / name, "auto", true, pool);
    if (!dataset.ok()) return ReportError(dataset.status());
    rec::ContentOptions content;
    content.seed = options.seed;
    content.log = [](const std::string& line) { MELODAI_LOG_INFO("table1: {}", line); };
    if (options.quick) content.tower.epochs = std::min<uint32_t>(content.tower.epochs, 20);
    auto report = rec::RunContentExperiment(*dataset, content, rec::ContentModelNames(), pool);
    if (!report.ok()) return ReportError(report.status());
    json["content"][name] = ExperimentToJson(*report);
    for (const rec::ModelReport& model : report->models) {
      content_md += fmt::format("| {} | {} | {} | {} | {} | {:.1f} |\n", name, model.model,
                                Cell(Metric(model.result.metrics, "ndcg@10")), Cell(Metric(model.result.metrics, "map@10")),
                                Cell(Metric(model.result.metrics, "mrr")), model.fit_seconds);
    }
  }
  std::string rating_md;
  {
    auto dataset = LoadWithLog(std::filesystem::path(options.data_root) / "lastfm-hetrec-2k", "auto", true, pool);
    if (!dataset.ok()) return ReportError(dataset.status());
    EvalFlags flags;
    flags.seed = options.seed;
    flags.hide = "random";
    auto experiment = BuildExperimentOptions(flags, {"pop", "itemknn", "als", "bpr"});
    if (!experiment.ok()) return ReportError(experiment.status());
    experiment->log = [](const std::string& line) { MELODAI_LOG_INFO("table1: {}", line); };
    auto report = rec::RunExperiment(*dataset, *experiment, pool);
    if (!report.ok()) return ReportError(report.status());
    json["lastfm"] = ExperimentToJson(*report);
    for (const rec::ModelReport& model : report->models) {
      const double rmse = Metric(model.result.metrics, "rmse");
      rating_md += fmt::format("| {} | {} | {} | {} |\n", model.model, Cell(Metric(model.result.metrics, "ndcg@10")),
                               Cell(Metric(model.result.metrics, "r_precision")),
                               std::isnan(rmse) ? "n/a (no rating prediction)" : fmt::format("{:.4f}", rmse));
    }
  }
  json["total_seconds"] = total.ElapsedSeconds();

  std::string md = fmt::format("# Table 1 (whitepaper) reproduced on real data\n\n`{}`  \n{}  \ntotal {:.1f} s{}\n\n",
                               json["command"].get<std::string>(), json["machine"].get<std::string>(),
                               total.ElapsedSeconds(), options.quick ? " (quick mode: smaller, shorter models)" : "");
  md += "## MPD: (A) next track at every position, (B) playlist continuation\n\n";
  md += "Full ranking over the catalogue; history kept in A, excluded in B";
  md += options.seeds > 1 ? fmt::format("; mean ± half-range over {} seeds.\n\n", options.seeds) : ".\n\n";
  md += "| model | role | A NDCG@10 | A MAP@10 | A Recall@20 | A MRR@20 | B NDCG@10 | B MAP@10 | B R-prec | B MRR | fit s | train events/s |\n";
  md += "|---|---|---|---|---|---|---|---|---|---|---|---|\n";
  for (const std::string& name : options.models) {
    double fit = 0, rate = 0;
    int count = 0;
    for (const ModelRow& row : rows) {
      if (row.model != name) continue;
      fit += row.fit_seconds;
      rate += row.events_per_second;
      ++count;
    }
    md += fmt::format("| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1f} | {} |\n", name, Role(name),
                      SummaryCell(Summarize(rows, name, true, "ndcg@10"), options.seeds),
                      SummaryCell(Summarize(rows, name, true, "map@10"), options.seeds),
                      SummaryCell(Summarize(rows, name, true, "recall@20"), options.seeds),
                      SummaryCell(Summarize(rows, name, true, "mrr@20"), options.seeds),
                      SummaryCell(Summarize(rows, name, false, "ndcg@10"), options.seeds),
                      SummaryCell(Summarize(rows, name, false, "map@10"), options.seeds),
                      SummaryCell(Summarize(rows, name, false, "r_precision"), options.seeds),
                      SummaryCell(Summarize(rows, name, false, "mrr"), options.seeds), fit / std::max(count, 1),
                      rate > 0 ? fmt::format("{:.0f}", rate / count) : "–");
  }
  md += "\n## Content protocol (CAL10K stand-in): cold-start songs ranked per tag\n\n";
  md += "| data | model | NDCG@10 | MAP@10 | MRR | fit s |\n|---|---|---|---|---|---|\n" + content_md;
  md += "\n## Last.fm HetRec 2k: RMSE on log(1 + plays), only for models that predict ratings\n\n";
  md += "| model | NDCG@10 | R-prec | RMSE |\n|---|---|---|---|\n" + rating_md;
  md += "\nMPD has no ratings: no RMSE is reported for it.\n";

  std::error_code error;
  std::filesystem::create_directories(options.out, error);
  const std::filesystem::path md_path = std::filesystem::path(options.out) / "table1.md";
  std::ofstream(md_path) << md;
  core::Status written = WriteJson(std::filesystem::path(options.out) / "table1.json", json);
  if (!written.ok()) return ReportError(written);
  std::printf("%s", md.c_str());
  MELODAI_LOG_INFO("wrote {} and table1.json in {:.1f} s", md_path.string(), total.ElapsedSeconds());
  return kExitOk;
}

}  // namespace

void RegisterTable1Command(CLI::App& app, int& exit_code) {
  CLI::App* bench = BenchCommand(app);
  auto options = std::make_shared<Table1Options>();
  options->models = {"pop", "itemknn", "als", "bpr", "rnn", "gru4rec", "sasrec", "transgru"};
  CLI::App* table1 = bench->add_subcommand("table1", "The whitepaper's Table 1 on real data (MPD, CAL500, emotions, Last.fm)");
  table1->add_option("--data-root", options->data_root, "folder holding mpd/, cal500/, emotions/, lastfm-hetrec-2k/")
      ->capture_default_str();
  table1->add_option("--out", options->out, "output folder for table1.md and table1.json")->capture_default_str();
  table1->add_flag("--quick", options->quick, "smaller, shorter models and 2,000 queries per protocol (a few minutes)");
  table1->add_option("--seeds", options->seeds, "seeds per model (mean ± half-range)")->capture_default_str();
  table1->add_option("--seed", options->seed, "first seed")->capture_default_str();
  table1->add_option("--model", options->models, "models (default: all of Table 1)");
  table1->add_option("--threads", options->threads, "worker threads (0 = all cores)");
  table1->callback([options, &exit_code] { exit_code = RunTable1(*options); });
}

}  // namespace melodai::cli
