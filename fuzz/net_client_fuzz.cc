// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for the client-port decoders (a node reads client messages from anyone;
// clients read rejections and status from nodes). Decoded values must re-encode to the same
// bytes; nothing may crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "net/client_protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto message = melodai::net::DecodeClientMessage(bytes);
  if (!message.ok()) return 0;
  MELODAI_CHECK(melodai::net::EncodeClientMessage(message->kind, message->body) == bytes);
  if (auto rejection = melodai::net::DecodeRejection(message->body); rejection.ok()) {
    MELODAI_CHECK(melodai::net::EncodeRejection(*rejection) == message->body);
  }
  if (auto status = melodai::net::DecodeNodeStatus(message->body); status.ok()) {
    MELODAI_CHECK(melodai::net::EncodeNodeStatus(*status) == message->body);
  }
  if (auto result = melodai::net::DecodeQueryResult(message->body); result.ok()) {
    MELODAI_CHECK(melodai::net::EncodeQueryResult(*result) == message->body);
  }
  return 0;
}
