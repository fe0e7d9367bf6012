// MelodAI — licensed under the Apache License 2.0.
// Length-prefixed frames: a little-endian u32 payload length followed by the payload. The
// decoder enforces a per-message size limit before buffering, so a peer cannot make a node
// allocate more than the limit by announcing a huge frame.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace melodai::net {

inline constexpr size_t kFrameHeaderBytes = 4;
// Default per-message limit: comfortably above a full block of transactions.
inline constexpr size_t kDefaultMaxFrameBytes = 16u << 20;
static_assert(kDefaultMaxFrameBytes <= UINT32_MAX);

// Returns header + payload. REQUIRES: payload.size() <= UINT32_MAX.
std::string EncodeFrame(std::string_view payload);

// Splits a byte stream into frames.
// Invariants: buffer_[consumed_..] holds bytes not yet returned as frames; once failed_ is
// set the decoder stays failed (the connection must be dropped).
// Not thread-safe.
class FrameDecoder {
 public:
  // REQUIRES: max_frame_bytes > 0.
  explicit FrameDecoder(size_t max_frame_bytes = kDefaultMaxFrameBytes);

  // Appends bytes received from the stream.
  void Feed(std::string_view bytes);

  // The next complete frame's payload, std::nullopt when more bytes are needed, or
  // kResourceExhausted when a frame announces more than max_frame_bytes (the decoder is
  // then failed and returns the same error on every later call).
  core::Result<std::optional<std::string>> Next();

  // Bytes buffered but not yet returned.
  size_t buffered_bytes() const { return buffer_.size() - consumed_; }
  size_t max_frame_bytes() const { return max_frame_bytes_; }

 private:
  size_t max_frame_bytes_;
  std::string buffer_;
  size_t consumed_ = 0;
  std::optional<core::Status> failed_;
};

}  // namespace melodai::net
