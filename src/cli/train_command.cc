// MelodAI — licensed under the Apache License 2.0.
// `melodai train`: trains a neural sequence recommender on a protocol split with a progress
// line (loss, events/s, ETA), keeps the best epoch on the validation split, writes the model
// file and reports test metrics. `melodai recommend`: top-k tracks for a listening history
// from a trained model file (or a classical model fitted on the spot), with explanations.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/logging.h"
#include "core/thread_pool.h"
#include "rec/experiment.h"
#include "rec/explain.h"
#include "rec/neural.h"

namespace melodai::cli {
namespace {

struct TrainCommandOptions {
  std::string data;
  std::string format = "auto";
  std::string model = "gru4rec";
  std::string out;
  std::string json_out;
  std::string ps;  // GRU4Rec-style "key=value,key=value"
  bool no_cache = false;
  EvalFlags flags;
};

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

}  // namespace

core::Status TranslateGru4RecParameters(const std::string& ps, std::vector<std::string>& params) {
  size_t begin = 0;
  while (begin < ps.size()) {
    size_t end = ps.find(',', begin);
    if (end == std::string::npos) end = ps.size();
    const std::string pair = ps.substr(begin, end - begin);
    begin = end + 1;
    if (pair.empty()) continue;
    const size_t equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) {
      return core::InvalidArgumentError("--ps wants key=value pairs separated by commas, got '" + pair + "'");
    }
    std::string key = pair.substr(0, equals);
    std::string value = pair.substr(equals + 1);
    if (key == "final_act") {
      // The official code's output activation: elu-<alpha> or linear.
      const std::string act = Lower(value);
      if (act == "linear") {
        key = "elu_param";
        value = "0";
      } else if (act.rfind("elu-", 0) == 0) {
        key = "elu_param";
        value = act.substr(4);
      } else if (act == "elu") {
        key = "elu_param";
        value = "1";
      } else {
        return core::InvalidArgumentError("--ps final_act=" + value + ": only linear and elu-<alpha> are supported");
      }
    } else if (key == "adapt") {
      key = "optimizer";
      value = Lower(value);
    } else if (key == "layers" && value.find_first_of("/;") != std::string::npos) {
      return core::InvalidArgumentError("--ps layers=" + value + ": one recurrent layer only");
    } else if (key == "dropout_p_embd") {
      key = "dropout_p_embed";
    } else if (value == "True" || value == "False") {
      value = Lower(value);
    }
    params.push_back(key + "=" + value);
  }
  return core::Status::Ok();
}

namespace {

std::string FormatDuration(double seconds) {
  if (seconds < 0 || !std::isfinite(seconds)) return "?";
  const auto total = static_cast<long long>(seconds + 0.5);
  if (total >= 3600) return fmt::format("{}h{:02}m", total / 3600, (total % 3600) / 60);
  if (total >= 60) return fmt::format("{}m{:02}s", total / 60, total % 60);
  return fmt::format("{}s", total);
}

// The training progress line: epoch, share of the epoch, running loss, events/s and the ETA of
// the epoch and of the whole run (validation time not included).
class TrainingProgressLine {
 public:
  TrainingProgressLine() : terminal_(isatty(fileno(stderr)) != 0) {}

  void Update(const rec::TrainingProgress& p) {
    const int64_t now = core::SystemClock::Instance().NowNanos();
    const bool final = p.events_done >= p.events_total;
    if (!final && now - last_print_nanos_ < (terminal_ ? 200'000'000 : 10'000'000'000)) return;
    last_print_nanos_ = now;
    const double rate = p.events_per_second;
    const double epoch_left = rate > 0 ? static_cast<double>(p.events_total - std::min(p.events_done, p.events_total)) / rate : -1;
    const double run_left =
        rate > 0 ? epoch_left + static_cast<double>(p.n_epochs - p.epoch) * static_cast<double>(p.events_total) / rate : -1;
    const int percent = p.events_total ? static_cast<int>(100 * p.events_done / p.events_total) : 100;
    std::fprintf(stderr, "%sepoch %u/%u %3d%%  %llu/%llu events  loss %.4f  %.0f events/s  ETA epoch %s, run %s%s",
                 terminal_ ? "\r" : "", p.epoch, p.n_epochs, percent,
                 static_cast<unsigned long long>(p.events_done), static_cast<unsigned long long>(p.events_total),
                 p.loss, rate, FormatDuration(epoch_left).c_str(), FormatDuration(run_left).c_str(),
                 terminal_ ? "   " : "\n");
    if (terminal_ && final) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  }

 private:
  bool terminal_;
  int64_t last_print_nanos_ = 0;
};

nlohmann::json TrainingToJson(const rec::TrainingReport& report) {
  nlohmann::json epochs = nlohmann::json::array();
  for (const rec::EpochRecord& e : report.epochs) {
    epochs.push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"seconds", e.seconds},
                      {"events_per_second", e.events_per_second}, {"valid_ndcg@10", e.valid_ndcg}});
  }
  return {{"epochs", epochs},
          {"best_epoch", report.best_epoch},
          {"best_valid_ndcg@10", report.best_valid_ndcg},
          {"train_seconds", report.train_seconds},
          {"events_per_second", report.events_per_second},
          {"train_events", report.train_events},
          {"parameters", report.parameter_count}};
}

int RunTrain(const TrainCommandOptions& command) {
  EvalFlags flags = command.flags;
  core::Status translated = TranslateGru4RecParameters(command.ps, flags.params);
  if (!translated.ok()) return ReportError(translated);
  auto options = BuildExperimentOptions(flags, {command.model});
  if (!options.ok()) return ReportError(options.status());
  if (!rec::MakeNeuralOptions(command.model, options->config).ok()) {
    return ReportError(core::InvalidArgumentError(
        fmt::format("--model {}: train builds the neural models (rnn, gru4rec, sasrec, transgru); use `melodai "
                    "eval` for the classical ones",
                    command.model)));
  }
  if (command.out.empty()) return ReportError(core::InvalidArgumentError("--out: the model file to write is required"));
  core::ThreadPool pool(ResolveThreads(flags.threads));
  options->config.threads = pool.thread_count();
  MELODAI_LOG_INFO("seed {} threads {}", flags.seed, pool.thread_count());
  auto dataset = LoadWithLog(command.data, command.format, !command.no_cache, pool);
  if (!dataset.ok()) return ReportError(dataset.status());

  options->log = [](const std::string& line) { MELODAI_LOG_INFO("{}", line); };
  auto line = std::make_shared<TrainingProgressLine>();
  const std::filesystem::path out = command.out;
  auto training = std::make_shared<rec::TrainingReport>();
  options->before_fit = [line, out](rec::Recommender& model) {
    auto* neural = dynamic_cast<rec::NeuralRecommender*>(&model);
    if (neural == nullptr) return;
    neural->SetProgress([line](const rec::TrainingProgress& p) { line->Update(p); });
    neural->SetCheckpointPath(out);  // the best epoch so far, after every epoch
  };
  options->after_fit = [out, training](rec::Recommender& model) -> core::Status {
    auto* neural = dynamic_cast<rec::NeuralRecommender*>(&model);
    if (neural == nullptr) return core::InternalError("not a neural model");
    *training = neural->training_report();
    MELODAI_RETURN_IF_ERROR(neural->Save(out));
    MELODAI_LOG_INFO("wrote {} (best epoch {}, validation NDCG@10 {:.4f})", out.string(), training->best_epoch,
                     training->best_valid_ndcg);
    return core::Status::Ok();
  };
  options->eval.progress = EvaluationProgress();
  auto report = rec::RunExperiment(*dataset, *options, pool);
  if (!report.ok()) return ReportError(report.status());
  std::printf("model: %s -> %s\n", command.model.c_str(), command.out.c_str());
  std::printf("training: %zu epochs, best %u (valid NDCG@10 %.4f), %.0f events/s, %.1f s\n",
              training->epochs.size(), training->best_epoch, training->best_valid_ndcg,
              training->events_per_second, training->train_seconds);
  std::printf("protocol: %s, seed %llu, %s %zu queries, history %s\n", report->protocol.c_str(),
              static_cast<unsigned long long>(report->seed), flags.on_valid ? "valid" : "test", report->eval_queries,
              report->history_excluded ? "excluded" : "kept");
  std::printf("%s", rec::FormatExperimentTable(*report).c_str());
  if (!command.json_out.empty()) {
    nlohmann::json json = ExperimentToJson(*report);
    json["command"] = "train";
    json["training"] = TrainingToJson(*training);
    core::Status written = WriteJson(command.json_out, json);
    if (!written.ok()) return ReportError(written);
  }
  return kExitOk;
}

// ---------------------------------------------------------------------------------------------

struct RecommendCommandOptions {
  std::string data;
  std::string format = "auto";
  std::string model;
  std::string history;
  size_t k = 10;
  bool explain = false;
  bool include_history = false;
  bool no_cache = false;
  size_t threads = 0;
  uint64_t seed = 42;
  std::vector<std::string> params;
  std::string json_out;
};

core::Result<std::vector<data::ItemId>> ParseHistory(const std::string& text, const data::Catalog& catalog) {
  std::vector<data::ItemId> history;
  size_t begin = 0, position = 0;
  while (begin <= text.size()) {
    size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    std::string uri = text.substr(begin, end - begin);
    begin = end + 1;
    uri.erase(0, uri.find_first_not_of(" \t"));
    uri.erase(uri.find_last_not_of(" \t") + 1);
    ++position;
    if (uri.empty()) continue;
    const std::optional<data::ItemId> item = catalog.Find(uri);
    if (!item) {
      return core::NotFoundError(fmt::format("--history: unknown track URI '{}' (entry {}); the catalogue has {} "
                                             "tracks",
                                             uri, position, catalog.size()));
    }
    history.push_back(*item);
  }
  if (history.empty()) return core::InvalidArgumentError("--history: no track URI given");
  return history;
}

std::string Describe(const data::Catalog& catalog, data::ItemId item) {
  const std::string_view name = catalog.name(item);
  const std::string_view artist = catalog.artist_name(catalog.artist(item));
  return fmt::format("\"{}\" by {}", name.empty() ? catalog.uri(item) : name, artist.empty() ? "?" : artist);
}

int RunRecommend(const RecommendCommandOptions& command) {
  if (command.k == 0 || command.k > 1000) return ReportError(core::InvalidArgumentError("-k must lie in [1, 1000]"));
  core::ThreadPool pool(ResolveThreads(command.threads));
  const bool is_file = std::filesystem::exists(command.model);
  rec::ModelConfig config;
  config.seed = command.seed;
  config.threads = pool.thread_count();
  for (const std::string& param : command.params) {
    auto key_value = ParseParameter(param);
    if (!key_value.ok()) return ReportError(key_value.status());
    config.overrides[key_value->first] = key_value->second;
  }
  if (!is_file) {
    // Not a file: a model name, fitted on the whole dataset below. Check it before loading.
    auto probe = rec::MakeRecommender(command.model, config);
    if (!probe.ok()) {
      return ReportError(core::InvalidArgumentError(fmt::format(
          "--model {}: neither a model file nor a model name ({})", command.model, probe.status().message())));
    }
  }
  auto dataset = LoadWithLog(command.data, command.format, !command.no_cache, pool);
  if (!dataset.ok()) return ReportError(dataset.status());
  const data::Catalog& catalog = dataset->catalog;
  auto history = ParseHistory(command.history, catalog);
  if (!history.ok()) return ReportError(history.status());

  std::unique_ptr<rec::Recommender> model;
  if (is_file) {
    auto loaded = rec::NeuralRecommender::Load(command.model, catalog);
    if (!loaded.ok()) return ReportError(loaded.status());
    model = std::move(*loaded);
  } else {
    auto made = rec::MakeRecommender(command.model, config);
    if (!made.ok()) return ReportError(made.status());
    model = std::move(*made);
    MELODAI_LOG_INFO("fitting {} on the whole dataset ({} sequences)", command.model, dataset->sequences.size());
    core::Status fitted = model->Fit(catalog, dataset->sequences, pool);
    if (!fitted.ok()) return ReportError(fitted);
  }

  rec::ExplainOptions explain_options;
  explain_options.k = command.k;
  explain_options.exclude_history = !command.include_history;
  explain_options.explain = command.explain;
  auto result = rec::RecommendWithExplanations(*model, catalog, *history, explain_options);
  if (!result.ok()) return ReportError(result.status());

  nlohmann::json json_items = nlohmann::json::array();
  for (size_t rank = 0; rank < result->items.size(); ++rank) {
    const rec::ExplainedItem& item = result->items[rank];
    std::printf("%2zu. %-40s %s  score %.4f\n", rank + 1, std::string(catalog.uri(item.item)).c_str(),
                Describe(catalog, item.item).c_str(), item.score);
    nlohmann::json because = nlohmann::json::array();
    if (command.explain) {
      std::string text;
      for (const rec::Contribution& c : item.because) {
        text += fmt::format("{}{} ({:+.3f})", text.empty() ? "" : "; ", Describe(catalog, (*history)[c.position]),
                            c.contribution);
        because.push_back({{"uri", catalog.uri((*history)[c.position])}, {"position", c.position},
                           {"contribution", c.contribution}});
      }
      std::printf("      because: %s\n", text.empty() ? "(no single history track raises it: popularity/bias)" : text.c_str());
    }
    json_items.push_back({{"rank", rank + 1}, {"uri", catalog.uri(item.item)}, {"score", item.score},
                          {"because", because}});
  }
  if (!command.json_out.empty()) {
    nlohmann::json json = {{"command", "recommend"}, {"model", command.model}, {"k", command.k}, {"items", json_items}};
    core::Status written = WriteJson(command.json_out, json);
    if (!written.ok()) return ReportError(written);
  }
  return kExitOk;
}

}  // namespace

void RegisterTrainCommand(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<TrainCommandOptions>();
  options->flags.protocol = "next-item";
  CLI::App* train = app.add_subcommand("train", "Train a neural sequence recommender (rnn | gru4rec | sasrec | transgru)");
  train->add_option("--data", options->data, "dataset folder or file")->required();
  train->add_option("--format", options->format, "auto | mpd | lastfm | csv | arff")->capture_default_str();
  train->add_option("--model", options->model, "rnn | gru4rec | sasrec | transgru")->capture_default_str();
  train->add_option("--out", options->out, "model file to write (also the per-epoch checkpoint of the best epoch)")
      ->required();
  train->add_option("--json", options->json_out, "write the training and test report as JSON");
  train->add_option("--ps", options->ps,
                    "hyperparameters in the official GRU4Rec form, e.g. loss=bpr-max,final_act=elu-1,layers=512,"
                    "batch_size=128,n_epochs=10,n_sample=2048,sample_alpha=0.2,bpreg=1.85");
  train->add_flag("--no-cache", options->no_cache, "do not read or write the dataset cache");
  AddEvalFlags(*train, options->flags);
  train->callback([options, &exit_code] { exit_code = RunTrain(*options); });

  auto recommend_options = std::make_shared<RecommendCommandOptions>();
  CLI::App* recommend = app.add_subcommand("recommend", "Top-k tracks for a listening history");
  recommend->add_option("--data", recommend_options->data, "the dataset the model was trained on (its catalogue)")
      ->required();
  recommend->add_option("--format", recommend_options->format, "auto | mpd | lastfm | csv | arff")->capture_default_str();
  recommend->add_option("--model", recommend_options->model,
                        "a model file written by `melodai train`, or a classical model name (pop | itemknn | "
                        "userknn | als | bpr) fitted on the whole dataset")
      ->required();
  recommend->add_option("--history", recommend_options->history, "track URIs in listening order, comma-separated")
      ->required();
  recommend->add_option("-k,--k", recommend_options->k, "how many tracks")->capture_default_str();
  recommend->add_flag("--explain", recommend_options->explain,
                      "name the history tracks that contributed most to each recommendation");
  recommend->add_flag("--include-history", recommend_options->include_history, "allow tracks of the history");
  recommend->add_option("--param", recommend_options->params, "classical model hyperparameter key=value");
  recommend->add_option("--seed", recommend_options->seed, "seed of a classical model fitted here")->capture_default_str();
  recommend->add_option("--threads", recommend_options->threads, "worker threads (0 = all cores)");
  recommend->add_option("--json", recommend_options->json_out, "also write the list as JSON");
  recommend->add_flag("--no-cache", recommend_options->no_cache, "do not read or write the dataset cache");
  recommend->callback([recommend_options, &exit_code] { exit_code = RunRecommend(*recommend_options); });
}

}  // namespace melodai::cli
