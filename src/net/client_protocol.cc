// MelodAI — licensed under the Apache License 2.0.
// Client port message codecs.
#include "net/client_protocol.h"

#include <fmt/format.h>

#include "core/bytes.h"

namespace melodai::net {

std::string EncodeClientMessage(ClientMessageKind kind, std::string_view body) {
  std::string bytes;
  bytes.reserve(1 + body.size());
  bytes.push_back(static_cast<char>(kind));
  bytes.append(body);
  return bytes;
}

core::Result<ClientMessage> DecodeClientMessage(std::string_view bytes) {
  if (bytes.empty()) return core::DataLossError("client message: empty");
  const uint8_t kind = static_cast<uint8_t>(bytes[0]);
  if (kind == 0 || kind > kMaxClientMessageKind) {
    return core::DataLossError(fmt::format("client message: unknown kind {}", kind));
  }
  ClientMessage message;
  message.kind = static_cast<ClientMessageKind>(kind);
  message.body = std::string(bytes.substr(1));
  return message;
}

std::string EncodeRejection(const Rejection& rejection) {
  core::ByteWriter writer;
  writer.PutRaw(rejection.transaction_hash.data(), rejection.transaction_hash.size());
  writer.PutU8(rejection.status_code);
  writer.PutString(rejection.message.substr(0, kMaxRejectionMessageBytes));
  return writer.Release();
}

core::Result<Rejection> DecodeRejection(std::string_view body) {
  core::ByteReader reader(body);
  Rejection rejection;
  MELODAI_RETURN_IF_ERROR(reader.GetRaw(rejection.transaction_hash.data(),
                                        rejection.transaction_hash.size(), "rejection.hash"));
  MELODAI_RETURN_IF_ERROR(reader.GetU8(rejection.status_code, "rejection.status_code"));
  MELODAI_RETURN_IF_ERROR(
      reader.GetString(rejection.message, "rejection.message", kMaxRejectionMessageBytes));
  if (!reader.done()) return core::DataLossError("rejection: trailing bytes");
  return rejection;
}

std::string EncodeNodeStatus(const NodeStatus& status) {
  core::ByteWriter writer;
  writer.PutU32(status.replica_id);
  writer.PutU64(status.height);
  writer.PutU64(status.view);
  writer.PutU8(status.in_view_change ? 1 : 0);
  writer.PutRaw(status.last_block_hash.data(), status.last_block_hash.size());
  writer.PutRaw(status.state_root.data(), status.state_root.size());
  writer.PutU64(status.committed_transactions);
  return writer.Release();
}

core::Result<NodeStatus> DecodeNodeStatus(std::string_view body) {
  core::ByteReader reader(body);
  NodeStatus status;
  MELODAI_RETURN_IF_ERROR(reader.GetU32(status.replica_id, "status.replica_id"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(status.height, "status.height"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(status.view, "status.view"));
  uint8_t flag = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU8(flag, "status.in_view_change"));
  if (flag > 1) return core::DataLossError(fmt::format("status.in_view_change: bad flag {}", flag));
  status.in_view_change = flag == 1;
  MELODAI_RETURN_IF_ERROR(reader.GetRaw(status.last_block_hash.data(),
                                        status.last_block_hash.size(), "status.last_block_hash"));
  MELODAI_RETURN_IF_ERROR(
      reader.GetRaw(status.state_root.data(), status.state_root.size(), "status.state_root"));
  MELODAI_RETURN_IF_ERROR(
      reader.GetU64(status.committed_transactions, "status.committed_transactions"));
  if (!reader.done()) return core::DataLossError("status: trailing bytes");
  return status;
}

std::string EncodeQueryResult(const QueryResult& result) {
  core::ByteWriter writer;
  writer.PutU8(result.status_code);
  writer.PutString(result.value.substr(0, kMaxQueryResultBytes));
  return writer.Release();
}

core::Result<QueryResult> DecodeQueryResult(std::string_view body) {
  core::ByteReader reader(body);
  QueryResult result;
  MELODAI_RETURN_IF_ERROR(reader.GetU8(result.status_code, "query_result.status_code"));
  MELODAI_RETURN_IF_ERROR(reader.GetString(result.value, "query_result.value", kMaxQueryResultBytes));
  if (!reader.done()) return core::DataLossError("query_result: trailing bytes");
  return result;
}

}  // namespace melodai::net
