// MelodAI — licensed under the Apache License 2.0.
// Aggregation rules: how a round's client updates become one update. Summing rules (FedAvg,
// FedProx) stream: they accumulate updates in client order and keep one vector. Robust rules
// (coordinate-wise median, trimmed mean, Krum / Multi-Krum, geometric median, norm-bounded mean)
// must see every individual update, which secure aggregation hides;
// Aggregator::needs_individual_updates() makes that explicit.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "fl/local_trainer.h"

namespace melodai::fl {

// The aggregation rules. FedProx aggregates like FedAvg; its difference is the client's
// proximal term (LocalTrainConfig::prox_mu), which the simulator passes on.
enum class AggregatorKind : uint8_t {
  kFedAvg = 0,
  kFedProx,
  kMedian,
  kTrimmedMean,
  kKrum,
  kMultiKrum,
  kGeometricMedian,
  kNormBounded,
};

// "fedavg", "fedprox", "median", "trimmed_mean", "krum", "multi_krum", "geometric_median",
// "norm_bounded".
std::string_view AggregatorKindName(AggregatorKind kind);
// The inverse of AggregatorKindName; kInvalidArgument listing the valid names otherwise.
core::Result<AggregatorKind> ParseAggregatorKind(std::string_view name);

struct AggregatorConfig {
  AggregatorKind kind = AggregatorKind::kFedAvg;
  double trim_fraction = 0.1;   // Trimmed mean: drop floor(beta * n) lowest and highest.
  uint32_t krum_byzantine = 1;  // Krum: f, the number of Byzantine updates tolerated.
  uint32_t krum_selected = 0;   // Multi-Krum: m, updates averaged (0 = n - f).
  uint32_t median_iterations = 10;  // Geometric median: Weiszfeld iterations at most.
  // Norm-bounded mean: every update is clipped to bound_factor times the median L2 norm of the
  // round's updates, and every weight to weight_cap times the median weight.
  double bound_factor = 1.0;
  double weight_cap = 4.0;
  // Norm-bounded mean, optional direction filter: after bounding, drop every update whose
  // cosine with the sum of all the others is below min_cosine (values below -1 = off).
  double min_cosine = -2.0;
  // Norm-bounded mean, optional rejection: an update longer than reject_factor times the median
  // norm is dropped instead of shrunk (0 = off; otherwise in [1, 1000]).
  double reject_factor = 0.0;
};

// kInvalidArgument for a trim fraction outside [0, 0.5) or non-finite, median_iterations
// outside [1, 1000], a bound factor or weight cap outside (0, 1000], or a reject factor that is
// neither 0 nor in [1, 1000].
core::Status ValidateAggregatorConfig(const AggregatorConfig& config);

// True for the rules that need every client's update in the clear (median, trimmed mean,
// Krum, geometric median, norm-bounded mean): they cannot run on the output of secure aggregation.
bool NeedsIndividualUpdates(AggregatorKind kind);

// The outcome of a round's aggregation.
struct AggregateResult {
  std::vector<float> update;          // The aggregated update (same length as the inputs).
  std::vector<ClientId> selected;     // Clients whose updates entered the result (client order).
  uint32_t input_count = 0;           // Updates that were offered.
};

// Accumulates a round's updates and produces the aggregate. Usage: Begin, then Add once per
// client in increasing client order (the order fixes the floating-point result, so a replay
// with any thread count is bit-identical), then Finish.
// Memory: summing rules hold one double vector of the model's size; robust rules hold a float
// copy of every update of the round (n * d * 4 bytes). Not thread-safe.
class Aggregator {
 public:
  virtual ~Aggregator() = default;

  virtual AggregatorKind kind() const = 0;
  // False: the rule needs only the (weighted) sum, so it runs under secure aggregation.
  virtual bool needs_individual_updates() const = 0;

  // Starts a round of `dimension`-long updates, discarding any previous state.
  virtual void Begin(size_t dimension) = 0;
  // Offers one client's update with its weight (examples for FedAvg and the norm-bounded mean;
  // the other robust rules ignore it).
  // kInvalidArgument for a wrong length, a non-positive or non-finite weight, a client id not
  // above the previous one, or a non-finite element.
  virtual core::Status Add(ClientId client, double weight, std::span<const float> update) = 0;
  // The aggregate of the updates added since Begin. kFailedPrecondition when there are too
  // few updates for the rule (none; Krum needs n > 2f + 2; trimmed mean needs 2 trim < n).
  virtual core::Result<AggregateResult> Finish() = 0;
};

// Creates the aggregator for `config`. REQUIRES: ValidateAggregatorConfig(config).ok().
std::unique_ptr<Aggregator> MakeAggregator(const AggregatorConfig& config);

// A running weighted sum in double precision, added to in a fixed order. The streaming core of
// FedAvg; the simulator also uses it for the DP path (fixed denominator) directly.
// Invariant: sum_.size() == dimension given to Reset.
class WeightedSum {
 public:
  void Reset(size_t dimension);
  // sum += weight * update. REQUIRES: update.size() == dimension().
  void Add(double weight, std::span<const float> update);
  // sum += values (already weighted). REQUIRES: values.size() == dimension().
  void AddDouble(std::span<const double> values);
  size_t dimension() const { return sum_.size(); }
  double total_weight() const { return total_weight_; }
  uint32_t count() const { return count_; }
  std::span<double> sum() { return sum_; }
  std::span<const double> sum() const { return sum_; }
  // sum / denominator as floats. REQUIRES: denominator > 0.
  std::vector<float> Divided(double denominator) const;

 private:
  std::vector<double> sum_;
  double total_weight_ = 0.0;
  uint32_t count_ = 0;
};

// Pure aggregation functions over n updates of equal length (n >= 1), used by the aggregators
// and handy for tests. REQUIRES: every update has the same length.
using UpdateList = std::span<const std::span<const float>>;

// Coordinate-wise median (mean of the two middle values for even n).
std::vector<float> CoordinateMedian(UpdateList updates);
// Coordinate-wise mean after dropping the `trim` lowest and `trim` highest values.
// REQUIRES: 2 * trim < n.
std::vector<float> TrimmedMean(UpdateList updates, size_t trim);
// Krum scores (Blanchard et al. 2017): for each update, the sum of squared L2 distances to its
// n - f - 2 nearest other updates. REQUIRES: n > 2f + 2.
std::vector<double> KrumScores(UpdateList updates, size_t byzantine);
// Indices of the `selected` updates with the lowest Krum scores, ties broken by index, in
// increasing index order. Krum is selected = 1. REQUIRES: n > 2f + 2, 1 <= selected <= n.
std::vector<size_t> KrumSelect(UpdateList updates, size_t byzantine, size_t selected);
// The geometric median (the point minimising the sum of L2 distances to the updates, equal
// weights) by the smoothed Weiszfeld iteration of RFA (Pillutla et al. 2022): start from the
// mean, then z <- sum_i b_i x_i / sum_i b_i with b_i = 1 / max(nu, ||z - x_i||), for at most
// `max_iterations` steps or until z moves by less than 1e-6 of its norm. nu = 1e-9 times the
// largest update norm (a floor that only matters when z sits on an update). Vector-wise, not
// coordinate-wise: a coordinate that only one client touches keeps that client's share, while
// any single update moves the result by a bounded amount however large it is.
// `iterations` (optional) receives the number of steps taken.
std::vector<float> GeometricMedian(UpdateList updates, uint32_t max_iterations,
                                   uint32_t* iterations = nullptr);
// The norm-bounded weighted mean (adaptive norm bounding, after Sun et al. 2019, "Can you really
// backdoor federated learning?", with the threshold taken from the round itself), with the
// bound_factor, weight_cap, min_cosine and reject_factor of `config` (its kind is not read):
// with tau = bound_factor * median_i ||x_i|| and c = weight_cap * median_i w_i, the result is
// sum_i min(w_i, c) * min(1, tau / ||x_i||) * x_i / sum_i min(w_i, c). While honest clients are a
// majority the median norm is an honest norm, so a scaled update enters with an honest update's
// length and an inflated weight counts as c at most: K attackers move the result by at most
// K * c * tau / sum of weights, whatever they send. Unlike the medians it keeps coordinates that
// few clients touch (the item rows of a recommender).
// With min_cosine >= -1 a direction filter follows the bounding (in the spirit of FLAME, Nguyen
// et al. 2022, without its clustering): update i is dropped when the cosine between its bounded
// form and the sum of the others' bounded forms is below min_cosine. A sign-flipped or
// scaled-negative update points away from what the honest majority agrees on and falls out; the
// denominator is the survivors' weight. (A reference built from past rounds' aggregates was
// tried and fails with adaptive server optimizers: honest updates point back against the last
// step, the attackers align with it and take the filter over; docs/FL.md §2.) With
// reject_factor R > 0, an update whose norm exceeds R * median_i ||x_i|| is dropped before
// bounding and filtering: a scaled update far longer than any honest one then removes itself
// instead of entering as a reversed honest-size update (an attacker who stays under R * median
// still enters bounded). `kept` (optional) receives the indices that entered.
// REQUIRES: weights.size() == n, weights > 0.
std::vector<float> NormBoundedMean(UpdateList updates, std::span<const double> weights,
                                   const AggregatorConfig& config,
                                   std::vector<size_t>* kept = nullptr);

}  // namespace melodai::fl
