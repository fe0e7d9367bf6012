// MelodAI — licensed under the Apache License 2.0.
// Evaluate(): validation, training popularity, a parallel pass over fixed-size blocks of
// queries with per-worker scratch, and a sequential reduction of the per-block sums in block
// order, which makes every metric bit-identical for any thread count.
#include "rec/evaluator.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <cmath>
#include <limits>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/check.h"
#include "core/clock.h"
#include "rec/metrics.h"
#include "rec/top_k.h"

namespace melodai::rec {
namespace {

// Queries summed into one partial sum. Blocks, not ParallelFor chunks, fix the summation
// order: chunk boundaries depend on the thread count, block boundaries do not.
constexpr size_t kQueriesPerBlock = 32;
// Progress is reported about every 1 / kProgressSteps of the queries (2%).
constexpr size_t kProgressSteps = 50;

// Per-query metrics averaged over queries, in the order they are summed.
enum Metric : size_t {
  kAveragePrecision,
  kNdcg,
  kPrecision,
  kRecall,
  kRecallLarge,
  kReciprocalRankFull,
  kReciprocalRankLarge,
  kRPrecision,
  kDiversity,
  kNovelty,
  kMetricCount,
};

// Sums over a block of queries, or over all of them after the reduction.
struct MetricSums {
  std::array<double, kMetricCount> values{};
  double squared_error = 0.0;
  size_t rating_count = 0;
  size_t target_count = 0;

  void Add(const MetricSums& other) {
    for (size_t i = 0; i < kMetricCount; ++i) values[i] += other.values[i];
    squared_error += other.squared_error;
    rating_count += other.rating_count;
    target_count += other.target_count;
  }
};

core::Status ValidateOptions(const EvalOptions& options) {
  if (options.k == 0) return core::InvalidArgumentError("evaluation cut-off k must be at least 1");
  if (options.k_large == 0) {
    return core::InvalidArgumentError("evaluation cut-off k_large must be at least 1");
  }
  return core::Status::Ok();
}

std::string QueryContext(size_t index) { return "query " + std::to_string(index); }

// Checks the bounds of every query and, when `check_weights`, that the target weights admit
// log(1 + weight). Returns the largest target_end per sequence (0 for unused sequences).
core::Result<std::vector<uint32_t>> ValidateQueryBounds(const data::QuerySet& queries,
                                                        bool check_weights) {
  std::vector<uint32_t> used_end(queries.sequences.size(), 0);
  for (size_t i = 0; i < queries.queries.size(); ++i) {
    const data::EvalQuery& query = queries.queries[i];
    if (query.sequence >= queries.sequences.size()) {
      return core::InvalidArgumentError(QueryContext(i) + ": sequence " +
                                        std::to_string(query.sequence) + " of " +
                                        std::to_string(queries.sequences.size()));
    }
    const size_t length = queries.sequences.items(query.sequence).size();
    if (query.history_end > query.target_begin || query.target_begin >= query.target_end ||
        query.target_end > length) {
      return core::InvalidArgumentError(
          QueryContext(i) + ": needs history_end <= target_begin < target_end <= " +
          std::to_string(length) + ", got " + std::to_string(query.history_end) + ", " +
          std::to_string(query.target_begin) + ", " + std::to_string(query.target_end));
    }
    used_end[query.sequence] = std::max(used_end[query.sequence], query.target_end);
    if (!check_weights) continue;
    const std::span<const float> weights = queries.sequences[query.sequence].weights;
    for (size_t p = query.target_begin; p < query.target_end; ++p) {
      if (!std::isfinite(weights[p]) || weights[p] <= -1.0f) {
        return core::InvalidArgumentError(QueryContext(i) + ": target weight " +
                                          std::to_string(weights[p]) + " has no log(1 + weight)");
      }
    }
  }
  return used_end;
}

// Validates the query set against the catalogue. Each referenced event is checked once, so
// the cost is linear in the events even when many queries share a sequence.
core::Status ValidateQueries(const data::Catalog& catalog, const data::QuerySet& queries,
                             bool check_weights) {
  if (queries.queries.empty()) return core::InvalidArgumentError("the query set is empty");
  MELODAI_ASSIGN_OR_RETURN(const std::vector<uint32_t> used_end,
                           ValidateQueryBounds(queries, check_weights));
  for (size_t s = 0; s < used_end.size(); ++s) {
    const std::span<const data::ItemId> items = queries.sequences.items(s).first(used_end[s]);
    for (size_t p = 0; p < items.size(); ++p) {
      if (items[p] >= catalog.size()) {
        return core::InvalidArgumentError("query sequence " + std::to_string(s) + " position " +
                                          std::to_string(p) + ": item " + std::to_string(items[p]) +
                                          " is outside the catalogue of " +
                                          std::to_string(catalog.size()) + " items");
      }
    }
  }
  return core::Status::Ok();
}

// count[i] = number of training sequences that contain item i (each sequence counted once).
core::Result<std::vector<uint32_t>> TrainSequenceCounts(const data::Interactions& train,
                                                        size_t catalog_size) {
  if (train.size() >= std::numeric_limits<uint32_t>::max()) {
    return core::InvalidArgumentError("too many training sequences for 32-bit popularity counts");
  }
  constexpr uint32_t kNever = std::numeric_limits<uint32_t>::max();
  std::vector<uint32_t> counts(catalog_size, 0);
  std::vector<uint32_t> last_sequence(catalog_size, kNever);
  for (uint32_t s = 0; s < train.size(); ++s) {
    for (const data::ItemId item : train.items(s)) {
      if (item >= catalog_size) {
        return core::InvalidArgumentError("training sequence " + std::to_string(s) + ": item " +
                                          std::to_string(item) + " is outside the catalogue");
      }
      if (last_sequence[item] == s) continue;
      last_sequence[item] = s;
      ++counts[item];
    }
  }
  return counts;
}

// Memory one worker reuses for every query it evaluates; nothing is allocated per query.
// Invariant between queries: `excluded` is all zero.
struct WorkerScratch {
  WorkerScratch(const data::Catalog& catalog, size_t list_capacity)
      : scores(catalog.size(), 0.0f),
        excluded(catalog.size(), 0),
        top(list_capacity),
        ranked(list_capacity),
        exposure(catalog) {}

  std::vector<float> scores;
  std::vector<uint8_t> excluded;
  std::vector<ScoredItem> top;
  std::vector<data::ItemId> ranked;
  std::vector<data::ItemId> targets;
  ExposureCounter exposure;
};

// Calls the progress callback from the thread that called Evaluate only (ParallelFor runs
// chunks on its caller too), so the callback needs no locking; other workers only count.
class ProgressReporter {
 public:
  ProgressReporter(const std::function<void(size_t, size_t)>& callback, size_t total)
      : callback_(callback),
        total_(total),
        step_(std::max<size_t>(1, total / kProgressSteps)),
        caller_(std::this_thread::get_id()) {}

  // Records `count` finished queries; may run on any worker.
  void Advance(size_t count) {
    const size_t done = done_.fetch_add(count, std::memory_order_relaxed) + count;
    if (!callback_ || std::this_thread::get_id() != caller_) return;
    if (done < last_reported_ + step_ || done == total_) return;
    last_reported_ = done;
    callback_(done, total_);
  }

  // Reports completion; call on the calling thread after the parallel pass.
  void Finish() {
    MELODAI_CHECK(std::this_thread::get_id() == caller_);
    MELODAI_CHECK_EQ(done_.load(), total_);
    if (callback_) callback_(total_, total_);
  }

 private:
  const std::function<void(size_t, size_t)>& callback_;
  const size_t total_;
  const size_t step_;
  const std::thread::id caller_;
  std::atomic<size_t> done_{0};
  size_t last_reported_ = 0;  // Only touched by the calling thread.
};

// Evaluates single queries. Holds only borrowed, read-only state, so one instance serves
// every worker concurrently; all mutation goes to the worker's scratch and block sums.
class QueryRunner {
 public:
  QueryRunner(const Recommender& model, const data::Catalog& catalog, const data::QuerySet& queries,
              const EvalOptions& options, std::span<const uint32_t> item_sequence_counts,
              size_t train_sequence_count, bool rate)
      : model_(model),
        catalog_(catalog),
        queries_(queries),
        options_(options),
        item_sequence_counts_(item_sequence_counts),
        train_sequence_count_(train_sequence_count),
        rate_(rate) {}

  // Scores query `index`, ranks the catalogue and adds the query's values to `sums`.
  void Run(size_t index, WorkerScratch& scratch, MetricSums& sums) const;

 private:
  // history = items[0, history_end), with weights when the sequences carry them.
  Query BuildQuery(const data::SequenceView& sequence, const data::EvalQuery& eval_query) const;
  // Sets excluded[h] = value for history items h, except items that are also targets.
  static void MarkHistory(const Query& query, std::span<const data::ItemId> targets,
                          std::span<uint8_t> excluded, uint8_t value);
  void AddRankingMetrics(std::span<const data::ItemId> ranked, WorkerScratch& scratch,
                         MetricSums& sums) const;
  void AddRatingErrors(const Query& query, const data::SequenceView& sequence,
                       const data::EvalQuery& eval_query, MetricSums& sums) const;

  const Recommender& model_;
  const data::Catalog& catalog_;
  const data::QuerySet& queries_;
  const EvalOptions& options_;
  std::span<const uint32_t> item_sequence_counts_;
  size_t train_sequence_count_;
  bool rate_;
};

Query QueryRunner::BuildQuery(const data::SequenceView& sequence,
                              const data::EvalQuery& eval_query) const {
  Query query;
  query.kind = queries_.kind;
  query.history = sequence.items.first(eval_query.history_end);
  if (!sequence.weights.empty()) {
    query.history_weights = sequence.weights.first(eval_query.history_end);
  }
  return query;
}

void QueryRunner::MarkHistory(const Query& query, std::span<const data::ItemId> targets,
                              std::span<uint8_t> excluded, uint8_t value) {
  for (const data::ItemId item : query.history) excluded[item] = value;
  // A target the history already holds (a repeated track, a returning next item) stays
  // rankable: excluding it would make the query unanswerable by construction.
  for (const data::ItemId item : targets) excluded[item] = 0;
}

void QueryRunner::Run(size_t index, WorkerScratch& scratch, MetricSums& sums) const {
  const data::EvalQuery& eval_query = queries_.queries[index];
  const data::SequenceView sequence = queries_.sequences[eval_query.sequence];
  const Query query = BuildQuery(sequence, eval_query);
  // Targets as a sorted set: metrics take binary relevance over distinct items.
  std::vector<data::ItemId>& targets = scratch.targets;
  const auto target_items = sequence.items.subspan(eval_query.target_begin,
                                                   eval_query.target_end - eval_query.target_begin);
  targets.assign(target_items.begin(), target_items.end());
  std::sort(targets.begin(), targets.end());
  targets.erase(std::unique(targets.begin(), targets.end()), targets.end());

  model_.Score(query, scratch.scores);
  if (options_.exclude_history) MarkHistory(query, targets, scratch.excluded, 1);
  const size_t list_size =
      std::min(std::max({options_.k, options_.k_large, targets.size()}), catalog_.size());
  MELODAI_CHECK_LE(list_size, scratch.top.size());
  const std::span<const uint8_t> mask = options_.exclude_history
                                            ? std::span<const uint8_t>(scratch.excluded)
                                            : std::span<const uint8_t>();
  const size_t selected = SelectTopK(scratch.scores, mask, list_size, scratch.top);
  for (size_t i = 0; i < selected; ++i) scratch.ranked[i] = scratch.top[i].item;
  AddRankingMetrics(std::span<const data::ItemId>(scratch.ranked).first(selected), scratch, sums);
  if (options_.exclude_history) MarkHistory(query, {}, scratch.excluded, 0);
  if (rate_) AddRatingErrors(query, sequence, eval_query, sums);
  sums.target_count += targets.size();
}

void QueryRunner::AddRankingMetrics(std::span<const data::ItemId> ranked, WorkerScratch& scratch,
                                    MetricSums& sums) const {
  const std::span<const data::ItemId> targets = scratch.targets;
  std::array<double, kMetricCount>& values = sums.values;
  values[kAveragePrecision] += AveragePrecisionAtK(ranked, targets, options_.k);
  values[kNdcg] += NdcgAtK(ranked, targets, options_.k);
  values[kPrecision] += PrecisionAtK(ranked, targets, options_.k);
  values[kRecall] += RecallAtK(ranked, targets, options_.k);
  values[kRecallLarge] += RecallAtK(ranked, targets, options_.k_large);
  values[kReciprocalRankFull] += FullReciprocalRank(scratch.scores, scratch.excluded, targets);
  values[kReciprocalRankLarge] += ReciprocalRankAtK(ranked, targets, options_.k_large);
  values[kRPrecision] += RPrecision(ranked, targets);
  const std::span<const data::ItemId> head = ranked.first(std::min(options_.k, ranked.size()));
  values[kDiversity] += IntraListArtistDiversity(head, catalog_);
  values[kNovelty] += Novelty(head, item_sequence_counts_, train_sequence_count_);
  scratch.exposure.Add(head);
}

void QueryRunner::AddRatingErrors(const Query& query, const data::SequenceView& sequence,
                                  const data::EvalQuery& eval_query, MetricSums& sums) const {
  for (size_t p = eval_query.target_begin; p < eval_query.target_end; ++p) {
    const double truth = std::log1p(static_cast<double>(sequence.weights[p]));
    const double error =
        static_cast<double>(model_.PredictRating(query, sequence.items[p])) - truth;
    sums.squared_error += error * error;
    ++sums.rating_count;
  }
}

std::string AtK(std::string_view name, size_t k) {
  return std::string(name) + "@" + std::to_string(k);
}

// Turns the reduced sums into the named metrics of EvalResult.
void Summarize(const MetricSums& total, size_t query_count, const ExposureCounter& exposure,
               const EvalOptions& options, bool rate, EvalResult& result) {
  MELODAI_CHECK_GT(query_count, 0);
  const double n = static_cast<double>(query_count);
  const std::array<double, kMetricCount>& values = total.values;
  const size_t k = options.k;
  result.metrics[AtK("map", k)] = values[kAveragePrecision] / n;
  result.metrics[AtK("ndcg", k)] = values[kNdcg] / n;
  result.metrics[AtK("precision", k)] = values[kPrecision] / n;
  result.metrics[AtK("recall", k)] = values[kRecall] / n;
  result.metrics[AtK("recall", options.k_large)] = values[kRecallLarge] / n;
  result.metrics["mrr"] = values[kReciprocalRankFull] / n;
  result.metrics[AtK("mrr", options.k_large)] = values[kReciprocalRankLarge] / n;
  result.metrics["r_precision"] = values[kRPrecision] / n;
  result.metrics[AtK("diversity", k)] = values[kDiversity] / n;
  result.metrics[AtK("novelty", k)] = values[kNovelty] / n;
  result.metrics[AtK("coverage", k)] = exposure.CatalogCoverage();
  result.metrics[AtK("artist_gini", k)] = exposure.ArtistExposureGini();
  if (rate && total.rating_count > 0) {
    result.metrics["rmse"] =
        std::sqrt(total.squared_error / static_cast<double>(total.rating_count));
  }
  result.query_count = query_count;
  result.target_count = total.target_count;
}

// Capacity of the per-worker top list: the longest list any of the first `query_count`
// queries asks for (R-precision needs |targets|), never more than the catalogue.
size_t ListCapacity(const data::QuerySet& queries, size_t query_count, const EvalOptions& options,
                    size_t catalog_size) {
  size_t longest = std::max(options.k, options.k_large);
  for (size_t i = 0; i < query_count; ++i) {
    const data::EvalQuery& query = queries.queries[i];
    longest = std::max<size_t>(longest, query.target_end - query.target_begin);
  }
  return std::min(longest, catalog_size);
}

}  // namespace

core::Result<EvalResult> Evaluate(const Recommender& model, const data::Catalog& catalog,
                                  const data::Interactions& train, const data::QuerySet& queries,
                                  const EvalOptions& options, core::ThreadPool& pool) {
  const core::Stopwatch stopwatch;
  const bool rate = model.SupportsRating() && queries.sequences.has_weights();
  MELODAI_RETURN_IF_ERROR(ValidateOptions(options));
  MELODAI_RETURN_IF_ERROR(ValidateQueries(catalog, queries, rate));
  MELODAI_ASSIGN_OR_RETURN(const std::vector<uint32_t> item_sequence_counts,
                           TrainSequenceCounts(train, catalog.size()));
  const size_t available = queries.queries.size();
  const size_t query_count =
      options.max_queries == 0 ? available : std::min(options.max_queries, available);
  const size_t list_capacity = ListCapacity(queries, query_count, options, catalog.size());

  std::vector<WorkerScratch> scratch;
  scratch.reserve(pool.thread_count());
  for (size_t w = 0; w < pool.thread_count(); ++w) scratch.emplace_back(catalog, list_capacity);
  const QueryRunner runner(model, catalog, queries, options, item_sequence_counts, train.size(),
                           rate);
  const size_t block_count = (query_count + kQueriesPerBlock - 1) / kQueriesPerBlock;
  std::vector<MetricSums> block_sums(block_count);
  ProgressReporter progress(options.progress, query_count);
  pool.ParallelFor(block_count, 1, [&](size_t begin, size_t end, size_t worker) {
    MELODAI_CHECK_LT(worker, scratch.size());
    for (size_t block = begin; block < end; ++block) {
      const size_t first = block * kQueriesPerBlock;
      const size_t last = std::min(query_count, first + kQueriesPerBlock);
      for (size_t q = first; q < last; ++q) runner.Run(q, scratch[worker], block_sums[block]);
      progress.Advance(last - first);
    }
  });
  progress.Finish();

  MetricSums total;
  for (const MetricSums& sums : block_sums) total.Add(sums);
  for (size_t w = 1; w < scratch.size(); ++w) scratch[0].exposure.Merge(scratch[w].exposure);
  EvalResult result;
  Summarize(total, query_count, scratch[0].exposure, options, rate, result);
  result.available_query_count = available;
  result.seconds = stopwatch.ElapsedSeconds();
  result.queries_per_second =
      result.seconds > 0.0 ? static_cast<double>(query_count) / result.seconds : 0.0;
  return result;
}

}  // namespace melodai::rec
