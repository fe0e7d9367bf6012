// MelodAI — licensed under the Apache License 2.0.
// RDP of the sampled Gaussian mechanism at integer orders, conversion to (epsilon, delta), and
// the search for the noise multiplier that meets a target epsilon.
#include "fl/rdp_accountant.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace melodai::fl {
namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();
constexpr uint32_t kMaxDefaultOrder = 256;
constexpr double kMaxNoiseMultiplier = 1000.0;
constexpr double kSearchRelativePrecision = 1e-4;

double LogAdd(double a, double b) {
  if (a == -kInfinity) return b;
  if (b == -kInfinity) return a;
  const double high = std::max(a, b);
  return high + std::log1p(std::exp(-std::abs(a - b)));
}

double LogBinomial(uint32_t n, uint32_t k) {
  return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0);
}

}  // namespace

std::vector<uint32_t> DefaultRdpOrders() {
  std::vector<uint32_t> orders;
  for (uint32_t order = 2; order <= kMaxDefaultOrder; ++order) orders.push_back(order);
  return orders;
}

double SampledGaussianRdp(double q, double noise_multiplier, uint32_t order) {
  MELODAI_CHECK(q >= 0.0 && q <= 1.0);
  MELODAI_CHECK_GT(noise_multiplier, 0.0);
  MELODAI_CHECK_GE(order, 2u);
  const double a = order;
  const double variance2 = 2.0 * noise_multiplier * noise_multiplier;
  if (q == 0.0) return 0.0;
  if (q == 1.0) return a / variance2;
  const double log_q = std::log(q);
  const double log_1mq = std::log1p(-q);
  double log_a = -kInfinity;
  for (uint32_t i = 0; i <= order; ++i) {
    const double di = i;
    const double term = LogBinomial(order, i) + di * log_q + (a - di) * log_1mq +
                        (di * di - di) / variance2;
    log_a = LogAdd(log_a, term);
  }
  return log_a / (a - 1.0);
}

std::vector<double> ComputeRdp(double q, double noise_multiplier, uint64_t steps,
                               std::span<const uint32_t> orders) {
  std::vector<double> rdp(orders.size());
  for (size_t i = 0; i < orders.size(); ++i) {
    rdp[i] = static_cast<double>(steps) * SampledGaussianRdp(q, noise_multiplier, orders[i]);
  }
  return rdp;
}

PrivacySpent RdpToEpsilon(std::span<const uint32_t> orders, std::span<const double> rdp,
                          double delta, RdpConversion conversion) {
  MELODAI_CHECK_EQ(orders.size(), rdp.size());
  MELODAI_CHECK(delta > 0.0 && delta < 1.0);
  PrivacySpent best{kInfinity, 0};
  for (size_t i = 0; i < orders.size(); ++i) {
    const double a = orders[i];
    double epsilon = 0.0;
    if (conversion == RdpConversion::kClassic) {
      epsilon = rdp[i] + std::log(1.0 / delta) / (a - 1.0);
    } else {
      epsilon = rdp[i] + std::log1p(-1.0 / a) - (std::log(delta) + std::log(a)) / (a - 1.0);
    }
    if (epsilon < best.epsilon) best = {std::max(0.0, epsilon), orders[i]};
  }
  return best;
}

PrivacySpent ComputeEpsilon(double q, double noise_multiplier, uint64_t steps, double delta,
                            RdpConversion conversion) {
  if (q == 0.0 || steps == 0) return {0.0, 0};
  if (noise_multiplier <= 0.0) return {kInfinity, 0};
  const std::vector<uint32_t> orders = DefaultRdpOrders();
  const std::vector<double> rdp = ComputeRdp(q, noise_multiplier, steps, orders);
  return RdpToEpsilon(orders, rdp, delta, conversion);
}

core::Result<double> FindNoiseMultiplier(double q, uint64_t steps, double delta,
                                         double target_epsilon, RdpConversion conversion) {
  if (!(q > 0.0 && q <= 1.0)) {
    return core::InvalidArgumentError(fmt::format("sampling rate {} is outside (0, 1]", q));
  }
  if (steps == 0) return core::InvalidArgumentError("zero rounds");
  if (!(delta > 0.0 && delta < 1.0)) {
    return core::InvalidArgumentError(fmt::format("delta {} is outside (0, 1)", delta));
  }
  if (!(target_epsilon > 0.0) || !std::isfinite(target_epsilon)) {
    return core::InvalidArgumentError(fmt::format("target epsilon {} is not positive", target_epsilon));
  }
  auto epsilon_at = [&](double z) { return ComputeEpsilon(q, z, steps, delta, conversion).epsilon; };
  if (epsilon_at(kMaxNoiseMultiplier) > target_epsilon) {
    return core::OutOfRangeError(fmt::format(
        "epsilon {} is out of reach: even noise multiplier {} gives more", target_epsilon,
        kMaxNoiseMultiplier));
  }
  // Epsilon decreases in z: bracket [low, high] with eps(low) > target >= eps(high).
  double low = 0.0;
  double high = 1.0;
  while (epsilon_at(high) > target_epsilon) {
    low = high;
    high *= 2.0;
  }
  while (high - low > kSearchRelativePrecision * high) {
    const double middle = 0.5 * (low + high);
    if (middle > 0.0 && epsilon_at(middle) <= target_epsilon) {
      high = middle;
    } else {
      low = middle;
    }
  }
  MELODAI_CHECK_LE(epsilon_at(high), target_epsilon);
  return high;
}

RdpAccountant::RdpAccountant(std::vector<uint32_t> orders)
    : orders_(std::move(orders)), rdp_(orders_.size(), 0.0) {
  MELODAI_CHECK(!orders_.empty());
}

void RdpAccountant::AddSteps(double q, double noise_multiplier, uint64_t steps) {
  const std::vector<double> step = ComputeRdp(q, noise_multiplier, steps, orders_);
  for (size_t i = 0; i < rdp_.size(); ++i) rdp_[i] += step[i];
  steps_ += steps;
}

PrivacySpent RdpAccountant::Spent(double delta, RdpConversion conversion) const {
  if (steps_ == 0) return {0.0, 0};
  return RdpToEpsilon(orders_, rdp_, delta, conversion);
}

}  // namespace melodai::fl
