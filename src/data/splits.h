// MelodAI — licensed under the Apache License 2.0.
// Evaluation protocols: preprocessing, train/valid/test splits and the queries a recommender
// answers. A query is "given this history, rank the full catalogue; these are the targets".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "data/interactions.h"

namespace melodai::data {

enum class QueryKind : uint8_t {
  kNextItem,       // history = a prefix of the sequence in order; one target: the next item
  kSetCompletion,  // history = the visible part of a playlist; targets = the hidden tracks
};

// History = sequences[sequence].items[0, history_end); targets = items[target_begin, target_end).
struct EvalQuery {
  uint32_t sequence = 0;
  uint32_t history_end = 0;
  uint32_t target_begin = 0;
  uint32_t target_end = 0;
};

// Queries over their own copy of the sequences they refer to.
struct QuerySet {
  QueryKind kind = QueryKind::kSetCompletion;
  Interactions sequences;
  std::vector<EvalQuery> queries;
};

enum class Protocol : uint8_t {
  kNextItem,      // every position of every test sequence (GRU4Rec protocol)
  kContinuation,  // hide k tracks of each test playlist (RecSys Challenge 2018 protocol)
  kLeaveLastOut,  // per user: last event is the test target, the one before the valid target
};
enum class HideMode : uint8_t { kLast, kRandom };

// Parses "next-item", "continuation", "leave-last-out"; kInvalidArgument otherwise.
core::Result<Protocol> ParseProtocol(std::string_view text);
std::string_view ProtocolName(Protocol protocol);

struct PreprocessOptions {
  bool collapse_repeats = true;      // A A B -> A B
  uint32_t min_item_support = 5;     // drop items seen in fewer sequences-events than this
  uint32_t min_sequence_length = 2;  // then drop sequences shorter than this
};

struct PreprocessReport {
  size_t sequences_in = 0, sequences_out = 0;
  size_t events_in = 0, events_out = 0;
  size_t items_in = 0, items_out = 0;
};

// Applies collapse -> item support filter -> length filter, once each in that order (the
// reference GRU4Rec preprocessing). Item ids are unchanged (the catalog stays whole).
Interactions Preprocess(const Interactions& sequences, const PreprocessOptions& options,
                        PreprocessReport* report);

struct ProtocolOptions {
  Protocol protocol = Protocol::kContinuation;
  uint64_t seed = 42;
  double test_fraction = 0.1;   // of all sequences
  double valid_fraction = 0.1;  // of all sequences
  HideMode hide_mode = HideMode::kLast;
  double hide_fraction = 0.1;   // hidden = max(1, round(fraction * length)) ...
  uint32_t hide_count = 0;      // ... unless hide_count > 0: exactly that many
  PreprocessOptions preprocess;
  // Drop valid/test events whose item never occurs in train (then re-apply the length filter).
  bool drop_items_unseen_in_train = true;
};

struct ProtocolSplit {
  Interactions train;
  QuerySet valid;
  QuerySet test;
  PreprocessReport preprocess;
  size_t train_items = 0;  // distinct items in train
};

// kInvalidArgument naming the first absurd option (fractions outside their range, thresholds
// beyond any real dataset).
core::Status ValidateProtocolOptions(const ProtocolOptions& options);

// Builds the split. Sequence-level protocols shuffle sequences with `seed` and cut test,
// then valid, then train. kInvalidArgument for absurd fractions; kFailedPrecondition when
// nothing is left to train or test on.
core::Result<ProtocolSplit> MakeProtocolSplit(const Interactions& sequences,
                                              const ProtocolOptions& options);

// Random split of item ids into train/valid/test with the given fractions (70/15/15 for
// tagged song sets); each part sorted.
struct ItemSplit {
  std::vector<ItemId> train, valid, test;
};
core::Result<ItemSplit> SplitItems(size_t item_count, double train_fraction,
                                   double valid_fraction, uint64_t seed);

}  // namespace melodai::data
