// MelodAI — licensed under the Apache License 2.0.
// ClientServer: the unauthenticated, framed TCP port where clients submit requests and read
// replies (clients authenticate their transactions by signing them, not the connection).
// Connections, frame sizes and queued replies are bounded; a misbehaving client only loses
// its own connection.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/status.h"
#include "net/frame.h"

namespace melodai::net {

using ClientConnectionId = uint64_t;

struct ClientServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;  // 0 = pick a free port.
  size_t max_frame_bytes = 1u << 20;
  size_t max_connections = 1024;
  size_t max_pending_replies_per_connection = 1u << 16;  // Beyond: the slow client is dropped.
};

struct ClientServerStats {
  uint64_t accepted = 0;
  uint64_t rejected = 0;         // Over the connection limit, oversize frames, slow readers.
  uint64_t requests = 0;
  uint64_t replies = 0;
  uint64_t dropped_replies = 0;  // The connection was gone.
};

// Invariants: all socket work happens on one network thread between Start and Stop; the
// request handler runs only there. Reply() and stats() are thread-safe.
class ClientServer {
 public:
  // Called for each request frame, on the network thread.
  using RequestHandler = std::function<void(ClientConnectionId connection, std::string payload)>;

  // Binds the listening socket. kInvalidArgument on a bad address, kUnavailable when it
  // cannot be bound.
  static core::Result<std::unique_ptr<ClientServer>> Create(const ClientServerOptions& options,
                                                            RequestHandler handler);
  ~ClientServer();
  ClientServer(const ClientServer&) = delete;
  ClientServer& operator=(const ClientServer&) = delete;

  // Starts accepting on the network thread. REQUIRES: not started before.
  void Start();
  // Closes every connection and joins the thread. Idempotent.
  void Stop();

  // Queues `payload` for `connection`; dropped (and counted) when the connection is gone.
  void Reply(ClientConnectionId connection, std::string payload);

  uint16_t port() const;
  ClientServerStats stats() const;

 private:
  struct Impl;
  explicit ClientServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace melodai::net
