// MelodAI — licensed under the Apache License 2.0.
// Track rights and artist pay: ISRC and split validation, the payout worked example where
// pro-rata and user-centric differ (amounts checked by hand, see docs/APP.md), and limited
// editions with primary sales and royalty-bearing resales.
#include <gtest/gtest.h>

#include "app/app_test_util.h"
#include "app/melodai_app.h"

namespace melodai::app {
namespace {

using testing::Pub;
using testing::World;

TEST(Isrc, ValidatesAndNormalizes) {
  EXPECT_EQ(NormalizeIsrc("US-S1Z-99-00001").value(), "USS1Z9900001");
  EXPECT_EQ(NormalizeIsrc("GBAYE0601498").value(), "GBAYE0601498");
  EXPECT_FALSE(NormalizeIsrc("us-s1z-99-00001").ok());  // Lower case.
  EXPECT_FALSE(NormalizeIsrc("US-S1Z-9A-00001").ok());  // Letter in the year.
  EXPECT_FALSE(NormalizeIsrc("USS1Z990001").ok());      // 11 characters.
  EXPECT_FALSE(NormalizeIsrc("US_S1Z_99_00001").ok());  // Wrong separators.
  EXPECT_FALSE(NormalizeIsrc("1SS1Z9900001").ok());     // Digit in the country code.
  EXPECT_FALSE(NormalizeIsrc("").ok());
}

// Two tracks: "Major" (track 1, all rights to key 8) and "Indie" (track 2, 70% to key 9 and
// 30% to key 10). Three subscribers pay 10 MELAI each; 1% node-service fee leaves 9.9 MELAI
// each in the pool (29.7 MELAI). A plays Major 90 times, B plays Indie 10 times, C plays
// nothing.
class Payout : public ::testing::Test {
 protected:
  static constexpr int kA = 5, kB = 6, kC = 7;
  void Build(World& world) {
    for (int user : {kA, kB, kC, 8}) world.Fund(user, 1000 * kUnit);
    RegisterTrackPayload major{{1}, "Hit", "Major", "USAB12400001", {{Pub(8), 10000}}};
    RegisterTrackPayload indie{
        {2}, "Song", "Indie", "GB-XYZ-24-00002", {{Pub(9), 7000}, {Pub(10), 3000}}};
    ASSERT_EQ(world.RunOne(world.Tx(8, kTxRegisterTrack, EncodeRegisterTrack(major))), 0u);
    ASSERT_EQ(world.RunOne(world.Tx(8, kTxRegisterTrack, EncodeRegisterTrack(indie))), 0u);
    EXPECT_EQ(world.RunOne(world.Tx(8, kTxRegisterTrack, EncodeRegisterTrack(indie))),
              kAppDuplicateTrack);
    for (int user : {kA, kB, kC}) {
      ASSERT_EQ(world.RunOne(world.Tx(user, kTxSubscribe, EncodeSubscribe({1}))), 0u);
    }
    ASSERT_EQ(world.RunOne(world.Tx(kA, kTxReportPlays, EncodeReportPlays({0, {{1, 90}}}))), 0u);
    ASSERT_EQ(world.RunOne(world.Tx(kB, kTxReportPlays, EncodeReportPlays({0, {{2, 10}}}))), 0u);
    EXPECT_EQ(world.RunOne(world.Tx(kB, kTxReportPlays, EncodeReportPlays({0, {{3, 1}}}))),
              kAppUnknownTrack);
    EXPECT_EQ(world.RunOne(world.Tx(8, kTxReportPlays, EncodeReportPlays({0, {{1, 1000}}}))),
              kAppNotSubscribed);
    EXPECT_EQ(world.app().state().subscription_pool, 29'700'000'000u);
    before_[0] = world.app().Balance(Pub(8));
    before_[1] = world.app().Balance(Pub(9));
    before_[2] = world.app().Balance(Pub(10));
    world.AdvanceDays(30);  // Period 0 closes.
  }
  uint64_t Gain(World& world, int index) {
    return world.app().Balance(Pub(8 + index)) - before_[index];
  }
  uint64_t before_[3] = {};
};

TEST_F(Payout, ProRataPaysByShareOfAllPlays) {
  World world;
  Build(world);
  const PayoutReport& report = world.app().state().last_payout;
  ASSERT_EQ(report.lines.size(), 2u);
  // Pro-rata: Major 90/100 * 29.7 = 26.73 MELAI, Indie 10/100 * 29.7 = 2.97 MELAI.
  EXPECT_EQ(report.lines[0].pro_rata, 26'730'000'000u);
  EXPECT_EQ(report.lines[1].pro_rata, 2'970'000'000u);
  // User-centric (computed for comparison): A's 9.9 to Major, B's 9.9 to Indie, C's carried.
  EXPECT_EQ(report.lines[0].user_centric, 9'900'000'000u);
  EXPECT_EQ(report.lines[1].user_centric, 9'900'000'000u);
  EXPECT_EQ(report.model, 0u);
  EXPECT_EQ(report.paid, 29'700'000'000u);
  EXPECT_EQ(Gain(world, 0), 26'730'000'000u);
  EXPECT_EQ(Gain(world, 1), 2'079'000'000u);  // 70% of 2.97.
  EXPECT_EQ(Gain(world, 2), 891'000'000u);    // 30% of 2.97.
  EXPECT_EQ(world.app().state().subscription_pool, 0u);
  EXPECT_TRUE(world.app().CheckInvariants().ok());
}

TEST_F(Payout, UserCentricPaysEachFeeToWhatThatSubscriberPlayed) {
  AppGenesis genesis = testing::TestGenesis();
  genesis.parameters[kPayoutModel] = 1;
  World world(genesis);
  Build(world);
  const PayoutReport& report = world.app().state().last_payout;
  EXPECT_EQ(report.model, 1u);
  EXPECT_EQ(report.paid, 19'800'000'000u);
  EXPECT_EQ(Gain(world, 0), 9'900'000'000u);
  EXPECT_EQ(Gain(world, 1), 6'930'000'000u);  // 70% of 9.9: the indie artist earns 3.3x more.
  EXPECT_EQ(Gain(world, 2), 2'970'000'000u);
  // C played nothing: its fee is carried to the next period.
  EXPECT_EQ(world.app().state().subscription_carry, 9'900'000'000u);
  EXPECT_EQ(world.app().state().subscription_pool, 9'900'000'000u);
  EXPECT_TRUE(world.app().CheckInvariants().ok());
}

TEST(Editions, MintSellAndResellWithRoyaltyToSplitHolders) {
  World world;
  for (int user : {5, 6, 8}) world.Fund(user, 1000 * kUnit);
  RegisterTrackPayload track{
      {3}, "Song", "Indie", "USAB12400003", {{Pub(8), 5000}, {Pub(9), 5000}}};
  ASSERT_EQ(world.RunOne(world.Tx(8, kTxRegisterTrack, EncodeRegisterTrack(track))), 0u);
  EXPECT_EQ(world.RunOne(world.Tx(5, kTxMintEdition, EncodeMintEdition({1, 2, 100 * kUnit, 300}))),
            kAppNotAuthorized);
  EXPECT_EQ(world.RunOne(world.Tx(8, kTxMintEdition, EncodeMintEdition({1, 2, 100 * kUnit, 600}))),
            kAppBadRoyalty);
  ASSERT_EQ(world.RunOne(world.Tx(8, kTxMintEdition, EncodeMintEdition({1, 2, 100 * kUnit, 300}))),
            0u);
  const uint64_t holder8 = world.app().Balance(Pub(8));
  const uint64_t fees = world.app().state().fee_pool;
  auto trade = [&](int who, TradeOp op, uint32_t serial, uint64_t price) {
    return world.RunOne(world.Tx(who, kTxTradeEdition, EncodeTradeEdition({op, 1, serial, price})));
  };
  ASSERT_EQ(trade(5, TradeOp::kBuyPrimary, 0, 100 * kUnit), 0u);
  // Primary sale: 5% sales fee (5 MELAI) to the fee pool, 95 MELAI split 50/50.
  EXPECT_EQ(world.app().state().fee_pool - fees, 5 * kUnit);
  EXPECT_EQ(world.app().Balance(Pub(8)) - holder8, 47'500'000'000u);
  EXPECT_EQ(world.app().Balance(Pub(9)), 47'500'000'000u);
  ASSERT_EQ(trade(6, TradeOp::kBuyPrimary, 0, 100 * kUnit), 0u);
  EXPECT_EQ(trade(6, TradeOp::kBuyPrimary, 0, 100 * kUnit), kAppSoldOut);
  // Resale: 5 lists copy 0 at 200; 6 buys it. 3% royalty (6 MELAI) to the split holders.
  EXPECT_EQ(trade(6, TradeOp::kList, 0, 200 * kUnit), kAppNotAuthorized);
  ASSERT_EQ(trade(5, TradeOp::kList, 0, 200 * kUnit), 0u);
  EXPECT_EQ(trade(6, TradeOp::kBuyListed, 0, 199 * kUnit), kAppNotListed);
  const uint64_t seller = world.app().Balance(Pub(5));
  const uint64_t holder9 = world.app().Balance(Pub(9));
  ASSERT_EQ(trade(6, TradeOp::kBuyListed, 0, 200 * kUnit), 0u);
  EXPECT_EQ(world.app().Balance(Pub(5)) - seller, 194 * kUnit);
  EXPECT_EQ(world.app().Balance(Pub(9)) - holder9, 3 * kUnit);
  EXPECT_EQ(world.app().state().copies.at({1, 0}).holder, Pub(6));
  EXPECT_EQ(world.app().state().copies.at({1, 0}).ask, 0u);
  EXPECT_TRUE(world.app().CheckInvariants().ok());
}

}  // namespace
}  // namespace melodai::app
