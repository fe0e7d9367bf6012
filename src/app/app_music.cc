// MelodAI — licensed under the Apache License 2.0.
// Track rights and artist pay: track registration with royalty splits, subscriptions, play
// reports, the per-period payout (pro-rata and user-centric, one of them paying), and limited
// editions with primary sales and royalty-bearing resales.
#include <fmt/format.h>

#include <set>

#include "app/melodai_app.h"

namespace melodai::app {
namespace {

constexpr uint32_t kMaxEditionPriceUnits = 1'000'000'000;  // In MELAI.

// Checks splits: 1..16 distinct holders, each positive, summing to exactly 10,000 bps.
bool SplitsValid(const std::vector<RoyaltySplit>& splits, std::string& reason) {
  if (splits.empty() || splits.size() > kMaxSplitHolders) {
    reason = fmt::format("{} split holders; 1 to {} allowed", splits.size(), kMaxSplitHolders);
    return false;
  }
  std::set<PublicKey> holders;
  uint64_t sum = 0;
  for (const RoyaltySplit& split : splits) {
    if (split.bps == 0 || !holders.insert(split.holder).second) {
      reason = "split holders must be distinct with positive shares";
      return false;
    }
    sum += split.bps;
  }
  if (sum != kBpsDenominator) {
    reason = fmt::format("splits sum to {} bps, expected 10000", sum);
    return false;
  }
  return true;
}

}  // namespace

ledger::TransactionCode MelodaiApp::ApplyRegisterTrack(const ledger::Transaction& tx,
                                                       std::string& reason) {
  auto payload = DecodeRegisterTrack(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  if (payload->title.empty() || payload->artist.empty()) {
    reason = "title and artist must not be empty";
    return kAppMalformedPayload;
  }
  auto isrc = NormalizeIsrc(payload->isrc);
  if (!isrc.ok()) {
    reason = isrc.status().message();
    return kAppBadIsrc;
  }
  if (!SplitsValid(payload->splits, reason)) return kAppBadSplits;
  if (state_.track_by_isrc.contains(*isrc) ||
      state_.track_by_content.contains(payload->content_hash)) {
    return kAppDuplicateTrack;
  }
  if (state_.tracks.size() >= kMaxTracks) return kAppLimitExceeded;
  const uint64_t id = state_.next_track_id++;
  Track& track = state_.tracks[id];
  track.owner = tx.sender;
  track.content_hash = payload->content_hash;
  track.title = std::move(payload->title);
  track.artist = std::move(payload->artist);
  track.isrc = *isrc;
  track.splits = std::move(payload->splits);
  track.registered_ms = state_.now_ms;
  state_.track_by_isrc[track.isrc] = id;
  state_.track_by_content[track.content_hash] = id;
  return ledger::kTransactionApplied;
}

ledger::TransactionCode MelodaiApp::ApplySubscribe(const ledger::Transaction& tx,
                                                   std::string& reason) {
  auto payload = DecodeSubscribe(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  if (payload->periods == 0 || payload->periods > kMaxSubscribePeriods) {
    reason = fmt::format("periods {} outside [1, {}]", payload->periods, kMaxSubscribePeriods);
    return kAppBadAmount;
  }
  const uint64_t price = state_.parameters[kSubscriptionPrice];
  if (price > genesis_.schedule.total_supply / payload->periods) return kAppInsufficientFunds;
  const uint64_t cost = price * payload->periods;  // Fits: checked against the supply above.
  if (Balance(tx.sender) < cost) return kAppInsufficientFunds;
  uint64_t start = state_.period;
  if (auto it = state_.subscribed_until.find(tx.sender); it != state_.subscribed_until.end()) {
    start = std::max(start, it->second);
  }
  if (start + payload->periods > state_.period + 2 * kMaxSubscribePeriods) {
    reason = "subscription would reach too far ahead";
    return kAppLimitExceeded;
  }
  const uint64_t fee = MulDiv(price, state_.parameters[kNodeServiceFeeBps], kBpsDenominator);
  const uint64_t net = price - fee;
  Debit(tx.sender, cost);
  state_.fee_pool += fee * payload->periods;
  state_.subscription_pool += net * payload->periods;
  for (uint64_t period = start; period < start + payload->periods; ++period) {
    state_.period_fees[{period, tx.sender}] += net;
  }
  state_.subscribed_until[tx.sender] = start + payload->periods;
  return ledger::kTransactionApplied;
}

ledger::TransactionCode MelodaiApp::ApplyReportPlays(const ledger::Transaction& tx,
                                                     std::string& reason) {
  auto payload = DecodeReportPlays(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  if (payload->period != state_.period) {
    reason = fmt::format("period {} but the current period is {}", payload->period, state_.period);
    return kAppWrongEpoch;
  }
  if (!state_.period_fees.contains({state_.period, tx.sender})) return kAppNotSubscribed;
  std::set<uint64_t> seen;
  for (const PlayCount& play : payload->plays) {
    if (!state_.tracks.contains(play.track_id)) {
      reason = fmt::format("track {} does not exist", play.track_id);
      return kAppUnknownTrack;
    }
    if (play.count == 0) return kAppBadAmount;
    if (!seen.insert(play.track_id).second) return kAppDuplicateEntry;
  }
  for (const PlayCount& play : payload->plays) {
    state_.plays[{state_.period, tx.sender, play.track_id}] += play.count;
  }
  return ledger::kTransactionApplied;
}

void MelodaiApp::ClosePayoutPeriods(uint64_t new_period) {
  if (new_period <= state_.period) return;
  std::set<uint64_t> periods;
  for (const auto& [key, fee] : state_.period_fees) {
    if (key.first >= new_period) break;
    periods.insert(key.first);
  }
  for (uint64_t period : periods) ClosePayoutPeriod(period);
  state_.period = new_period;
}

// Pays the fees of `period` plus the carry. Pro-rata: the whole pool in proportion to each
// track's share of all plays. User-centric: each subscriber's fee in proportion to that
// subscriber's own plays; the fee of a subscriber without plays is carried, and the carry from
// earlier periods is shared pro-rata. Both are computed; kPayoutModel chooses which pays.
void MelodaiApp::ClosePayoutPeriod(uint64_t period) {
  std::map<PublicKey, uint64_t> fees;
  uint64_t fees_total = 0;
  for (auto it = state_.period_fees.lower_bound({period, PublicKey{}});
       it != state_.period_fees.end() && it->first.first == period;) {
    fees[it->first.second] = it->second;
    fees_total += it->second;
    it = state_.period_fees.erase(it);
  }
  std::map<uint64_t, uint64_t> track_plays;
  std::map<PublicKey, std::map<uint64_t, uint64_t>> user_plays;
  for (auto it = state_.plays.lower_bound({period, PublicKey{}, 0});
       it != state_.plays.end() && std::get<0>(it->first) == period;) {
    track_plays[std::get<2>(it->first)] += it->second;
    user_plays[std::get<1>(it->first)][std::get<2>(it->first)] += it->second;
    it = state_.plays.erase(it);
  }
  const uint64_t carry = state_.subscription_carry;
  const uint64_t pool = fees_total + carry;
  std::vector<uint64_t> track_ids;
  std::vector<uint64_t> weights;
  for (const auto& [track, count] : track_plays) {
    track_ids.push_back(track);
    weights.push_back(count);
  }
  std::map<uint64_t, PayoutLine> lines;
  for (uint64_t track : track_ids) lines[track].track_id = track;
  const std::vector<uint64_t> pro_rata = SplitLargestRemainder(pool, weights);
  const std::vector<uint64_t> carry_share = SplitLargestRemainder(carry, weights);
  for (size_t i = 0; i < track_ids.size(); ++i) {
    lines[track_ids[i]].pro_rata = pro_rata[i];
    lines[track_ids[i]].user_centric = carry_share[i];
  }
  for (const auto& [user, fee] : fees) {
    auto played = user_plays.find(user);
    if (played == user_plays.end()) continue;  // Carried.
    std::vector<uint64_t> own_tracks;
    std::vector<uint64_t> own_weights;
    for (const auto& [track, count] : played->second) {
      own_tracks.push_back(track);
      own_weights.push_back(count);
    }
    const std::vector<uint64_t> parts = SplitLargestRemainder(fee, own_weights);
    for (size_t i = 0; i < own_tracks.size(); ++i) lines[own_tracks[i]].user_centric += parts[i];
  }
  PayoutReport report;
  report.period = period;
  report.model = state_.parameters[kPayoutModel];
  report.pool = pool;
  for (const auto& [track, line] : lines) {
    const uint64_t amount = report.model == 0 ? line.pro_rata : line.user_centric;
    PayTrack(track, amount);
    report.paid += amount;
    report.lines.push_back(line);
  }
  MELODAI_CHECK(report.paid <= pool);
  state_.subscription_pool -= report.paid;
  state_.subscription_carry = pool - report.paid;
  state_.last_payout = std::move(report);
}

void MelodaiApp::PayTrack(uint64_t track_id, uint64_t amount) {
  const Track& track = state_.tracks.at(track_id);
  std::vector<PublicKey> holders;
  std::vector<uint64_t> weights;
  for (const RoyaltySplit& split : track.splits) {
    holders.push_back(split.holder);
    weights.push_back(split.bps);
  }
  const uint64_t paid = PayByWeights(amount, holders, weights);
  MELODAI_CHECK(paid == amount);
}

ledger::TransactionCode MelodaiApp::ApplyMintEdition(const ledger::Transaction& tx,
                                                     std::string& reason) {
  auto payload = DecodeMintEdition(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  auto track = state_.tracks.find(payload->track_id);
  if (track == state_.tracks.end()) return kAppUnknownTrack;
  if (track->second.owner != tx.sender) return kAppNotAuthorized;
  if (payload->supply == 0 || payload->supply > kMaxEditionSupply || payload->price == 0 ||
      payload->price > kMaxEditionPriceUnits * kUnit) {
    reason = "supply must be 1-100000 and the price positive";
    return kAppBadAmount;
  }
  const ParameterValues& p = state_.parameters;
  if (payload->royalty_bps < p[kResaleRoyaltyMinBps] ||
      payload->royalty_bps > p[kResaleRoyaltyMaxBps]) {
    reason = fmt::format("royalty {} bps outside [{}, {}]", payload->royalty_bps,
                         p[kResaleRoyaltyMinBps], p[kResaleRoyaltyMaxBps]);
    return kAppBadRoyalty;
  }
  state_.editions[state_.next_edition_id++] =
      Edition{payload->track_id, payload->supply, 0, payload->price, payload->royalty_bps};
  return ledger::kTransactionApplied;
}

ledger::TransactionCode MelodaiApp::ApplyTradeEdition(const ledger::Transaction& tx,
                                                      std::string& reason) {
  auto payload = DecodeTradeEdition(tx.payload);
  if (!Decoded(payload, reason)) return kAppMalformedPayload;
  auto edition = state_.editions.find(payload->edition_id);
  if (edition == state_.editions.end()) return kAppUnknownEdition;
  Edition& e = edition->second;
  if (payload->op == TradeOp::kBuyPrimary) {
    if (e.sold >= e.supply) return kAppSoldOut;
    if (payload->price != e.price) return kAppBadAmount;
    if (Balance(tx.sender) < e.price) return kAppInsufficientFunds;
    const uint64_t fee = MulDiv(e.price, state_.parameters[kSalesFeeBps], kBpsDenominator);
    Debit(tx.sender, e.price);
    state_.fee_pool += fee;
    PayTrack(e.track_id, e.price - fee);
    state_.copies[{edition->first, e.sold}] = EditionCopy{tx.sender, 0};
    ++e.sold;
    return ledger::kTransactionApplied;
  }
  auto copy = state_.copies.find({edition->first, payload->serial});
  if (copy == state_.copies.end()) return kAppUnknownEdition;
  EditionCopy& c = copy->second;
  switch (payload->op) {
    case TradeOp::kList:
      if (c.holder != tx.sender) return kAppNotAuthorized;
      if (payload->price == 0 || payload->price > kMaxEditionPriceUnits * kUnit)
        return kAppBadAmount;
      c.ask = payload->price;
      return ledger::kTransactionApplied;
    case TradeOp::kDelist:
      if (c.holder != tx.sender) return kAppNotAuthorized;
      c.ask = 0;
      return ledger::kTransactionApplied;
    case TradeOp::kBuyListed: {
      if (c.ask == 0 || payload->price != c.ask) return kAppNotListed;
      if (c.holder == tx.sender) return kAppNotAuthorized;
      if (Balance(tx.sender) < c.ask) return kAppInsufficientFunds;
      const uint64_t royalty = MulDiv(c.ask, e.royalty_bps, kBpsDenominator);
      const PublicKey seller = c.holder;
      const uint64_t price = c.ask;
      Debit(tx.sender, price);
      PayTrack(e.track_id, royalty);
      Credit(seller, price - royalty);
      c.holder = tx.sender;
      c.ask = 0;
      return ledger::kTransactionApplied;
    }
    case TradeOp::kBuyPrimary:
      break;
  }
  return kAppMalformedPayload;
}

}  // namespace melodai::app
