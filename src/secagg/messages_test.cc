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
  encoded.push_back(Encode(NeighbourhoodSurvivorsMessage{4, 5, {1, 5, 9}}));
  encoded.push_back(Encode(NeighbourhoodUnmaskingRequestMessage{
      4, 5, {{1, {0x1b}, {}}, {9, {0xff, 0x01}, {}}}}));
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
  // Neighbourhood requests: repeated signers, a bitmap longer than any neighbourhood, and a
  // bitmap length beyond the bytes present.
  EXPECT_EQ(DecodeNeighbourhoodUnmaskingRequest(
                Encode(NeighbourhoodUnmaskingRequestMessage{1, 0, {{2, {1}, {}}, {2, {1}, {}}}}))
                .status()
                .code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(DecodeNeighbourhoodUnmaskingRequest(
                Encode(NeighbourhoodUnmaskingRequestMessage{
                    1, 0, {{2, std::vector<uint8_t>(kMaxSurvivorBitmapBytes + 1, 0), {}}}}))
                .status()
                .code(),
            StatusCode::kDataLoss);
  EXPECT_TRUE(DecodeNeighbourhoodUnmaskingRequest(
                  Encode(NeighbourhoodUnmaskingRequestMessage{
                      1, 0, {{2, std::vector<uint8_t>(kMaxSurvivorBitmapBytes, 0), {}}}}))
                  .ok());
  core::ByteWriter long_bitmap;
  long_bitmap.PutU8(static_cast<uint8_t>(MessageKind::kNeighbourhoodUnmaskingRequest));
  long_bitmap.PutU64(1);
  long_bitmap.PutU32(0);           // target
  long_bitmap.PutU32(1);           // one signature
  long_bitmap.PutU32(2);           // signer
  long_bitmap.PutU32(1000);        // bitmap bytes, but only 64 bytes follow
  long_bitmap.PutRaw(std::string(64, '\0').data(), 64);
  EXPECT_EQ(DecodeNeighbourhoodUnmaskingRequest(long_bitmap.buffer()).status().code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(DecodeNeighbourhoodSurvivors(Encode(NeighbourhoodSurvivorsMessage{1, kMaxClients, {}}))
                .status()
                .code(),
            StatusCode::kDataLoss);
  EXPECT_EQ(DecodeNeighbourhoodSurvivors(Encode(NeighbourhoodSurvivorsMessage{1, 0, {4, 4}}))
                .status()
                .code(),
            StatusCode::kDataLoss);
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

// Sums the encodings of `clients` copies of `values` modulo 2^modulus_bits, as the server's
// unmasked sum does (masks cancel exactly; the round tests check that part).
std::vector<uint64_t> EncodedSum(const FixedPointConfig& fixed, uint64_t clients,
                                 const std::vector<float>& values) {
  const std::vector<uint32_t> one =
      ElementsToWords(fixed.modulus_bits, EncodeFixedPoint(fixed, values));
  std::vector<uint32_t> sum(one.size(), 0);
  for (uint64_t c = 0; c < clients; ++c) AddWords(fixed.modulus_bits, sum, one);
  return WordsToElements(fixed.modulus_bits, sum);
}

// Goal: the fixed-point bound n * round(clip / step) < 2^(b-1) holds at the largest client
// count a round allows (kMaxClients) and at the widest clip range (clip / step = 2^52), and it
// is tight: one more client at the limit really wraps. Method: pick the largest clip for
// kMaxClients modulo 2^32 (round(clip / step) = floor((2^31 - 1) / 10^4) = 214,748 units), sum
// n clipped extremes and check the decoded sums are exact; then add one client too many.
TEST(FixedPointTest, BoundHoldsAtTheLargestClientCountAndClipRange) {
  const FixedPointConfig fixed{1.0, 1.0 / 214748, 32};
  ASSERT_EQ(MaxQuantizedMagnitude(fixed), 214748);
  ASSERT_EQ(MaxClientsForFixedPoint(fixed), uint64_t{kMaxClients});
  ASSERT_TRUE(ValidateFixedPoint(fixed, kMaxClients).ok());
  EXPECT_EQ(ValidateFixedPoint(fixed, kMaxClients + 1).code(), StatusCode::kInvalidArgument);
  const std::vector<float> extremes = {1.0f, -1.0f, 40.0f, -1e30f, 0.0f};
  const double n = kMaxClients;
  EXPECT_EQ(DecodeFixedPoint(fixed, EncodedSum(fixed, kMaxClients, extremes)),
            (std::vector<double>{n * 214748 * fixed.step, -n * 214748 * fixed.step,
                                 n * 214748 * fixed.step, -n * 214748 * fixed.step, 0.0}));
  // The check is needed: 10,001 clients at +clip exceed 2^31 - 1 and decode as negative.
  EXPECT_LT(DecodeFixedPoint(fixed, EncodedSum(fixed, kMaxClients + 1, {1.0f}))[0], 0.0);

  // Widest range: clip / step = 2^52 modulo 2^64 allows (2^63 - 1) / 2^52 = 2047 clients.
  const FixedPointConfig wide{4096.0, 1.0 / 1099511627776.0, 64};  // 2^12 / 2^-40 = 2^52.
  ASSERT_TRUE(ValidateFixedPoint(wide, 2047).ok());
  EXPECT_EQ(ValidateFixedPoint(wide, 2048).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidateFixedPoint({4096.0, 1.0 / 2199023255552.0, 64}, 1).code(),
            StatusCode::kInvalidArgument);  // 2^53 units: beyond exact doubles.
  EXPECT_EQ(DecodeFixedPoint(wide, EncodedSum(wide, 2047, {4096.0f, -5000.0f})),
            (std::vector<double>{2047.0 * 4096, -2047.0 * 4096}));
  EXPECT_LT(DecodeFixedPoint(wide, EncodedSum(wide, 2048, {4096.0f}))[0], 0.0);
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
