// MelodAI — licensed under the Apache License 2.0.
// MakeRecommender: per-model tables of named parameters that parse override text into the
// option structs, then the models' own Create validation.
#include "rec/model_factory.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <functional>
#include <limits>
#include <span>
#include <type_traits>

#include "rec/als.h"
#include "rec/bpr.h"
#include "rec/item_knn.h"
#include "rec/neural.h"
#include "rec/popularity.h"
#include "rec/user_knn.h"

namespace melodai::rec {
namespace {

constexpr size_t kMaxThreadsHint = 4096;

// A named option of a model: parses value text into its field, or says what was expected.
struct Parameter {
  std::string_view key;
  std::function<core::Status(std::string_view text)> parse;
};

template <typename Integer>
std::function<core::Status(std::string_view)> Unsigned(Integer& field) {
  static_assert(std::is_unsigned_v<Integer>);
  return [&field](std::string_view text) {
    Integer value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size()) {
      return core::InvalidArgumentError(fmt::format("expected an unsigned {}-bit integer", 8 * sizeof(Integer)));
    }
    field = value;
    return core::Status::Ok();
  };
}

std::function<core::Status(std::string_view)> Real(double& field) {
  return [&field](std::string_view text) {
    double value = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(value)) {
      return core::InvalidArgumentError("expected a finite number");
    }
    field = value;
    return core::Status::Ok();
  };
}

std::function<core::Status(std::string_view)> Boolean(bool& field) {
  return [&field](std::string_view text) {
    if (text == "true" || text == "1") {
      field = true;
    } else if (text == "false" || text == "0") {
      field = false;
    } else {
      return core::InvalidArgumentError("expected true, false, 1 or 0");
    }
    return core::Status::Ok();
  };
}

std::string JoinKeys(std::span<const Parameter> parameters) {
  std::vector<std::string_view> keys;
  for (const Parameter& parameter : parameters) keys.push_back(parameter.key);
  std::sort(keys.begin(), keys.end());
  return fmt::format("{}", fmt::join(keys, ", "));
}

// Applies every override to its parameter; errors name the model and the parameter.
core::Status ApplyOverrides(std::string_view model,
                            const std::map<std::string, std::string>& overrides,
                            std::span<const Parameter> parameters) {
  for (const auto& entry : overrides) {
    const std::string& key = entry.first;
    const std::string& text = entry.second;
    const auto found = std::find_if(parameters.begin(), parameters.end(),
                                    [&key](const Parameter& p) { return p.key == key; });
    if (found == parameters.end()) {
      return core::InvalidArgumentError(fmt::format(
          "unknown parameter '{}' for model '{}' (valid: {})", key, model, JoinKeys(parameters)));
    }
    const core::Status status = found->parse(text);
    if (!status.ok()) {
      return core::InvalidArgumentError(
          fmt::format("invalid value '{}' for parameter '{}' of "
                      "model '{}': {}",
                      text, key, model, status.message()));
    }
  }
  return core::Status::Ok();
}

void AddBaselineParameters(BaselineOptions& options, std::vector<Parameter>& parameters) {
  parameters.push_back({"item_shrinkage", Real(options.item_shrinkage)});
  parameters.push_back({"user_shrinkage", Real(options.user_shrinkage)});
  parameters.push_back({"bias_iterations", Unsigned(options.iterations)});
}

std::vector<Parameter> PopParameters(MostPopularOptions& options) {
  std::vector<Parameter> parameters;
  AddBaselineParameters(options.baseline, parameters);
  return parameters;
}

std::vector<Parameter> ItemKnnParameters(ItemKnnOptions& options) {
  std::vector<Parameter> parameters = {
      {"neighbours", Unsigned(options.neighbours)},
      {"alpha", Real(options.alpha)},
      {"lambda", Real(options.lambda)},
      {"history_decay", Real(options.history_decay)},
      {"popularity_fallback", Boolean(options.popularity_fallback)},
      {"rating_shrinkage", Real(options.rating_shrinkage)},
  };
  AddBaselineParameters(options.baseline, parameters);
  return parameters;
}

std::vector<Parameter> UserKnnParameters(UserKnnOptions& options) {
  std::vector<Parameter> parameters = {
      {"neighbours", Unsigned(options.neighbours)},
      {"exponent", Real(options.exponent)},
      {"popularity_fallback", Boolean(options.popularity_fallback)},
      {"rating_shrinkage", Real(options.rating_shrinkage)},
  };
  AddBaselineParameters(options.baseline, parameters);
  return parameters;
}

std::vector<Parameter> AlsParameters(AlsOptions& options) {
  return {
      {"factors", Unsigned(options.factors)},
      {"regularization", Real(options.regularization)},
      {"alpha", Real(options.alpha)},
      {"iterations", Unsigned(options.iterations)},
      {"init_stddev", Real(options.init_stddev)},
      {"confidence",
       [&options](std::string_view text) {
         core::Result<AlsConfidence> confidence = ParseAlsConfidence(text);
         if (!confidence.ok()) return core::InvalidArgumentError("expected binary, weight or log");
         options.confidence = *confidence;
         return core::Status::Ok();
       }},
  };
}

std::vector<Parameter> BprParameters(BprOptions& options) {
  return {
      {"factors", Unsigned(options.factors)},
      {"learning_rate", Real(options.learning_rate)},
      {"regularization", Real(options.regularization)},
      {"bias_regularization", Real(options.bias_regularization)},
      {"epochs", Unsigned(options.epochs)},
      {"init_stddev", Real(options.init_stddev)},
      {"fold_in_epochs", Unsigned(options.fold_in_epochs)},
      {"fold_in_learning_rate", Real(options.fold_in_learning_rate)},
  };
}

std::function<core::Status(std::string_view)> Text(std::string& field) {
  return [&field](std::string_view text) {
    field = std::string(text);
    return core::Status::Ok();
  };
}

std::vector<Parameter> NeuralParameters(NeuralOptions& options) {
  std::vector<Parameter> parameters = {
      {"seed", Unsigned(options.seed)},  // the model's own seed; defaults to the split's --seed
      {"n_epochs", Unsigned(options.n_epochs)},
      {"batch_size", Unsigned(options.batch_size)},
      {"learning_rate", Real(options.learning_rate)},
      {"momentum", Real(options.momentum)},
      {"optimizer", Text(options.optimizer)},
      {"lr_decay", Real(options.lr_decay)},
      {"clip_norm", Real(options.clip_norm)},
      {"patience", Unsigned(options.patience)},
      {"valid_queries", Unsigned(options.valid_queries)},
      {"n_sample", Unsigned(options.n_sample)},
      {"sample_alpha", Real(options.sample_alpha)},
      {"loss", Text(options.loss)},
      {"bpreg", Real(options.bpreg)},
      {"elu_param", Real(options.elu_param)},
      {"constrained_embedding", Boolean(options.constrained_embedding)},
  };
  if (options.architecture == NeuralArchitecture::kRnn || options.architecture == NeuralArchitecture::kGru4Rec) {
    parameters.insert(parameters.end(), {
        {"layers", Unsigned(options.layers)},
        {"logq", Real(options.logq)},
        {"dropout_p_embed", Real(options.dropout_p_embed)},
        {"dropout_p_hidden", Real(options.dropout_p_hidden)},
        {"embedding", Unsigned(options.embedding)},
    });
  } else {
    parameters.insert(parameters.end(), {
        {"dim", Unsigned(options.dim)},
        {"blocks", Unsigned(options.blocks)},
        {"heads", Unsigned(options.heads)},
        {"max_length", Unsigned(options.max_length)},
        {"dropout", Real(options.dropout)},
        {"repeat", Text(options.repeat)},
    });
    if (options.architecture == NeuralArchitecture::kTransGru) {
      parameters.push_back({"branches", Text(options.branches)});
      parameters.push_back({"fusion", Text(options.fusion)});
    }
  }
  return parameters;
}

core::Result<NeuralOptions> NeuralOptionsFor(std::string_view name, const ModelConfig& config) {
  MELODAI_ASSIGN_OR_RETURN(NeuralArchitecture architecture, ParseNeuralArchitecture(name));
  NeuralOptions options = NeuralOptions::Defaults(architecture);
  options.seed = config.seed;
  const std::vector<Parameter> parameters = NeuralParameters(options);
  MELODAI_RETURN_IF_ERROR(ApplyOverrides(name, config.overrides, parameters));
  MELODAI_RETURN_IF_ERROR(options.Validate());
  return options;
}

core::Result<std::unique_ptr<Recommender>> BuildNeural(std::string_view name, const ModelConfig& config) {
  MELODAI_ASSIGN_OR_RETURN(NeuralOptions options, NeuralOptionsFor(name, config));
  MELODAI_ASSIGN_OR_RETURN(std::unique_ptr<NeuralRecommender> model, NeuralRecommender::Create(options));
  return std::unique_ptr<Recommender>(std::move(model));
}

bool IsNeural(std::string_view name) { return ParseNeuralArchitecture(name).ok(); }

// Parses the overrides into `options` and creates the model of type Model.
template <typename Model, typename Options>
core::Result<std::unique_ptr<Recommender>> Build(
    std::string_view name, const ModelConfig& config, Options options,
    std::vector<Parameter> (*parameters_of)(Options&)) {
  const std::vector<Parameter> parameters = parameters_of(options);
  MELODAI_RETURN_IF_ERROR(ApplyOverrides(name, config.overrides, parameters));
  MELODAI_ASSIGN_OR_RETURN(std::unique_ptr<Model> model, Model::Create(options));
  return std::unique_ptr<Recommender>(std::move(model));
}

core::Status UnknownModel(std::string_view name) {
  return core::InvalidArgumentError(fmt::format("unknown model '{}' (valid: {}, {})", name,
                                                fmt::join(RecommenderNames(), ", "),
                                                fmt::join(NeuralRecommenderNames(), ", ")));
}

std::vector<std::string> SortedKeys(const std::vector<Parameter>& parameters) {
  std::vector<std::string> keys;
  for (const Parameter& parameter : parameters) keys.emplace_back(parameter.key);
  std::sort(keys.begin(), keys.end());
  return keys;
}

}  // namespace

std::vector<std::string> RecommenderNames() { return {"pop", "itemknn", "userknn", "als", "bpr"}; }

std::vector<std::string> NeuralRecommenderNames() { return {"rnn", "gru4rec", "sasrec", "transgru"}; }

core::Result<NeuralOptions> MakeNeuralOptions(std::string_view name, const ModelConfig& config) {
  if (!IsNeural(name)) {
    return core::InvalidArgumentError(fmt::format("'{}' is not a neural model (valid: {})", name,
                                                  fmt::join(NeuralRecommenderNames(), ", ")));
  }
  return NeuralOptionsFor(name, config);
}

core::Result<std::vector<std::string>> RecommenderParameterNames(std::string_view name) {
  if (name == "pop") {
    MostPopularOptions options;
    return SortedKeys(PopParameters(options));
  }
  if (name == "itemknn") {
    ItemKnnOptions options;
    return SortedKeys(ItemKnnParameters(options));
  }
  if (name == "userknn") {
    UserKnnOptions options;
    return SortedKeys(UserKnnParameters(options));
  }
  if (name == "als") {
    AlsOptions options;
    return SortedKeys(AlsParameters(options));
  }
  if (name == "bpr") {
    BprOptions options;
    return SortedKeys(BprParameters(options));
  }
  if (IsNeural(name)) {
    NeuralOptions options = NeuralOptions::Defaults(*ParseNeuralArchitecture(name));
    return SortedKeys(NeuralParameters(options));
  }
  return UnknownModel(name);
}

core::Result<std::unique_ptr<Recommender>> MakeRecommender(std::string_view name,
                                                           const ModelConfig& config) {
  if (config.threads > kMaxThreadsHint) {
    return core::InvalidArgumentError(
        fmt::format("threads must be at most {}, got {}", kMaxThreadsHint, config.threads));
  }
  if (name == "pop") {
    return Build<MostPopular>(name, config, MostPopularOptions{}, &PopParameters);
  }
  if (name == "itemknn") {
    return Build<ItemKnn>(name, config, ItemKnnOptions{}, &ItemKnnParameters);
  }
  if (name == "userknn") {
    return Build<UserKnn>(name, config, UserKnnOptions{}, &UserKnnParameters);
  }
  if (name == "als") {
    AlsOptions options;
    options.seed = config.seed;
    return Build<Als>(name, config, options, &AlsParameters);
  }
  if (name == "bpr") {
    BprOptions options;
    options.seed = config.seed;
    return Build<Bpr>(name, config, options, &BprParameters);
  }
  if (IsNeural(name)) return BuildNeural(name, config);
  return UnknownModel(name);
}

}  // namespace melodai::rec
