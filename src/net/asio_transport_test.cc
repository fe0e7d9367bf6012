// MelodAI — licensed under the Apache License 2.0.
// Loopback TCP tests of AsioTransport with several transports in one process: messages flow
// both ways in order after the mutual handshake; oversize frames, garbage connections and
// impostors are dropped without harm; a restarted peer is redialled; queues stay bounded.
#include "net/asio_transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>

#include "core/rng.h"

namespace melodai::net {
namespace {

constexpr auto kWaitLimit = std::chrono::seconds(20);

uint16_t FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  socklen_t length = sizeof(address);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  ::close(fd);
  return ntohs(address.sin_port);
}

// Polls `condition` until it holds or kWaitLimit passes (a liveness bound, not a timing test).
bool WaitFor(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return condition();
}

struct Inbox {
  std::mutex mutex;
  std::vector<std::pair<PeerId, std::string>> messages;
  void Add(PeerId from, std::string payload) {
    std::lock_guard lock(mutex);
    messages.emplace_back(from, std::move(payload));
  }
  size_t size() {
    std::lock_guard lock(mutex);
    return messages.size();
  }
};

class TransportTest : public ::testing::Test {
 protected:
  static constexpr size_t kValidators = 3;

  TransportTest() : random_(99) {
    for (uint8_t i = 0; i < kValidators; ++i) {
      std::array<uint8_t, 32> seed{};
      seed.fill(static_cast<uint8_t>(i + 1));
      keys_.push_back(crypto::Ed25519KeyPair::FromSeed(seed));
      public_keys_.push_back(keys_.back().public_key());
      ports_.push_back(FreePort());
    }
    network_.fill(0x5a);
  }

  AsioTransportOptions OptionsFor(PeerId self) {
    AsioTransportOptions options;
    options.self = self;
    options.network_id = network_;
    options.validator_keys = public_keys_;
    for (uint16_t port : ports_) options.endpoints.push_back({"127.0.0.1", port});
    options.listen_port = ports_[self];
    options.max_frame_bytes = 1u << 20;
    options.reconnect_backoff_min_ms = 10;
    options.reconnect_backoff_max_ms = 100;
    options.handshake_timeout_ms = 2000;
    return options;
  }

  std::unique_ptr<AsioTransport> StartTransport(AsioTransportOptions options,
                                                const crypto::Ed25519KeyPair& key, Inbox& inbox) {
    auto transport = AsioTransport::Create(std::move(options), key, random_);
    EXPECT_TRUE(transport.ok()) << transport.status().ToString();
    if (!transport.ok()) return nullptr;
    (*transport)->SetReceiveHandler(
        [&inbox](PeerId from, std::string payload) { inbox.Add(from, std::move(payload)); });
    (*transport)->Start();
    return std::move(transport).value();
  }

  crypto::DeterministicRandomSource random_;
  std::vector<crypto::Ed25519KeyPair> keys_;
  std::vector<crypto::Ed25519PublicKey> public_keys_;
  std::vector<uint16_t> ports_;
  crypto::Digest32 network_{};
};

TEST_F(TransportTest, MessagesFlowBothWaysInOrder) {
  Inbox inbox0, inbox1;
  auto t0 = StartTransport(OptionsFor(0), keys_[0], inbox0);
  auto t1 = StartTransport(OptionsFor(1), keys_[1], inbox1);
  ASSERT_TRUE(t0 && t1);
  constexpr int kCount = 2000;
  for (int i = 0; i < kCount; ++i) {
    t0->Send(1, "a" + std::to_string(i));
    t1->Send(0, "b" + std::to_string(i));
  }
  t0->Send(0, "self");
  ASSERT_TRUE(WaitFor([&] { return inbox1.size() == kCount && inbox0.size() == kCount + 1; }));
  std::lock_guard lock(inbox1.mutex);
  for (int i = 0; i < kCount; ++i) {
    EXPECT_EQ(inbox1.messages[i].first, 0u);
    ASSERT_EQ(inbox1.messages[i].second, "a" + std::to_string(i));
  }
  EXPECT_EQ(t0->stats().dropped_queue_full, 0u);
  EXPECT_GE(t0->connected_peer_count(), 1u);
}

// Sends raw bytes from an unauthenticated socket and waits until the transport closes it.
bool RawConnectionIsClosed(uint16_t port, const std::string& bytes) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = htons(port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return false;
  }
  if (::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) < 0) {
    ::close(fd);
    return true;  // Already reset by the peer.
  }
  timeval timeout{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  char buffer[4096];
  while (true) {
    const ssize_t received = ::recv(fd, buffer, sizeof(buffer), 0);
    if (received <= 0) {
      ::close(fd);
      // 0: orderly close; -1 with ECONNRESET: reset. A timeout (EAGAIN) means still open.
      return received == 0 || errno == ECONNRESET;
    }
  }
}

TEST_F(TransportTest, OversizeFramesAndGarbageConnectionsAreDroppedWithoutHarm) {
  Inbox inbox0, inbox1;
  auto t0 = StartTransport(OptionsFor(0), keys_[0], inbox0);
  auto t1 = StartTransport(OptionsFor(1), keys_[1], inbox1);
  ASSERT_TRUE(t0 && t1);
  // A frame header announcing 64 MiB against a 1 MiB limit.
  EXPECT_TRUE(RawConnectionIsClosed(ports_[1], std::string("\x00\x00\x00\x04", 4)));
  core::Rng rng(4242);
  SCOPED_TRACE("garbage seed 4242");
  std::string garbage(20000, '\0');
  for (char& c : garbage) c = static_cast<char>(rng.NextU32());
  EXPECT_TRUE(RawConnectionIsClosed(ports_[1], garbage));
  // A well-framed but bogus HELLO.
  EXPECT_TRUE(RawConnectionIsClosed(ports_[1], EncodeFrame(std::string(74, 'h'))));
  // The counter moves just after the socket closes, so wait for it.
  EXPECT_TRUE(WaitFor([&] { return t1->stats().rejected_connections >= 3; }));

  t0->Send(1, std::string((1u << 20) + 1, 'x'));  // Above the limit: dropped at the sender.
  EXPECT_EQ(t0->stats().dropped_oversize, 1u);
  t0->Send(1, std::string(1u << 20, 'y'));  // Exactly at the limit: delivered.
  t0->Send(1, "after");
  ASSERT_TRUE(WaitFor([&] { return inbox1.size() == 2; }));
  std::lock_guard lock(inbox1.mutex);
  EXPECT_EQ(inbox1.messages[0].second.size(), 1u << 20);
  EXPECT_EQ(inbox1.messages[1].second, "after");
}

TEST_F(TransportTest, ImpostorIsNotDelivered) {
  Inbox inbox0, inbox_impostor;
  auto t0 = StartTransport(OptionsFor(0), keys_[0], inbox0);
  ASSERT_TRUE(t0);
  // The impostor claims to be validator 1 using validator 2's key pair.
  AsioTransportOptions options = OptionsFor(1);
  options.validator_keys[1] = keys_[2].public_key();
  auto impostor = StartTransport(options, keys_[2], inbox_impostor);
  ASSERT_TRUE(impostor);
  for (int i = 0; i < 10; ++i) impostor->Send(0, "forged");
  ASSERT_TRUE(WaitFor([&] { return t0->stats().rejected_connections >= 2; }));
  EXPECT_EQ(inbox0.size(), 0u);
  // The impostor's own side of the handshake can succeed for a moment (validator 0's signature
  // is genuine) before validator 0 closes the connection; it must not stay connected.
  EXPECT_TRUE(WaitFor([&] { return impostor->connected_peer_count() == 0; }));
  EXPECT_EQ(inbox0.size(), 0u);
}

TEST_F(TransportTest, ReconnectsAfterPeerRestart) {
  Inbox inbox0, inbox1;
  auto t0 = StartTransport(OptionsFor(0), keys_[0], inbox0);
  auto t1 = StartTransport(OptionsFor(1), keys_[1], inbox1);
  ASSERT_TRUE(t0 && t1);
  t0->Send(1, "before");
  ASSERT_TRUE(WaitFor([&] { return inbox1.size() == 1; }));
  t1.reset();  // The peer goes away...
  Inbox inbox1_again;
  t1 = StartTransport(OptionsFor(1), keys_[1], inbox1_again);  // ...and comes back.
  ASSERT_TRUE(t1);
  // Messages sent while the old connection is being torn down may be lost (best effort);
  // keep sending until one arrives on the new instance.
  ASSERT_TRUE(WaitFor([&] {
    t0->Send(1, "after");
    return inbox1_again.size() > 0;
  }));
  EXPECT_GE(t0->stats().connects, 2u);
  std::lock_guard lock(inbox1_again.mutex);
  EXPECT_EQ(inbox1_again.messages[0].second, "after");
  EXPECT_EQ(inbox1_again.messages[0].first, 0u);
}

TEST_F(TransportTest, QueueToADownPeerIsBounded) {
  Inbox inbox0;
  AsioTransportOptions options = OptionsFor(0);
  options.max_queued_messages_per_peer = 10;
  auto t0 = StartTransport(options, keys_[0], inbox0);
  ASSERT_TRUE(t0);
  for (int i = 0; i < 100; ++i) t0->Send(2, "m" + std::to_string(i));  // Validator 2 never runs.
  t0->Send(7, "nobody");
  EXPECT_EQ(t0->stats().dropped_queue_full, 90u);
  EXPECT_EQ(t0->stats().dropped_unknown_peer, 1u);
}

TEST_F(TransportTest, CreateRejectsInconsistentOptions) {
  AsioTransportOptions options = OptionsFor(0);
  options.endpoints.pop_back();
  EXPECT_EQ(AsioTransport::Create(options, keys_[0], random_).status().code(),
            core::StatusCode::kInvalidArgument);
  EXPECT_EQ(AsioTransport::Create(OptionsFor(0), keys_[1], random_).status().code(),
            core::StatusCode::kInvalidArgument);
  options = OptionsFor(0);
  options.listen_host = "not-an-address";
  EXPECT_EQ(AsioTransport::Create(options, keys_[0], random_).status().code(),
            core::StatusCode::kInvalidArgument);
  Inbox inbox0;
  auto t0 = StartTransport(OptionsFor(0), keys_[0], inbox0);
  ASSERT_TRUE(t0);
  EXPECT_EQ(AsioTransport::Create(OptionsFor(0), keys_[0], random_).status().code(),
            core::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace melodai::net
