// MelodAI — licensed under the Apache License 2.0.
// Tests of the neural recommenders through their public interface: every architecture learns
// a tiny deterministic world (overfit), training is reproducible for a seed, a saved model
// reloads to bit-identical scores, and bad model files and options are refused with clear
// errors. Module shapes and gradients are tested in neural_nets_torch_test.cc.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/check.h"
#include "core/file_util.h"
#include "core/thread_pool.h"
#include "data/catalog.h"
#include "data/interactions.h"
#include "data/splits.h"
#include "rec/explain.h"
#include "rec/model_factory.h"
#include "rec/neural.h"
#include "testing/test_paths.h"
#include "testing/tiny_world.h"

namespace melodai::rec {
namespace {

using data::ItemId;

NeuralOptions TinyOptions(NeuralArchitecture architecture) {
  NeuralOptions options = NeuralOptions::Defaults(architecture);
  options.seed = 7;
  options.valid_queries = 0;
  options.layers = 32;
  options.n_sample = 8;
  options.batch_size = 16;
  options.n_epochs = 8;
  options.dropout_p_embed = 0.0;
  options.dim = 32;
  options.blocks = 1;
  options.heads = 2;
  options.max_length = 8;
  options.dropout = 0.0;
  if (architecture == NeuralArchitecture::kSasRec || architecture == NeuralArchitecture::kTransGru) {
    options.n_epochs = 15;
    options.learning_rate = 0.01;
  }
  return options;
}

class NeuralArchitectureTest : public ::testing::TestWithParam<NeuralArchitecture> {};

TEST_P(NeuralArchitectureTest, OverfitsATinyDeterministicWorld) {
  const data::Catalog catalog = testing::TinyWorldCatalog();
  const data::Interactions train = testing::TinyWorldChains(1);
  auto model = NeuralRecommender::Create(TinyOptions(GetParam()));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  core::ThreadPool pool(2);
  const core::Status fitted = (*model)->Fit(catalog, train, pool);
  ASSERT_TRUE(fitted.ok()) << fitted.ToString();
  EXPECT_GE(testing::TinyWorldNextItemAccuracy(**model, catalog), 0.9) << NeuralArchitectureName(GetParam());
  const TrainingReport& report = (*model)->training_report();
  ASSERT_FALSE(report.epochs.empty());
  EXPECT_LT(report.epochs.back().loss, report.epochs.front().loss);
  EXPECT_GT(report.events_per_second, 0.0);
  // Items never seen in training rank below every known item.
  std::vector<float> scores(testing::kTinyWorldItems);
  const std::vector<ItemId> history = {3};
  Query query;
  query.kind = data::QueryKind::kNextItem;
  query.history = history;
  (*model)->Score(query, scores);
  const float lowest_known = *std::min_element(scores.begin(), scores.begin() + 20);
  for (ItemId unseen = 20; unseen < testing::kTinyWorldItems; ++unseen) EXPECT_LT(scores[unseen], lowest_known);
}

TEST_P(NeuralArchitectureTest, SameSeedTrainsTheSameModelAndCheckpointsReloadBitForBit) {
  const data::Catalog catalog = testing::TinyWorldCatalog();
  const data::Interactions train = testing::TinyWorldChains(2, 120);
  NeuralOptions options = TinyOptions(GetParam());
  options.n_epochs = 2;
  core::ThreadPool pool(2);
  auto first = NeuralRecommender::Create(options);
  auto second = NeuralRecommender::Create(options);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE((*first)->Fit(catalog, train, pool).ok());
  ASSERT_TRUE((*second)->Fit(catalog, train, pool).ok());
  const std::vector<ItemId> history = {4, 9, 11};
  Query query;
  query.kind = data::QueryKind::kNextItem;
  query.history = history;
  std::vector<float> a(testing::kTinyWorldItems), b(testing::kTinyWorldItems), c(testing::kTinyWorldItems);
  (*first)->Score(query, a);
  (*second)->Score(query, b);
  EXPECT_EQ(a, b);

  // A caller that reuses one buffer for another history of the same length gets the scores of
  // the new history (session models cache the state of a prefix).
  std::vector<ItemId> buffer = {4, 9, 11};
  Query reused;
  reused.kind = data::QueryKind::kNextItem;
  reused.history = buffer;
  std::vector<float> d(testing::kTinyWorldItems), e(testing::kTinyWorldItems);
  (*first)->Score(reused, d);
  buffer[2] = 12;
  (*first)->Score(reused, d);
  const std::vector<ItemId> fresh_history = {4, 9, 12};
  Query fresh;
  fresh.kind = data::QueryKind::kNextItem;
  fresh.history = fresh_history;
  (*second)->Score(fresh, e);
  EXPECT_EQ(d, e);

  const std::filesystem::path path = testing::MakeTempDir("neural-" + std::string(NeuralArchitectureName(GetParam()))) / "model.bin";
  ASSERT_TRUE((*first)->Save(path).ok());
  auto loaded = NeuralRecommender::Load(path, catalog);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  (*loaded)->Score(query, c);
  EXPECT_EQ(0, std::memcmp(a.data(), c.data(), a.size() * sizeof(float)));
  EXPECT_EQ((*loaded)->options().ToJson(), options.ToJson());
}

INSTANTIATE_TEST_SUITE_P(All, NeuralArchitectureTest,
                         ::testing::Values(NeuralArchitecture::kRnn, NeuralArchitecture::kGru4Rec,
                                           NeuralArchitecture::kSasRec, NeuralArchitecture::kTransGru),
                         [](const auto& test_info) { return std::string(NeuralArchitectureName(test_info.param)); });

// The attention models also train with GRU4Rec's BPR-max, over every item or over the batch's
// targets plus sampled negatives.
TEST(AttentionTrainingTest, BprMaxOverEveryItemAndOverSampledNegativesOverfitsATinyWorld) {
  const data::Catalog catalog = testing::TinyWorldCatalog();
  const data::Interactions train = testing::TinyWorldChains(1);
  core::ThreadPool pool(2);
  for (const NeuralArchitecture architecture : {NeuralArchitecture::kSasRec, NeuralArchitecture::kTransGru}) {
    for (const uint32_t negatives : {0u, 8u}) {
      NeuralOptions options = TinyOptions(architecture);
      options.loss = "bpr-max";
      options.n_sample = negatives;
      options.bpreg = 0.5;
      auto model = NeuralRecommender::Create(options);
      ASSERT_TRUE(model.ok()) << model.status().ToString();
      ASSERT_TRUE((*model)->Fit(catalog, train, pool).ok());
      EXPECT_GE(testing::TinyWorldNextItemAccuracy(**model, catalog), 0.9)
          << NeuralArchitectureName(architecture) << ", " << negatives << " negatives";
      const TrainingReport& report = (*model)->training_report();
      EXPECT_LT(report.epochs.back().loss, report.epochs.front().loss);
    }
  }
}

// constrained_embedding = false gives the attention models their own output table: it trains,
// has the extra [N, D] weights, and reloads bit for bit.
TEST(AttentionTrainingTest, UntiedOutputTableTrainsAndReloads) {
  const data::Catalog catalog = testing::TinyWorldCatalog();
  const data::Interactions train = testing::TinyWorldChains(1);
  core::ThreadPool pool(2);
  NeuralOptions options = TinyOptions(NeuralArchitecture::kSasRec);
  auto tied = NeuralRecommender::Create(options);
  options.constrained_embedding = false;
  auto untied = NeuralRecommender::Create(options);
  ASSERT_TRUE(tied.ok() && untied.ok());
  ASSERT_TRUE((*tied)->Fit(catalog, train, pool).ok());
  ASSERT_TRUE((*untied)->Fit(catalog, train, pool).ok());
  EXPECT_GE(testing::TinyWorldNextItemAccuracy(**untied, catalog), 0.9);
  // 20 known items x dim 32 more weights.
  EXPECT_EQ((*untied)->training_report().parameter_count, (*tied)->training_report().parameter_count + 20 * 32);
  const std::filesystem::path path = testing::MakeTempDir("neural-untied") / "model.bin";
  ASSERT_TRUE((*untied)->Save(path).ok());
  auto loaded = NeuralRecommender::Load(path, catalog);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  const std::vector<ItemId> history = {4, 9, 11};
  Query query;
  query.kind = data::QueryKind::kNextItem;
  query.history = history;
  std::vector<float> a(testing::kTinyWorldItems), b(testing::kTinyWorldItems);
  (*untied)->Score(query, a);
  (*loaded)->Score(query, b);
  EXPECT_EQ(0, std::memcmp(a.data(), b.data(), a.size() * sizeof(float)));
}

// Session-parallel training: when one long session is left running alone at the end of an
// epoch, each of its events must weigh what one row of a full mini-batch weighs. Here the long
// session is noise (random items) five times as long as the rest of the epoch; if its steps were
// normalised by the one row still running, the model would learn the noise and forget the
// chains (with GRU4Rec's BPR-max it diverged on MPD this way).
TEST(SessionTrainingTest, ALongSessionAloneAtTheEndOfAnEpochDoesNotDrownTheRest) {
  const data::Catalog catalog = testing::TinyWorldCatalog();
  data::Interactions train = testing::TinyWorldChains(1);
  std::vector<ItemId> noise;
  uint64_t state = 99;
  for (int i = 0; i < 1000; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    noise.push_back(static_cast<ItemId>((state >> 33) % 20));
  }
  train.Append(noise, {}, {}, 400, "noise");
  NeuralOptions options = TinyOptions(NeuralArchitecture::kGru4Rec);
  options.loss = "bpr-max";
  options.elu_param = 0.5;
  options.bpreg = 1.95;
  options.n_epochs = 4;
  auto model = NeuralRecommender::Create(options);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  core::ThreadPool pool(2);
  const core::Status fitted = (*model)->Fit(catalog, train, pool);
  ASSERT_TRUE(fitted.ok()) << fitted.ToString();
  EXPECT_GE(testing::TinyWorldNextItemAccuracy(**model, catalog), 0.9);
}

// A small GRU4Rec trained one epoch, for the model-file tests.
std::unique_ptr<NeuralRecommender> TrainedTinyGru4Rec(const data::Catalog& catalog) {
  core::ThreadPool pool(1);
  NeuralOptions options = TinyOptions(NeuralArchitecture::kGru4Rec);
  options.n_epochs = 1;
  auto model = NeuralRecommender::Create(options);
  MELODAI_CHECK(model.ok());
  MELODAI_CHECK((*model)->Fit(catalog, testing::TinyWorldChains(3, 50), pool).ok());
  return std::move(*model);
}

TEST(NeuralModelFileTest, BadFilesAreRefusedWithTheReason) {
  const data::Catalog catalog = testing::TinyWorldCatalog();
  const std::unique_ptr<NeuralRecommender> model = TrainedTinyGru4Rec(catalog);
  const std::filesystem::path folder = testing::MakeTempDir("neural-bad");
  const std::filesystem::path good = folder / "good.bin";
  ASSERT_TRUE(model->Save(good).ok());
  auto bytes = core::ReadFile(good);
  ASSERT_TRUE(bytes.ok());

  auto write = [&](const std::string& name, const std::string& content) {
    const std::filesystem::path path = folder / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  };
  auto missing = NeuralRecommender::Load(folder / "absent.bin", catalog);
  EXPECT_FALSE(missing.ok());

  auto garbage = NeuralRecommender::Load(write("garbage.bin", "hello, this is not a model"), catalog);
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.status().message().find("not a MelodAI neural model"), std::string::npos)
      << garbage.status().ToString();

  auto truncated = NeuralRecommender::Load(write("truncated.bin", bytes->substr(0, bytes->size() / 2)), catalog);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), core::StatusCode::kDataLoss);

  std::string flipped = *bytes;
  flipped[flipped.size() / 2] ^= 0x40;
  auto corrupt = NeuralRecommender::Load(write("flipped.bin", flipped), catalog);
  ASSERT_FALSE(corrupt.ok());
  EXPECT_NE(corrupt.status().message().find("checksum"), std::string::npos) << corrupt.status().ToString();

  std::string old_version = *bytes;
  const size_t magic_at = old_version.find("MELODAI-NEURAL-4");
  ASSERT_NE(magic_at, std::string::npos);
  old_version[magic_at + 15] = '3';
  auto outdated = NeuralRecommender::Load(write("version3.bin", old_version), catalog);
  ASSERT_FALSE(outdated.ok());
  EXPECT_NE(outdated.status().message().find("format MELODAI-NEURAL-3 is not the supported MELODAI-NEURAL-4"),
            std::string::npos)
      << outdated.status().ToString();

  const data::Catalog other = testing::TinyWorldCatalog(testing::kTinyWorldItems + 1);
  auto wrong_catalog = NeuralRecommender::Load(good, other);
  ASSERT_FALSE(wrong_catalog.ok());
  EXPECT_EQ(wrong_catalog.status().code(), core::StatusCode::kFailedPrecondition);
  EXPECT_NE(wrong_catalog.status().message().find("another catalogue"), std::string::npos);
}

// The bytes `model` saves (a file in a fresh temporary folder `folder`); empty if saving failed.
std::string SavedBytes(const NeuralRecommender& model, std::string_view folder) {
  const std::filesystem::path path = testing::MakeTempDir(folder) / "model.bin";
  if (!model.Save(path).ok()) return {};
  auto bytes = core::ReadFile(path);
  return bytes.ok() ? *bytes : std::string();
}

// A model file made of `body` and its correct checksum, so that an edited body reaches the
// decoder behind the checksum.
std::string WithChecksum(std::string body) {
  core::ByteWriter checksum;
  checksum.PutU64(core::Hash64(body));
  return body + checksum.buffer();
}

// Goal: a well-formed file must not make Load build a network far larger than the file. Method:
// a 32-unit GRU4Rec file with `layers` rewritten to 4096 (valid, checksum fixed) would build and
// initialise ~400 MB of weights before noticing the missing tensors; it is refused up front. A
// body cut inside the tensors is refused with a message that names the file.
TEST(NeuralModelFileTest, OptionsThatNeedMoreWeightsThanStoredAreRefusedBeforeBuilding) {
  const data::Catalog catalog = testing::TinyWorldCatalog();
  const std::unique_ptr<NeuralRecommender> model = TrainedTinyGru4Rec(catalog);
  const std::string bytes = SavedBytes(*model, "neural-too-large");
  ASSERT_FALSE(bytes.empty());
  const std::string body = bytes.substr(0, bytes.size() - 8);

  // Save's layout up to `layers`: magic (8 + 16 bytes), architecture u8, seed u64, n_epochs and
  // batch_size u32, learning_rate and momentum f64, optimizer (8 + 7 bytes, "adagrad"),
  // lr_decay and clip_norm f64, patience and valid_queries u32.
  constexpr size_t kLayersOffset = 24 + 1 + 8 + 4 + 4 + 8 + 8 + 15 + 8 + 8 + 4 + 4;
  uint32_t layers = 0;
  std::memcpy(&layers, body.data() + kLayersOffset, sizeof(layers));
  ASSERT_EQ(layers, model->options().layers);
  std::string widened = body;
  layers = 4096;
  std::memcpy(widened.data() + kLayersOffset, &layers, sizeof(layers));
  auto too_large = NeuralRecommender::LoadFromBytes(WithChecksum(widened), "wide.bin", catalog);
  ASSERT_FALSE(too_large.ok());
  EXPECT_EQ(too_large.status().code(), core::StatusCode::kDataLoss);
  EXPECT_TRUE(too_large.status().message().starts_with("wide.bin: ")) << too_large.status().ToString();
  EXPECT_NE(too_large.status().message().find("need at least"), std::string::npos) << too_large.status().ToString();

  auto cut = NeuralRecommender::LoadFromBytes(WithChecksum(body.substr(0, body.size() - 100)), "cut.bin", catalog);
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.status().code(), core::StatusCode::kDataLoss);
  EXPECT_TRUE(cut.status().message().starts_with("cut.bin: ")) << cut.status().ToString();

  auto same = NeuralRecommender::LoadFromBytes(bytes, "same.bin", catalog);
  EXPECT_TRUE(same.ok()) << same.status().ToString();
}

// A file whose checksum is right but whose weights hold a NaN or an infinity (a diverged model)
// is refused, naming the tensor and the value.
TEST(NeuralModelFileTest, NonFiniteWeightsAreRefusedByName) {
  const data::Catalog catalog = testing::TinyWorldCatalog();
  const std::string bytes = SavedBytes(*TrainedTinyGru4Rec(catalog), "neural-nan");
  ASSERT_FALSE(bytes.empty());
  const std::string body = bytes.substr(0, bytes.size() - 8);
  // The body ends with the last tensor's values; overwrite the last one.
  for (const float value : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    std::string edited = body;
    std::memcpy(edited.data() + edited.size() - sizeof(float), &value, sizeof(float));
    auto loaded = NeuralRecommender::LoadFromBytes(WithChecksum(edited), "diverged.bin", catalog);
    ASSERT_FALSE(loaded.ok());
    EXPECT_EQ(loaded.status().code(), core::StatusCode::kDataLoss);
    EXPECT_TRUE(loaded.status().message().starts_with("diverged.bin: tensor '")) << loaded.status().ToString();
    EXPECT_NE(loaded.status().message().find("diverged or the file is corrupt"), std::string::npos)
        << loaded.status().ToString();
  }
}

TEST(NeuralOptionsTest, AbsurdValuesAreNamed) {
  ModelConfig config;
  config.overrides["layers"] = "0";
  auto made = MakeRecommender("gru4rec", config);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.status().message().find("layers"), std::string::npos) << made.status().ToString();
  config.overrides = {{"loss", "hinge"}};
  made = MakeRecommender("gru4rec", config);
  ASSERT_FALSE(made.ok());
  EXPECT_NE(made.status().message().find("loss"), std::string::npos) << made.status().ToString();
  config.overrides = {{"heads", "3"}};  // 64 is not divisible by 3
  made = MakeRecommender("sasrec", config);
  ASSERT_FALSE(made.ok());
  config.overrides = {{"branches", "neither"}};
  EXPECT_FALSE(MakeRecommender("transgru", config).ok());
  EXPECT_FALSE(MakeNeuralOptions("itemknn", ModelConfig{}).ok());
}

TEST(ExplainTest, LeaveOneOutNamesTheTrackThatDrivesTheRecommendation) {
  // Two worlds that never mix: items 0..9 and items 10..19. A history with one track of each
  // must explain every recommendation by the track of its own world.
  const data::Catalog catalog = testing::TinyWorldCatalog();
  data::Interactions train;
  for (int s = 0; s < 60; ++s) {
    const ItemId base = s % 2 == 0 ? 0 : 10;
    std::vector<ItemId> items;
    for (int i = 0; i < 5; ++i) items.push_back(base + static_cast<ItemId>((s * 3 + i * 7) % 10));
    train.Append(items, {}, {}, s, "");
  }
  core::ThreadPool pool(2);
  auto model = MakeRecommender("itemknn", ModelConfig{});
  ASSERT_TRUE(model.ok());
  ASSERT_TRUE((*model)->Fit(catalog, train, pool).ok());
  const std::vector<ItemId> history = {2, 13};
  ExplainOptions options;
  options.k = 6;
  options.explain = true;
  auto result = RecommendWithExplanations(**model, catalog, history, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  ASSERT_EQ(result->items.size(), 6u);
  for (const ExplainedItem& item : result->items) {
    EXPECT_NE(item.item, 2u);
    EXPECT_NE(item.item, 13u);
    ASSERT_EQ(item.because.size(), 1u) << "item " << item.item;
    EXPECT_EQ(item.because.front().position, item.item < 10 ? 0u : 1u) << "item " << item.item;
    EXPECT_GT(item.because.front().contribution, 0.0f);
  }
  options.k = 0;
  EXPECT_FALSE(RecommendWithExplanations(**model, catalog, history, options).ok());
  options.k = 3;
  const std::vector<ItemId> outside = {0, 99};
  EXPECT_FALSE(RecommendWithExplanations(**model, catalog, outside, options).ok());
}

}  // namespace
}  // namespace melodai::rec
