// MelodAI — licensed under the Apache License 2.0.
// Serving latency of the neural recommenders: top-10 over the whole MPD catalogue (130,884
// tracks) for one listening history, on one core (LibTorch intra-op threads 1, OpenBLAS 1).
// Each model covers every catalogue track (the worst case: a trained model scores only the
// tracks it saw), with default sizes (GRU4Rec 512 units; SASRec/TransGRU dim 64, 2 blocks,
// window 50). Weights are the untrained initialisation: latency does not depend on their
// values. Histories are real playlist prefixes of 5..50 tracks, a different one per call, so
// the session models' prefix cache never helps. Reports p50 and p99 per call as counters.
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

void BM_TopTenLatency(benchmark::State& state) {
  at::set_num_threads(1);
  openblas_set_num_threads(1);
  const data::Dataset& dataset = Mpd();
  const auto architecture = static_cast<rec::NeuralArchitecture>(state.range(0));
  rec::internal::NeuralModel model(rec::NeuralOptions::Defaults(architecture));
  std::vector<data::ItemId> all(dataset.catalog.size());
  std::iota(all.begin(), all.end(), data::ItemId{0});
  model.BuildNetworks(dataset.catalog, std::move(all));
  model.network().eval();
  model.RefreshScoringCache();
  model.fitted_ = true;

  std::vector<float> scores(dataset.catalog.size());
  std::vector<rec::ScoredItem> top(10);
  std::vector<data::ItemId> excluded;
  std::vector<double> latencies;
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
    const int64_t start = core::SystemClock::Instance().NowNanos();
    model.Score(query, scores);
    excluded.assign(query.history.begin(), query.history.end());
    std::sort(excluded.begin(), excluded.end());
    benchmark::DoNotOptimize(rec::SelectTopKExcludingSorted(scores, excluded, 10, top));
    latencies.push_back(static_cast<double>(core::SystemClock::Instance().NowNanos() - start) * 1e-6);
  }
  std::sort(latencies.begin(), latencies.end());
  auto percentile = [&](double p) {
    return latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * static_cast<double>(latencies.size())))];
  };
  state.counters["p50_ms"] = percentile(0.50);
  state.counters["p99_ms"] = percentile(0.99);
  state.counters["items"] = static_cast<double>(dataset.catalog.size());
  state.SetLabel(std::string(rec::NeuralArchitectureName(architecture)));
}

BENCHMARK(BM_TopTenLatency)
    ->Arg(static_cast<int>(rec::NeuralArchitecture::kGru4Rec))
    ->Arg(static_cast<int>(rec::NeuralArchitecture::kRnn))
    ->Arg(static_cast<int>(rec::NeuralArchitecture::kSasRec))
    ->Arg(static_cast<int>(rec::NeuralArchitecture::kTransGru))
    ->Iterations(2000)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace melodai

BENCHMARK_MAIN();
