// MelodAI — licensed under the Apache License 2.0.
// AsioTransport on one io_context thread: a Connection class (framed reads, serialized
// writes), outbound peers that dial, handshake, drain their bounded queue and redial with
// backoff, and inbound connections that handshake and then deliver frames.
#include "net/asio_transport.h"

#include <asio.hpp>
#include <fmt/format.h>

#include <atomic>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include "core/logging.h"
#include "net/handshake.h"
#include "net/internal/connection.h"

namespace melodai::net {
namespace {

using asio::ip::tcp;
using internal::Connection;
using internal::kMaxWriteBatchMessages;

Nonce FreshNonce(crypto::RandomSource& random) {
  Nonce nonce{};
  random.Fill(nonce);
  return nonce;
}

core::Result<asio::ip::address> ParseAddress(const std::string& host) {
  asio::error_code error;
  const asio::ip::address address =
      asio::ip::make_address(host == "localhost" ? "127.0.0.1" : host, error);
  if (error) return core::InvalidArgumentError(fmt::format("bad address '{}': {}", host, error.message()));
  return address;
}

struct AtomicStats {
  std::atomic<uint64_t> messages_sent{0};
  std::atomic<uint64_t> messages_received{0};
  std::atomic<uint64_t> dropped_queue_full{0};
  std::atomic<uint64_t> dropped_oversize{0};
  std::atomic<uint64_t> dropped_unknown_peer{0};
  std::atomic<uint64_t> rejected_connections{0};
  std::atomic<uint64_t> connects{0};
};

}  // namespace

// The dialling side of one peer pair.
struct OutboundPeer {
  enum class State { kIdle, kConnecting, kHandshaking, kReady };
  OutboundPeer(asio::io_context& io, PeerId peer_id, tcp::endpoint peer_endpoint)
      : id(peer_id), endpoint(peer_endpoint), reconnect_timer(io), handshake_timer(io) {}

  const PeerId id;
  const tcp::endpoint endpoint;
  // Shared with Send(); the queue holds encoded frames.
  std::mutex mutex;
  std::deque<std::string> queue;  // GUARDED_BY(mutex)
  size_t queued_bytes = 0;        // GUARDED_BY(mutex)
  bool kick_pending = false;      // GUARDED_BY(mutex)
  std::atomic<bool> ready{false};
  // Network thread only.
  State state = State::kIdle;
  uint64_t generation = 0;  // Bumped per attempt; handlers of older attempts do nothing.
  std::unique_ptr<tcp::socket> connecting_socket;
  std::shared_ptr<Connection> connection;
  std::unique_ptr<Handshake> handshake;
  asio::steady_timer reconnect_timer;
  asio::steady_timer handshake_timer;
  int64_t backoff_ms = 0;
};

// One accepted connection, before and after its handshake.
struct InboundPeer {
  explicit InboundPeer(asio::io_context& io) : timer(io) {}
  std::shared_ptr<Connection> connection;
  std::unique_ptr<Handshake> handshake;
  asio::steady_timer timer;
  std::optional<PeerId> peer;
};

struct AsioTransport::Impl {
  Impl(AsioTransportOptions transport_options, const crypto::Ed25519KeyPair& key_pair,
       crypto::RandomSource& random_source)
      : options(std::move(transport_options)),
        key(key_pair),
        random(random_source),
        acceptor(io),
        work(asio::make_work_guard(io)) {}

  void StartOnNetworkThread();
  void Dial(OutboundPeer& peer);
  void OnDialled(OutboundPeer& peer, uint64_t generation);
  void OnOutboundFrame(OutboundPeer& peer, std::string payload);
  void OnOutboundClosed(OutboundPeer& peer, uint64_t generation, const core::Status& reason);
  void ScheduleReconnect(OutboundPeer& peer);
  void Pull(OutboundPeer& peer);
  void AcceptNext();
  void OnAccepted(tcp::socket socket);
  void OnInboundFrame(uint64_t key, std::string payload);
  void ShutdownOnNetworkThread();

  AsioTransportOptions options;
  const crypto::Ed25519KeyPair& key;
  crypto::RandomSource& random;
  asio::io_context io;
  tcp::acceptor acceptor;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  std::thread thread;
  bool started = false;
  bool stopping = false;  // Network thread only.
  ReceiveHandler handler;
  std::vector<std::unique_ptr<OutboundPeer>> peers;  // Index = PeerId; own slot is null.
  std::map<uint64_t, std::unique_ptr<InboundPeer>> inbound;  // Network thread only.
  uint64_t next_inbound_key = 0;
  AtomicStats stats;
};

void AsioTransport::Impl::StartOnNetworkThread() {
  AcceptNext();
  for (auto& peer : peers) {
    if (peer != nullptr) Dial(*peer);
  }
}

void AsioTransport::Impl::Dial(OutboundPeer& peer) {
  if (stopping) return;
  MELODAI_CHECK(peer.state == OutboundPeer::State::kIdle);
  const uint64_t generation = ++peer.generation;
  peer.state = OutboundPeer::State::kConnecting;
  peer.connecting_socket = std::make_unique<tcp::socket>(io);
  peer.connecting_socket->async_connect(
      peer.endpoint, [this, &peer, generation](asio::error_code error) {
        if (generation != peer.generation || stopping) return;
        if (error) {
          MELODAI_LOG_DEBUG("net: dial of validator {} failed: {}", peer.id, error.message());
          peer.connecting_socket.reset();
          peer.state = OutboundPeer::State::kIdle;
          ScheduleReconnect(peer);
          return;
        }
        OnDialled(peer, generation);
      });
}

void AsioTransport::Impl::OnDialled(OutboundPeer& peer, uint64_t generation) {
  peer.state = OutboundPeer::State::kHandshaking;
  peer.connection = std::make_shared<Connection>(std::move(*peer.connecting_socket),
                                                 options.max_frame_bytes);
  peer.connecting_socket.reset();
  peer.handshake = std::make_unique<Handshake>(options.self, key, options.validator_keys,
                                               options.network_id, FreshNonce(random), peer.id);
  peer.connection->Start(
      [this, &peer](std::string payload) { OnOutboundFrame(peer, std::move(payload)); },
      [this, &peer, generation](const core::Status& reason) {
        OnOutboundClosed(peer, generation, reason);
      },
      [this, &peer] { Pull(peer); });
  peer.connection->Write(EncodeFrame(peer.handshake->HelloPayload()));
  peer.handshake_timer.expires_after(std::chrono::milliseconds(options.handshake_timeout_ms));
  peer.handshake_timer.async_wait([this, &peer, generation](asio::error_code error) {
    if (error || generation != peer.generation || stopping) return;
    if (peer.state == OutboundPeer::State::kHandshaking && peer.connection != nullptr) {
      peer.connection->Close(core::DeadlineExceededError("handshake timed out"));
    }
  });
}

void AsioTransport::Impl::OnOutboundFrame(OutboundPeer& peer, std::string payload) {
  MELODAI_CHECK(peer.connection != nullptr);
  MELODAI_CHECK(peer.handshake != nullptr);
  switch (peer.handshake->state()) {
    case Handshake::State::kAwaitHello: {
      auto auth = peer.handshake->OnHello(payload);
      if (!auth.ok()) return peer.connection->Close(auth.status());
      return peer.connection->Write(EncodeFrame(*auth));
    }
    case Handshake::State::kAwaitAuth: {
      core::Status status = peer.handshake->OnAuth(payload);
      if (!status.ok()) return peer.connection->Close(status);
      peer.state = OutboundPeer::State::kReady;
      peer.ready.store(true);
      peer.backoff_ms = 0;
      peer.handshake_timer.cancel();
      stats.connects.fetch_add(1);
      MELODAI_LOG_INFO("net: validator {} connected to validator {}", options.self, peer.id);
      return Pull(peer);
    }
    case Handshake::State::kDone:
    case Handshake::State::kFailed:
      // The accepting side never sends after its AUTH: this is a protocol violation.
      return peer.connection->Close(
          core::FailedPreconditionError("peer sent data on our outbound connection"));
  }
}

void AsioTransport::Impl::OnOutboundClosed(OutboundPeer& peer, uint64_t generation,
                                           const core::Status& reason) {
  if (generation != peer.generation) return;
  if (peer.state == OutboundPeer::State::kReady) {
    MELODAI_LOG_INFO("net: connection to validator {} closed: {}", peer.id, reason.ToString());
  } else {
    stats.rejected_connections.fetch_add(1);
  }
  peer.ready.store(false);
  peer.state = OutboundPeer::State::kIdle;
  peer.handshake_timer.cancel();
  // The Connection is still running this handler; release it once the handler returns.
  asio::post(io, [connection = std::move(peer.connection)] {});
  peer.handshake.reset();
  ScheduleReconnect(peer);
}

void AsioTransport::Impl::ScheduleReconnect(OutboundPeer& peer) {
  if (stopping) return;
  peer.backoff_ms = peer.backoff_ms == 0
                        ? options.reconnect_backoff_min_ms
                        : std::min(peer.backoff_ms * 2, options.reconnect_backoff_max_ms);
  const uint64_t generation = peer.generation;
  peer.reconnect_timer.expires_after(std::chrono::milliseconds(peer.backoff_ms));
  peer.reconnect_timer.async_wait([this, &peer, generation](asio::error_code error) {
    if (error || stopping || generation != peer.generation) return;
    Dial(peer);
  });
}

void AsioTransport::Impl::Pull(OutboundPeer& peer) {
  if (peer.state != OutboundPeer::State::kReady || peer.connection == nullptr) return;
  if (peer.connection->writing()) return;  // The drain handler pulls again.
  std::vector<std::string> frames;
  {
    std::lock_guard lock(peer.mutex);
    peer.kick_pending = false;
    while (!peer.queue.empty() && frames.size() < kMaxWriteBatchMessages) {
      peer.queued_bytes -= peer.queue.front().size();
      frames.push_back(std::move(peer.queue.front()));
      peer.queue.pop_front();
    }
  }
  if (frames.empty()) return;
  stats.messages_sent.fetch_add(frames.size());
  peer.connection->WriteMany(std::move(frames));
}

void AsioTransport::Impl::AcceptNext() {
  acceptor.async_accept([this](asio::error_code error, tcp::socket socket) {
    if (stopping) return;
    if (error) {
      MELODAI_LOG_WARN("net: accept failed: {}", error.message());
    } else {
      OnAccepted(std::move(socket));
    }
    AcceptNext();
  });
}

void AsioTransport::Impl::OnAccepted(tcp::socket socket) {
  if (inbound.size() >= options.max_inbound_connections) {
    stats.rejected_connections.fetch_add(1);
    asio::error_code ignored;
    socket.close(ignored);
    return;
  }
  const uint64_t inbound_key = next_inbound_key++;
  auto peer = std::make_unique<InboundPeer>(io);
  InboundPeer& entry = *peer;
  inbound.emplace(inbound_key, std::move(peer));
  entry.connection = std::make_shared<Connection>(std::move(socket), options.max_frame_bytes);
  entry.handshake = std::make_unique<Handshake>(options.self, key, options.validator_keys,
                                                options.network_id, FreshNonce(random),
                                                std::nullopt);
  entry.connection->Start(
      [this, inbound_key](std::string payload) { OnInboundFrame(inbound_key, std::move(payload)); },
      [this, inbound_key](const core::Status& reason) {
        auto found = inbound.find(inbound_key);
        if (found == inbound.end()) return;
        if (!found->second->peer.has_value() || reason.code() == core::StatusCode::kResourceExhausted) {
          stats.rejected_connections.fetch_add(1);
          MELODAI_LOG_DEBUG("net: inbound connection dropped: {}", reason.ToString());
        }
        found->second->timer.cancel();
        // Destroy the entry after the Connection's handler returns.
        asio::post(io, [this, inbound_key] { inbound.erase(inbound_key); });
      },
      nullptr);
  entry.connection->Write(EncodeFrame(entry.handshake->HelloPayload()));
  entry.timer.expires_after(std::chrono::milliseconds(options.handshake_timeout_ms));
  entry.timer.async_wait([this, inbound_key](asio::error_code error) {
    if (error || stopping) return;
    auto found = inbound.find(inbound_key);
    if (found == inbound.end() || found->second->peer.has_value()) return;
    found->second->connection->Close(core::DeadlineExceededError("handshake timed out"));
  });
}

void AsioTransport::Impl::OnInboundFrame(uint64_t inbound_key, std::string payload) {
  auto found = inbound.find(inbound_key);
  if (found == inbound.end()) return;
  InboundPeer& entry = *found->second;
  switch (entry.handshake->state()) {
    case Handshake::State::kAwaitHello: {
      auto auth = entry.handshake->OnHello(payload);
      if (!auth.ok()) return entry.connection->Close(auth.status());
      return entry.connection->Write(EncodeFrame(*auth));
    }
    case Handshake::State::kAwaitAuth: {
      core::Status status = entry.handshake->OnAuth(payload);
      if (!status.ok()) return entry.connection->Close(status);
      entry.peer = entry.handshake->peer_id();
      entry.timer.cancel();
      // A restarted peer may leave a half-open older connection behind: close it.
      for (auto& [other_key, other] : inbound) {
        if (other_key != inbound_key && other->peer == entry.peer) {
          other->connection->Close(core::AbortedError("replaced by a newer connection"));
        }
      }
      return;
    }
    case Handshake::State::kDone:
      stats.messages_received.fetch_add(1);
      if (handler) handler(*entry.peer, std::move(payload));
      return;
    case Handshake::State::kFailed:
      return entry.connection->Close(core::FailedPreconditionError("handshake failed"));
  }
}

void AsioTransport::Impl::ShutdownOnNetworkThread() {
  stopping = true;
  asio::error_code ignored;
  acceptor.close(ignored);
  for (auto& peer : peers) {
    if (peer == nullptr) continue;
    ++peer->generation;
    peer->reconnect_timer.cancel();
    peer->handshake_timer.cancel();
    if (peer->connecting_socket != nullptr) peer->connecting_socket->close(ignored);
    if (peer->connection != nullptr) peer->connection->Close(core::AbortedError("stopping"));
    peer->ready.store(false);
  }
  std::vector<std::shared_ptr<Connection>> open;
  for (auto& [inbound_key, entry] : inbound) open.push_back(entry->connection);
  for (auto& connection : open) connection->Close(core::AbortedError("stopping"));
  work.reset();
}

AsioTransport::AsioTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

AsioTransport::~AsioTransport() { Stop(); }

core::Result<std::unique_ptr<AsioTransport>> AsioTransport::Create(
    AsioTransportOptions options, const crypto::Ed25519KeyPair& key,
    crypto::RandomSource& random) {
  const size_t count = options.validator_keys.size();
  if (count == 0 || options.endpoints.size() != count) {
    return core::InvalidArgumentError(fmt::format(
        "transport: {} validator keys but {} endpoints", count, options.endpoints.size()));
  }
  if (options.self >= count) {
    return core::InvalidArgumentError(
        fmt::format("transport: own id {} outside the {} validators", options.self, count));
  }
  if (options.max_frame_bytes == 0 || options.max_frame_bytes > kDefaultMaxFrameBytes * 16 ||
      options.reconnect_backoff_min_ms <= 0 ||
      options.reconnect_backoff_max_ms < options.reconnect_backoff_min_ms ||
      options.handshake_timeout_ms <= 0 || options.max_queued_messages_per_peer == 0) {
    return core::InvalidArgumentError("transport: a limit or timeout is out of range");
  }
  if (key.public_key() != options.validator_keys[options.self]) {
    return core::InvalidArgumentError(fmt::format(
        "transport: the key pair is not validator {}'s key in the validator set", options.self));
  }
  MELODAI_ASSIGN_OR_RETURN(const asio::ip::address listen_address,
                           ParseAddress(options.listen_host));
  auto impl = std::make_unique<Impl>(std::move(options), key, random);
  const AsioTransportOptions& stored = impl->options;
  impl->peers.resize(count);
  for (PeerId id = 0; id < count; ++id) {
    if (id == stored.self) continue;
    MELODAI_ASSIGN_OR_RETURN(const asio::ip::address address,
                             ParseAddress(stored.endpoints[id].host));
    impl->peers[id] = std::make_unique<OutboundPeer>(
        impl->io, id, tcp::endpoint(address, stored.endpoints[id].port));
  }
  asio::error_code error;
  const tcp::endpoint listen(listen_address, stored.listen_port);
  impl->acceptor.open(listen.protocol(), error);
  if (!error) impl->acceptor.set_option(tcp::acceptor::reuse_address(true), error);
  if (!error) impl->acceptor.bind(listen, error);
  if (!error) impl->acceptor.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return core::UnavailableError(fmt::format("transport: cannot listen on {}:{}: {}",
                                              stored.listen_host, stored.listen_port,
                                              error.message()));
  }
  return std::unique_ptr<AsioTransport>(new AsioTransport(std::move(impl)));
}

void AsioTransport::Start() {
  MELODAI_CHECK(!impl_->started);
  impl_->started = true;
  asio::post(impl_->io, [impl = impl_.get()] { impl->StartOnNetworkThread(); });
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

void AsioTransport::Stop() {
  if (impl_ == nullptr || !impl_->thread.joinable()) return;
  asio::post(impl_->io, [impl = impl_.get()] { impl->ShutdownOnNetworkThread(); });
  impl_->thread.join();
}

void AsioTransport::Send(PeerId target, std::string payload) {
  Impl& impl = *impl_;
  if (payload.size() > impl.options.max_frame_bytes) {
    impl.stats.dropped_oversize.fetch_add(1);
    return;
  }
  if (target == impl.options.self) {
    // Loopback: delivered on the network thread like any other message.
    asio::post(impl.io, [&impl, payload = std::move(payload)]() mutable {
      impl.stats.messages_received.fetch_add(1);
      if (impl.handler) impl.handler(impl.options.self, std::move(payload));
    });
    return;
  }
  if (target >= impl.peers.size()) {
    impl.stats.dropped_unknown_peer.fetch_add(1);
    return;
  }
  OutboundPeer& peer = *impl.peers[target];
  std::string frame = EncodeFrame(payload);
  bool kick = false;
  {
    std::lock_guard lock(peer.mutex);
    // Drop the oldest messages first: in consensus, fresh messages supersede stale ones.
    while (!peer.queue.empty() &&
           (peer.queue.size() >= impl.options.max_queued_messages_per_peer ||
            peer.queued_bytes + frame.size() > impl.options.max_queued_bytes_per_peer)) {
      peer.queued_bytes -= peer.queue.front().size();
      peer.queue.pop_front();
      impl.stats.dropped_queue_full.fetch_add(1);
    }
    peer.queued_bytes += frame.size();
    peer.queue.push_back(std::move(frame));
    MELODAI_DCHECK(peer.queue.size() <= impl.options.max_queued_messages_per_peer);
    kick = !peer.kick_pending;
    peer.kick_pending = true;
  }
  if (kick) asio::post(impl.io, [&impl, &peer] { impl.Pull(peer); });
}

void AsioTransport::SetReceiveHandler(ReceiveHandler handler) {
  MELODAI_CHECK(!impl_->started);
  impl_->handler = std::move(handler);
}

uint16_t AsioTransport::listen_port() const {
  asio::error_code error;
  const tcp::endpoint endpoint = impl_->acceptor.local_endpoint(error);
  return error ? 0 : endpoint.port();
}

TransportStats AsioTransport::stats() const {
  const AtomicStats& s = impl_->stats;
  TransportStats result;
  result.messages_sent = s.messages_sent.load();
  result.messages_received = s.messages_received.load();
  result.dropped_queue_full = s.dropped_queue_full.load();
  result.dropped_oversize = s.dropped_oversize.load();
  result.dropped_unknown_peer = s.dropped_unknown_peer.load();
  result.rejected_connections = s.rejected_connections.load();
  result.connects = s.connects.load();
  return result;
}

size_t AsioTransport::connected_peer_count() const {
  size_t count = 0;
  for (const auto& peer : impl_->peers) {
    if (peer != nullptr && peer->ready.load()) ++count;
  }
  return count;
}

}  // namespace melodai::net
