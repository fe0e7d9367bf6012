// MelodAI — licensed under the Apache License 2.0.
// Property tests over random transaction sequences. Goal: for thousands of seeds, after every
// block: the supply is conserved (balances + pools + unvested = minted so far, minted +
// reserves = total supply), no balance is absurd (no negative balance can wrap), rewards paid
// never exceed emission, vesting only grows, each nonce is used once, and the state root is the
// same on a twin instance executing the same blocks and after snapshot/restore. Method: a
// seeded generator draws mostly valid transactions of every type (plus replays, wrong nonces
// and garbage), with clock jumps from seconds to a year. MELODAI_SEED=<n> replays one seed.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <map>

#include "app/app_test_util.h"
#include "app/melodai_app.h"
#include "core/rng.h"

namespace melodai::app {
namespace {

using testing::Pub;
using testing::World;

constexpr int kSeeds = 3000;
constexpr int kBlocksPerSeed = 12;
constexpr int kMaxTxPerBlock = 10;

class Generator {
 public:
  Generator(World& world, uint64_t seed) : world_(world), rng_(seed) {}

  int Sender() {
    static constexpr int kActive[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
    return kActive[rng_.Uniform(std::size(kActive))];
  }
  PublicKey AnyKey() { return Pub(static_cast<int>(rng_.Uniform(testing::kKeyCount))); }
  uint64_t Amount(uint64_t balance) {
    switch (rng_.Uniform(4)) {
      case 0:
        return rng_.Uniform(1000) + 1;
      case 1:
        return balance / (rng_.Uniform(10) + 1);
      case 2:
        return balance + 1;  // Overspend.
      default:
        return rng_.Uniform(100'000) * kUnit;
    }
  }

  ledger::Transaction Next() {
    MelodaiApp& app = world_.app();
    const AppState& s = app.state();
    const int sender = Sender();
    const uint64_t balance = app.Balance(Pub(sender));
    switch (rng_.Uniform(16)) {
      case 0:
      case 1:
        return world_.Transfer(sender, AnyKey(), Amount(balance));
      case 2:
        return world_.Tx(sender, kTxRegisterNode, EncodeRegisterNode({"node"}));
      case 3: {
        NodeContributionPayload report{s.day, {}, 0};
        for (const auto& [node, info] : s.nodes) {
          if (rng_.Uniform(2) == 0) continue;
          NodeScore score{node, static_cast<uint32_t>(rng_.Uniform(100)),
                          static_cast<uint32_t>(rng_.Uniform(100)),
                          static_cast<uint32_t>(rng_.Uniform(100))};
          report.score_total += s.parameters[kWeightBlocks] * score.blocks +
                                s.parameters[kWeightServing] * score.serving +
                                s.parameters[kWeightCompute] * score.compute;
          report.scores.push_back(score);
        }
        if (rng_.Uniform(8) == 0) ++report.score_total;
        return world_.Tx(testing::kValidator, kTxNodeContribution, EncodeNodeContribution(report));
      }
      case 4: {
        RoundCommittedPayload round{s.last_round + 1, s.model_hash, {}, {}, 0};
        round.model[0] = static_cast<uint8_t>(rng_.NextU32());
        round.model[1] = static_cast<uint8_t>(s.last_round);
        for (int i = 0; i < 3; ++i) {
          RoundParticipant p{Pub(5 + i), static_cast<uint32_t>(rng_.Uniform(50)),
                             static_cast<uint32_t>(rng_.Uniform(50)),
                             static_cast<uint32_t>(rng_.Uniform(50))};
          round.contribution_total += s.parameters[kWeightVolume] * p.volume +
                                      s.parameters[kWeightQuality] * p.quality +
                                      s.parameters[kWeightReliability] * p.reliability;
          round.participants.push_back(p);
        }
        if (rng_.Uniform(8) == 0) round.round += 1;
        return world_.Tx(testing::kValidator, kTxRoundCommitted, EncodeRoundCommitted(round));
      }
      case 5: {
        ProposePayload body;
        body.action = static_cast<ProposalAction>(1 + rng_.Uniform(4));
        body.parameter = static_cast<uint32_t>(rng_.Uniform(kParameterCount + 1));
        if (body.parameter < kParameterCount) {
          const uint64_t low = world_.app().genesis().minimum[body.parameter];
          const uint64_t high = world_.app().genesis().maximum[body.parameter];
          body.value = low + rng_.Uniform(high - low + 2);
        }
        body.category = static_cast<uint8_t>(rng_.Uniform(5));
        body.recipient = AnyKey();
        body.amount = rng_.Uniform(20'000'000) * kUnit;
        body.candidates = {AnyKey(), AnyKey()};
        return world_.Tx(sender, kTxPropose, EncodePropose(body));
      }
      case 6: {
        // The big holder 5 votes For, so that proposals pass and get executed.
        const int voter = rng_.Uniform(2) == 0 ? 5 : sender;
        const auto choice =
            voter == 5 ? VoteChoice::kFor : static_cast<VoteChoice>(rng_.Uniform(3));
        return world_.Tx(voter, kTxVote, EncodeVote({ProposalId(), choice}));
      }
      case 7:
        return world_.Tx(sender, kTxExecute, EncodeProposalId({ProposalId()}));
      case 8:
        return world_.Tx(sender, kTxCancel,
                         EncodeProposalId({rng_.Uniform(s.next_proposal_id + 1)}));
      case 9: {
        RegisterTrackPayload track;
        track.content_hash[0] = static_cast<uint8_t>(rng_.Uniform(256));
        track.content_hash[1] = static_cast<uint8_t>(rng_.Uniform(256));
        track.title = "t";
        track.artist = "a";
        track.isrc = rng_.Uniform(8) == 0 ? "bad" : fmt_isrc(rng_.Uniform(100'000));
        const uint32_t first = static_cast<uint32_t>(rng_.Uniform(10'001));
        track.splits = {{Pub(sender), first}, {Pub(9), 10'000 - first}};
        if (rng_.Uniform(8) == 0) track.splits[1].bps += 1;
        return world_.Tx(sender, kTxRegisterTrack, EncodeRegisterTrack(track));
      }
      case 10:
        return world_.Tx(sender, kTxSubscribe,
                         EncodeSubscribe({static_cast<uint32_t>(rng_.Uniform(4))}));
      case 11: {
        ReportPlaysPayload plays{s.period, {}};
        for (const auto& [id, track] : s.tracks) {
          if (rng_.Uniform(2) == 0)
            plays.plays.push_back({id, static_cast<uint32_t>(1 + rng_.Uniform(50))});
        }
        return world_.Tx(sender, kTxReportPlays, EncodeReportPlays(plays));
      }
      case 12:
        return world_.Tx(
            sender, kTxMintEdition,
            EncodeMintEdition({1 + rng_.Uniform(s.next_track_id),
                               static_cast<uint32_t>(rng_.Uniform(4)), rng_.Uniform(100) * kUnit,
                               static_cast<uint32_t>(150 + rng_.Uniform(400))}));
      case 13: {
        const uint64_t edition = 1 + rng_.Uniform(s.next_edition_id);
        auto e = s.editions.find(edition);
        uint64_t price = e == s.editions.end() ? 1 : e->second.price;
        const TradeOp op = static_cast<TradeOp>(rng_.Uniform(4));
        const uint32_t serial = static_cast<uint32_t>(rng_.Uniform(3));
        if (op == TradeOp::kBuyListed) {
          auto c = s.copies.find({edition, serial});
          if (c != s.copies.end()) price = c->second.ask;
        } else if (op == TradeOp::kList) {
          price = rng_.Uniform(300) * kUnit;
        }
        return world_.Tx(sender, kTxTradeEdition, EncodeTradeEdition({op, edition, serial, price}));
      }
      case 14: {  // Replay or skip a nonce.
        const uint64_t next = app.NextNonce(Pub(sender));
        const uint64_t nonce = rng_.Uniform(2) == 0 && next > 0 ? next - 1 : next + 5;
        return world_.RawTx(sender, nonce, kTxTransfer, EncodeTransferPayload({AnyKey(), 1}));
      }
      default: {  // Garbage payload of a random type.
        std::string garbage(rng_.Uniform(60), '\0');
        for (char& c : garbage) c = static_cast<char>(rng_.NextU32());
        return world_.Tx(sender, static_cast<uint8_t>(rng_.Uniform(16)), garbage);
      }
    }
  }

  // Mostly the latest proposals; sometimes one that does not exist.
  uint64_t ProposalId() {
    const uint64_t next = world_.app().state().next_proposal_id;
    if (next == 1 || rng_.Uniform(8) == 0) return rng_.Uniform(next + 2);
    return next - 1 - rng_.Uniform(std::min<uint64_t>(next - 1, 3));
  }

  int64_t Advance() {
    switch (rng_.Uniform(8)) {
      case 0:
        return 0;
      case 1:
        return kDayMs;
      case 2:
        return static_cast<int64_t>(rng_.Uniform(40)) * kDayMs;
      case 3:
        return rng_.Uniform(4) == 0 ? 365 * kDayMs : 2 * kDayMs + 1;
      case 4:
      case 5:
        return 7 * kDayMs + static_cast<int64_t>(rng_.Uniform(1000));
      default:
        return static_cast<int64_t>(rng_.Uniform(3'600'000));
    }
  }

 private:
  static std::string fmt_isrc(uint64_t n) {
    std::string digits = std::to_string(n);
    return "USAB124" + std::string(5 - digits.size(), '0') + digits;
  }
  World& world_;
  core::Rng rng_;
};

// Applied transactions per type over all seeds (the generator must reach every type).
std::map<uint8_t, size_t> applied_by_type;

void RunSeed(uint64_t seed) {
  SCOPED_TRACE("MELODAI_SEED=" + std::to_string(seed));
  World world(testing::TestGenesis(), /*sign=*/false);
  auto twin = MelodaiApp::Create(testing::TestGenesis()).value();
  Generator generator(world, seed);
  // Seed some activity so that every type has something to act on.
  world.Fund(5, 10'000'000 * kUnit);  // Enough to reach the 10% quorum alone.
  world.Fund(6, 20'000 * kUnit);
  world.Fund(testing::kValidator, 10 * kUnit);
  // The twin starts from the same state through a snapshot, then executes every block.
  twin = MelodaiApp::Create(testing::TestGenesis()).value();
  ASSERT_TRUE(twin->Restore(world.app().Snapshot()).ok());
  std::map<std::pair<PublicKey, uint8_t>, uint64_t> vesting_before;
  for (int b = 0; b < kBlocksPerSeed; ++b) {
    std::map<PublicKey, uint64_t> nonces;
    for (const auto& [key, account] : world.app().state().accounts)
      nonces[key] = account.next_nonce;
    std::vector<ledger::Transaction> txs;
    const size_t count = static_cast<size_t>(
        core::Rng(seed * 131 + static_cast<uint64_t>(b)).Uniform(kMaxTxPerBlock + 1));
    for (size_t i = 0; i < count; ++i) txs.push_back(generator.Next());
    const auto codes = world.Run(txs, generator.Advance());
    const ledger::ExecutionOutcome twin_outcome = twin->ExecuteBlock(world.last_block());
    const MelodaiApp& app = world.app();
    ASSERT_EQ(twin_outcome.state_root, app.StateRoot());
    ASSERT_EQ(twin_outcome.codes, codes);
    // Supply conservation and the other invariants.
    ASSERT_TRUE(app.CheckInvariants().ok()) << app.CheckInvariants().ToString();
    const SupplyAudit audit = app.Audit();
    ASSERT_EQ(audit.total(), kTotalSupply);
    ASSERT_EQ(audit.minted() + audit.node_reserve + audit.training_reserve, kTotalSupply);
    for (const auto& [key, account] : app.state().accounts)
      ASSERT_LE(account.balance, kTotalSupply);
    ASSERT_LE(app.state().node_paid, app.state().node_emitted + app.state().node_fees_in);
    ASSERT_LE(app.state().training_paid, app.state().training_emitted);
    ASSERT_LE(app.state().node_emitted, 500'000'000 * kUnit);
    ASSERT_LE(app.state().training_emitted, 150'000'000 * kUnit);
    // Vesting is monotone.
    for (const auto& [key, vesting] : app.state().vesting) {
      ASSERT_GE(vesting.released, vesting_before[key]);
      vesting_before[key] = vesting.released;
    }
    // Each nonce once: a transaction consumed a nonce iff its code is not 1 or 2, and then it
    // used exactly the sender's next one.
    for (size_t i = 0; i < txs.size(); ++i) {
      if (codes[i] == ledger::kTransactionApplied) ++applied_by_type[txs[i].type];
      if (codes[i] == kAppBadNonce || codes[i] == kAppUnknownSender) continue;
      ASSERT_EQ(txs[i].nonce, nonces[txs[i].sender]);
      ++nonces[txs[i].sender];
    }
    for (const auto& [key, account] : app.state().accounts)
      ASSERT_EQ(account.next_nonce, nonces[key]);
  }
  // Snapshot/restore keeps the root; executing the same block afterwards keeps them equal.
  auto restored = MelodaiApp::Create(testing::TestGenesis()).value();
  ASSERT_TRUE(restored->Restore(world.app().Snapshot()).ok());
  ASSERT_EQ(restored->StateRoot(), world.app().StateRoot());
  ASSERT_TRUE(restored->state() == world.app().state());
}

TEST(MelodaiProperty, RandomSequencesKeepTheInvariants) {
  if (const char* replay = std::getenv("MELODAI_SEED")) {
    RunSeed(std::strtoull(replay, nullptr, 10));
    return;
  }
  for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
    RunSeed(seed);
    if (::testing::Test::HasFatalFailure()) {
      ADD_FAILURE() << "replay with MELODAI_SEED=" << seed;
      return;
    }
  }
  for (uint8_t type = kTxTypeFirst; type <= kTxTypeLast; ++type) {
    EXPECT_GT(applied_by_type[type], 0u) << TxTypeName(type) << " never applied";
  }
  for (const auto& [type, count] : applied_by_type) {
    std::printf("applied %s: %zu\n", std::string(TxTypeName(type)).c_str(), count);
  }
}

}  // namespace
}  // namespace melodai::app
