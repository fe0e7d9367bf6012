// MelodAI — licensed under the Apache License 2.0.
// Unit tests of hashing, hex conversion, secret buffers and random sources: published test
// vectors, incremental/one-shot agreement and determinism of the seeded source.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "crypto/hash.h"
#include "crypto/random_source.h"
#include "crypto/secret.h"

namespace melodai::crypto {
namespace {

TEST(HashTest, Sha256AbcVector) {
  // FIPS 180-2 appendix B.1.
  EXPECT_EQ(ToHex(Sha256(AsBytes("abc"))),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HashTest, Blake2b256KnownValues) {
  EXPECT_EQ(ToHex(Blake2b256({})),
            "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  EXPECT_EQ(ToHex(Blake2b256(AsBytes("abc"))),
            "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST(HashTest, IncrementalMatchesOneShotForEverySplit) {
  const std::string text = "the quick brown fox jumps over the lazy dog, twice over";
  const Digest32 expected = Blake2b256(AsBytes(text));
  for (size_t split = 0; split <= text.size(); ++split) {
    Blake2bHasher hasher;
    hasher.Update(AsBytes(std::string_view(text).substr(0, split)));
    hasher.Update(AsBytes(std::string_view(text).substr(split)));
    EXPECT_EQ(hasher.Finish(), expected) << "split " << split;
  }
}

TEST(HexTest, RoundTripAndRejectsBadInput) {
  const std::vector<uint8_t> bytes = {0x00, 0x01, 0xab, 0xff};
  EXPECT_EQ(ToHex(bytes), "0001abff");
  auto parsed = FromHex("0001ABff");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(*parsed, bytes);
  EXPECT_EQ(FromHex("abc").status().code(), core::StatusCode::kInvalidArgument);
  auto bad = FromHex("00zz");
  EXPECT_EQ(bad.status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("position 2"), std::string::npos);
  EXPECT_TRUE(FromHex("").ok());
}

TEST(SecretBytesTest, MoveLeavesSourceEmpty) {
  SecretBytes secret(std::vector<uint8_t>{1, 2, 3});
  SecretBytes moved = std::move(secret);
  EXPECT_EQ(moved.size(), 3u);
  EXPECT_TRUE(secret.empty());  // NOLINT(bugprone-use-after-move): checking the contract.
  SecretBytes clone = moved.Clone();
  EXPECT_EQ(std::vector<uint8_t>(clone.span().begin(), clone.span().end()),
            (std::vector<uint8_t>{1, 2, 3}));
  std::vector<uint8_t> buffer = {9, 9, 9};
  SecureWipe(buffer);
  EXPECT_EQ(buffer, (std::vector<uint8_t>{0, 0, 0}));
}

TEST(RandomSourceTest, DeterministicStreamIndependentOfSplits) {
  DeterministicRandomSource whole(7);
  std::vector<uint8_t> expected(3000);
  whole.Fill(expected);
  DeterministicRandomSource pieces(7);
  std::vector<uint8_t> got(3000);
  size_t offset = 0;
  for (size_t step : {1u, 63u, 64u, 65u, 1000u, 1807u}) {
    pieces.Fill(std::span<uint8_t>(got).subspan(offset, step));
    offset += step;
  }
  ASSERT_EQ(offset, got.size());
  EXPECT_EQ(got, expected);
  DeterministicRandomSource other(8);
  std::vector<uint8_t> different(3000);
  other.Fill(different);
  EXPECT_NE(different, expected);
}

TEST(RandomSourceTest, SystemSourceProducesDistinctOutputs) {
  SystemRandomSource random;
  std::set<std::vector<uint8_t>> seen;
  for (int i = 0; i < 16; ++i) {
    std::vector<uint8_t> bytes(16);
    random.Fill(bytes);
    seen.insert(bytes);
  }
  EXPECT_EQ(seen.size(), 16u);
}

}  // namespace
}  // namespace melodai::crypto
