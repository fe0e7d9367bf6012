// MelodAI — licensed under the Apache License 2.0.
// Rényi-DP accountant for the subsampled Gaussian mechanism (Mironov, Talwar, Zhang 2019,
// integer orders; the same computation as TF-privacy / Opacus `compute_rdp` for integer alpha)
// and its conversion to (epsilon, delta). One "step" is one federated round in which each
// client takes part with probability q and the sum carries Gaussian noise of std z·S.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/status.h"

namespace melodai::fl {

// How RDP is turned into (epsilon, delta).
enum class RdpConversion : uint8_t {
  // eps = min_a rdp(a) + log(1/delta) / (a - 1)  (Mironov 2017, Prop. 3; Abadi et al. 2016's
  // moments accountant and the TF-privacy tutorials report this one).
  kClassic = 0,
  // eps = min_a rdp(a) + log((a-1)/a) - (log delta + log a) / (a - 1)  (Balle et al. 2020,
  // Thm. 21; newer TF-privacy and Opacus). Tighter, always <= kClassic.
  kImproved,
};

// The integer orders 2..256 (a superset of the integer part of the TF-privacy / Opacus default
// list: for practical q and z the optimum lies well inside).
std::vector<uint32_t> DefaultRdpOrders();

// RDP of ONE step of the sampled Gaussian mechanism at integer order `order` >= 2:
// log(A_a) / (a - 1), A_a = sum_{i=0..a} C(a,i) (1-q)^(a-i) q^i exp((i² - i) / (2 z²)),
// evaluated in log space. q = 0 gives 0; q = 1 gives a / (2 z²).
// REQUIRES: 0 <= q <= 1, noise_multiplier > 0, order >= 2.
double SampledGaussianRdp(double q, double noise_multiplier, uint32_t order);

// rdp[i] for steps compositions at orders[i].
std::vector<double> ComputeRdp(double q, double noise_multiplier, uint64_t steps,
                               std::span<const uint32_t> orders);

struct PrivacySpent {
  double epsilon = 0.0;
  uint32_t order = 0;  // The order attaining the minimum.
};

// (epsilon, order) for `rdp` at `orders`. REQUIRES: equal lengths, 0 < delta < 1.
PrivacySpent RdpToEpsilon(std::span<const uint32_t> orders, std::span<const double> rdp,
                          double delta, RdpConversion conversion = RdpConversion::kClassic);

// Epsilon after `steps` rounds with sampling probability q and noise multiplier z.
// z = 0 (no noise) gives +infinity when q > 0 and steps > 0.
PrivacySpent ComputeEpsilon(double q, double noise_multiplier, uint64_t steps, double delta,
                            RdpConversion conversion = RdpConversion::kClassic);

// The smallest noise multiplier (to a relative precision of 1e-4) whose epsilon after `steps`
// rounds at sampling rate q is at most target_epsilon. kInvalidArgument for q outside (0, 1],
// steps == 0, delta outside (0, 1) or a non-positive target; kOutOfRange when even z = 1000
// does not reach the target.
core::Result<double> FindNoiseMultiplier(double q, uint64_t steps, double delta,
                                         double target_epsilon,
                                         RdpConversion conversion = RdpConversion::kClassic);

// Accumulates RDP round by round (q and z may change between rounds).
// Invariant: rdp_.size() == orders_.size(). Not thread-safe.
class RdpAccountant {
 public:
  explicit RdpAccountant(std::vector<uint32_t> orders = DefaultRdpOrders());
  // Records `steps` steps at rate q with noise multiplier z. REQUIRES: 0 <= q <= 1, z > 0.
  void AddSteps(double q, double noise_multiplier, uint64_t steps = 1);
  PrivacySpent Spent(double delta, RdpConversion conversion = RdpConversion::kClassic) const;
  uint64_t steps() const { return steps_; }

 private:
  std::vector<uint32_t> orders_;
  std::vector<double> rdp_;
  uint64_t steps_ = 0;
};

}  // namespace melodai::fl
