// MelodAI — licensed under the Apache License 2.0.
// Unit tests of Ed25519: the RFC 8032 test vector 1, round trips and rejection of tampered
// messages, signatures and keys.
#include <gtest/gtest.h>

#include "crypto/ed25519.h"
#include "crypto/hash.h"

namespace melodai::crypto {
namespace {

std::array<uint8_t, 32> Seed32(std::string_view hex) {
  auto bytes = FromHex(hex);
  EXPECT_TRUE(bytes.ok());
  std::array<uint8_t, 32> seed{};
  std::copy(bytes->begin(), bytes->end(), seed.begin());
  return seed;
}

TEST(Ed25519Test, Rfc8032TestVector1) {
  const auto seed = Seed32("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
  const Ed25519KeyPair pair = Ed25519KeyPair::FromSeed(seed);
  EXPECT_EQ(ToHex(pair.public_key().bytes),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  const Ed25519Signature signature = pair.Sign({});
  EXPECT_EQ(ToHex(signature),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
            "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  EXPECT_TRUE(Ed25519Verify(pair.public_key(), {}, signature));
  EXPECT_EQ(pair.seed(), seed);
}

TEST(Ed25519Test, RejectsTamperedMessageSignatureAndKey) {
  DeterministicRandomSource random(1);
  const Ed25519KeyPair pair = Ed25519KeyPair::Generate(random);
  const Ed25519KeyPair other = Ed25519KeyPair::Generate(random);
  std::string message = "transfer 10 MELAI to bob";
  const Ed25519Signature signature = pair.Sign(AsBytes(message));
  EXPECT_TRUE(Ed25519Verify(pair.public_key(), AsBytes(message), signature));
  EXPECT_FALSE(Ed25519Verify(other.public_key(), AsBytes(message), signature));
  Ed25519Signature bad_signature = signature;
  bad_signature[10] ^= 0x01;
  EXPECT_FALSE(Ed25519Verify(pair.public_key(), AsBytes(message), bad_signature));
  message[0] = 'T';
  EXPECT_FALSE(Ed25519Verify(pair.public_key(), AsBytes(message), signature));
  Ed25519PublicKey zero_key;
  EXPECT_FALSE(Ed25519Verify(zero_key, AsBytes(message), signature));
}

TEST(Ed25519Test, GenerateIsDeterministicUnderASeededSource) {
  DeterministicRandomSource first(99);
  DeterministicRandomSource second(99);
  EXPECT_EQ(Ed25519KeyPair::Generate(first).public_key(),
            Ed25519KeyPair::Generate(second).public_key());
}

}  // namespace
}  // namespace melodai::crypto
