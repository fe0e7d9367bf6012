// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for every PBFT wire decoder: the signed envelope and the body of each message
// type (request, pre-prepare, votes, checkpoint, view-change, new-view, fetch, fetch-reply,
// reply). Any bytes give kDataLoss or a value whose re-encoding decodes to the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/check.h"
#include "ledger/pbft/messages.h"

namespace {

using namespace melodai::ledger::pbft;

void CheckBody(MessageType type, std::string_view body) {
  switch (type) {
    case MessageType::kRequest: {
      auto value = DecodeRequest(body);
      if (value.ok()) MELODAI_CHECK(EncodeRequest(*value) == body);
      return;
    }
    case MessageType::kPrePrepare: {
      auto value = DecodePrePrepare(body);
      if (value.ok()) MELODAI_CHECK(EncodePrePrepare(*value) == body);
      return;
    }
    case MessageType::kPrepare:
    case MessageType::kCommit: {
      auto value = DecodeVote(body);
      if (value.ok()) MELODAI_CHECK(EncodeVote(*value) == body);
      return;
    }
    case MessageType::kCheckpoint: {
      auto value = DecodeCheckpoint(body);
      if (value.ok()) MELODAI_CHECK(EncodeCheckpoint(*value) == body);
      return;
    }
    case MessageType::kViewChange: {
      auto value = DecodeViewChange(body);
      if (value.ok()) MELODAI_CHECK(EncodeViewChange(*value) == body);
      return;
    }
    case MessageType::kNewView: {
      auto value = DecodeNewView(body);
      if (value.ok()) MELODAI_CHECK(EncodeNewView(*value) == body);
      return;
    }
    case MessageType::kFetch: {
      auto value = DecodeFetch(body);
      if (value.ok()) MELODAI_CHECK(EncodeFetch(*value) == body);
      return;
    }
    case MessageType::kFetchReply: {
      auto value = DecodeFetchReply(body);
      if (value.ok()) MELODAI_CHECK(EncodeFetchReply(*value) == body);
      return;
    }
    case MessageType::kReply: {
      auto value = DecodeReply(body);
      if (value.ok()) MELODAI_CHECK(EncodeReply(*value) == body);
      return;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  (void)ValidateMessageBytes(bytes);
  auto message = DecodeSignedMessage(bytes);
  if (message.ok()) {
    MELODAI_CHECK(EncodeSignedMessage(*message) == bytes);
    CheckBody(message->type, message->body);
  }
  // The input as a bare body of every type, so the body decoders are reached directly.
  if (size > 0) CheckBody(static_cast<MessageType>(1 + data[0] % kMaxMessageType), bytes.substr(1));
  return 0;
}
