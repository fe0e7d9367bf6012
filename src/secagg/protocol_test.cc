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
#include "secagg/internal/protocol_util.h"
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
  // The SecAgg+ consistency check: each client signs the survivors of its neighbourhood.
  void SignNeighbourhoods() {
    for (auto& client : clients) {
      neighbourhood_lists.push_back(server->NeighbourhoodSurvivorsFor(client->id()).value());
      signatures.push_back(client->SignNeighbourhood(neighbourhood_lists.back()).value());
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
  std::vector<NeighbourhoodSurvivorsMessage> neighbourhood_lists;
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

// Goal: what the server sees is uniform also for structured inputs, 64-bit elements and a
// SecAgg+ neighbourhood, and so is the running sum of several masked inputs before unmasking.
// Method: 12 clients (k = 6, t = 4) mask a ramp 0, 1, 2, ... modulo 2^64; chi-square over 256
// bins of the top byte, of the low byte, and of the pair (top nibble of element i, top nibble
// of element i + 1) to catch correlation between neighbouring elements. Same bound as above.
double PairChiSquare(const std::vector<uint64_t>& elements) {
  std::vector<double> bins(256, 0.0);
  for (size_t i = 0; i + 1 < elements.size(); i += 2) {
    bins[((elements[i] >> 60) << 4) | (elements[i + 1] >> 60)] += 1;
  }
  const double expected = static_cast<double>(elements.size() / 2) / 256;
  double chi = 0;
  for (double count : bins) chi += (count - expected) * (count - expected) / expected;
  return chi;
}

double ByteChiSquare(const std::vector<uint64_t>& elements, int shift) {
  std::vector<double> bins(256, 0.0);
  for (uint64_t element : elements) bins[(element >> shift) & 0xff] += 1;
  const double expected = static_cast<double>(elements.size()) / 256;
  double chi = 0;
  for (double count : bins) chi += (count - expected) * (count - expected) / expected;
  return chi;
}

TEST(ProtocolTest, StructuredInputsAndPartialSumsLookUniformToTheServer) {
  RoundConfig config;
  config.round_id = 8;
  config.client_count = 12;
  config.neighbour_count = 6;
  config.threshold = 4;
  config.dimension = 65536;
  config.modulus_bits = 64;
  ManualRound round(config, 23);
  round.Advertise();
  round.Share();
  std::vector<uint64_t> ramp(config.dimension);
  for (size_t i = 0; i < ramp.size(); ++i) ramp[i] = i;
  std::vector<uint32_t> partial(2 * config.dimension, 0);
  for (uint32_t c = 0; c < 3; ++c) {
    const MaskedInputMessage masked = round.clients[c]->MaskInput(round.routed[c], ramp).value();
    const std::vector<uint64_t> view = WordsToElements(64, masked.words);
    SCOPED_TRACE(testing::Message() << "client " << c);
    EXPECT_LT(ByteChiSquare(view, 56), 330.5);
    EXPECT_LT(ByteChiSquare(view, 0), 330.5);
    EXPECT_LT(PairChiSquare(view), 330.5);
    AddWords(64, partial, masked.words);
  }
  const std::vector<uint64_t> sum_view = WordsToElements(64, partial);
  EXPECT_LT(ByteChiSquare(sum_view, 56), 330.5);
  EXPECT_LT(PairChiSquare(sum_view), 330.5);
  // The tests can fail: the ramp itself is far from uniform in its top byte and its pairs.
  EXPECT_GT(ByteChiSquare(ramp, 56), 330.5);
  EXPECT_GT(PairChiSquare(ramp), 330.5);
}

// Goal: a message recorded in one round is useless in the next, even with its round id
// rewritten, and every handler rejects unknown clients and wrong rounds. Method: two rounds
// with the same identities (round 3, then round 4); round-3 messages go to the round-4 server
// as they are (kFailedPrecondition) and with round_id = 4 (signatures bind the round:
// kDataLoss); sealed shares replayed into round 4 fail authentication at the holder.
TEST(ProtocolTest, MessagesReplayedFromAnotherRoundAreRejected) {
  ManualRound old_round(FiveClients(), 31);
  old_round.Advertise();
  old_round.Share();
  old_round.Mask();
  old_round.Sign();
  RoundConfig next_config = FiveClients();
  next_config.round_id = 4;
  ManualRound fresh(next_config, 31);  // Same seed: the same identity keys.
  // Round 3's advertisement, as is and relabelled for round 4.
  AdvertiseKeysMessage replayed = old_round.advertised[1];
  EXPECT_EQ(fresh.server->HandleAdvertiseKeys(replayed).code(), StatusCode::kFailedPrecondition);
  replayed.round_id = 4;
  EXPECT_EQ(fresh.server->HandleAdvertiseKeys(replayed).code(), StatusCode::kDataLoss);
  fresh.Advertise();
  fresh.Share();
  // Shares sealed in round 3 do not open in round 4 (keys and associated data differ).
  EncryptedSharesMessage stale = old_round.routed[2];
  stale.round_id = 4;
  EXPECT_EQ(fresh.clients[2]->MaskInput(stale, std::vector<uint64_t>(16, 1)).status().code(),
            StatusCode::kDataLoss);
  fresh.Mask();
  // Round 3's survivor-list signature relabelled for round 4.
  ConsistencySignatureMessage old_signature = old_round.signatures[0];
  old_signature.round_id = 4;
  EXPECT_EQ(fresh.server->HandleConsistencySignature(old_signature).code(), StatusCode::kDataLoss);
  fresh.Sign();
  // Round 3's unmasking request at a round-4 client: the signatures cover round 3.
  UnmaskingRequestMessage old_request = old_round.request;
  old_request.round_id = 4;
  EXPECT_EQ(fresh.clients[0]->Unmask(old_request).status().code(), StatusCode::kDataLoss);
  // Unknown clients and wrong rounds at every server handler of the current phase.
  UnmaskingResponseMessage response = fresh.clients[0]->Unmask(fresh.request).value();
  UnmaskingResponseMessage unknown = response;
  unknown.client_id = 5;
  EXPECT_EQ(fresh.server->HandleUnmaskingResponse(unknown).code(), StatusCode::kNotFound);
  UnmaskingResponseMessage wrong_round = response;
  wrong_round.round_id = 3;
  EXPECT_EQ(fresh.server->HandleUnmaskingResponse(wrong_round).code(),
            StatusCode::kFailedPrecondition);
  // Earlier phases' messages replayed now are out of phase.
  EXPECT_EQ(fresh.server->HandleMaskedInput(fresh.masked[0]).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(fresh.server->HandleConsistencySignature(fresh.signatures[0]).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_TRUE(fresh.server->HandleUnmaskingResponse(response).ok());
}

RoundConfig TwelveClientsSecAggPlus() {
  RoundConfig config = FiveClients();
  config.client_count = 12;
  config.neighbour_count = 4;
  config.threshold = 3;
  return config;
}

// The signed-list entry a client finds in a SecAgg+ unmasking request.
NeighbourhoodSignature SignedEntry(const NeighbourGraph& graph, uint32_t signer,
                                   const std::vector<uint32_t>& list,
                                   const ConsistencySignatureMessage& signature) {
  return NeighbourhoodSignature{
      signer, internal::SurvivorBitmap(internal::ClosedNeighbourhood(graph, signer), list),
      signature.signature};
}

// Goal: in a SecAgg+ round the consistency check never leaves the neighbourhood: each client
// gets and signs only the survivors among N[u], and its unmasking request carries only its k
// neighbours' signed lists (k / 8 bytes each); the round still sums. The full-graph messages
// are refused in such a round. Method: 12 clients, k = 4, t = 3.
TEST(ProtocolTest, SecAggPlusConsistencyCheckStaysInTheNeighbourhood) {
  ManualRound round(TwelveClientsSecAggPlus(), 41);
  round.Advertise();
  round.Share();
  round.Mask(2);
  const NeighbourGraph graph(round.config_);
  EXPECT_EQ(round.clients[0]->SignSurvivors(round.survivor_list).status().code(),
            StatusCode::kFailedPrecondition);
  round.SignNeighbourhoods();
  for (uint32_t c = 0; c < 12; ++c) {
    EXPECT_EQ(round.neighbourhood_lists[c].survivors, internal::ClosedNeighbourhood(graph, c));
    const NeighbourhoodUnmaskingRequestMessage request =
        round.server->NeighbourhoodUnmaskingRequestFor(c).value();
    ASSERT_EQ(request.signatures.size(), 4u);
    for (const NeighbourhoodSignature& entry : request.signatures) {
      EXPECT_TRUE(graph.AreNeighbours(c, entry.client_id));
      EXPECT_EQ(entry.survivor_bitmap, std::vector<uint8_t>{0x1f});  // All five of N[w].
    }
    EXPECT_EQ(round.clients[c]->Unmask(round.request).status().code(),
              StatusCode::kFailedPrecondition);
    const UnmaskingResponseMessage response = round.clients[c]->Unmask(request).value();
    ASSERT_TRUE(round.server->HandleUnmaskingResponse(response).ok());
  }
  EXPECT_EQ(round.server->UnmaskingRequestFor(0).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(round.server->NeighbourhoodUnmaskingRequestFor(12).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(round.server->FinishUnmasking().value(), std::vector<uint64_t>(16, 24));
  EXPECT_EQ(round.server->NeighbourhoodUnmaskingRequestFor(0).status().code(),
            StatusCode::kFailedPrecondition);

  // And the reverse: a full-graph round refuses the neighbourhood messages.
  ManualRound full(FiveClients());
  full.Advertise();
  full.Share();
  full.Mask();
  EXPECT_EQ(full.server->NeighbourhoodSurvivorsFor(0).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(full.clients[0]->SignNeighbourhood({3, 0, {0, 1, 2, 3, 4}}).status().code(),
            StatusCode::kFailedPrecondition);
}

TEST(ProtocolTest, SecAggPlusConsistencyCheckRejections) {
  ManualRound round(TwelveClientsSecAggPlus(), 43);
  round.Advertise();
  round.Share();
  round.Mask();
  const NeighbourGraph graph(round.config_);
  const NeighbourhoodSurvivorsMessage list = round.server->NeighbourhoodSurvivorsFor(0).value();
  EXPECT_EQ(round.server->NeighbourhoodSurvivorsFor(12).status().code(), StatusCode::kNotFound);
  // At the client: wrong round, another client's list, a list without us, with a stranger, a
  // non-neighbour or out of order.
  NeighbourhoodSurvivorsMessage wrong_round = list;
  wrong_round.round_id = 9;
  EXPECT_EQ(round.clients[0]->SignNeighbourhood(wrong_round).status().code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(round.clients[0]->SignNeighbourhood(round.server->NeighbourhoodSurvivorsFor(1).value())
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  NeighbourhoodSurvivorsMessage without_me = list;
  without_me.survivors.erase(std::find(without_me.survivors.begin(), without_me.survivors.end(), 0u));
  EXPECT_EQ(round.clients[0]->SignNeighbourhood(without_me).status().code(),
            StatusCode::kFailedPrecondition);
  NeighbourhoodSurvivorsMessage stranger = list;
  stranger.survivors.push_back(40);
  EXPECT_EQ(round.clients[0]->SignNeighbourhood(stranger).status().code(), StatusCode::kNotFound);
  uint32_t outsider = 1;
  while (graph.AreNeighbours(0, outsider)) ++outsider;
  NeighbourhoodSurvivorsMessage with_outsider = list;
  with_outsider.survivors.push_back(outsider);
  std::sort(with_outsider.survivors.begin(), with_outsider.survivors.end());
  EXPECT_EQ(round.clients[0]->SignNeighbourhood(with_outsider).status().code(),
            StatusCode::kInvalidArgument);
  NeighbourhoodSurvivorsMessage unsorted = list;
  std::reverse(unsorted.survivors.begin(), unsorted.survivors.end());
  EXPECT_EQ(round.clients[0]->SignNeighbourhood(unsorted).status().code(),
            StatusCode::kInvalidArgument);
  // At the server: forged, relabelled, wrong round, unknown client, duplicate.
  const ConsistencySignatureMessage signature = round.clients[0]->SignNeighbourhood(list).value();
  ConsistencySignatureMessage forged = signature;
  forged.signature[7] ^= 0x20;
  EXPECT_EQ(round.server->HandleConsistencySignature(forged).code(), StatusCode::kDataLoss);
  ConsistencySignatureMessage impostor = signature;
  impostor.client_id = 1;  // Also: client 0's list is not client 1's.
  EXPECT_EQ(round.server->HandleConsistencySignature(impostor).code(), StatusCode::kDataLoss);
  ConsistencySignatureMessage other_round = signature;
  other_round.round_id = 4;
  EXPECT_EQ(round.server->HandleConsistencySignature(other_round).code(),
            StatusCode::kFailedPrecondition);
  ConsistencySignatureMessage unknown = signature;
  unknown.client_id = 12;
  EXPECT_EQ(round.server->HandleConsistencySignature(unknown).code(), StatusCode::kNotFound);
  ASSERT_TRUE(round.server->HandleConsistencySignature(signature).ok());
  EXPECT_EQ(round.server->HandleConsistencySignature(signature).code(), StatusCode::kAlreadyExists);
  for (uint32_t c = 1; c < 12; ++c) {
    ASSERT_TRUE(round.server->HandleConsistencySignature(
        round.clients[c]->SignNeighbourhood(round.server->NeighbourhoodSurvivorsFor(c).value()).value()).ok());
  }
  EXPECT_EQ(round.server->NeighbourhoodUnmaskingRequestFor(0).status().code(),
            StatusCode::kFailedPrecondition);  // The phase is still open.
  ASSERT_TRUE(round.server->FinishConsistencyCheck().ok());
  EXPECT_EQ(round.server->HandleConsistencySignature(signature).code(),
            StatusCode::kFailedPrecondition);  // Replayed in the next phase.

  // At the client, the unmasking request: wrong round, another client's, a forged signature,
  // an unknown, non-neighbour or repeated signer, malformed bitmaps — each leaves it able to
  // go on — and finally too few confirmations, which ends it.
  const NeighbourhoodUnmaskingRequestMessage request =
      round.server->NeighbourhoodUnmaskingRequestFor(0).value();
  NeighbourhoodUnmaskingRequestMessage bad = request;
  bad.round_id = 4;
  EXPECT_EQ(round.clients[0]->Unmask(bad).status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(round.clients[0]->Unmask(round.server->NeighbourhoodUnmaskingRequestFor(1).value())
                .status()
                .code(),
            StatusCode::kFailedPrecondition);
  bad = request;
  bad.signatures[1].signature[0] ^= 0x80;
  EXPECT_EQ(round.clients[0]->Unmask(bad).status().code(), StatusCode::kDataLoss);
  bad = request;
  bad.signatures.back().client_id = 40;
  EXPECT_EQ(round.clients[0]->Unmask(bad).status().code(), StatusCode::kNotFound);
  bad = request;
  bad.signatures[0].client_id = outsider;
  EXPECT_EQ(round.clients[0]->Unmask(bad).status().code(), StatusCode::kInvalidArgument);
  bad = request;
  bad.signatures[1] = bad.signatures[0];
  EXPECT_EQ(round.clients[0]->Unmask(bad).status().code(), StatusCode::kInvalidArgument);
  bad = request;
  bad.signatures[0].survivor_bitmap.push_back(0);
  EXPECT_EQ(round.clients[0]->Unmask(bad).status().code(), StatusCode::kInvalidArgument);
  bad = request;
  bad.signatures[0].survivor_bitmap[0] |= 0x80;  // N[w] has five members: bit 7 is padding.
  EXPECT_EQ(round.clients[0]->Unmask(bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(round.clients[0]->aborted());
  EXPECT_TRUE(round.clients[1]->Unmask(round.server->NeighbourhoodUnmaskingRequestFor(1).value()).ok());
  bad = request;
  bad.signatures.resize(2);  // Two of four neighbours, threshold 3.
  EXPECT_EQ(round.clients[0]->Unmask(bad).status().code(), StatusCode::kAborted);
  EXPECT_TRUE(round.clients[0]->aborted());
  EXPECT_EQ(round.clients[0]->Unmask(request).status().code(), StatusCode::kFailedPrecondition);
}

// Goal: a server that tells two neighbourhoods different stories about one client makes the
// honest clients that could notice abort instead of revealing shares. Method (12 clients,
// k = 4, t = 3, everyone sent a masked input): the server tells w, a neighbour of v, that v
// dropped — so that w would reveal v's mask key while the others reveal v's self-mask seed —
// and tells everyone else the truth. Every client signs what it was told.
// (1) u, a common neighbour of v and w, sees w's signed list: it conflicts with its own on v,
//     so u aborts. (2) w sees u's list: it aborts too. (3) Even if the server hides every
//     conflicting list from w, w loses the confirmations of v and of v's neighbours and falls
//     below threshold: it aborts. (4) A consistent request still works for a bystander.
TEST(ProtocolTest, SecAggPlusServerThatEquivocatesMakesHonestClientsAbort) {
  ManualRound round(TwelveClientsSecAggPlus(), 47);
  round.Advertise();
  round.Share();
  round.Mask();
  const NeighbourGraph graph(round.config_);
  const uint32_t v = 0;
  const std::vector<uint32_t> holders = graph.Neighbours(v);
  uint32_t u = 0;
  uint32_t w = 0;
  for (uint32_t a : holders) {
    for (uint32_t b : holders) {
      if (graph.AreNeighbours(a, b)) { u = a; w = b; }
    }
  }
  ASSERT_TRUE(graph.AreNeighbours(u, w) && graph.AreNeighbours(u, v) && graph.AreNeighbours(w, v));
  // The malicious server's lists: the truth (everyone survived), except v missing for w.
  std::vector<std::vector<uint32_t>> told(12);
  std::vector<ConsistencySignatureMessage> signed_lists(12);
  for (uint32_t c = 0; c < 12; ++c) {
    told[c] = internal::ClosedNeighbourhood(graph, c);
    if (c == w) told[c].erase(std::find(told[c].begin(), told[c].end(), v));
    signed_lists[c] = round.clients[c]->SignNeighbourhood({3, c, told[c]}).value();
  }
  auto request_for = [&](uint32_t target, const std::vector<uint32_t>& signers) {
    NeighbourhoodUnmaskingRequestMessage request{3, target, {}};
    for (uint32_t signer : signers) {
      request.signatures.push_back(SignedEntry(graph, signer, told[signer], signed_lists[signer]));
    }
    return request;
  };
  // (1) and (2).
  EXPECT_EQ(round.clients[u]->Unmask(request_for(u, graph.Neighbours(u))).status().code(),
            StatusCode::kAborted);
  EXPECT_TRUE(round.clients[u]->aborted());
  EXPECT_EQ(round.clients[w]->Unmask(request_for(w, {u})).status().code(), StatusCode::kAborted);
  EXPECT_TRUE(round.clients[w]->aborted());
  // (3) on a fresh copy of the round (same seeds, same graph).
  ManualRound again(TwelveClientsSecAggPlus(), 47);
  again.Advertise();
  again.Share();
  again.Mask();
  for (uint32_t c = 0; c < 12; ++c) {
    signed_lists[c] = again.clients[c]->SignNeighbourhood({3, c, told[c]}).value();
  }
  std::vector<uint32_t> consistent;
  for (uint32_t signer : graph.Neighbours(w)) {
    if (signer != v && !graph.AreNeighbours(signer, v)) consistent.push_back(signer);
  }
  ASSERT_LT(consistent.size(), 3u);
  EXPECT_EQ(again.clients[w]->Unmask(request_for(w, consistent)).status().code(),
            StatusCode::kAborted);
  EXPECT_TRUE(again.clients[w]->aborted());
  // (4) A client far from v whose neighbours were all told the truth reveals normally.
  size_t bystanders = 0;
  for (uint32_t c = 0; c < 12; ++c) {
    if (c == v || graph.AreNeighbours(c, v) || graph.AreNeighbours(c, w)) continue;
    EXPECT_TRUE(again.clients[c]->Unmask(request_for(c, graph.Neighbours(c))).ok()) << c;
    ++bystanders;
  }
  EXPECT_GT(bystanders, 0u);
}

// Goal: SecAgg+ consistency messages of one round are useless in the next. Method: rounds 3
// and 4 with the same identities; round 3's neighbourhood signature and unmasking request,
// relabelled for round 4, fail verification (the round is inside the signed bytes).
TEST(ProtocolTest, SecAggPlusMessagesReplayedFromAnotherRoundAreRejected) {
  ManualRound old_round(TwelveClientsSecAggPlus(), 53);
  old_round.Advertise();
  old_round.Share();
  old_round.Mask();
  old_round.SignNeighbourhoods();
  NeighbourhoodUnmaskingRequestMessage old_request =
      old_round.server->NeighbourhoodUnmaskingRequestFor(0).value();
  RoundConfig next = TwelveClientsSecAggPlus();
  next.round_id = 4;
  ManualRound fresh(next, 53);
  fresh.Advertise();
  fresh.Share();
  fresh.Mask();
  ConsistencySignatureMessage old_signature = old_round.signatures[0];
  old_signature.round_id = 4;
  EXPECT_EQ(fresh.server->HandleConsistencySignature(old_signature).code(), StatusCode::kDataLoss);
  fresh.SignNeighbourhoods();
  old_request.round_id = 4;
  if (NeighbourGraph(next).Neighbours(0) == NeighbourGraph(old_round.config_).Neighbours(0)) {
    EXPECT_EQ(fresh.clients[0]->Unmask(old_request).status().code(), StatusCode::kDataLoss);
  } else {
    // The graph depends on the round: old signers are no longer all neighbours.
    EXPECT_FALSE(fresh.clients[0]->Unmask(old_request).ok());
  }
  EXPECT_TRUE(
      fresh.clients[0]->Unmask(fresh.server->NeighbourhoodUnmaskingRequestFor(0).value()).ok());
}

TEST(ProtocolTest, EveryHandlerRejectsUnknownClients) {
  ManualRound round(FiveClients());
  AdvertiseKeysMessage advertise = round.clients[0]->AdvertiseKeys().value();
  advertise.keys.client_id = kMaxClients - 1;
  EXPECT_EQ(round.server->HandleAdvertiseKeys(advertise).code(), StatusCode::kNotFound);
  ManualRound later(FiveClients());
  later.Advertise();
  for (size_t c = 0; c < later.clients.size(); ++c) {
    later.shared.push_back(later.clients[c]->ShareKeys(later.key_lists[c]).value());
    ShareKeysMessage unknown = later.shared.back();
    unknown.client_id = 5;
    EXPECT_EQ(later.server->HandleShareKeys(unknown).code(), StatusCode::kNotFound);
    ASSERT_TRUE(later.server->HandleShareKeys(later.shared.back()).ok());
  }
  later.routed = later.server->FinishShareKeys().value();
  MaskedInputMessage masked =
      later.clients[0]->MaskInput(later.routed[0], std::vector<uint64_t>(16, 1)).value();
  masked.client_id = 6;
  EXPECT_EQ(later.server->HandleMaskedInput(masked).code(), StatusCode::kNotFound);
  ConsistencySignatureMessage signature{3, 9, {}};
  EXPECT_EQ(later.server->HandleConsistencySignature(signature).code(), StatusCode::kNotFound);
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
