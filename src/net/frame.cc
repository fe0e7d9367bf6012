// MelodAI — licensed under the Apache License 2.0.
// Frame encoding and the incremental frame decoder.
#include "net/frame.h"

#include <fmt/format.h>

#include <cstring>

namespace melodai::net {

std::string EncodeFrame(std::string_view payload) {
  MELODAI_CHECK_LE(payload.size(), static_cast<size_t>(UINT32_MAX));
  const uint32_t length = static_cast<uint32_t>(payload.size());
  std::string frame;
  frame.resize(kFrameHeaderBytes + payload.size());
  for (size_t i = 0; i < kFrameHeaderBytes; ++i) {
    frame[i] = static_cast<char>((length >> (8 * i)) & 0xff);
  }
  if (!payload.empty()) std::memcpy(frame.data() + kFrameHeaderBytes, payload.data(), payload.size());
  return frame;
}

FrameDecoder::FrameDecoder(size_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {
  MELODAI_CHECK_GT(max_frame_bytes, 0u);
}

void FrameDecoder::Feed(std::string_view bytes) {
  if (failed_) return;
  // Compact before growing so the buffer stays within about two frames.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(0, consumed_);
    consumed_ = 0;
  }
  buffer_.append(bytes);
}

core::Result<std::optional<std::string>> FrameDecoder::Next() {
  if (failed_) return *failed_;
  const size_t available = buffer_.size() - consumed_;
  if (available < kFrameHeaderBytes) return std::optional<std::string>();
  uint32_t length = 0;
  for (size_t i = 0; i < kFrameHeaderBytes; ++i) {
    length |= static_cast<uint32_t>(static_cast<uint8_t>(buffer_[consumed_ + i])) << (8 * i);
  }
  if (length > max_frame_bytes_) {
    failed_ = core::ResourceExhaustedError(
        fmt::format("frame of {} bytes exceeds the limit of {} bytes", length, max_frame_bytes_));
    buffer_.clear();
    consumed_ = 0;
    return *failed_;
  }
  if (available - kFrameHeaderBytes < length) return std::optional<std::string>();
  std::string payload = buffer_.substr(consumed_ + kFrameHeaderBytes, length);
  consumed_ += kFrameHeaderBytes + length;
  MELODAI_DCHECK(consumed_ <= buffer_.size());
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  }
  return std::optional<std::string>(std::move(payload));
}

}  // namespace melodai::net
