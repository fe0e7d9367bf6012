// MelodAI — licensed under the Apache License 2.0.
// PBFT wire messages: a signed envelope {type, replica, body, signature} and one body struct per
// message type, each with explicit little-endian encoding and strict decoding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "ledger/chain/application.h"
#include "ledger/chain/block.h"
#include "ledger/chain/certificate.h"
#include "ledger/chain/transaction.h"

namespace melodai::ledger::pbft {

// Values are on the wire: append, never renumber.
enum class MessageType : uint8_t {
  kRequest = 1,      // Client transactions forwarded by a replica to the primary.
  kPrePrepare = 2,   // The primary assigns a batch to (view, sequence).
  kPrepare = 3,      // A backup accepted the pre-prepare.
  kCommit = 4,       // The sender has a prepared certificate.
  kCheckpoint = 5,   // The sender executed up to a checkpoint with this block hash.
  kViewChange = 6,   // The sender moves to a new view; carries its prepared certificates.
  kNewView = 7,      // The new primary's proof (2f+1 VIEW-CHANGEs) and re-issued pre-prepares.
  kFetch = 8,        // State transfer request: committed blocks from a height.
  kFetchReply = 9,   // Committed blocks with certificates, optionally a checkpoint snapshot.
  kReply = 10,       // Execution result for client transactions (sent to clients, not peers).
};
inline constexpr uint8_t kMaxMessageType = 10;
static_assert(static_cast<uint8_t>(MessageType::kCommit) == kCommitMessageType);

std::string_view MessageTypeName(MessageType type);

// Limits on untrusted input.
inline constexpr size_t kMaxMessageBytes = 128 * 1024 * 1024;
inline constexpr size_t kMaxRequestTransactions = 4096;
inline constexpr size_t kMaxProofMessages = 1024;
inline constexpr size_t kMaxPreparedEntries = 4096;
inline constexpr size_t kMaxFetchBlocks = 256;
inline constexpr size_t kMaxSnapshotBytes = 64 * 1024 * 1024;
inline constexpr size_t kMaxReplyEntries = kMaxBlockTransactions;

// The signed envelope. Wire: type u8 | replica u32 | body_size u32 | body | signature [64].
struct SignedMessage {
  MessageType type = MessageType::kRequest;
  uint32_t replica = 0;
  std::string body;
  crypto::Ed25519Signature signature{};
  friend bool operator==(const SignedMessage&, const SignedMessage&) = default;
};

// domain | type | replica | body (see ledger/chain/certificate.h).
std::string SigningBytes(MessageType type, uint32_t replica, std::string_view body);
SignedMessage SignMessage(MessageType type, uint32_t replica, std::string body,
                          const crypto::Ed25519KeyPair& key);
bool VerifyMessageSignature(const SignedMessage& message, const crypto::Ed25519PublicKey& key);
std::string EncodeSignedMessage(const SignedMessage& message);
// Strict: kDataLoss on unknown type, truncation, oversize body or trailing bytes.
core::Result<SignedMessage> DecodeSignedMessage(std::string_view bytes);

// A batch of client transactions proposed for one sequence number (= block height).
struct Batch {
  int64_t timestamp_ms = 0;
  uint64_t view = 0;  // The view in which it was first proposed (kept when re-proposed).
  std::vector<Transaction> transactions;
  friend bool operator==(const Batch&, const Batch&) = default;
};
crypto::Digest32 BatchDigestOf(uint64_t sequence, const Batch& batch);

struct Request {
  std::vector<Transaction> transactions;
};
struct PrePrepare {
  uint64_t view = 0;
  uint64_t sequence = 0;
  Batch batch;
};
// PREPARE and COMMIT share this body (ledger::CommitBody layout).
struct Vote {
  uint64_t view = 0;
  uint64_t sequence = 0;
  crypto::Digest32 digest{};
};
struct Checkpoint {
  uint64_t sequence = 0;
  crypto::Digest32 block_hash{};  // BlockHash of the header at `sequence`.
};
// A pre-prepare and 2f matching prepares from distinct backups.
struct PreparedProof {
  SignedMessage pre_prepare;
  std::vector<SignedMessage> prepares;
};
struct ViewChange {
  uint64_t new_view = 0;
  uint64_t stable_sequence = 0;
  std::vector<SignedMessage> checkpoint_proof;  // 2f+1 CHECKPOINTs, empty when sequence 0.
  std::vector<PreparedProof> prepared;          // Sequences above stable_sequence.
};
struct NewView {
  uint64_t view = 0;
  std::vector<SignedMessage> view_changes;  // 2f+1 from distinct replicas.
  std::vector<SignedMessage> pre_prepares;  // For stable+1 .. max prepared, in order.
};
struct Fetch {
  uint64_t from_height = 0;
  uint64_t view = 0;  // The requester's view, so the responder can send its NEW-VIEW.
};
struct CommittedBatch {
  CommitCertificate certificate;
  Batch batch;
};
struct SnapshotTransfer {
  BlockHeader header;                           // The header at the checkpoint.
  std::vector<SignedMessage> checkpoint_proof;  // 2f+1 CHECKPOINTs naming BlockHash(header).
  std::string snapshot;                         // Application::Snapshot after that block.
};
struct FetchReply {
  std::optional<SnapshotTransfer> snapshot;
  std::vector<CommittedBatch> blocks;       // Consecutive heights.
  std::optional<SignedMessage> new_view;    // The responder's latest NEW-VIEW, if newer.
};
struct ReplyEntry {
  crypto::Digest32 transaction_hash{};
  TransactionCode code = 0;
  friend bool operator==(const ReplyEntry&, const ReplyEntry&) = default;
};
struct Reply {
  uint64_t view = 0;
  uint64_t height = 0;
  crypto::Digest32 block_hash{};
  std::vector<ReplyEntry> entries;
};

// Body codecs. Every Decode is strict (kDataLoss naming the field on truncation, counts above
// the limits above, or trailing bytes) and checks no signature.
std::string EncodeRequest(const Request& value);
core::Result<Request> DecodeRequest(std::string_view body);
std::string EncodeBatch(const Batch& value);
std::string EncodePrePrepare(const PrePrepare& value);
core::Result<PrePrepare> DecodePrePrepare(std::string_view body);
std::string EncodeVote(const Vote& value);
core::Result<Vote> DecodeVote(std::string_view body);
std::string EncodeCheckpoint(const Checkpoint& value);
core::Result<Checkpoint> DecodeCheckpoint(std::string_view body);
std::string EncodeViewChange(const ViewChange& value);
core::Result<ViewChange> DecodeViewChange(std::string_view body);
std::string EncodeNewView(const NewView& value);
core::Result<NewView> DecodeNewView(std::string_view body);
std::string EncodeFetch(const Fetch& value);
core::Result<Fetch> DecodeFetch(std::string_view body);
std::string EncodeFetchReply(const FetchReply& value);
core::Result<FetchReply> DecodeFetchReply(std::string_view body);
std::string EncodeReply(const Reply& value);
core::Result<Reply> DecodeReply(std::string_view body);

// Decodes the envelope and the body of its type, discarding the result: used by fuzzers and
// by hosts that want to reject garbage before queueing it.
core::Status ValidateMessageBytes(std::string_view bytes);

}  // namespace melodai::ledger::pbft
