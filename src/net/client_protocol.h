// MelodAI — licensed under the Apache License 2.0.
// Messages on a node's client port (inside frames): a kind byte, then the body. Clients
// submit signed transactions and ask for the node's status; the node answers with the
// replica's signed REPLY (verified by the client against the validator set), a rejection
// when admission fails, or its status. Decoders are strict and fuzzed.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "crypto/hash.h"

namespace melodai::net {

enum class ClientMessageKind : uint8_t {
  kSubmit = 1,         // Body: one encoded ledger transaction.
  kReply = 2,          // Body: an encoded pbft SignedMessage of type REPLY.
  kRejected = 3,       // Body: a Rejection.
  kStatusRequest = 4,  // Body: empty.
  kStatus = 5,         // Body: a NodeStatus.
  kQuery = 6,          // Body: an application query (for example "nonce/<hex key>").
  kQueryResult = 7,    // Body: a QueryResult.
  kWatch = 8,          // Body: a transaction hash [32]; reply when it commits (no admission).
};
inline constexpr uint8_t kMaxClientMessageKind = 8;
inline constexpr size_t kMaxQueryResultBytes = 1u << 20;
inline constexpr size_t kMaxRejectionMessageBytes = 1024;

struct ClientMessage {
  ClientMessageKind kind = ClientMessageKind::kSubmit;
  std::string body;
};

struct Rejection {
  crypto::Digest32 transaction_hash{};  // All zero when the transaction did not decode.
  uint8_t status_code = 0;              // core::StatusCode of the admission failure.
  std::string message;
};

struct NodeStatus {
  uint32_t replica_id = 0;
  uint64_t height = 0;
  uint64_t view = 0;
  bool in_view_change = false;
  crypto::Digest32 last_block_hash{};
  crypto::Digest32 state_root{};
  uint64_t committed_transactions = 0;
};

struct QueryResult {
  uint8_t status_code = 0;  // core::StatusCode; 0 = ok.
  std::string value;        // The answer, or the error message.
};

std::string EncodeClientMessage(ClientMessageKind kind, std::string_view body);
// kDataLoss on an empty message or an unknown kind.
core::Result<ClientMessage> DecodeClientMessage(std::string_view bytes);

std::string EncodeRejection(const Rejection& rejection);
// kDataLoss on truncation, an oversize message or trailing bytes.
core::Result<Rejection> DecodeRejection(std::string_view body);

std::string EncodeNodeStatus(const NodeStatus& status);
// kDataLoss on truncation, a bad flag byte or trailing bytes.
core::Result<NodeStatus> DecodeNodeStatus(std::string_view body);

std::string EncodeQueryResult(const QueryResult& result);
// kDataLoss on truncation, an oversize value or trailing bytes.
core::Result<QueryResult> DecodeQueryResult(std::string_view body);

}  // namespace melodai::net
