// MelodAI — licensed under the Apache License 2.0.
// Encoding, strict decoding and signing of PBFT messages.

#include "ledger/pbft/messages.h"

#include <span>

#include "core/bytes.h"

namespace melodai::ledger::pbft {
namespace {

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

void PutDigest(core::ByteWriter& writer, const crypto::Digest32& digest) {
  writer.PutRaw(digest.data(), digest.size());
}
core::Status GetDigest(core::ByteReader& reader, crypto::Digest32& digest,
                       std::string_view field) {
  return reader.GetRaw(digest.data(), digest.size(), field);
}

// Length-prefixed (u32) byte strings.
void PutBytes(core::ByteWriter& writer, std::string_view bytes) {
  MELODAI_CHECK_LE(bytes.size(), kMaxMessageBytes);
  writer.PutU32(static_cast<uint32_t>(bytes.size()));
  writer.PutRaw(bytes.data(), bytes.size());
}
core::Status GetBytes(core::ByteReader& reader, std::string& out, std::string_view field,
                      size_t max_size) {
  uint32_t size = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU32(size, field));
  if (size > max_size || size > reader.remaining()) {
    return core::DataLossError(std::string(field) + ": size " + std::to_string(size) +
                               " is invalid");
  }
  out.resize(size);
  return reader.GetRaw(out.data(), size, field);
}

core::Status GetCount(core::ByteReader& reader, uint32_t& count, std::string_view field,
                      size_t max_count, size_t min_element_bytes) {
  MELODAI_RETURN_IF_ERROR(reader.GetU32(count, field));
  if (count > max_count || count > reader.remaining() / min_element_bytes) {
    return core::DataLossError(std::string(field) + ": count " + std::to_string(count) +
                               " is invalid");
  }
  return core::Status::Ok();
}

core::Status ExpectDone(const core::ByteReader& reader, std::string_view what) {
  if (reader.done()) return core::Status::Ok();
  return core::DataLossError(std::string(what) + ": " + std::to_string(reader.remaining()) +
                             " trailing bytes");
}

void PutTransactions(core::ByteWriter& writer, const std::vector<Transaction>& transactions) {
  writer.PutU32(static_cast<uint32_t>(transactions.size()));
  for (const Transaction& tx : transactions) PutBytes(writer, EncodeTransaction(tx));
}
core::Status GetTransactions(core::ByteReader& reader, std::vector<Transaction>& out,
                             std::string_view field, size_t max_count) {
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(reader, count, field, max_count, kTransactionOverheadBytes));
  out.reserve(count);
  std::string encoded;
  for (uint32_t i = 0; i < count; ++i) {
    MELODAI_RETURN_IF_ERROR(GetBytes(reader, encoded, field, kMaxTransactionBytes));
    auto tx = DecodeTransaction(encoded);
    if (!tx.ok()) return tx.status().WithContext(std::string(field) + "[" + std::to_string(i) + "]");
    out.push_back(std::move(tx).value());
  }
  return core::Status::Ok();
}

void PutMessages(core::ByteWriter& writer, const std::vector<SignedMessage>& messages) {
  writer.PutU32(static_cast<uint32_t>(messages.size()));
  for (const SignedMessage& message : messages) PutBytes(writer, EncodeSignedMessage(message));
}
core::Status GetMessages(core::ByteReader& reader, std::vector<SignedMessage>& out,
                         std::string_view field, size_t max_count) {
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(reader, count, field, max_count, 4 + 73));
  std::string encoded;
  for (uint32_t i = 0; i < count; ++i) {
    MELODAI_RETURN_IF_ERROR(GetBytes(reader, encoded, field, kMaxMessageBytes));
    auto message = DecodeSignedMessage(encoded);
    if (!message.ok()) {
      return message.status().WithContext(std::string(field) + "[" + std::to_string(i) + "]");
    }
    out.push_back(std::move(message).value());
  }
  return core::Status::Ok();
}

void PutBatch(core::ByteWriter& writer, const Batch& batch) {
  writer.PutI64(batch.timestamp_ms);
  writer.PutU64(batch.view);
  PutTransactions(writer, batch.transactions);
}
core::Status GetBatch(core::ByteReader& reader, Batch& batch) {
  MELODAI_RETURN_IF_ERROR(reader.GetI64(batch.timestamp_ms, "batch.timestamp_ms"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(batch.view, "batch.view"));
  return GetTransactions(reader, batch.transactions, "batch.transactions", kMaxBlockTransactions);
}

void PutCertificate(core::ByteWriter& writer, const CommitCertificate& certificate) {
  PutBytes(writer, EncodeCommitCertificate(certificate));
}
core::Status GetCertificate(core::ByteReader& reader, CommitCertificate& certificate) {
  std::string encoded;
  MELODAI_RETURN_IF_ERROR(GetBytes(reader, encoded, "certificate", kMaxMessageBytes));
  MELODAI_ASSIGN_OR_RETURN(certificate, DecodeCommitCertificate(encoded));
  return core::Status::Ok();
}

}  // namespace

std::string_view MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kRequest: return "request";
    case MessageType::kPrePrepare: return "pre-prepare";
    case MessageType::kPrepare: return "prepare";
    case MessageType::kCommit: return "commit";
    case MessageType::kCheckpoint: return "checkpoint";
    case MessageType::kViewChange: return "view-change";
    case MessageType::kNewView: return "new-view";
    case MessageType::kFetch: return "fetch";
    case MessageType::kFetchReply: return "fetch-reply";
    case MessageType::kReply: return "reply";
  }
  return "unknown";
}

std::string SigningBytes(MessageType type, uint32_t replica, std::string_view body) {
  core::ByteWriter writer;
  writer.Reserve(kConsensusSignatureDomain.size() + 5 + body.size());
  writer.PutRaw(kConsensusSignatureDomain.data(), kConsensusSignatureDomain.size());
  writer.PutU8(static_cast<uint8_t>(type));
  writer.PutU32(replica);
  writer.PutRaw(body.data(), body.size());
  return writer.Release();
}

SignedMessage SignMessage(MessageType type, uint32_t replica, std::string body,
                          const crypto::Ed25519KeyPair& key) {
  SignedMessage message{type, replica, std::move(body), {}};
  message.signature = key.Sign(AsBytes(SigningBytes(type, replica, message.body)));
  return message;
}

bool VerifyMessageSignature(const SignedMessage& message, const crypto::Ed25519PublicKey& key) {
  return crypto::Ed25519Verify(key, AsBytes(SigningBytes(message.type, message.replica,
                                                         message.body)),
                               message.signature);
}

std::string EncodeSignedMessage(const SignedMessage& message) {
  core::ByteWriter writer;
  writer.Reserve(1 + 4 + 4 + message.body.size() + 64);
  writer.PutU8(static_cast<uint8_t>(message.type));
  writer.PutU32(message.replica);
  PutBytes(writer, message.body);
  writer.PutRaw(message.signature.data(), message.signature.size());
  return writer.Release();
}

core::Result<SignedMessage> DecodeSignedMessage(std::string_view bytes) {
  if (bytes.size() > kMaxMessageBytes) return core::DataLossError("message: too large");
  core::ByteReader reader(bytes);
  SignedMessage message;
  uint8_t type = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU8(type, "message.type"));
  if (type == 0 || type > kMaxMessageType) {
    return core::DataLossError("message.type: unknown type " + std::to_string(type));
  }
  message.type = static_cast<MessageType>(type);
  MELODAI_RETURN_IF_ERROR(reader.GetU32(message.replica, "message.replica"));
  MELODAI_RETURN_IF_ERROR(GetBytes(reader, message.body, "message.body", kMaxMessageBytes));
  MELODAI_RETURN_IF_ERROR(
      reader.GetRaw(message.signature.data(), message.signature.size(), "message.signature"));
  MELODAI_RETURN_IF_ERROR(ExpectDone(reader, "message"));
  return message;
}

crypto::Digest32 BatchDigestOf(uint64_t sequence, const Batch& batch) {
  return BatchDigest(sequence, batch.view, batch.timestamp_ms,
                     TransactionsRoot(batch.transactions));
}

std::string EncodeRequest(const Request& value) {
  core::ByteWriter writer;
  PutTransactions(writer, value.transactions);
  return writer.Release();
}
core::Result<Request> DecodeRequest(std::string_view body) {
  core::ByteReader reader(body);
  Request value;
  MELODAI_RETURN_IF_ERROR(
      GetTransactions(reader, value.transactions, "request.transactions", kMaxRequestTransactions));
  MELODAI_RETURN_IF_ERROR(ExpectDone(reader, "request"));
  return value;
}

std::string EncodeBatch(const Batch& value) {
  core::ByteWriter writer;
  PutBatch(writer, value);
  return writer.Release();
}

std::string EncodePrePrepare(const PrePrepare& value) {
  core::ByteWriter writer;
  writer.PutU64(value.view);
  writer.PutU64(value.sequence);
  PutBatch(writer, value.batch);
  return writer.Release();
}
core::Result<PrePrepare> DecodePrePrepare(std::string_view body) {
  core::ByteReader reader(body);
  PrePrepare value;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(value.view, "pre-prepare.view"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(value.sequence, "pre-prepare.sequence"));
  MELODAI_RETURN_IF_ERROR(GetBatch(reader, value.batch));
  MELODAI_RETURN_IF_ERROR(ExpectDone(reader, "pre-prepare"));
  return value;
}

std::string EncodeVote(const Vote& value) {
  return CommitBody(value.view, value.sequence, value.digest);
}
core::Result<Vote> DecodeVote(std::string_view body) {
  core::ByteReader reader(body);
  Vote value;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(value.view, "vote.view"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(value.sequence, "vote.sequence"));
  MELODAI_RETURN_IF_ERROR(GetDigest(reader, value.digest, "vote.digest"));
  MELODAI_RETURN_IF_ERROR(ExpectDone(reader, "vote"));
  return value;
}

std::string EncodeCheckpoint(const Checkpoint& value) {
  core::ByteWriter writer;
  writer.PutU64(value.sequence);
  PutDigest(writer, value.block_hash);
  return writer.Release();
}
core::Result<Checkpoint> DecodeCheckpoint(std::string_view body) {
  core::ByteReader reader(body);
  Checkpoint value;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(value.sequence, "checkpoint.sequence"));
  MELODAI_RETURN_IF_ERROR(GetDigest(reader, value.block_hash, "checkpoint.block_hash"));
  MELODAI_RETURN_IF_ERROR(ExpectDone(reader, "checkpoint"));
  return value;
}

std::string EncodeViewChange(const ViewChange& value) {
  core::ByteWriter writer;
  writer.PutU64(value.new_view);
  writer.PutU64(value.stable_sequence);
  PutMessages(writer, value.checkpoint_proof);
  writer.PutU32(static_cast<uint32_t>(value.prepared.size()));
  for (const PreparedProof& proof : value.prepared) {
    PutBytes(writer, EncodeSignedMessage(proof.pre_prepare));
    PutMessages(writer, proof.prepares);
  }
  return writer.Release();
}
core::Result<ViewChange> DecodeViewChange(std::string_view body) {
  core::ByteReader reader(body);
  ViewChange value;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(value.new_view, "view-change.new_view"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(value.stable_sequence, "view-change.stable_sequence"));
  MELODAI_RETURN_IF_ERROR(
      GetMessages(reader, value.checkpoint_proof, "view-change.checkpoint_proof", kMaxProofMessages));
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(
      GetCount(reader, count, "view-change.prepared", kMaxPreparedEntries, 8));
  value.prepared.resize(count);
  for (PreparedProof& proof : value.prepared) {
    std::string encoded;
    MELODAI_RETURN_IF_ERROR(
        GetBytes(reader, encoded, "view-change.prepared.pre_prepare", kMaxMessageBytes));
    MELODAI_ASSIGN_OR_RETURN(proof.pre_prepare, DecodeSignedMessage(encoded));
    MELODAI_RETURN_IF_ERROR(
        GetMessages(reader, proof.prepares, "view-change.prepared.prepares", kMaxProofMessages));
  }
  MELODAI_RETURN_IF_ERROR(ExpectDone(reader, "view-change"));
  return value;
}

std::string EncodeNewView(const NewView& value) {
  core::ByteWriter writer;
  writer.PutU64(value.view);
  PutMessages(writer, value.view_changes);
  PutMessages(writer, value.pre_prepares);
  return writer.Release();
}
core::Result<NewView> DecodeNewView(std::string_view body) {
  core::ByteReader reader(body);
  NewView value;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(value.view, "new-view.view"));
  MELODAI_RETURN_IF_ERROR(
      GetMessages(reader, value.view_changes, "new-view.view_changes", kMaxProofMessages));
  MELODAI_RETURN_IF_ERROR(
      GetMessages(reader, value.pre_prepares, "new-view.pre_prepares", kMaxPreparedEntries));
  MELODAI_RETURN_IF_ERROR(ExpectDone(reader, "new-view"));
  return value;
}

std::string EncodeFetch(const Fetch& value) {
  core::ByteWriter writer;
  writer.PutU64(value.from_height);
  writer.PutU64(value.view);
  return writer.Release();
}
core::Result<Fetch> DecodeFetch(std::string_view body) {
  core::ByteReader reader(body);
  Fetch value;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(value.from_height, "fetch.from_height"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(value.view, "fetch.view"));
  MELODAI_RETURN_IF_ERROR(ExpectDone(reader, "fetch"));
  return value;
}

std::string EncodeFetchReply(const FetchReply& value) {
  core::ByteWriter writer;
  writer.PutU8(value.snapshot.has_value() ? 1 : 0);
  if (value.snapshot) {
    std::string header = EncodeBlockHeader(value.snapshot->header);
    writer.PutRaw(header.data(), header.size());
    PutMessages(writer, value.snapshot->checkpoint_proof);
    PutBytes(writer, value.snapshot->snapshot);
  }
  writer.PutU32(static_cast<uint32_t>(value.blocks.size()));
  for (const CommittedBatch& block : value.blocks) {
    PutCertificate(writer, block.certificate);
    PutBatch(writer, block.batch);
  }
  writer.PutU8(value.new_view.has_value() ? 1 : 0);
  if (value.new_view) PutBytes(writer, EncodeSignedMessage(*value.new_view));
  return writer.Release();
}

core::Result<FetchReply> DecodeFetchReply(std::string_view body) {
  core::ByteReader reader(body);
  FetchReply value;
  uint8_t flag = 0;
  MELODAI_RETURN_IF_ERROR(reader.GetU8(flag, "fetch-reply.has_snapshot"));
  if (flag > 1) return core::DataLossError("fetch-reply.has_snapshot: not a boolean");
  if (flag == 1) {
    SnapshotTransfer transfer;
    std::string header(kBlockHeaderBytes, '\0');
    MELODAI_RETURN_IF_ERROR(reader.GetRaw(header.data(), header.size(), "fetch-reply.header"));
    MELODAI_ASSIGN_OR_RETURN(transfer.header, DecodeBlockHeader(header));
    MELODAI_RETURN_IF_ERROR(GetMessages(reader, transfer.checkpoint_proof,
                                        "fetch-reply.checkpoint_proof", kMaxProofMessages));
    MELODAI_RETURN_IF_ERROR(
        GetBytes(reader, transfer.snapshot, "fetch-reply.snapshot", kMaxSnapshotBytes));
    value.snapshot = std::move(transfer);
  }
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(reader, count, "fetch-reply.blocks", kMaxFetchBlocks, 16));
  value.blocks.resize(count);
  for (CommittedBatch& block : value.blocks) {
    MELODAI_RETURN_IF_ERROR(GetCertificate(reader, block.certificate));
    MELODAI_RETURN_IF_ERROR(GetBatch(reader, block.batch));
  }
  MELODAI_RETURN_IF_ERROR(reader.GetU8(flag, "fetch-reply.has_new_view"));
  if (flag > 1) return core::DataLossError("fetch-reply.has_new_view: not a boolean");
  if (flag == 1) {
    std::string encoded;
    MELODAI_RETURN_IF_ERROR(GetBytes(reader, encoded, "fetch-reply.new_view", kMaxMessageBytes));
    MELODAI_ASSIGN_OR_RETURN(value.new_view, DecodeSignedMessage(encoded));
  }
  MELODAI_RETURN_IF_ERROR(ExpectDone(reader, "fetch-reply"));
  return value;
}

std::string EncodeReply(const Reply& value) {
  core::ByteWriter writer;
  writer.PutU64(value.view);
  writer.PutU64(value.height);
  PutDigest(writer, value.block_hash);
  writer.PutU32(static_cast<uint32_t>(value.entries.size()));
  for (const ReplyEntry& entry : value.entries) {
    PutDigest(writer, entry.transaction_hash);
    writer.PutU32(entry.code);
  }
  return writer.Release();
}
core::Result<Reply> DecodeReply(std::string_view body) {
  core::ByteReader reader(body);
  Reply value;
  MELODAI_RETURN_IF_ERROR(reader.GetU64(value.view, "reply.view"));
  MELODAI_RETURN_IF_ERROR(reader.GetU64(value.height, "reply.height"));
  MELODAI_RETURN_IF_ERROR(GetDigest(reader, value.block_hash, "reply.block_hash"));
  uint32_t count = 0;
  MELODAI_RETURN_IF_ERROR(GetCount(reader, count, "reply.entries", kMaxReplyEntries, 36));
  value.entries.resize(count);
  for (ReplyEntry& entry : value.entries) {
    MELODAI_RETURN_IF_ERROR(GetDigest(reader, entry.transaction_hash, "reply.entry.hash"));
    MELODAI_RETURN_IF_ERROR(reader.GetU32(entry.code, "reply.entry.code"));
  }
  MELODAI_RETURN_IF_ERROR(ExpectDone(reader, "reply"));
  return value;
}

core::Status ValidateMessageBytes(std::string_view bytes) {
  MELODAI_ASSIGN_OR_RETURN(SignedMessage message, DecodeSignedMessage(bytes));
  switch (message.type) {
    case MessageType::kRequest: return DecodeRequest(message.body).status();
    case MessageType::kPrePrepare: return DecodePrePrepare(message.body).status();
    case MessageType::kPrepare:
    case MessageType::kCommit: return DecodeVote(message.body).status();
    case MessageType::kCheckpoint: return DecodeCheckpoint(message.body).status();
    case MessageType::kViewChange: return DecodeViewChange(message.body).status();
    case MessageType::kNewView: return DecodeNewView(message.body).status();
    case MessageType::kFetch: return DecodeFetch(message.body).status();
    case MessageType::kFetchReply: return DecodeFetchReply(message.body).status();
    case MessageType::kReply: return DecodeReply(message.body).status();
  }
  return core::DataLossError("message: unknown type");
}

}  // namespace melodai::ledger::pbft
