// MelodAI — licensed under the Apache License 2.0.
// Unit tests of the primitives secure aggregation builds on: X25519 agreement with KDF,
// XChaCha20-Poly1305, the ChaCha20 and AES-128-CTR PRGs (published vectors, stream
// continuity) and Shamir sharing over GF(2^61 - 1) (any t shares rebuild, bad shares rejected).
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "crypto/aead.h"
#include "crypto/hash.h"
#include "crypto/key_agreement.h"
#include "crypto/prg.h"
#include "crypto/shamir.h"

namespace melodai::crypto {
namespace {

std::vector<uint8_t> Bytes(const SecretBytes& secret) {
  return {secret.span().begin(), secret.span().end()};
}

TEST(KeyAgreementTest, BothSidesDeriveTheSameContextBoundKey) {
  DeterministicRandomSource random(11);
  const X25519KeyPair alice = X25519KeyPair::Generate(random);
  const X25519KeyPair bob = X25519KeyPair::Generate(random);
  const X25519KeyPair carol = X25519KeyPair::Generate(random);
  auto ab = X25519DeriveSharedKey(alice, bob.public_key(), AsBytes("round 1"));
  auto ba = X25519DeriveSharedKey(bob, alice.public_key(), AsBytes("round 1"));
  auto ab2 = X25519DeriveSharedKey(alice, bob.public_key(), AsBytes("round 2"));
  auto ac = X25519DeriveSharedKey(alice, carol.public_key(), AsBytes("round 1"));
  ASSERT_TRUE(ab.ok() && ba.ok() && ab2.ok() && ac.ok());
  EXPECT_EQ(Bytes(*ab), Bytes(*ba));
  EXPECT_NE(Bytes(*ab), Bytes(*ab2));
  EXPECT_NE(Bytes(*ab), Bytes(*ac));
  // A pair rebuilt from the secret (as after Shamir reconstruction) derives the same key.
  const X25519KeyPair rebuilt = X25519KeyPair::FromSecretKey(alice.secret_key());
  EXPECT_EQ(rebuilt.public_key(), alice.public_key());
  auto again = X25519DeriveSharedKey(rebuilt, bob.public_key(), AsBytes("round 1"));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(Bytes(*again), Bytes(*ab));
}

TEST(KeyAgreementTest, RejectsLowOrderPeerKey) {
  DeterministicRandomSource random(12);
  const X25519KeyPair alice = X25519KeyPair::Generate(random);
  X25519PublicKey zero;  // The identity point: the shared secret would be all zeros.
  auto key = X25519DeriveSharedKey(alice, zero, AsBytes("ctx"));
  EXPECT_EQ(key.status().code(), core::StatusCode::kInvalidArgument);
}

TEST(AeadTest, RoundTripAndTamperDetection) {
  DeterministicRandomSource random(13);
  SecretBytes key(kAeadKeyBytes);
  random.Fill(key.mutable_span());
  const std::vector<uint8_t> plaintext = {1, 2, 3, 4, 5};
  const std::vector<uint8_t> sealed = AeadSeal(key, plaintext, AsBytes("ad"), random);
  ASSERT_EQ(sealed.size(), plaintext.size() + kAeadOverheadBytes);
  auto opened = AeadOpen(key, sealed, AsBytes("ad"));
  ASSERT_TRUE(opened.ok());
  EXPECT_EQ(Bytes(*opened), plaintext);
  EXPECT_EQ(AeadOpen(key, sealed, AsBytes("other")).status().code(), core::StatusCode::kDataLoss);
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::vector<uint8_t> bad = sealed;
    bad[i] ^= 0x20;
    EXPECT_EQ(AeadOpen(key, bad, AsBytes("ad")).status().code(), core::StatusCode::kDataLoss) << i;
  }
  EXPECT_EQ(AeadOpen(key, std::span(sealed).first(10), AsBytes("ad")).status().code(),
            core::StatusCode::kDataLoss);
  SecretBytes other_key(kAeadKeyBytes);
  EXPECT_FALSE(AeadOpen(other_key, sealed, AsBytes("ad")).ok());
}

TEST(PrgTest, PublishedVectorsForZeroSeed) {
  const std::array<uint8_t, kPrgSeedBytes> seed{};
  std::vector<uint8_t> chacha(64);
  Prg::Create(PrgKind::kChaCha20, seed)->Generate(chacha);
  // RFC 7539 appendix A.1, test vector 1 (zero key, zero nonce, counter 0).
  EXPECT_EQ(ToHex(chacha),
            "76b8e0ada0f13d90405d6ae55386bd28bdd219b8a08ded1aa836efcc8b770dc7"
            "da41597c5157488d7724e03fb8d84a376a43b8f41518a11cc387b669b2ee6586");
  std::vector<uint8_t> aes(16);
  Prg::Create(PrgKind::kAes128Ctr, seed)->Generate(aes);
  // AES-128 of the zero block under the zero key (FIPS 197 known answer).
  EXPECT_EQ(ToHex(aes), "66e94bd4ef8a2c3b884cfa59ca342b2e");
}

TEST(PrgTest, StreamDoesNotDependOnHowItIsSplit) {
  std::array<uint8_t, kPrgSeedBytes> seed{};
  for (size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<uint8_t>(i * 7 + 1);
  for (PrgKind kind : {PrgKind::kChaCha20, PrgKind::kAes128Ctr}) {
    std::vector<uint8_t> whole(5000);
    Prg::Create(kind, seed)->Generate(whole);
    auto prg = Prg::Create(kind, seed);
    std::vector<uint8_t> pieces(5000);
    size_t offset = 0;
    for (size_t step : {1u, 3u, 60u, 64u, 128u, 1u, 1000u, 3743u}) {
      prg->Generate(std::span(pieces).subspan(offset, step));
      offset += step;
    }
    ASSERT_EQ(offset, pieces.size());
    EXPECT_EQ(pieces, whole) << PrgKindName(kind);
    std::vector<uint32_t> words(4);
    Prg::Create(kind, seed)->GenerateWords(words);
    EXPECT_EQ(words[0], uint32_t{whole[0]} | uint32_t{whole[1]} << 8 | uint32_t{whole[2]} << 16 |
                            uint32_t{whole[3]} << 24);
  }
}

TEST(PrgTest, ParsesNames) {
  EXPECT_EQ(*ParsePrgKind("aes"), PrgKind::kAes128Ctr);
  EXPECT_EQ(*ParsePrgKind("chacha"), PrgKind::kChaCha20);
  EXPECT_EQ(ParsePrgKind("xorshift").status().code(), core::StatusCode::kInvalidArgument);
}

TEST(ShamirTest, FieldArithmetic) {
  EXPECT_EQ(FieldAdd(kShamirPrime - 1, 1), 0u);
  EXPECT_EQ(FieldSubtract(0, 1), kShamirPrime - 1);
  EXPECT_EQ(FieldMultiply(kShamirPrime - 1, kShamirPrime - 1), 1u);  // (-1)^2.
  for (uint64_t a : {uint64_t{1}, uint64_t{2}, uint64_t{12345}, kShamirPrime - 2}) {
    EXPECT_EQ(FieldMultiply(a, FieldInverse(a)), 1u) << a;
  }
}

TEST(ShamirTest, AnyThresholdSubsetRebuildsTheSecret) {
  DeterministicRandomSource random(14);
  std::vector<uint8_t> secret(32);
  random.Fill(secret);
  const std::vector<uint64_t> points = {3, 4, 8, 9, 10, 11, 20};
  const uint32_t threshold = 4;
  std::vector<ShamirShare> shares = ShamirSplit(secret, threshold, points, random);
  ASSERT_EQ(shares.size(), points.size());
  EXPECT_EQ(shares[0].values.size(), ShamirChunkCount(32));
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<ShamirShare> subset = shares;
    for (size_t i = subset.size(); i > 1; --i) {
      uint8_t r;
      random.Fill({&r, 1});
      std::swap(subset[i - 1], subset[r % i]);
    }
    subset.resize(threshold + trial % 3);
    auto rebuilt = ShamirCombine(subset, threshold, secret.size());
    ASSERT_TRUE(rebuilt.ok()) << rebuilt.status().ToString();
    EXPECT_EQ(Bytes(*rebuilt), secret);
  }
}

TEST(ShamirTest, FewerOrBadSharesAreRejectedOrGiveAnotherSecret) {
  DeterministicRandomSource random(15);
  std::vector<uint8_t> secret(32, 0xab);
  const std::vector<uint64_t> points = {1, 2, 3, 4, 5};
  std::vector<ShamirShare> shares = ShamirSplit(secret, 3, points, random);
  EXPECT_EQ(ShamirCombine(std::span(shares).first(2), 3, 32).status().code(),
            core::StatusCode::kInvalidArgument);
  std::vector<ShamirShare> duplicate = {shares[0], shares[0], shares[1]};
  EXPECT_EQ(ShamirCombine(duplicate, 3, 32).status().code(), core::StatusCode::kInvalidArgument);
  std::vector<ShamirShare> zero_point = {shares[0], shares[1], shares[2]};
  zero_point[1].point = 0;
  EXPECT_FALSE(ShamirCombine(zero_point, 3, 32).ok());
  std::vector<ShamirShare> big_value = {shares[0], shares[1], shares[2]};
  big_value[2].values[0] = kShamirPrime;
  EXPECT_FALSE(ShamirCombine(big_value, 3, 32).ok());
  std::vector<ShamirShare> short_share = {shares[0], shares[1], shares[2]};
  short_share[0].values.pop_back();
  EXPECT_FALSE(ShamirCombine(short_share, 3, 32).ok());
  // A corrupted value either fails the range check or yields a different secret.
  std::vector<ShamirShare> corrupt = {shares[0], shares[1], shares[2]};
  corrupt[1].values[4] = FieldAdd(corrupt[1].values[4], 1);
  auto rebuilt = ShamirCombine(corrupt, 3, 32);
  if (rebuilt.ok()) {
    EXPECT_NE(Bytes(*rebuilt), secret);
  }
}

}  // namespace
}  // namespace melodai::crypto
