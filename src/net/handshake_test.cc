// MelodAI — licensed under the Apache License 2.0.
// Tests of the handshake state machine without sockets: a successful mutual handshake, and
// refusal of wrong networks, impostors, replayed AUTH messages, out-of-order and malformed
// messages.
#include "net/handshake.h"

#include <gtest/gtest.h>

#include <vector>

#include "crypto/random_source.h"

namespace melodai::net {
namespace {

crypto::Ed25519KeyPair KeyFor(uint8_t index) {
  std::array<uint8_t, 32> seed{};
  seed.fill(static_cast<uint8_t>(0x40 + index));
  return crypto::Ed25519KeyPair::FromSeed(seed);
}

class HandshakeTest : public ::testing::Test {
 protected:
  HandshakeTest() : random_(7) {
    for (uint8_t i = 0; i < 4; ++i) {
      keys_.push_back(KeyFor(i));
      public_keys_.push_back(keys_.back().public_key());
    }
    network_.fill(0x11);
  }

  Nonce NewNonce() {
    Nonce nonce{};
    random_.Fill(nonce);
    return nonce;
  }

  crypto::DeterministicRandomSource random_;
  std::vector<crypto::Ed25519KeyPair> keys_;
  std::vector<crypto::Ed25519PublicKey> public_keys_;
  crypto::Digest32 network_{};
};

TEST_F(HandshakeTest, BothSidesAuthenticateEachOther) {
  Handshake dialer(1, keys_[1], public_keys_, network_, NewNonce(), PeerId{2});
  Handshake acceptor(2, keys_[2], public_keys_, network_, NewNonce(), std::nullopt);
  auto dialer_auth = dialer.OnHello(acceptor.HelloPayload());
  auto acceptor_auth = acceptor.OnHello(dialer.HelloPayload());
  ASSERT_TRUE(dialer_auth.ok()) << dialer_auth.status().ToString();
  ASSERT_TRUE(acceptor_auth.ok()) << acceptor_auth.status().ToString();
  EXPECT_FALSE(dialer.peer_id().has_value());
  ASSERT_TRUE(dialer.OnAuth(*acceptor_auth).ok());
  ASSERT_TRUE(acceptor.OnAuth(*dialer_auth).ok());
  EXPECT_EQ(dialer.peer_id(), PeerId{2});
  EXPECT_EQ(acceptor.peer_id(), PeerId{1});
  EXPECT_EQ(dialer.state(), Handshake::State::kDone);
}

TEST_F(HandshakeTest, ImpostorWithoutTheKeyIsRefused) {
  // Validator 3's key signs while claiming to be validator 1.
  Handshake impostor(1, keys_[3], public_keys_, network_, NewNonce(), std::nullopt);
  Handshake acceptor(2, keys_[2], public_keys_, network_, NewNonce(), std::nullopt);
  auto impostor_auth = impostor.OnHello(acceptor.HelloPayload());
  ASSERT_TRUE(acceptor.OnHello(impostor.HelloPayload()).ok());
  ASSERT_TRUE(impostor_auth.ok());
  core::Status status = acceptor.OnAuth(*impostor_auth);
  EXPECT_EQ(status.code(), core::StatusCode::kFailedPrecondition) << status.ToString();
  EXPECT_EQ(acceptor.state(), Handshake::State::kFailed);
  EXPECT_FALSE(acceptor.peer_id().has_value());
}

TEST_F(HandshakeTest, ReplayedAuthFromAnOldSessionIsRefused) {
  Handshake dialer(1, keys_[1], public_keys_, network_, NewNonce(), PeerId{2});
  Handshake old_acceptor(2, keys_[2], public_keys_, network_, NewNonce(), std::nullopt);
  ASSERT_TRUE(old_acceptor.OnHello(dialer.HelloPayload()).ok());
  auto recorded_auth = dialer.OnHello(old_acceptor.HelloPayload());
  ASSERT_TRUE(recorded_auth.ok());
  // An attacker replays the recorded HELLO and AUTH of validator 1 to a fresh acceptor.
  Handshake fresh(2, keys_[2], public_keys_, network_, NewNonce(), std::nullopt);
  ASSERT_TRUE(fresh.OnHello(dialer.HelloPayload()).ok());
  EXPECT_FALSE(fresh.OnAuth(*recorded_auth).ok());
}

TEST_F(HandshakeTest, WrongNetworkUnexpectedIdAndSelfAreRefused) {
  crypto::Digest32 other_network{};
  other_network.fill(0x22);
  Handshake stranger(1, keys_[1], public_keys_, other_network, NewNonce(), std::nullopt);
  Handshake acceptor(2, keys_[2], public_keys_, network_, NewNonce(), std::nullopt);
  EXPECT_EQ(acceptor.OnHello(stranger.HelloPayload()).status().code(),
            core::StatusCode::kFailedPrecondition);

  Handshake dialer(0, keys_[0], public_keys_, network_, NewNonce(), PeerId{3});
  Handshake wrong_peer(2, keys_[2], public_keys_, network_, NewNonce(), std::nullopt);
  EXPECT_FALSE(dialer.OnHello(wrong_peer.HelloPayload()).ok());

  Handshake me(2, keys_[2], public_keys_, network_, NewNonce(), std::nullopt);
  Handshake mirror(2, keys_[2], public_keys_, network_, NewNonce(), std::nullopt);
  EXPECT_FALSE(me.OnHello(mirror.HelloPayload()).ok());

  Hello unknown;
  unknown.network_id = network_;
  unknown.peer_id = 9;
  Handshake acceptor2(2, keys_[2], public_keys_, network_, NewNonce(), std::nullopt);
  EXPECT_FALSE(acceptor2.OnHello(EncodeHello(unknown)).ok());
}

TEST_F(HandshakeTest, MalformedAndOutOfOrderMessagesFail) {
  Handshake acceptor(2, keys_[2], public_keys_, network_, NewNonce(), std::nullopt);
  EXPECT_EQ(acceptor.OnAuth(EncodeAuth(crypto::Ed25519Signature{})).code(),
            core::StatusCode::kFailedPrecondition);
  EXPECT_EQ(acceptor.state(), Handshake::State::kFailed);

  Handshake fresh(2, keys_[2], public_keys_, network_, NewNonce(), std::nullopt);
  std::string hello = fresh.HelloPayload();
  EXPECT_EQ(DecodeHello(hello.substr(1)).status().code(), core::StatusCode::kDataLoss);
  hello[0] ^= 1;
  EXPECT_EQ(DecodeHello(hello).status().code(), core::StatusCode::kDataLoss);
  EXPECT_EQ(fresh.OnHello("garbage").status().code(), core::StatusCode::kDataLoss);
  EXPECT_EQ(fresh.state(), Handshake::State::kFailed);
  EXPECT_EQ(DecodeAuth(fresh.HelloPayload()).status().code(), core::StatusCode::kDataLoss);
}

TEST_F(HandshakeTest, HelloRoundTrips) {
  Hello hello;
  hello.network_id = network_;
  hello.peer_id = 3;
  hello.nonce = NewNonce();
  auto decoded = DecodeHello(EncodeHello(hello));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->peer_id, 3u);
  EXPECT_EQ(decoded->nonce, hello.nonce);
  EXPECT_EQ(decoded->network_id, network_);
}

}  // namespace
}  // namespace melodai::net
