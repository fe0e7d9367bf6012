// MelodAI — licensed under the Apache License 2.0.
// Loading the real MPD sample: a full parse of every slice (1 and 2 threads), and the cached
// reload (read the cache file + decode). Run beside bench/mpd_json_walk.py, the Python `json`
// reference walk over the same files. Data folder: $MELODAI_SHARED_DATA or ../shared/data.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "core/file_util.h"
#include "core/thread_pool.h"
#include "data/cache.h"
#include "data/mpd_reader.h"

namespace {

std::filesystem::path MpdFolder() {
  const char* overridden = std::getenv("MELODAI_SHARED_DATA");
  return std::filesystem::path(overridden != nullptr ? overridden : MELODAI_SHARED_DATA_DIR) / "mpd";
}

void ReportRows(benchmark::State& state, const melodai::data::Dataset& dataset) {
  state.counters["rows"] = static_cast<double>(dataset.sequences.event_count());
  state.counters["tracks"] = static_cast<double>(dataset.catalog.size());
  state.counters["rows_per_s"] = benchmark::Counter(
      static_cast<double>(dataset.sequences.event_count()), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_MpdParseFolder(benchmark::State& state) {
  melodai::core::ThreadPool pool(static_cast<size_t>(state.range(0)));
  melodai::data::Dataset last;
  for (auto _ : state) {
    auto dataset = melodai::data::ReadMpdFolder(MpdFolder(), &pool);
    if (!dataset.ok()) {
      state.SkipWithError(dataset.status().ToString().c_str());
      return;
    }
    last = std::move(dataset).value();
  }
  ReportRows(state, last);
}
BENCHMARK(BM_MpdParseFolder)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_MpdCachedReload(benchmark::State& state) {
  auto dataset = melodai::data::ReadMpdFolder(MpdFolder(), nullptr);
  if (!dataset.ok()) {
    state.SkipWithError(dataset.status().ToString().c_str());
    return;
  }
  const auto cache_file = std::filesystem::temp_directory_path() / "melodai-bench-mpd.mds";
  if (!melodai::core::WriteFileAtomic(cache_file, melodai::data::EncodeDataset(*dataset, 1)).ok()) {
    state.SkipWithError("cannot write the cache file");
    return;
  }
  melodai::data::Dataset last;
  for (auto _ : state) {
    auto bytes = melodai::core::ReadFile(cache_file);
    auto decoded = melodai::data::DecodeDataset(*bytes, 1);
    if (!decoded.ok()) {
      state.SkipWithError(decoded.status().ToString().c_str());
      return;
    }
    last = std::move(decoded).value();
  }
  // The first lookup by uri builds the index lazily; measure it separately below.
  ReportRows(state, last);
  state.counters["cache_bytes"] = static_cast<double>(std::filesystem::file_size(cache_file));
  std::filesystem::remove(cache_file);
}
BENCHMARK(BM_MpdCachedReload)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_MpdCachedReloadWithUriIndex(benchmark::State& state) {
  auto dataset = melodai::data::ReadMpdFolder(MpdFolder(), nullptr);
  if (!dataset.ok()) {
    state.SkipWithError(dataset.status().ToString().c_str());
    return;
  }
  const std::string bytes = melodai::data::EncodeDataset(*dataset, 1);
  for (auto _ : state) {
    auto decoded = melodai::data::DecodeDataset(bytes, 1);
    benchmark::DoNotOptimize(decoded->catalog.Find("spotify:track:0NlyILZaWZ2euUP7JMKgtF"));
  }
}
BENCHMARK(BM_MpdCachedReloadWithUriIndex)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
