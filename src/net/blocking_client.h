// MelodAI — licensed under the Apache License 2.0.
// BlockingClient: a plain blocking TCP client speaking the frame format, for command-line
// tools, benchmarks and tests that talk to a node's client port. Every wait has a timeout.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "net/frame.h"

namespace melodai::net {

// Invariants: fd_ is an open connected socket until destruction; the decoder holds bytes
// received but not yet returned. Not thread-safe: one thread sends, or one thread sends and
// another receives (the kernel socket is full duplex and the two paths share no state).
class BlockingClient {
 public:
  // Connects to host:port (numeric address or "localhost"). kInvalidArgument on a bad host,
  // kUnavailable when the connection is refused or does not complete within timeout_ms.
  static core::Result<std::unique_ptr<BlockingClient>> Connect(std::string_view host,
                                                               uint16_t port, int timeout_ms,
                                                               size_t max_frame_bytes = 1u << 20);
  ~BlockingClient();
  BlockingClient(const BlockingClient&) = delete;
  BlockingClient& operator=(const BlockingClient&) = delete;

  // Writes one frame completely. kUnavailable when the connection broke.
  core::Status Send(std::string_view payload);
  // Writes several frames with one system call where possible.
  core::Status SendMany(const std::vector<std::string>& payloads);

  // The next frame, std::nullopt when none arrived within timeout_ms (0 = only what is
  // already buffered). kUnavailable when the peer closed; kResourceExhausted on an oversize
  // frame.
  core::Result<std::optional<std::string>> Receive(int timeout_ms);

 private:
  explicit BlockingClient(int fd, size_t max_frame_bytes) : fd_(fd), decoder_(max_frame_bytes) {}
  core::Status WriteAll(std::string_view bytes);

  int fd_;
  FrameDecoder decoder_;
};

}  // namespace melodai::net
