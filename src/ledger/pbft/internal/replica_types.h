// MelodAI — licensed under the Apache License 2.0.
// Private state of pbft::Replica shared by its implementation files: log slots, checkpoint
// votes, the per-call context and the persistent key layout.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "ledger/pbft/replica.h"

namespace melodai::ledger::pbft {

// One sequence number of the log. The "current" fields describe the pre-prepare accepted in
// `view`; own_votes and prepared_proof survive view changes.
// Invariants: has_pre_prepare implies digest == BatchDigestOf(sequence, batch); prepared
// implies has_pre_prepare; committed implies prepared.
struct Replica::Slot {
  uint64_t sequence = 0;
  bool has_pre_prepare = false;
  uint64_t view = 0;
  SignedMessage pre_prepare;
  Batch batch;
  crypto::Digest32 digest{};
  // Latest vote of each replica for this sequence (any view); counted when it matches.
  std::map<uint32_t, std::pair<Vote, SignedMessage>> prepares;
  std::map<uint32_t, std::pair<Vote, SignedMessage>> commits;
  bool prepared = false;
  bool committed = false;
  std::optional<SignedMessage> own_prepare;
  std::optional<SignedMessage> own_commit;
  // Every digest this replica signed for this sequence, by view (never two per view).
  std::map<uint64_t, crypto::Digest32> own_votes;
  // The prepared certificate of the highest view, for VIEW-CHANGE.
  std::optional<PreparedProof> prepared_proof;
  uint64_t prepared_view = 0;
};

struct Replica::CheckpointVotes {
  std::map<uint32_t, std::pair<crypto::Digest32, SignedMessage>> votes;
};

// Collects the outputs of one call and the writes that must be durable before they leave.
class Replica::Context {
 public:
  Output output;
  WriteBatch batch;
};

// Persistent layout (all keys are ASCII prefixes followed by big-endian numbers, so that
// bytewise order is numeric order).
namespace keys {
inline constexpr std::string_view kView = "pbft/view";             // kConsensus
inline constexpr std::string_view kOwnViewChange = "pbft/vc";      // kConsensus
inline constexpr std::string_view kStableCheckpoint = "pbft/cp";   // kConsensus
inline constexpr std::string_view kNewView = "pbft/nv";            // kConsensus
inline constexpr std::string_view kOwnMessagePrefix = "pbft/m/";   // kConsensus: seq|view|type
inline constexpr std::string_view kPreparedPrefix = "pbft/p/";     // kConsensus: seq
inline constexpr std::string_view kBlockPrefix = "pbft/b/";        // kBlocks: height
inline constexpr std::string_view kSnapshotPrefix = "pbft/s/";     // kState: height
inline constexpr std::string_view kHeight = "pbft/height";         // kMeta
std::string BigEndian(uint64_t value);
uint64_t ParseBigEndian(std::string_view bytes);  // REQUIRES: 8 bytes.
std::string Block(uint64_t height);
std::string Snapshot(uint64_t height);
std::string OwnMessage(uint64_t sequence, uint64_t view, MessageType type);
std::string Prepared(uint64_t sequence);
}  // namespace keys

// Stored block record: block_size u32 | EncodeBlock | EncodeCommitCertificate.
std::string EncodeStoredBlock(const Block& block, const CommitCertificate& certificate);
core::Result<CommittedBlock> DecodeStoredBlock(std::string_view bytes);
// Stored snapshot record: header | snapshot bytes.
std::string EncodeStoredSnapshot(const BlockHeader& header, std::string_view snapshot);
core::Result<std::pair<BlockHeader, std::string>> DecodeStoredSnapshot(std::string_view bytes);
// PreparedProof as a standalone record (pre_prepare then prepares).
std::string EncodePreparedProof(const PreparedProof& proof);
core::Result<PreparedProof> DecodePreparedProof(std::string_view bytes);
std::string EncodeMessageList(const std::vector<SignedMessage>& messages);
core::Result<std::vector<SignedMessage>> DecodeMessageList(std::string_view bytes);

// The pre-prepares a NEW-VIEW for `view` must carry given 2f+1 verified VIEW-CHANGEs:
// sequence -> batch for min_s < sequence <= max_s, null batches where nothing prepared.
struct NewViewPlan {
  uint64_t min_sequence = 0;  // The highest stable checkpoint in the VIEW-CHANGEs.
  size_t min_sequence_source = 0;  // Index of the VIEW-CHANGE that proves it.
  std::map<uint64_t, Batch> batches;
};
// Null batches get view `new_view` and timestamp 0.
NewViewPlan PlanNewView(uint64_t new_view, const std::vector<ViewChange>& view_changes);

}  // namespace melodai::ledger::pbft
