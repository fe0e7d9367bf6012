// MelodAI — licensed under the Apache License 2.0.
// Serving latency of the neural recommenders: top-10 over the whole MPD catalogue (130,884
// tracks) for one listening history, on one core (LibTorch intra-op threads 1, OpenBLAS 1).
// Each model covers every catalogue track (the worst case: a trained model scores only the
// tracks it saw), with default sizes (GRU4Rec 512 units; SASRec/TransGRU dim 64, 2 blocks,
// window 50). Weights are the untrained initialisation: latency does not depend on their
// values. Histories are real playlist prefixes of 5..50 tracks, a different one per call, so
// the session models' prefix cache never helps. Reports p50 and p99 per call as counters.
// Two paths per model (second argument): 0 = exact, Score over the catalogue + SelectTopK (what
// evaluation uses); 1 = serving, NeuralModel::TopK (int8 bounds + certified exact re-scoring,
// recurrent cells without LibTorch). The serving runs also report the time per phase and, on
// every 20th history (checked after the timed loop), the recall of the exact top-10 and whether the
// serving top-k with LibTorch's state equals the exact one bit for bit.
#include "rec/internal/neural_model.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <numeric>

#include "core/clock.h"
#include "data/loader.h"
#include "rec/top_k.h"

extern "C" void openblas_set_num_threads(int);

namespace melodai {
namespace {

constexpr size_t kTop = 10;
constexpr size_t kCheckEvery = 20;  // serving calls between two accuracy checks

const data::Dataset& Mpd() {
  static const data::Dataset* dataset = [] {
    const char* overridden = std::getenv("MELODAI_SHARED_DATA");
    const std::filesystem::path root = overridden != nullptr ? overridden : MELODAI_SHARED_DATA_DIR;
    auto loaded = data::LoadDataset(root / "mpd", data::LoadOptions{});
    if (!loaded.ok()) {
      std::fprintf(stderr, "%s\n", loaded.status().ToString().c_str());
      std::exit(1);
    }
    return new data::Dataset(std::move(*loaded));
  }();
  return *dataset;
}

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * static_cast<double>(values.size())))];
}

// The exact top-10 (Score + SelectTopK), as evaluation computes it.
size_t ExactTopTen(const rec::internal::NeuralModel& model, const rec::Query& query,
                   std::span<const data::ItemId> excluded, std::vector<float>& scores,
                   std::span<rec::ScoredItem> top) {
  model.Score(query, scores);
  return rec::SelectTopKExcludingSorted(scores, excluded, kTop, top);
}

void BM_TopTenLatency(benchmark::State& state) {
  at::set_num_threads(1);
  openblas_set_num_threads(1);
  const data::Dataset& dataset = Mpd();
  const auto architecture = static_cast<rec::NeuralArchitecture>(state.range(0));
  const bool serving = state.range(1) == 1;
  rec::internal::NeuralModel model(rec::NeuralOptions::Defaults(architecture));
  std::vector<data::ItemId> all(dataset.catalog.size());
  std::iota(all.begin(), all.end(), data::ItemId{0});
  model.BuildNetworks(dataset.catalog, std::move(all));
  model.network().eval();
  model.RefreshScoringCache();
  model.fitted_ = true;
  if (serving) (void)model.PrepareServing();

  const core::SystemClock& clock = core::SystemClock::Instance();
  std::vector<float> scores(dataset.catalog.size());
  std::vector<rec::ScoredItem> top(kTop), exact(kTop), reference(kTop);
  std::vector<data::ItemId> excluded;
  std::vector<double> latencies, encode, bound, select;
  std::vector<std::span<const data::ItemId>> checked;
  double rescored = 0.0, recall = 0.0;
  size_t second_passes = 0, fallbacks = 0, checks = 0, identical = 0;
  size_t sequence = 0;
  for (auto _ : state) {
    // The next playlist with at least 6 tracks; its prefix of up to 50 tracks is the history.
    data::SequenceView view = dataset.sequences[sequence % dataset.sequences.size()];
    while (view.items.size() < 6) view = dataset.sequences[++sequence % dataset.sequences.size()];
    ++sequence;
    const size_t length = std::min<size_t>(view.items.size() - 1, 50);
    rec::Query query;
    query.kind = data::QueryKind::kNextItem;
    query.history = view.items.first(length);
    rec::internal::ServingStats stats;
    const int64_t start = clock.NowNanos();
    excluded.assign(query.history.begin(), query.history.end());
    std::sort(excluded.begin(), excluded.end());
    if (serving) {
      benchmark::DoNotOptimize(model.TopK(query, excluded, kTop, top, {}, &stats));
    } else {
      benchmark::DoNotOptimize(ExactTopTen(model, query, excluded, scores, top));
    }
    latencies.push_back(static_cast<double>(clock.NowNanos() - start) * 1e-6);
    if (!serving) continue;
    encode.push_back(static_cast<double>(stats.encode_nanos) * 1e-6);
    bound.push_back(static_cast<double>(stats.bound_nanos) * 1e-6);
    select.push_back(static_cast<double>(stats.select_nanos) * 1e-6);
    rescored += static_cast<double>(stats.rescored_rows);
    second_passes += stats.second_pass ? 1 : 0;
    fallbacks += stats.exact_fallback ? 1 : 0;
    if (latencies.size() % kCheckEvery == 1) checked.push_back(query.history);
  }
  // Accuracy checks, after the timed loop so they cannot disturb it: the exact top-10, and the
  // serving top-10 with LibTorch's state, for every 20th history.
  for (const std::span<const data::ItemId> history : checked) {
    rec::Query query;
    query.kind = data::QueryKind::kNextItem;
    query.history = history;
    excluded.assign(history.begin(), history.end());
    std::sort(excluded.begin(), excluded.end());
    model.TopK(query, excluded, kTop, top);
    const size_t count = ExactTopTen(model, query, excluded, scores, exact);
    size_t hits = 0;
    for (size_t i = 0; i < count; ++i) {
      hits += std::any_of(top.begin(), top.end(), [&](const rec::ScoredItem& s) { return s.item == exact[i].item; }) ? 1 : 0;
    }
    recall += static_cast<double>(hits) / static_cast<double>(count);
    rec::internal::ServingOptions libtorch_state;
    libtorch_state.serving_encoder = false;
    const size_t served = model.TopK(query, excluded, kTop, reference, libtorch_state);
    identical += served == count && std::equal(exact.begin(), exact.begin() + static_cast<std::ptrdiff_t>(count),
                                               reference.begin()) ? 1 : 0;
    ++checks;
  }
  state.counters["p50_ms"] = Percentile(latencies, 0.50);
  state.counters["p99_ms"] = Percentile(latencies, 0.99);
  state.counters["items"] = static_cast<double>(dataset.catalog.size());
  if (serving) {
    const auto calls = static_cast<double>(latencies.size());
    state.counters["encode_p50_ms"] = Percentile(encode, 0.50);
    state.counters["encode_p99_ms"] = Percentile(encode, 0.99);
    state.counters["bound_p50_ms"] = Percentile(bound, 0.50);
    state.counters["bound_p99_ms"] = Percentile(bound, 0.99);
    state.counters["select_p50_ms"] = Percentile(select, 0.50);
    state.counters["rescored_rows"] = rescored / calls;
    state.counters["second_pass"] = static_cast<double>(second_passes) / calls;
    state.counters["exact_fallback"] = static_cast<double>(fallbacks) / calls;
    state.counters["recall_at_10"] = checks > 0 ? recall / static_cast<double>(checks) : 0.0;
    state.counters["bitwise_equal"] = checks > 0 ? static_cast<double>(identical) / static_cast<double>(checks) : 0.0;
  }
  state.SetLabel(std::string(rec::NeuralArchitectureName(architecture)) + (serving ? " serving" : " exact"));
}

BENCHMARK(BM_TopTenLatency)
    ->ArgsProduct({{static_cast<int>(rec::NeuralArchitecture::kGru4Rec), static_cast<int>(rec::NeuralArchitecture::kRnn),
                    static_cast<int>(rec::NeuralArchitecture::kSasRec), static_cast<int>(rec::NeuralArchitecture::kTransGru)},
                   {0, 1}})
    ->ArgNames({"model", "serving"})
    ->Iterations(2000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace melodai

BENCHMARK_MAIN();
