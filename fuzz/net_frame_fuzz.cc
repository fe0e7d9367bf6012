// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for the frame decoder, which reads bytes straight from the network. The
// first byte picks the size limit and the chunking; the rest is the stream. Properties: no
// crash, no frame above the limit, and the frames returned re-encode to exactly the bytes
// they were cut from (nothing skipped, nothing invented).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/check.h"
#include "net/frame.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const size_t max_frame_bytes = 1 + (data[0] & 0x3f) * 16;
  const size_t chunk_bytes = 1 + (data[0] >> 6) * 7;
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  melodai::net::FrameDecoder decoder(max_frame_bytes);
  std::string reencoded;
  bool failed = false;
  for (size_t offset = 0; offset < stream.size() && !failed; offset += chunk_bytes) {
    decoder.Feed(stream.substr(offset, chunk_bytes));
    while (true) {
      auto frame = decoder.Next();
      if (!frame.ok()) {
        failed = true;
        break;
      }
      if (!frame->has_value()) break;
      MELODAI_CHECK_LE((*frame)->size(), max_frame_bytes);
      reencoded += melodai::net::EncodeFrame(**frame);
    }
  }
  MELODAI_CHECK(stream.substr(0, reencoded.size()) == reencoded);
  if (!failed) MELODAI_CHECK_EQ(reencoded.size() + decoder.buffered_bytes(), stream.size());
  return 0;
}
