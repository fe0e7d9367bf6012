// MelodAI — licensed under the Apache License 2.0.
// Step-by-step tests of Client and Server: every kind of bad message (tampered, replayed,
// duplicated, wrong round, unknown client, wrong phase) is rejected with the stated status and
// leaves the round able to finish; the server's view of a masked input is uniform; the server
// never obtains both shares of one client.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <memory>

#include "core/rng.h"
#include "crypto/random_source.h"
#include "secagg/client.h"
#include "secagg/masking.h"
#include "secagg/server.h"

namespace melodai::secagg {
namespace {

using core::StatusCode;

// A round of `n` clients driven by hand, so tests can intercept and alter each message.
class ManualRound {
 public:
  explicit ManualRound(RoundConfig config, uint64_t seed = 5) : config_(config), random_(seed) {
    auto registry = std::make_shared<IdentityRegistry>();
    std::vector<crypto::Ed25519KeyPair> identities;
    for (uint32_t c = 0; c < config.client_count; ++c) {
      identities.push_back(crypto::Ed25519KeyPair::Generate(random_));
      registry->push_back(identities.back().public_key());
      randoms_.push_back(std::make_unique<crypto::DeterministicRandomSource>(seed * 1000 + c));
    }
    for (uint32_t c = 0; c < config.client_count; ++c) {
      clients.push_back(std::move(
          Client::Create(config, c, std::move(identities[c]), registry, *randoms_[c]).value()));
    }
    server = std::move(Server::Create(config, registry).value());
  }

  void Advertise() {
    for (auto& client : clients) {
      advertised.push_back(client->AdvertiseKeys().value());
      ASSERT_TRUE(server->HandleAdvertiseKeys(advertised.back()).ok());
    }
    key_lists = server->FinishAdvertiseKeys().value();
  }
  void Share() {
    for (size_t c = 0; c < clients.size(); ++c) {
      shared.push_back(clients[c]->ShareKeys(key_lists[c]).value());
      ASSERT_TRUE(server->HandleShareKeys(shared.back()).ok());
    }
    routed = server->FinishShareKeys().value();
  }
  void Mask(uint64_t value = 3) {
    for (size_t c = 0; c < clients.size(); ++c) {
      const std::vector<uint64_t> input(config_.dimension, value);
      masked.push_back(clients[c]->MaskInput(routed[c], input).value());
      ASSERT_TRUE(server->HandleMaskedInput(masked.back()).ok());
    }
    survivor_list = server->FinishMaskedInput().value();
  }
  void Sign() {
    for (auto& client : clients) {
      signatures.push_back(client->SignSurvivors(survivor_list).value());
      ASSERT_TRUE(server->HandleConsistencySignature(signatures.back()).ok());
    }
    request = server->FinishConsistencyCheck().value();
  }

  RoundConfig config_;
  crypto::DeterministicRandomSource random_;
  std::vector<std::unique_ptr<crypto::DeterministicRandomSource>> randoms_;
  std::vector<std::unique_ptr<Client>> clients;
  std::unique_ptr<Server> server;
  std::vector<AdvertiseKeysMessage> advertised;
  std::vector<KeyListMessage> key_lists;
  std::vector<ShareKeysMessage> shared;
  std::vector<EncryptedSharesMessage> routed;
  std::vector<MaskedInputMessage> masked;
  SurvivorListMessage survivor_list;
  std::vector<ConsistencySignatureMessage> signatures;
  UnmaskingRequestMessage request;
};

RoundConfig FiveClients() {
  RoundConfig config;
  config.round_id = 3;
  config.client_count = 5;
  config.threshold = 3;
  config.dimension = 16;
  return config;
}

TEST(ProtocolTest, AdvertiseKeysRejections) {
  ManualRound round(FiveClients());
  AdvertiseKeysMessage message = round.clients[0]->AdvertiseKeys().value();
  AdvertiseKeysMessage tampered = message;
  tampered.keys.mask_key.bytes[0] ^= 1;
  EXPECT_EQ(round.server->HandleAdvertiseKeys(tampered).code(), StatusCode::kDataLoss);
  AdvertiseKeysMessage wrong_round = message;
  wrong_round.round_id = 4;
  EXPECT_EQ(round.server->HandleAdvertiseKeys(wrong_round).code(), StatusCode::kFailedPrecondition);
  AdvertiseKeysMessage unknown = message;
  unknown.keys.client_id = 77;
  EXPECT_EQ(round.server->HandleAdvertiseKeys(unknown).code(), StatusCode::kNotFound);
  // Client 0's keys presented as client 1's: the signature does not match client 1's identity.
  AdvertiseKeysMessage impostor = message;
  impostor.keys.client_id = 1;
  EXPECT_EQ(round.server->HandleAdvertiseKeys(impostor).code(), StatusCode::kDataLoss);
  ASSERT_TRUE(round.server->HandleAdvertiseKeys(message).ok());
  EXPECT_EQ(round.server->HandleAdvertiseKeys(message).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(round.clients[0]->AdvertiseKeys().status().code(), StatusCode::kFailedPrecondition);
}

TEST(ProtocolTest, KeyListRejectionsAtTheClient) {
  ManualRound round(FiveClients());
  round.Advertise();
  KeyListMessage list = round.key_lists[0];
  KeyListMessage tampered = list;
  tampered.entries[1].encryption_key.bytes[5] ^= 0x10;
  EXPECT_EQ(round.clients[0]->ShareKeys(tampered).status().code(), StatusCode::kDataLoss);
  KeyListMessage wrong_round = list;
  wrong_round.round_id = 9;
  EXPECT_EQ(round.clients[0]->ShareKeys(wrong_round).status().code(), StatusCode::kFailedPrecondition);
  KeyListMessage for_other = round.key_lists[1];
  EXPECT_EQ(round.clients[0]->ShareKeys(for_other).status().code(), StatusCode::kFailedPrecondition);
  KeyListMessage duplicated = list;
  duplicated.entries[1] = duplicated.entries[0];
  EXPECT_FALSE(round.clients[0]->ShareKeys(duplicated).ok());
  KeyListMessage too_short = list;
  too_short.entries.resize(2);
  EXPECT_EQ(round.clients[0]->ShareKeys(too_short).status().code(), StatusCode::kAborted);
  EXPECT_TRUE(round.clients[0]->aborted());
  // The other clients are unaffected and can go on.
  EXPECT_TRUE(round.clients[1]->ShareKeys(round.key_lists[1]).ok());
}

TEST(ProtocolTest, ShareRoutingRejections) {
  ManualRound round(FiveClients());
  round.Advertise();
  ShareKeysMessage message = round.clients[0]->ShareKeys(round.key_lists[0]).value();
  // A replay of an AdvertiseKeys message in the ShareKeys phase.
  EXPECT_EQ(round.server->HandleAdvertiseKeys(round.advertised[0]).code(),
            StatusCode::kFailedPrecondition);
  ShareKeysMessage missing = message;
  missing.shares.pop_back();
  EXPECT_EQ(round.server->HandleShareKeys(missing).code(), StatusCode::kInvalidArgument);
  ShareKeysMessage to_self = message;
  to_self.shares[0].peer_id = 0;
  EXPECT_EQ(round.server->HandleShareKeys(to_self).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(round.server->HandleShareKeys(message).ok());
  EXPECT_EQ(round.server->HandleShareKeys(message).code(), StatusCode::kAlreadyExists);
}

TEST(ProtocolTest, TamperedOrMisroutedSharesAreRejectedByTheHolder) {
  ManualRound round(FiveClients());
  round.Advertise();
  round.Share();
  const std::vector<uint64_t> input(16, 1);
  EncryptedSharesMessage flipped = round.routed[2];
  flipped.shares[1].ciphertext[40] ^= 0x01;
  EXPECT_EQ(round.clients[2]->MaskInput(flipped, input).status().code(), StatusCode::kDataLoss);
  // The server relabels owner 0's share as owner 1's: authentication binds the owner.
  EncryptedSharesMessage relabelled = round.routed[2];
  std::swap(relabelled.shares[0].ciphertext, relabelled.shares[1].ciphertext);
  EXPECT_EQ(round.clients[2]->MaskInput(relabelled, input).status().code(), StatusCode::kDataLoss);
  // A share meant for client 3 delivered to client 2.
  EncryptedSharesMessage forwarded = round.routed[2];
  forwarded.shares[0] = round.routed[3].shares[0];
  EXPECT_EQ(round.clients[2]->MaskInput(forwarded, input).status().code(), StatusCode::kDataLoss);
  EXPECT_EQ(round.clients[2]->MaskInput(round.routed[2], std::vector<uint64_t>(15, 1)).status().code(),
            StatusCode::kInvalidArgument);
  // After all rejections the genuine message still works.
  EXPECT_TRUE(round.clients[2]->MaskInput(round.routed[2], input).ok());
}

TEST(ProtocolTest, MaskedInputRejections) {
  ManualRound round(FiveClients());
  round.Advertise();
  round.Share();
  const std::vector<uint64_t> input(16, 1);
  MaskedInputMessage message = round.clients[1]->MaskInput(round.routed[1], input).value();
  MaskedInputMessage short_vector = message;
  short_vector.words.pop_back();
  EXPECT_EQ(round.server->HandleMaskedInput(short_vector).code(), StatusCode::kInvalidArgument);
  MaskedInputMessage wrong_round = message;
  wrong_round.round_id = 2;
  EXPECT_EQ(round.server->HandleMaskedInput(wrong_round).code(), StatusCode::kFailedPrecondition);
  ASSERT_TRUE(round.server->HandleMaskedInput(message).ok());
  EXPECT_EQ(round.server->HandleMaskedInput(message).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(round.server->HandleShareKeys(round.shared[1]).code(), StatusCode::kFailedPrecondition);
}

TEST(ProtocolTest, ConsistencyCheckRejections) {
  ManualRound round(FiveClients());
  round.Advertise();
  round.Share();
  round.Mask();
  ConsistencySignatureMessage signature = round.clients[0]->SignSurvivors(round.survivor_list).value();
  ConsistencySignatureMessage forged = signature;
  forged.signature[3] ^= 0x04;
  EXPECT_EQ(round.server->HandleConsistencySignature(forged).code(), StatusCode::kDataLoss);
  ConsistencySignatureMessage impostor = signature;
  impostor.client_id = 1;
  EXPECT_EQ(round.server->HandleConsistencySignature(impostor).code(), StatusCode::kDataLoss);
  ASSERT_TRUE(round.server->HandleConsistencySignature(signature).ok());
  EXPECT_EQ(round.server->HandleConsistencySignature(signature).code(), StatusCode::kAlreadyExists);
  // A survivor list without client 1 is refused by client 1; one with a stranger by others.
  SurvivorListMessage without_me = round.survivor_list;
  without_me.survivors.erase(without_me.survivors.begin() + 1);
  EXPECT_EQ(round.clients[1]->SignSurvivors(without_me).status().code(), StatusCode::kFailedPrecondition);
  SurvivorListMessage stranger = round.survivor_list;
  stranger.survivors.push_back(40);
  EXPECT_EQ(round.clients[1]->SignSurvivors(stranger).status().code(), StatusCode::kNotFound);
}

TEST(ProtocolTest, UnmaskingRequestMustCarryTheSignedListAndValidSignatures) {
  ManualRound round(FiveClients());
  round.Advertise();
  round.Share();
  round.Mask();
  round.Sign();
  UnmaskingRequestMessage other_list = round.request;
  other_list.survivors.pop_back();
  EXPECT_EQ(round.clients[0]->Unmask(other_list).status().code(), StatusCode::kInvalidArgument);
  UnmaskingRequestMessage forged = round.request;
  forged.signatures[2].signature[0] ^= 0x80;
  EXPECT_EQ(round.clients[0]->Unmask(forged).status().code(), StatusCode::kDataLoss);
  UnmaskingRequestMessage too_few = round.request;
  too_few.signatures.resize(2);
  EXPECT_EQ(round.clients[0]->Unmask(too_few).status().code(), StatusCode::kAborted);
}

// Goal: the server never holds both the self-mask share and the mask-key share of a client.
// Method: client 4 drops before sending its masked input; every response must reveal only
// mask-key shares of 4 and only self-seed shares of the others, and a response that tries the
// other kind is refused. The round still sums exactly.
TEST(ProtocolTest, ServerNeverReceivesBothSharesOfAClient) {
  ManualRound round(FiveClients());
  round.Advertise();
  round.Share();
  for (uint32_t c = 0; c < 4; ++c) {
    const std::vector<uint64_t> input(16, c + 1);
    ASSERT_TRUE(round.server->HandleMaskedInput(round.clients[c]->MaskInput(round.routed[c], input).value()).ok());
  }
  const SurvivorListMessage list = round.server->FinishMaskedInput().value();
  ASSERT_EQ(list.survivors, (std::vector<uint32_t>{0, 1, 2, 3}));
  for (uint32_t c = 0; c < 4; ++c) {
    ASSERT_TRUE(round.server->HandleConsistencySignature(round.clients[c]->SignSurvivors(list).value()).ok());
  }
  const UnmaskingRequestMessage request = round.server->FinishConsistencyCheck().value();
  for (uint32_t c = 0; c < 4; ++c) {
    UnmaskingResponseMessage response = round.clients[c]->Unmask(request).value();
    for (const RevealedShare& share : response.shares) {
      EXPECT_EQ(share.kind, share.owner_id == 4 ? ShareKind::kMaskKey : ShareKind::kSelfMaskSeed);
    }
    UnmaskingResponseMessage greedy = response;
    for (RevealedShare& share : greedy.shares) {
      share.kind = share.kind == ShareKind::kMaskKey ? ShareKind::kSelfMaskSeed : ShareKind::kMaskKey;
    }
    EXPECT_EQ(round.server->HandleUnmaskingResponse(greedy).code(), StatusCode::kInvalidArgument);
    ASSERT_TRUE(round.server->HandleUnmaskingResponse(response).ok());
    EXPECT_EQ(round.server->HandleUnmaskingResponse(response).code(), StatusCode::kAlreadyExists);
  }
  auto sum = round.server->FinishUnmasking();
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(*sum, std::vector<uint64_t>(16, 1 + 2 + 3 + 4));
}

TEST(ProtocolTest, CorruptRevealedSharesAreDetected) {
  ManualRound round(FiveClients());
  round.Advertise();
  round.Share();
  for (uint32_t c = 0; c < 4; ++c) {
    ASSERT_TRUE(round.server->HandleMaskedInput(
        round.clients[c]->MaskInput(round.routed[c], std::vector<uint64_t>(16, 1)).value()).ok());
  }
  const SurvivorListMessage list = round.server->FinishMaskedInput().value();
  for (uint32_t c = 0; c < 4; ++c) {
    ASSERT_TRUE(round.server->HandleConsistencySignature(round.clients[c]->SignSurvivors(list).value()).ok());
  }
  const UnmaskingRequestMessage request = round.server->FinishConsistencyCheck().value();
  for (uint32_t c = 0; c < 4; ++c) {
    UnmaskingResponseMessage response = round.clients[c]->Unmask(request).value();
    for (RevealedShare& share : response.shares) {
      // One holder's share moves by 1000 in chunk 2 (bytes 14..20 of the key, which X25519
      // clamping does not ignore).
      if (c == 0 && share.owner_id == 4) share.values[2] = (share.values[2] + 1000) % crypto::kShamirPrime;
    }
    ASSERT_TRUE(round.server->HandleUnmaskingResponse(response).ok());
  }
  // The rebuilt mask key of client 4 no longer matches its advertised public key.
  EXPECT_FALSE(round.server->FinishUnmasking().ok());
}

// Goal: what the server sees of one client is indistinguishable from uniform. Method: a
// client masks an all-zero input of 65,536 elements; Pearson's chi-square over 256 bins of the
// top byte and of the low byte must stay below 330.5 (p = 0.001 at 255 degrees of freedom).
// The unmasked input (all zeros) fails the same test, so the test can fail.
double ChiSquare(const std::vector<uint32_t>& words, int shift) {
  std::vector<double> bins(256, 0.0);
  for (uint32_t word : words) bins[(word >> shift) & 0xff] += 1;
  const double expected = static_cast<double>(words.size()) / 256;
  double chi = 0;
  for (double count : bins) chi += (count - expected) * (count - expected) / expected;
  return chi;
}

TEST(ProtocolTest, MaskedInputLooksUniformToTheServer) {
  RoundConfig config = FiveClients();
  config.dimension = 65536;
  for (crypto::PrgKind prg : {crypto::PrgKind::kAes128Ctr, crypto::PrgKind::kChaCha20}) {
    config.prg = prg;
    ManualRound round(config, 17);
    round.Advertise();
    round.Share();
    const std::vector<uint64_t> zeros(config.dimension, 0);
    const MaskedInputMessage masked = round.clients[0]->MaskInput(round.routed[0], zeros).value();
    EXPECT_LT(ChiSquare(masked.words, 24), 330.5) << crypto::PrgKindName(prg);
    EXPECT_LT(ChiSquare(masked.words, 0), 330.5) << crypto::PrgKindName(prg);
    EXPECT_GT(ChiSquare(ElementsToWords(32, zeros), 0), 330.5);
  }
}

TEST(ProtocolTest, CreateValidatesItsArguments) {
  RoundConfig config = FiveClients();
  crypto::DeterministicRandomSource random(1);
  auto registry = std::make_shared<IdentityRegistry>(5);
  auto identity = crypto::Ed25519KeyPair::Generate(random);
  EXPECT_EQ(Client::Create(config, 0, std::move(identity), registry, random).status().code(),
            StatusCode::kInvalidArgument);  // Registry entry differs from the identity.
  EXPECT_EQ(Server::Create(config, std::make_shared<IdentityRegistry>(4)).status().code(),
            StatusCode::kInvalidArgument);
  config.threshold = 2;  // Not a majority of 4 neighbours.
  EXPECT_EQ(Server::Create(config, registry).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace melodai::secagg
