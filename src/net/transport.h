// MelodAI — licensed under the Apache License 2.0.
// The Transport interface between a replica's host and the network: send opaque bytes to a
// validator by id, receive bytes through a callback. The Asio TCP implementation lives in
// asio_transport.h; simulations provide their own.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace melodai::net {

// A validator's index in the validator set (0 .. n-1).
using PeerId = uint32_t;

// Delivery is best effort: a message may be lost (the peer is down, a queue is full), but a
// message that arrives came from the authenticated peer `from`, intact, and each connection
// delivers in send order. Consensus must tolerate loss by retransmission.
class Transport {
 public:
  // Called for each message received; on the transport's own thread for real transports.
  using ReceiveHandler = std::function<void(PeerId from, std::string payload)>;

  virtual ~Transport() = default;

  // Queues `payload` for `target`. Never blocks; drops (and counts) the message when the
  // target's queue is full, the target is unknown or the payload exceeds the frame limit.
  // A message to one's own id is delivered locally through the receive handler.
  // Thread-safe.
  virtual void Send(PeerId target, std::string payload) = 0;

  // Sets the receive handler. REQUIRES: called before the transport starts delivering
  // (before Start() for AsioTransport). Not thread-safe.
  virtual void SetReceiveHandler(ReceiveHandler handler) = 0;
};

}  // namespace melodai::net
