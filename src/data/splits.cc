// MelodAI — licensed under the Apache License 2.0.
// Preprocessing and evaluation protocol splits.
#include "data/splits.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

#include "core/rng.h"

namespace melodai::data {
namespace {

// Copies `sequence` keeping only events for which keep(position) is true.
template <typename Keep>
void AppendFiltered(const SequenceView& sequence, Interactions& out, Keep keep,
                    std::vector<ItemId>& items, std::vector<int64_t>& timestamps,
                    std::vector<float>& weights) {
  items.clear();
  timestamps.clear();
  weights.clear();
  for (size_t i = 0; i < sequence.size(); ++i) {
    if (!keep(i)) continue;
    items.push_back(sequence.items[i]);
    if (!sequence.timestamps.empty()) timestamps.push_back(sequence.timestamps[i]);
    if (!sequence.weights.empty()) weights.push_back(sequence.weights[i]);
  }
  out.Append(items, timestamps, weights, sequence.external_id, sequence.name);
}

// Marks the items occurring in `sequences`: marks[i] != 0 iff item i occurs.
std::vector<uint8_t> ItemMarks(const Interactions& sequences) {
  std::vector<uint8_t> marks(sequences.ItemBound(), 0);
  for (ItemId item : sequences.all_items()) marks[item] = 1;
  return marks;
}

size_t CountMarked(const std::vector<uint8_t>& marks) {
  return static_cast<size_t>(std::count(marks.begin(), marks.end(), uint8_t{1}));
}

size_t DistinctItems(const Interactions& sequences) { return CountMarked(ItemMarks(sequences)); }

// Sequences with at least `min_length` events, copied.
Interactions DropShort(const Interactions& sequences, uint32_t min_length) {
  Interactions out(sequences.has_timestamps(), sequences.has_weights());
  for (size_t s = 0; s < sequences.size(); ++s) {
    if (sequences[s].size() >= min_length) out.Append(sequences[s]);
  }
  return out;
}

// Number of hidden events for a sequence of `length`: max(1, round(fraction * length)) or a
// fixed count, always leaving at least one visible event.
uint32_t HiddenCount(size_t length, const ProtocolOptions& options) {
  size_t hidden = options.hide_count > 0
                      ? options.hide_count
                      : std::max<size_t>(1, static_cast<size_t>(std::llround(
                                                options.hide_fraction * static_cast<double>(length))));
  hidden = std::min(hidden, length - 1);
  return static_cast<uint32_t>(hidden);
}

}  // namespace

core::Status ValidateProtocolOptions(const ProtocolOptions& options) {
  auto bad = [](const std::string& what) { return core::InvalidArgumentError(what); };
  if (!(options.test_fraction > 0.0 && options.test_fraction < 1.0)) {
    return bad("test fraction must lie in (0, 1), got " + std::to_string(options.test_fraction));
  }
  if (!(options.valid_fraction >= 0.0 && options.valid_fraction < 1.0)) {
    return bad("valid fraction must lie in [0, 1), got " + std::to_string(options.valid_fraction));
  }
  if (options.test_fraction + options.valid_fraction >= 0.95) {
    return bad("test + valid fractions leave less than 5% for training");
  }
  if (options.hide_count == 0 && !(options.hide_fraction > 0.0 && options.hide_fraction < 1.0)) {
    return bad("hide fraction must lie in (0, 1), got " + std::to_string(options.hide_fraction));
  }
  if (options.preprocess.min_sequence_length > 1'000'000 ||
      options.preprocess.min_item_support > 1'000'000'000) {
    return bad("preprocessing thresholds are absurdly large");
  }
  return core::Status::Ok();
}

core::Result<Protocol> ParseProtocol(std::string_view text) {
  if (text == "next-item") return Protocol::kNextItem;
  if (text == "continuation") return Protocol::kContinuation;
  if (text == "leave-last-out") return Protocol::kLeaveLastOut;
  return core::InvalidArgumentError("unknown protocol '" + std::string(text) +
                                    "' (use next-item, continuation or leave-last-out)");
}

std::string_view ProtocolName(Protocol protocol) {
  switch (protocol) {
    case Protocol::kNextItem: return "next-item";
    case Protocol::kContinuation: return "continuation";
    case Protocol::kLeaveLastOut: return "leave-last-out";
  }
  return "unknown";
}

Interactions Preprocess(const Interactions& sequences, const PreprocessOptions& options,
                        PreprocessReport* report) {
  std::vector<ItemId> items;
  std::vector<int64_t> timestamps;
  std::vector<float> weights;
  // 1. Collapse consecutive repeats.
  Interactions collapsed(sequences.has_timestamps(), sequences.has_weights());
  collapsed.Reserve(sequences.size(), sequences.event_count());
  for (size_t s = 0; s < sequences.size(); ++s) {
    const SequenceView view = sequences[s];
    AppendFiltered(view, collapsed, [&](size_t i) {
      return !options.collapse_repeats || i == 0 || view.items[i] != view.items[i - 1];
    }, items, timestamps, weights);
  }
  // 2. Item support (events per item after collapsing).
  std::vector<uint32_t> support(collapsed.ItemBound(), 0);
  for (ItemId item : collapsed.all_items()) ++support[item];
  Interactions supported(sequences.has_timestamps(), sequences.has_weights());
  supported.Reserve(collapsed.size(), collapsed.event_count());
  for (size_t s = 0; s < collapsed.size(); ++s) {
    const SequenceView view = collapsed[s];
    AppendFiltered(view, supported, [&](size_t i) {
      return support[view.items[i]] >= options.min_item_support;
    }, items, timestamps, weights);
  }
  // 3. Sequence length.
  Interactions out = DropShort(supported, options.min_sequence_length);
  if (report != nullptr) {
    report->sequences_in = sequences.size();
    report->events_in = sequences.event_count();
    report->items_in = DistinctItems(sequences);
    report->sequences_out = out.size();
    report->events_out = out.event_count();
    report->items_out = DistinctItems(out);
  }
  return out;
}

namespace {

// Copies valid/test sequences, dropping events whose item is absent from train when asked,
// then sequences that became too short.
Interactions RestrictToTrainItems(const Interactions& sequences, const std::vector<uint8_t>& in_train,
                                  const ProtocolOptions& options) {
  if (!options.drop_items_unseen_in_train) {
    return DropShort(sequences, std::max<uint32_t>(2, options.preprocess.min_sequence_length));
  }
  Interactions kept(sequences.has_timestamps(), sequences.has_weights());
  std::vector<ItemId> items;
  std::vector<int64_t> timestamps;
  std::vector<float> weights;
  for (size_t s = 0; s < sequences.size(); ++s) {
    const SequenceView view = sequences[s];
    AppendFiltered(view, kept, [&](size_t i) {
      return view.items[i] < in_train.size() && in_train[view.items[i]] != 0;
    }, items, timestamps, weights);
  }
  return DropShort(kept, std::max<uint32_t>(2, options.preprocess.min_sequence_length));
}

QuerySet NextItemQueries(Interactions sequences) {
  QuerySet set;
  set.kind = QueryKind::kNextItem;
  for (uint32_t s = 0; s < sequences.size(); ++s) {
    const uint32_t length = static_cast<uint32_t>(sequences[s].size());
    for (uint32_t t = 1; t < length; ++t) set.queries.push_back({s, t, t, t + 1});
  }
  set.sequences = std::move(sequences);
  return set;
}

// Hides the last or a random k events of each sequence; random hiding moves the hidden events
// (in their original order) behind the visible ones so that every query is a prefix/suffix cut.
QuerySet ContinuationQueries(const Interactions& sequences, const ProtocolOptions& options,
                             const core::Rng& rng) {
  QuerySet set;
  set.kind = QueryKind::kSetCompletion;
  set.sequences = Interactions(sequences.has_timestamps(), sequences.has_weights());
  std::vector<ItemId> items;
  std::vector<int64_t> timestamps;
  std::vector<float> weights;
  std::vector<uint32_t> order;
  for (uint32_t s = 0; s < sequences.size(); ++s) {
    const SequenceView view = sequences[s];
    const uint32_t length = static_cast<uint32_t>(view.size());
    const uint32_t hidden = HiddenCount(length, options);
    order.resize(length);
    std::iota(order.begin(), order.end(), 0u);
    if (options.hide_mode == HideMode::kRandom) {
      core::Rng sequence_rng = rng.Fork(s);
      std::vector<uint8_t> is_hidden(length, 0);
      std::vector<uint32_t> positions(order);
      sequence_rng.Shuffle(positions);
      for (uint32_t i = 0; i < hidden; ++i) is_hidden[positions[i]] = 1;
      std::stable_partition(order.begin(), order.end(), [&](uint32_t p) { return !is_hidden[p]; });
    }
    items.clear();
    timestamps.clear();
    weights.clear();
    for (uint32_t p : order) {
      items.push_back(view.items[p]);
      if (!view.timestamps.empty()) timestamps.push_back(view.timestamps[p]);
      if (!view.weights.empty()) weights.push_back(view.weights[p]);
    }
    set.sequences.Append(items, timestamps, weights, view.external_id, view.name);
    set.queries.push_back({s, length - hidden, length - hidden, length});
  }
  return set;
}

core::Result<ProtocolSplit> LeaveLastOutSplit(const Interactions& pre, ProtocolSplit split) {
  split.train = Interactions(pre.has_timestamps(), pre.has_weights());
  Interactions holdout(pre.has_timestamps(), pre.has_weights());
  for (size_t s = 0; s < pre.size(); ++s) {
    const SequenceView view = pre[s];
    if (view.size() < 3) {
      split.train.Append(view);
      continue;
    }
    const size_t cut = view.size() - 2;
    SequenceView head = view;
    head.items = view.items.first(cut);
    if (!view.timestamps.empty()) head.timestamps = view.timestamps.first(cut);
    if (!view.weights.empty()) head.weights = view.weights.first(cut);
    split.train.Append(head);
    holdout.Append(view);
  }
  const std::vector<uint8_t> in_train = ItemMarks(split.train);
  split.valid.kind = split.test.kind = QueryKind::kNextItem;
  for (uint32_t s = 0; s < holdout.size(); ++s) {
    const SequenceView view = holdout[s];
    const uint32_t length = static_cast<uint32_t>(view.size());
    const auto seen = [&](ItemId item) { return item < in_train.size() && in_train[item] != 0; };
    if (seen(view.items[length - 2])) split.valid.queries.push_back({s, length - 2, length - 2, length - 1});
    if (seen(view.items[length - 1])) split.test.queries.push_back({s, length - 1, length - 1, length});
  }
  split.valid.sequences = holdout;
  split.test.sequences = std::move(holdout);
  split.train_items = CountMarked(in_train);
  if (split.test.queries.empty()) {
    return core::FailedPreconditionError("leave-last-out: no user has 3 or more events after preprocessing");
  }
  return split;
}

}  // namespace

core::Result<ProtocolSplit> MakeProtocolSplit(const Interactions& sequences,
                                              const ProtocolOptions& options) {
  MELODAI_RETURN_IF_ERROR(ValidateProtocolOptions(options));
  ProtocolSplit split;
  Interactions pre = Preprocess(sequences, options.preprocess, &split.preprocess);
  if (options.protocol == Protocol::kLeaveLastOut) return LeaveLastOutSplit(pre, std::move(split));

  const size_t n = pre.size();
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  core::Rng rng(options.seed);
  rng.Shuffle(order);
  const size_t test_n = static_cast<size_t>(std::llround(options.test_fraction * static_cast<double>(n)));
  const size_t valid_n = static_cast<size_t>(std::llround(options.valid_fraction * static_cast<double>(n)));
  if (test_n == 0 || test_n + valid_n >= n) {
    return core::FailedPreconditionError("only " + std::to_string(n) +
                                         " sequences survive preprocessing: too few to split");
  }
  // Each part keeps the source order of its sequences.
  std::vector<uint32_t> test_ids(order.begin(), order.begin() + static_cast<long>(test_n));
  std::vector<uint32_t> valid_ids(order.begin() + static_cast<long>(test_n),
                                  order.begin() + static_cast<long>(test_n + valid_n));
  std::vector<uint32_t> train_ids(order.begin() + static_cast<long>(test_n + valid_n), order.end());
  for (auto* ids : {&test_ids, &valid_ids, &train_ids}) std::sort(ids->begin(), ids->end());

  auto gather = [&](const std::vector<uint32_t>& ids) {
    Interactions part(pre.has_timestamps(), pre.has_weights());
    for (uint32_t id : ids) part.Append(pre[id]);
    return part;
  };
  split.train = gather(train_ids);
  const std::vector<uint8_t> in_train = ItemMarks(split.train);
  split.train_items = CountMarked(in_train);
  Interactions valid = RestrictToTrainItems(gather(valid_ids), in_train, options);
  Interactions test = RestrictToTrainItems(gather(test_ids), in_train, options);
  if (test.empty()) return core::FailedPreconditionError("no test sequence survives filtering");
  if (options.protocol == Protocol::kNextItem) {
    split.valid = NextItemQueries(std::move(valid));
    split.test = NextItemQueries(std::move(test));
  } else {
    split.valid = ContinuationQueries(valid, options, rng.Fork(1));
    split.test = ContinuationQueries(test, options, rng.Fork(2));
  }
  return split;
}

core::Result<ItemSplit> SplitItems(size_t item_count, double train_fraction,
                                   double valid_fraction, uint64_t seed) {
  if (!(train_fraction > 0.0) || !(valid_fraction >= 0.0) || train_fraction + valid_fraction >= 1.0) {
    return core::InvalidArgumentError("item split fractions must satisfy train > 0, valid >= 0, "
                                      "train + valid < 1");
  }
  if (item_count < 3) return core::FailedPreconditionError("fewer than 3 items to split");
  std::vector<ItemId> order(item_count);
  std::iota(order.begin(), order.end(), 0u);
  core::Rng rng(seed);
  rng.Shuffle(order);
  const size_t train_n = static_cast<size_t>(std::llround(train_fraction * static_cast<double>(item_count)));
  const size_t valid_n = static_cast<size_t>(std::llround(valid_fraction * static_cast<double>(item_count)));
  ItemSplit split;
  split.train.assign(order.begin(), order.begin() + static_cast<long>(train_n));
  split.valid.assign(order.begin() + static_cast<long>(train_n),
                     order.begin() + static_cast<long>(std::min(item_count, train_n + valid_n)));
  split.test.assign(order.begin() + static_cast<long>(std::min(item_count, train_n + valid_n)), order.end());
  for (auto* part : {&split.train, &split.valid, &split.test}) std::sort(part->begin(), part->end());
  return split;
}

}  // namespace melodai::data
