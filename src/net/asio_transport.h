// MelodAI — licensed under the Apache License 2.0.
// AsioTransport: the TCP implementation of net::Transport for validators. Each node dials
// every other validator for its outbound messages and accepts their connections for inbound
// ones; every connection starts with the mutual Ed25519 handshake of handshake.h. Outbound
// queues are bounded, dead connections are redialled with exponential backoff, and oversize
// frames or garbage bytes only cost the offending connection.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "crypto/random_source.h"
#include "net/frame.h"
#include "net/transport.h"

namespace melodai::net {

struct PeerEndpoint {
  std::string host;  // A numeric IPv4/IPv6 address or "localhost".
  uint16_t port = 0;
};

struct AsioTransportOptions {
  PeerId self = 0;
  crypto::Digest32 network_id{};                        // Usually the genesis hash.
  std::vector<crypto::Ed25519PublicKey> validator_keys;  // Index = PeerId.
  std::vector<PeerEndpoint> endpoints;                   // Index = PeerId; own entry ignored.
  std::string listen_host = "127.0.0.1";
  uint16_t listen_port = 0;  // 0 = pick a free port (see listen_port()).
  size_t max_frame_bytes = kDefaultMaxFrameBytes;
  size_t max_queued_messages_per_peer = 16384;
  size_t max_queued_bytes_per_peer = 256u << 20;
  size_t max_inbound_connections = 64;
  int64_t reconnect_backoff_min_ms = 20;
  int64_t reconnect_backoff_max_ms = 1000;
  int64_t handshake_timeout_ms = 3000;
};

// Counters, readable from any thread.
struct TransportStats {
  uint64_t messages_sent = 0;      // Frames handed to an authenticated connection.
  uint64_t messages_received = 0;  // Frames delivered to the receive handler.
  uint64_t dropped_queue_full = 0;
  uint64_t dropped_oversize = 0;       // Outbound payloads above the frame limit.
  uint64_t dropped_unknown_peer = 0;   // Send() to an id that is not a peer.
  uint64_t rejected_connections = 0;   // Failed handshakes, garbage, oversize frames, timeouts.
  uint64_t connects = 0;               // Outbound handshakes completed.
};

// Invariants: one network thread (between Start and Stop) runs every socket operation; the
// receive handler runs only on it. Outbound queues never exceed their message or byte bound.
// Borrows `key` and `random`, which must outlive the transport. Send() and stats() are
// thread-safe; Start/Stop are called from one controlling thread.
class AsioTransport final : public Transport {
 public:
  // Validates the options and binds the listening socket (so listen_port() is known).
  // kInvalidArgument on inconsistent options (sizes differ, self out of range, bad address),
  // kUnavailable when the listen address cannot be bound.
  static core::Result<std::unique_ptr<AsioTransport>> Create(AsioTransportOptions options,
                                                             const crypto::Ed25519KeyPair& key,
                                                             crypto::RandomSource& random);
  ~AsioTransport() override;
  AsioTransport(const AsioTransport&) = delete;
  AsioTransport& operator=(const AsioTransport&) = delete;

  // Starts the network thread: accepting and dialling. REQUIRES: not started before.
  void Start();
  // Closes every connection and joins the network thread. Idempotent.
  void Stop();

  void Send(PeerId target, std::string payload) override;
  void SetReceiveHandler(ReceiveHandler handler) override;

  uint16_t listen_port() const;
  TransportStats stats() const;
  // Number of peers whose outbound connection is authenticated right now.
  size_t connected_peer_count() const;

 private:
  struct Impl;
  explicit AsioTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace melodai::net
