// MelodAI — licensed under the Apache License 2.0.
// Linear regression on synthetic non-IID clients, with exact least squares for reference.
#include "fl/testing_trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace melodai::fl {
namespace {

constexpr uint64_t kTruthStream = 1;
constexpr uint64_t kClusterStream = 2;
constexpr uint64_t kTestStream = 3;
constexpr uint64_t kClientStreamBase = 1000;

// Solves the symmetric positive definite system a x = b (n x n, row-major) by Gaussian
// elimination with partial pivoting. REQUIRES: a non-singular.
std::vector<double> Solve(std::vector<double> a, std::vector<double> b) {
  const size_t n = b.size();
  for (size_t col = 0; col < n; ++col) {
    size_t pivot = col;
    for (size_t row = col + 1; row < n; ++row) {
      if (std::abs(a[row * n + col]) > std::abs(a[pivot * n + col])) pivot = row;
    }
    MELODAI_CHECK_GT(std::abs(a[pivot * n + col]), 1e-12);
    for (size_t k = 0; k < n; ++k) std::swap(a[col * n + k], a[pivot * n + k]);
    std::swap(b[col], b[pivot]);
    for (size_t row = col + 1; row < n; ++row) {
      const double factor = a[row * n + col] / a[col * n + col];
      for (size_t k = col; k < n; ++k) a[row * n + k] -= factor * a[col * n + k];
      b[row] -= factor * b[col];
    }
  }
  std::vector<double> x(n);
  for (size_t i = n; i-- > 0;) {
    double total = b[i];
    for (size_t k = i + 1; k < n; ++k) total -= a[i * n + k] * x[k];
    x[i] = total / a[i * n + i];
  }
  return x;
}

}  // namespace

LinearRegressionTrainer::LinearRegressionTrainer(const LinearTrainerOptions& options)
    : options_(options) {
  MELODAI_CHECK_GT(options.clients, 0u);
  MELODAI_CHECK_GT(options.features, 0u);
  MELODAI_CHECK_GT(options.min_examples, 0u);
  MELODAI_CHECK_LE(options.min_examples, options.max_examples);
  MELODAI_CHECK_GT(options.clusters, 0u);
  MELODAI_CHECK_GT(options.dirichlet_alpha, 0.0);
  MELODAI_CHECK_LT(options.empty_clients, options.clients);
  const core::Rng root(options.seed);
  core::Rng truth = root.Fork(kTruthStream);
  true_weights_.resize(options.features + 1);
  for (double& w : true_weights_) w = truth.Normal();
  core::Rng clusters = root.Fork(kClusterStream);
  cluster_means_.resize(static_cast<size_t>(options.clusters) * options.features);
  for (double& m : cluster_means_) m = options.cluster_spread * clusters.Normal();
  core::Rng test = root.Fork(kTestStream);
  const std::vector<double> uniform(options.clusters, 1.0 / options.clusters);
  for (uint32_t i = 0; i < options.test_examples; ++i) {
    GenerateExample(test, uniform, true_weights_, test_);
  }
}

std::string LinearRegressionTrainer::Describe() const {
  return fmt::format("linear regression, {} features, {} clients, Dirichlet alpha {}",
                     options_.features, options_.clients, options_.dirichlet_alpha);
}

uint64_t LinearRegressionTrainer::client_examples(ClientId client) const {
  if (client >= options_.clients || client >= options_.clients - options_.empty_clients) return 0;
  core::Rng rng = core::Rng(options_.seed).Fork(kClientStreamBase + client);
  return static_cast<uint64_t>(rng.UniformInt(options_.min_examples, options_.max_examples));
}

void LinearRegressionTrainer::GenerateExample(core::Rng& rng, std::span<const double> mix,
                                              std::span<const double> truth, Examples& out) const {
  const size_t d = options_.features;
  const size_t cluster = rng.Categorical(mix);
  double label = truth[d];
  for (size_t j = 0; j < d; ++j) {
    const double x = cluster_means_[cluster * d + j] + rng.Normal();
    out.features.push_back(x);
    label += truth[j] * x;
  }
  out.labels.push_back(label + options_.label_noise * rng.Normal());
}

void LinearRegressionTrainer::GenerateClient(ClientId client, Examples& train,
                                             Examples* held_out) const {
  // The same stream as client_examples: the count is its first draw.
  core::Rng rng = core::Rng(options_.seed).Fork(kClientStreamBase + client);
  const auto count = static_cast<uint32_t>(rng.UniformInt(options_.min_examples, options_.max_examples));
  const std::vector<double> mix = rng.Dirichlet(options_.dirichlet_alpha, options_.clusters);
  std::vector<double> truth = true_weights_;
  for (double& w : truth) w += options_.personal_shift * rng.Normal();
  for (uint32_t i = 0; i < count; ++i) GenerateExample(rng, mix, truth, train);
  if (held_out != nullptr) {
    for (uint32_t i = 0; i < options_.personal_test_examples; ++i) {
      GenerateExample(rng, mix, truth, *held_out);
    }
  }
}

std::vector<float> LinearRegressionTrainer::InitialWeights(uint64_t seed) const {
  core::Rng rng(seed);
  std::vector<float> weights(parameter_count());
  for (float& w : weights) w = static_cast<float>(0.01 * rng.Normal());
  return weights;
}

double LinearRegressionTrainer::Sgd(const Examples& data, std::span<const float> global,
                                    const LocalTrainConfig& config,
                                    std::vector<double>& weights) const {
  const size_t d = options_.features;
  const size_t n = data.count();
  const size_t batch = std::max<size_t>(1, config.batch_size);
  core::Rng rng(config.seed);
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::vector<double> gradient(d + 1);
  double epoch_loss = 0.0;
  for (uint32_t epoch = 0; epoch < config.epochs; ++epoch) {
    rng.Shuffle(order);
    epoch_loss = 0.0;
    for (size_t begin = 0; begin < n; begin += batch) {
      const size_t end = std::min(n, begin + batch);
      std::fill(gradient.begin(), gradient.end(), 0.0);
      for (size_t k = begin; k < end; ++k) {
        const double* x = &data.features[static_cast<size_t>(order[k]) * d];
        double prediction = weights[d];
        for (size_t j = 0; j < d; ++j) prediction += weights[j] * x[j];
        const double error = prediction - data.labels[order[k]];
        epoch_loss += 0.5 * error * error;
        for (size_t j = 0; j < d; ++j) gradient[j] += error * x[j];
        gradient[d] += error;
      }
      const double scale = 1.0 / static_cast<double>(end - begin);
      for (size_t j = 0; j <= d; ++j) {
        const double prox = config.prox_mu * (weights[j] - static_cast<double>(global[j]));
        weights[j] -= config.learning_rate * (gradient[j] * scale + prox);
      }
    }
    epoch_loss /= static_cast<double>(n);
  }
  return epoch_loss;
}

core::Result<LocalTrainResult> LinearRegressionTrainer::TrainClient(ClientId client,
                                                                    std::span<const float> global,
                                                                    const LocalTrainConfig& config,
                                                                    std::span<float> update) const {
  if (client >= options_.clients) {
    return core::InvalidArgumentError(fmt::format("client {} of {}", client, options_.clients));
  }
  if (global.size() != parameter_count() || update.size() != parameter_count()) {
    return core::InvalidArgumentError("weights of the wrong size");
  }
  if (client_examples(client) == 0) {
    return core::FailedPreconditionError(fmt::format("client {} has no training examples", client));
  }
  Examples train;
  GenerateClient(client, train, nullptr);
  std::vector<double> weights(global.begin(), global.end());
  LocalTrainResult result;
  result.loss = Sgd(train, global, config, weights);
  result.examples = train.count();
  for (size_t j = 0; j < weights.size(); ++j) {
    update[j] = static_cast<float>(weights[j] - static_cast<double>(global[j]));
  }
  return result;
}

double LinearRegressionTrainer::Mse(std::span<const float> weights, const Examples& examples) const {
  const size_t d = options_.features;
  double total = 0.0;
  for (size_t i = 0; i < examples.count(); ++i) {
    double prediction = weights[d];
    for (size_t j = 0; j < d; ++j) prediction += weights[j] * examples.features[i * d + j];
    const double error = prediction - examples.labels[i];
    total += error * error;
  }
  return examples.count() == 0 ? 0.0 : total / static_cast<double>(examples.count());
}

double LinearRegressionTrainer::TestMse(std::span<const float> weights) const {
  MELODAI_CHECK_EQ(weights.size(), parameter_count());
  return Mse(weights, test_);
}

core::Result<EvalMetrics> LinearRegressionTrainer::Evaluate(std::span<const float> weights) const {
  if (weights.size() != parameter_count()) return core::InvalidArgumentError("weights of the wrong size");
  EvalMetrics metrics;
  metrics.loss = Mse(weights, test_);
  metrics.queries = test_.count();
  return metrics;
}

core::Result<PersonalizationResult> LinearRegressionTrainer::Personalize(
    ClientId client, std::span<const float> global, const LocalTrainConfig& config) const {
  if (client >= personalization_client_count() || global.size() != parameter_count()) {
    return core::InvalidArgumentError("client or weights out of range");
  }
  if (client_examples(client) == 0 || options_.personal_test_examples == 0) {
    return core::FailedPreconditionError(fmt::format("client {} has no held-out events", client));
  }
  Examples train;
  Examples held_out;
  GenerateClient(client, train, &held_out);
  std::vector<double> weights(global.begin(), global.end());
  Sgd(train, global, config, weights);
  const std::vector<float> tuned(weights.begin(), weights.end());
  PersonalizationResult result;
  result.global.loss = Mse(global, held_out);
  result.global.queries = held_out.count();
  result.personalized.loss = Mse(tuned, held_out);
  result.personalized.queries = held_out.count();
  return result;
}

std::vector<float> LinearRegressionTrainer::TrueWeights() const {
  return std::vector<float>(true_weights_.begin(), true_weights_.end());
}

std::vector<float> LinearRegressionTrainer::OptimalWeights() const {
  const size_t d = options_.features;
  const size_t p = d + 1;
  std::vector<double> gram(p * p, 0.0);
  std::vector<double> moment(p, 0.0);
  std::vector<double> row(p);
  for (ClientId client = 0; client < options_.clients; ++client) {
    if (client_examples(client) == 0) continue;
    Examples train;
    GenerateClient(client, train, nullptr);
    for (size_t i = 0; i < train.count(); ++i) {
      for (size_t j = 0; j < d; ++j) row[j] = train.features[i * d + j];
      row[d] = 1.0;
      for (size_t a = 0; a < p; ++a) {
        moment[a] += row[a] * train.labels[i];
        for (size_t b = 0; b < p; ++b) gram[a * p + b] += row[a] * row[b];
      }
    }
  }
  const std::vector<double> solution = Solve(std::move(gram), std::move(moment));
  return std::vector<float>(solution.begin(), solution.end());
}

}  // namespace melodai::fl
