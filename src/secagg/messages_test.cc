// MelodAI — licensed under the Apache License 2.0.
// Unit tests of the wire messages (round trips, strict decoding of truncated, extended,
// mis-typed and out-of-limit input), the neighbour graph, round validation, fixed-point
// encoding and the masking kernels.
#include <gtest/gtest.h>

#include <set>

#include "core/bytes.h"
#include "core/rng.h"
#include "secagg/config.h"
#include "secagg/fixed_point.h"
#include "secagg/masking.h"
#include "secagg/messages.h"

namespace melodai::secagg {
namespace {

using core::StatusCode;

AdvertisedKeys SampleKeys(uint32_t id) {
  AdvertisedKeys keys;
  keys.client_id = id;
  keys.encryption_key.bytes.fill(static_cast<uint8_t>(id + 1));
  keys.mask_key.bytes.fill(static_cast<uint8_t>(id + 2));
  keys.signature.fill(static_cast<uint8_t>(id + 3));
  return keys;
}

EncryptedShare SampleShare(uint32_t peer) {
  return EncryptedShare{peer, std::vector<uint8_t>(kShareCiphertextBytes, static_cast<uint8_t>(peer))};
}

std::vector<std::string> AllSampleMessages() {
  std::vector<std::string> encoded;
  encoded.push_back(Encode(AdvertiseKeysMessage{4, SampleKeys(2)}));
  encoded.push_back(Encode(KeyListMessage{4, 1, {SampleKeys(0), SampleKeys(2), SampleKeys(9)}}));
  encoded.push_back(Encode(ShareKeysMessage{4, 1, {SampleShare(0), SampleShare(2)}}));
  encoded.push_back(Encode(EncryptedSharesMessage{4, 2, {SampleShare(1), SampleShare(5)}}));
  encoded.push_back(Encode(MaskedInputMessage{4, 3, 64, {1, 2, 3, 4}}));
  encoded.push_back(Encode(SurvivorListMessage{4, {0, 1, 5}}));
  encoded.push_back(Encode(ConsistencySignatureMessage{4, 5, {}}));
  encoded.push_back(Encode(UnmaskingRequestMessage{4, {0, 1, 5}, {{0, {}}, {5, {}}}}));
  encoded.push_back(Encode(UnmaskingResponseMessage{
      4, 1, {{0, ShareKind::kSelfMaskSeed, {1, 2, 3, 4, 5}}, {7, ShareKind::kMaskKey, {5, 4, 3, 2, 1}}}}));
  return encoded;
}

TEST(MessagesTest, EveryMessageRoundTrips) {
  const std::vector<std::string> encoded = AllSampleMessages();
  ASSERT_EQ(encoded.size(), kMaxMessageKind);
  for (size_t i = 0; i < encoded.size(); ++i) {
    EXPECT_EQ(static_cast<size_t>(*PeekMessageKind(encoded[i])), i + 1);
    auto again = DecodeAndReencode(encoded[i]);
    ASSERT_TRUE(again.ok()) << i << ": " << again.status().ToString();
    EXPECT_EQ(*again, encoded[i]);
  }
  auto keys = DecodeKeyList(encoded[1]);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->entries[2], SampleKeys(9));
  auto masked = DecodeMaskedInput(encoded[4]);
  ASSERT_TRUE(masked.ok());
  EXPECT_EQ(masked->words, (std::vector<uint32_t>{1, 2, 3, 4}));
}

TEST(MessagesTest, TruncatedExtendedAndMistypedBytesAreDataLoss) {
  for (const std::string& bytes : AllSampleMessages()) {
    for (size_t size = 0; size < bytes.size(); ++size) {
      EXPECT_EQ(DecodeAndReencode(bytes.substr(0, size)).status().code(), StatusCode::kDataLoss)
          << "kind " << int(bytes[0]) << " cut at " << size;
    }
    EXPECT_EQ(DecodeAndReencode(bytes + '\0').status().code(), StatusCode::kDataLoss);
  }
  const std::string advertise = AllSampleMessages()[0];
  EXPECT_EQ(DecodeKeyList(advertise).status().code(), StatusCode::kDataLoss);
  std::string unknown = advertise;
  unknown[0] = 42;
  EXPECT_EQ(DecodeAndReencode(unknown).status().code(), StatusCode::kDataLoss);
}

TEST(MessagesTest, LimitsAndOrderingAreEnforced) {
  // Unsorted or repeated id lists.
  EXPECT_EQ(DecodeSurvivorList(Encode(SurvivorListMessage{1, {3, 2}})).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(DecodeSurvivorList(Encode(SurvivorListMessage{1, {2, 2}})).status().code(), StatusCode::kDataLoss);
  // Ids beyond the client limit.
  EXPECT_EQ(DecodeSurvivorList(Encode(SurvivorListMessage{1, {kMaxClients}})).status().code(),
            StatusCode::kDataLoss);
  // A count far beyond the bytes present must not allocate: kind, round, count = 2^32 - 1.
  core::ByteWriter writer;
  writer.PutU8(static_cast<uint8_t>(MessageKind::kSurvivorList));
  writer.PutU64(1);
  writer.PutU32(0xffffffff);
  EXPECT_EQ(DecodeSurvivorList(writer.buffer()).status().code(), StatusCode::kDataLoss);
  // Masked input: odd word count for 64 bits, unknown modulus, empty vector.
  EXPECT_FALSE(DecodeMaskedInput(Encode(MaskedInputMessage{1, 0, 64, {1, 2, 3}})).ok());
  EXPECT_FALSE(DecodeMaskedInput(Encode(MaskedInputMessage{1, 0, 16, {1, 2}})).ok());
  EXPECT_FALSE(DecodeMaskedInput(Encode(MaskedInputMessage{1, 0, 32, {}})).ok());
  // Revealed share values must be field elements.
  EXPECT_FALSE(DecodeUnmaskingResponse(Encode(UnmaskingResponseMessage{
      1, 0, {{2, ShareKind::kMaskKey, {crypto::kShamirPrime, 0, 0, 0, 0}}}})).ok());
}

TEST(ConfigTest, ValidationNamesTheBadField) {
  RoundConfig config;
  config.client_count = 10;
  config.threshold = 6;
  config.dimension = 100;
  EXPECT_TRUE(ValidateRoundConfig(config).ok());
  RoundConfig bad = config;
  bad.threshold = 4;  // Not above half of the nine neighbours.
  EXPECT_NE(ValidateRoundConfig(bad).message().find("threshold"), std::string::npos);
  bad = config;
  bad.neighbour_count = 5;
  EXPECT_NE(ValidateRoundConfig(bad).message().find("neighbour_count"), std::string::npos);
  bad = config;
  bad.modulus_bits = 48;
  EXPECT_EQ(ValidateRoundConfig(bad).code(), StatusCode::kInvalidArgument);
  bad = config;
  bad.dimension = kMaxDimension + 1;
  EXPECT_EQ(ValidateRoundConfig(bad).code(), StatusCode::kInvalidArgument);
  bad = config;
  bad.client_count = kMaxClients + 1;
  EXPECT_EQ(ValidateRoundConfig(bad).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DefaultNeighbourCount(1000), 30u);
  EXPECT_EQ(DefaultNeighbourCount(10), 0u);  // 12 >= 9: the full graph.
  EXPECT_EQ(DefaultThreshold(30), 20u);
}

TEST(NeighbourGraphTest, SecAggPlusGraphIsRegularSymmetricAndSeeded) {
  RoundConfig config;
  config.client_count = 101;
  config.neighbour_count = 14;
  config.threshold = 10;
  config.dimension = 1;
  config.graph_seed = 5;
  const NeighbourGraph graph(config);
  for (uint32_t a = 0; a < 101; ++a) {
    const std::vector<uint32_t> neighbours = graph.Neighbours(a);
    ASSERT_EQ(neighbours.size(), 14u);
    EXPECT_EQ(std::set<uint32_t>(neighbours.begin(), neighbours.end()).size(), 14u);
    for (uint32_t b = 0; b < 101; ++b) {
      const bool listed = std::binary_search(neighbours.begin(), neighbours.end(), b);
      EXPECT_EQ(graph.AreNeighbours(a, b), listed);
      EXPECT_EQ(graph.AreNeighbours(a, b), graph.AreNeighbours(b, a));
    }
  }
  RoundConfig other = config;
  other.graph_seed = 6;
  EXPECT_NE(NeighbourGraph(other).Neighbours(0), graph.Neighbours(0));
  EXPECT_EQ(NeighbourGraph(config).Neighbours(0), graph.Neighbours(0));
  config.neighbour_count = 0;
  config.threshold = 60;
  EXPECT_EQ(NeighbourGraph(config).Neighbours(7).size(), 100u);
}

TEST(FixedPointTest, EncodesClipsAndDecodes) {
  FixedPointConfig fixed;
  fixed.clip = 1.0;
  fixed.step = 0.25;
  const std::vector<float> values = {0.0f, 0.3f, -0.3f, 2.0f, -5.0f, std::nanf("")};
  const std::vector<uint64_t> encoded = EncodeFixedPoint(fixed, values);
  EXPECT_EQ(encoded, (std::vector<uint64_t>{0, 1, 0xffffffff, 4, 0xfffffffc, 0}));
  EXPECT_EQ(DecodeFixedPoint(fixed, encoded),
            (std::vector<double>{0.0, 0.25, -0.25, 1.0, -1.0, 0.0}));
  fixed.modulus_bits = 64;
  EXPECT_EQ(EncodeFixedPoint(fixed, values)[2], ~uint64_t{0});
  EXPECT_EQ(ValidateFixedPoint({1.0, 0.0, 32}, 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateFixedPoint({-1.0, 0.1, 32}, 1).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateFixedPoint({1.0, 1e-20, 64}, 1).code(), StatusCode::kInvalidArgument);
  const FixedPointConfig wide{1.0, 1.0 / (1 << 16), 32};
  EXPECT_EQ(MaxClientsForFixedPoint(wide), 32767u);
  EXPECT_TRUE(ValidateFixedPoint(wide, 32767).ok());
  EXPECT_EQ(ValidateFixedPoint(wide, 32768).code(), StatusCode::kInvalidArgument);
}

TEST(MaskingTest, MasksCancelAndAddWrapsPerModulus) {
  std::array<uint8_t, crypto::kPrgSeedBytes> seed{};
  seed[0] = 9;
  for (uint32_t bits : {32u, 64u}) {
    for (crypto::PrgKind kind : {crypto::PrgKind::kAes128Ctr, crypto::PrgKind::kChaCha20}) {
      std::vector<uint32_t> words(2 * 5000 + 2, 7);
      const std::vector<uint32_t> original = words;
      ApplyMask(kind, seed, bits, MaskSign::kAdd, words);
      EXPECT_NE(words, original);
      ApplyMask(kind, seed, bits, MaskSign::kSubtract, words);
      EXPECT_EQ(words, original);
    }
  }
  std::vector<uint32_t> a = ElementsToWords(64, std::vector<uint64_t>{~uint64_t{0}, 5});
  AddWords(64, a, ElementsToWords(64, std::vector<uint64_t>{2, 1}));
  EXPECT_EQ(WordsToElements(64, a), (std::vector<uint64_t>{1, 6}));
  std::vector<uint32_t> b = {0xffffffff, 5};
  AddWords(32, b, std::vector<uint32_t>{2, 1});
  EXPECT_EQ(b, (std::vector<uint32_t>{1, 6}));
}

}  // namespace
}  // namespace melodai::secagg
