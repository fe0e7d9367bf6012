// MelodAI — licensed under the Apache License 2.0.
// Tests of transactions, blocks, commit certificates and the validator set: round trips, strict
// decoding of hostile bytes, signature checks, offline block verification and golden bytes.

#include <cstring>

#include <gtest/gtest.h>

#include "core/bytes.h"
#include "crypto/hash.h"
#include "ledger/chain/block.h"
#include "ledger/chain/certificate.h"
#include "ledger/chain/transaction.h"
#include "ledger/chain/validator_set.h"

namespace melodai::ledger {
namespace {

// BLAKE2b-256 of EncodeBlock(GoldenBlock()), frozen when the format was defined.
constexpr std::string_view kGoldenBlockDigest = "febb9e985e0df4a8d0d8d80d29bd8a17140c398b667176f2029769ac017b05c6";

crypto::Ed25519KeyPair KeyFor(uint8_t index) {
  std::array<uint8_t, 32> seed{};
  seed.fill(index);
  return crypto::Ed25519KeyPair::FromSeed(seed);
}

Transaction MakeTx(const crypto::Ed25519KeyPair& key, uint64_t nonce, std::string payload) {
  Transaction tx;
  tx.type = 1;
  tx.sender = key.public_key();
  tx.nonce = nonce;
  tx.payload = std::move(payload);
  SignTransaction(tx, key);
  return tx;
}

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

TEST(Transaction, RoundTripAndSignature) {
  auto key = KeyFor(1);
  Transaction tx = MakeTx(key, 7, "hello");
  EXPECT_TRUE(VerifyTransactionSignature(tx));
  std::string bytes = EncodeTransaction(tx);
  EXPECT_EQ(bytes.size(), kTransactionOverheadBytes + 5);
  auto decoded = DecodeTransaction(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, tx);
  EXPECT_EQ(TransactionHash(*decoded), TransactionHash(tx));
  Transaction tampered = tx;
  tampered.nonce = 8;
  EXPECT_FALSE(VerifyTransactionSignature(tampered));
  tampered = tx;
  tampered.payload[0] ^= 1;
  EXPECT_FALSE(VerifyTransactionSignature(tampered));
}

TEST(Transaction, StrictDecodingRejectsHostileBytes) {
  std::string bytes = EncodeTransaction(MakeTx(KeyFor(1), 1, "abc"));
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    auto decoded = DecodeTransaction(bytes.substr(0, cut));
    EXPECT_EQ(decoded.status().code(), core::StatusCode::kDataLoss) << cut;
  }
  EXPECT_EQ(DecodeTransaction(bytes + "x").status().code(), core::StatusCode::kDataLoss);
  // A payload size above the limit is refused before anything is allocated.
  std::string oversize = bytes;
  uint32_t huge = kMaxTransactionPayloadBytes + 1;
  std::memcpy(oversize.data() + 1 + 32 + 8, &huge, 4);
  auto decoded = DecodeTransaction(oversize);
  EXPECT_EQ(decoded.status().code(), core::StatusCode::kDataLoss);
  EXPECT_NE(decoded.status().message().find("payload_size"), std::string::npos);
}

TEST(ValidatorSet, QuorumsAndErrors) {
  std::vector<crypto::Ed25519PublicKey> keys;
  for (uint8_t i = 0; i < 7; ++i) keys.push_back(KeyFor(i).public_key());
  auto set = ValidatorSet::Create(keys);
  ASSERT_TRUE(set.ok());
  EXPECT_EQ(set->f(), 2u);
  EXPECT_EQ(set->quorum(), 5u);
  EXPECT_EQ(set->reply_quorum(), 3u);
  EXPECT_EQ(set->Primary(9), 2u);
  keys.push_back(keys[0]);
  EXPECT_EQ(ValidatorSet::Create(keys).status().code(), core::StatusCode::kInvalidArgument);
  EXPECT_EQ(ValidatorSet::Create({}).status().code(), core::StatusCode::kInvalidArgument);
}

Block GoldenBlock() {
  Block block;
  block.header.height = 3;
  block.header.previous_hash.fill(0x11);
  block.header.timestamp_ms = 1'700'000'000'000;
  block.header.state_root.fill(0x22);
  block.header.view = 2;
  block.header.proposer = 2;
  block.transactions.push_back(MakeTx(KeyFor(9), 0, "golden"));
  block.header.transactions_root = TransactionsRoot(block.transactions);
  return block;
}

// Golden bytes: the header layout is fixed (little-endian, 124 bytes) and the digest of the
// whole block encoding is frozen, so any change to the wire format fails here first.
TEST(Block, GoldenBytes) {
  Block block = GoldenBlock();
  std::string header = EncodeBlockHeader(block.header);
  ASSERT_EQ(header.size(), kBlockHeaderBytes);
  EXPECT_EQ(crypto::ToHex(AsBytes(header.substr(0, 8))), "0300000000000000");
  EXPECT_EQ(crypto::ToHex(AsBytes(header.substr(8, 32))), std::string(64, '1'));
  EXPECT_EQ(crypto::ToHex(AsBytes(header.substr(40, 8))), "0068e5cf8b010000");
  EXPECT_EQ(crypto::ToHex(AsBytes(header.substr(80, 32))), std::string(64, '2'));
  EXPECT_EQ(crypto::ToHex(AsBytes(header.substr(112, 12))), "020000000000000002000000");
  std::string encoded = EncodeBlock(block);
  EXPECT_EQ(encoded.size(), kBlockHeaderBytes + 4 + 4 + kTransactionOverheadBytes + 6);
  EXPECT_EQ(crypto::ToHex(crypto::Blake2b256(AsBytes(encoded))), kGoldenBlockDigest);
}

TEST(Block, RoundTripAndStrictDecoding) {
  Block block = GoldenBlock();
  block.transactions.push_back(MakeTx(KeyFor(8), 4, std::string(100, 'z')));
  block.header.transactions_root = TransactionsRoot(block.transactions);
  std::string encoded = EncodeBlock(block);
  auto decoded = DecodeBlock(encoded);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(*decoded, block);
  EXPECT_EQ(BlockHash(decoded->header), BlockHash(block.header));
  for (size_t cut : {size_t{0}, size_t{10}, kBlockHeaderBytes, kBlockHeaderBytes + 3,
                     encoded.size() - 1}) {
    EXPECT_EQ(DecodeBlock(encoded.substr(0, cut)).status().code(), core::StatusCode::kDataLoss)
        << cut;
  }
  EXPECT_EQ(DecodeBlock(encoded + "\x01").status().code(), core::StatusCode::kDataLoss);
  std::string bad_count = encoded;
  uint32_t count = kMaxBlockTransactions + 1;
  std::memcpy(bad_count.data() + kBlockHeaderBytes, &count, 4);
  EXPECT_EQ(DecodeBlock(bad_count).status().code(), core::StatusCode::kDataLoss);
}

struct Cluster {
  std::vector<crypto::Ed25519KeyPair> keys;
  ValidatorSet validators;
};

Cluster MakeCluster(uint32_t n) {
  std::vector<crypto::Ed25519KeyPair> keys;
  std::vector<crypto::Ed25519PublicKey> public_keys;
  for (uint32_t i = 0; i < n; ++i) {
    keys.push_back(KeyFor(static_cast<uint8_t>(100 + i)));
    public_keys.push_back(keys.back().public_key());
  }
  return Cluster{std::move(keys), ValidatorSet::Create(public_keys).value()};
}

CommitCertificate Certify(const Cluster& cluster, const Block& block, uint64_t view,
                          std::vector<uint32_t> voters) {
  CommitCertificate certificate;
  certificate.view = view;
  certificate.height = block.header.height;
  certificate.batch_digest = BatchDigest(block.header.height, block.header.view,
                                         block.header.timestamp_ms,
                                         block.header.transactions_root);
  for (uint32_t replica : voters) {
    std::string bytes =
        CommitSigningBytes(view, certificate.height, certificate.batch_digest, replica);
    certificate.votes.push_back({replica, cluster.keys[replica].Sign(AsBytes(bytes))});
  }
  return certificate;
}

TEST(Certificate, VerifiesOfflineAndRejectsForgeries) {
  Cluster cluster = MakeCluster(4);
  Block block = GoldenBlock();
  CommitCertificate certificate = Certify(cluster, block, 3, {0, 1, 3});
  EXPECT_TRUE(VerifyCommittedBlock(block, certificate, cluster.validators).ok());
  auto decoded = DecodeCommitCertificate(EncodeCommitCertificate(certificate));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, certificate);

  CommitCertificate short_cert = Certify(cluster, block, 3, {0, 1});
  EXPECT_EQ(VerifyCommitCertificate(short_cert, cluster.validators).code(),
            core::StatusCode::kDataLoss);
  CommitCertificate repeated = Certify(cluster, block, 3, {0, 1, 1});
  EXPECT_FALSE(VerifyCommitCertificate(repeated, cluster.validators).ok());
  CommitCertificate forged = certificate;
  forged.votes[2].signature[5] ^= 1;
  EXPECT_FALSE(VerifyCommitCertificate(forged, cluster.validators).ok());
  CommitCertificate unknown = certificate;
  unknown.votes[2].replica = 9;
  EXPECT_FALSE(VerifyCommitCertificate(unknown, cluster.validators).ok());
  // A valid certificate does not certify another block.
  Block other = block;
  other.transactions[0] = MakeTx(KeyFor(9), 1, "golden");
  other.header.transactions_root = TransactionsRoot(other.transactions);
  EXPECT_FALSE(VerifyCommittedBlock(other, certificate, cluster.validators).ok());
  Block wrong_root = block;
  wrong_root.header.transactions_root[0] ^= 1;
  EXPECT_FALSE(VerifyCommittedBlock(wrong_root, certificate, cluster.validators).ok());
  Block wrong_proposer = block;
  wrong_proposer.header.proposer = 1;
  EXPECT_FALSE(VerifyCommittedBlock(wrong_proposer, certificate, cluster.validators).ok());
  EXPECT_FALSE(VerifyCommittedBlock(block, Certify(cluster, block, 1, {0, 1, 2}),
                                    cluster.validators)
                   .ok());  // Certificate view before the proposal view.
  std::string bytes = EncodeCommitCertificate(certificate);
  EXPECT_FALSE(DecodeCommitCertificate(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_FALSE(DecodeCommitCertificate(bytes + "x").ok());
}

}  // namespace
}  // namespace melodai::ledger
