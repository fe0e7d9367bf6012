// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for every secure-aggregation message decoder: the first byte selects the
// decoder (it is the message kind), so this one target covers all eleven. Any bytes must decode
// to a message whose encoding gives back exactly the input, or fail with kDataLoss; never crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/check.h"
#include "secagg/messages.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto reencoded = melodai::secagg::DecodeAndReencode(bytes);
  if (!reencoded.ok()) {
    MELODAI_CHECK(reencoded.status().code() == melodai::core::StatusCode::kDataLoss);
    return 0;
  }
  // The encoding is canonical: whatever decodes re-encodes to the same bytes.
  MELODAI_CHECK(*reencoded == bytes);
  return 0;
}
