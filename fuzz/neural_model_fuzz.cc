// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for the neural model-file reader (NeuralRecommender::LoadFromBytes, which
// Load calls with the bytes of a file): a model file on disk is untrusted. Any bytes must give a
// usable model (it then scores and serves a short history) or a Status whose message names the
// file, and never crash or throw. The first input byte picks the mode: even = the rest is a file
// without its checksum, appended here so that mutations reach the decoder behind it; odd = the
// rest is a whole file. The seeds (fuzz/corpus/neural_model) are tiny models of the catalogue
// below; the binary rewrites them, instead of fuzzing, when MELODAI_NEURAL_FUZZ_SEEDS names a
// folder.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"
#include "core/check.h"
#include "core/file_util.h"
#include "core/thread_pool.h"
#include "data/catalog.h"
#include "data/interactions.h"
#include "rec/neural.h"

namespace {

using namespace melodai;

constexpr std::string_view kFileName = "fuzz.model";
constexpr data::ItemId kItems = 32;
constexpr data::ItemId kTrainedItems = 30;  // the last two stay unknown to the seed models
constexpr size_t kTopK = 10;

const data::Catalog& FuzzCatalog() {
  static const data::Catalog* catalog = [] {
    auto* made = new data::Catalog();
    for (data::ItemId item = 0; item < kItems; ++item) {
      made->AddItem("fuzz:track:" + std::to_string(item), "track " + std::to_string(item),
                    "artist " + std::to_string(item % 8));
    }
    return made;
  }();
  return *catalog;
}

void CheckModel(const rec::NeuralRecommender& model) {
  const std::vector<data::ItemId> history = {3, 8, 31, 8};
  const std::vector<data::ItemId> excluded = {8};
  rec::Query query;
  query.kind = data::QueryKind::kNextItem;
  query.history = history;
  std::vector<float> scores(kItems);
  model.Score(query, scores);
  std::vector<rec::ScoredItem> top(kTopK);
  const size_t count = model.TopItems(query, kItems, excluded, kTopK, top);
  MELODAI_CHECK_EQ(count, kTopK);  // 31 items remain, the unknown ones ranked last
  std::vector<data::ItemId> items;
  for (size_t i = 0; i < count; ++i) {
    MELODAI_CHECK_LT(top[i].item, kItems);
    MELODAI_CHECK_NE(top[i].item, excluded[0]);
    items.push_back(top[i].item);
  }
  std::sort(items.begin(), items.end());
  MELODAI_CHECK(std::adjacent_find(items.begin(), items.end()) == items.end());
}

rec::NeuralOptions SeedOptions(rec::NeuralArchitecture architecture) {
  rec::NeuralOptions options = rec::NeuralOptions::Defaults(architecture);
  options.seed = 7;
  options.n_epochs = 1;
  options.batch_size = 4;
  options.n_sample = 4;
  options.valid_queries = 0;
  options.layers = 8;
  options.dim = 8;
  options.blocks = 1;
  options.heads = 1;
  options.max_length = 4;
  return options;
}

// Trains each seed model one epoch on a few sequences and writes it in both modes.
void WriteSeeds(const std::filesystem::path& folder) {
  data::Interactions train;
  for (data::ItemId sequence = 0; sequence < 8; ++sequence) {
    std::vector<data::ItemId> items;
    for (data::ItemId i = 0; i < 8; ++i) items.push_back((sequence * 5 + i * 3) % kTrainedItems);
    train.Append(items, {}, {}, sequence, "listener " + std::to_string(sequence));
  }
  rec::NeuralOptions untied_rnn = SeedOptions(rec::NeuralArchitecture::kRnn);
  untied_rnn.constrained_embedding = false;
  untied_rnn.embedding = 4;
  rec::NeuralOptions transgru = SeedOptions(rec::NeuralArchitecture::kTransGru);
  transgru.dim = 4;  // its two branches and fusion head make it the largest seed
  const std::vector<std::pair<std::string, rec::NeuralOptions>> seeds = {
      {"gru4rec", SeedOptions(rec::NeuralArchitecture::kGru4Rec)},
      {"rnn_untied", untied_rnn},
      {"sasrec", SeedOptions(rec::NeuralArchitecture::kSasRec)},
      {"transgru", transgru}};
  core::ThreadPool pool(1);
  for (const auto& [name, options] : seeds) {
    auto model = rec::NeuralRecommender::Create(options).value();
    MELODAI_CHECK(model->Fit(FuzzCatalog(), train, pool).ok());
    const std::filesystem::path model_path = folder / (name + ".model");
    MELODAI_CHECK(model->Save(model_path).ok());
    const std::string file = core::ReadFile(model_path).value();
    std::filesystem::remove(model_path);
    MELODAI_CHECK(core::WriteFileAtomic(folder / (name + ".body"),
                                        '\0' + file.substr(0, file.size() - 8)).ok());
    if (name == "gru4rec") {
      MELODAI_CHECK(core::WriteFileAtomic(folder / (name + ".file"), '\1' + file).ok());
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  if (const char* folder = std::getenv("MELODAI_NEURAL_FUZZ_SEEDS")) {
    WriteSeeds(folder);
    std::fprintf(stderr, "seeds written to %s\n", folder);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string bytes(rest);
  if ((data[0] & 1) == 0) {
    core::ByteWriter checksum;
    checksum.PutU64(core::Hash64(rest));
    bytes += checksum.buffer();
  }
  const auto loaded = rec::NeuralRecommender::LoadFromBytes(bytes, kFileName, FuzzCatalog());
  if (!loaded.ok()) {
    MELODAI_CHECK(loaded.status().message().starts_with(std::string(kFileName) + ": "));
    return 0;
  }
  CheckModel(**loaded);
  return 0;
}
