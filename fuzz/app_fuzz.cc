// MelodAI — licensed under the Apache License 2.0.
// libFuzzer target for the MelodAI application's decoders and handlers. The first byte picks:
//   0: payload decoding — byte 1 is the transaction type, the rest the payload: decoding either
//      fails or is canonical (re-encoding gives the input); decoded payloads are then executed.
//   1: a block of transactions — records {type u8, sender u8, advance_hours u8, size u8,
//      payload}: executed on a funded app, whose invariants must hold after every block.
//   2: snapshot edits — records {offset u16, xor u8} applied to the snapshot of an app with
//      some history: Restore either fails with kDataLoss leaving the state unchanged, or
//      accepts a state that satisfies the invariants and snapshots back to the same bytes.
//   3: raw snapshot bytes, with the same rules.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "app/melodai_app.h"
#include "core/check.h"

namespace {

using namespace melodai;

constexpr int kKeys = 8;

const std::vector<crypto::Ed25519PublicKey>& Keys() {
  static const auto* keys = [] {
    auto* list = new std::vector<crypto::Ed25519PublicKey>();
    for (int i = 0; i < kKeys; ++i) {
      std::array<uint8_t, 32> seed{};
      seed.fill(static_cast<uint8_t>(i + 1));
      list->push_back(crypto::Ed25519KeyPair::FromSeed(seed).public_key());
    }
    return list;
  }();
  return *keys;
}

app::AppGenesis Genesis() {
  app::AppGenesis genesis = app::DefaultAppGenesis();
  genesis.timestamp_ms = 1'700'000'000'000;
  const auto& keys = Keys();
  genesis.validators = {keys[0]};
  app::GrantWholeCategories(genesis, keys[1], keys[2], keys[0], keys[3]);
  genesis.committee = {keys[4], keys[5]};
  return genesis;
}

std::unique_ptr<app::MelodaiApp> NewApp() { return app::MelodaiApp::Create(Genesis()).value(); }

ledger::Transaction Tx(const app::MelodaiApp& app, int sender, uint8_t type, std::string payload) {
  ledger::Transaction tx;
  tx.type = type;
  tx.sender = Keys()[static_cast<size_t>(sender)];
  tx.nonce = app.NextNonce(tx.sender);
  tx.payload = std::move(payload);
  return tx;
}

void ExecuteChecked(app::MelodaiApp& app, const ledger::Block& block) {
  const ledger::ExecutionOutcome outcome = app.ExecuteBlock(block);
  MELODAI_CHECK(outcome.codes.size() == block.transactions.size());
  const core::Status invariants = app.CheckInvariants();
  if (!invariants.ok()) std::fprintf(stderr, "invariant: %s\n", invariants.ToString().c_str());
  MELODAI_CHECK(invariants.ok());
  MELODAI_CHECK(outcome.state_root == app.StateRoot());
}

// An app with accounts, a node, a track, a subscription and a proposal: a rich snapshot.
const std::string& HistorySnapshot() {
  static const std::string* snapshot = [] {
    auto app = NewApp();
    ledger::Block block;
    block.header.timestamp_ms = 1'700'000'001'000;
    block.transactions.push_back(
        Tx(*app, 0, app::kTxTransfer, app::EncodeTransferPayload({Keys()[6], 5000 * app::kUnit})));
    block.transactions.push_back(Tx(*app, 0, app::kTxRegisterNode, app::EncodeRegisterNode({"n"})));
    ExecuteChecked(*app, block);
    block.transactions = {
        Tx(*app, 6, app::kTxRegisterTrack,
           app::EncodeRegisterTrack(
               {{9}, "t", "a", "USAB12400001", {{Keys()[6], 5000}, {Keys()[7], 5000}}})),
        Tx(*app, 0, app::kTxSubscribe, app::EncodeSubscribe({2})),
        Tx(*app, 0, app::kTxPropose,
           app::EncodePropose({app::ProposalAction::kListing, "list", 0, 0, 0, {}, 0, {}}))};
    block.header.timestamp_ms += 1000;
    ExecuteChecked(*app, block);
    return new std::string(app->Snapshot());
  }();
  return *snapshot;
}

void CheckRestore(std::string_view bytes) {
  auto app = NewApp();
  const crypto::Digest32 before = app->StateRoot();
  core::Status status = app->Restore(bytes);
  if (!status.ok()) {
    MELODAI_CHECK(status.code() == core::StatusCode::kDataLoss);
    MELODAI_CHECK(app->StateRoot() == before);
    return;
  }
  MELODAI_CHECK(app->CheckInvariants().ok());
  MELODAI_CHECK(app->Snapshot() == bytes);
  // The restored state must keep working.
  ledger::Block block;
  block.header.timestamp_ms = app->state().now_ms + 40 * app::kDayMs;
  ExecuteChecked(*app, block);
}

void FuzzPayload(std::string_view data) {
  if (data.empty()) return;
  const uint8_t type = static_cast<uint8_t>(data[0]);
  const std::string_view payload = data.substr(1);
  auto canonical = app::CanonicalPayload(type, payload);
  if (!canonical.ok()) return;
  MELODAI_CHECK(*canonical == payload);
  auto app = NewApp();
  ledger::Block block;
  block.header.timestamp_ms = 1'700'000'001'000;
  block.transactions.push_back(Tx(*app, 0, type, std::string(payload)));
  ExecuteChecked(*app, block);
}

void FuzzBlock(std::string_view data) {
  auto app = NewApp();
  int64_t now = 1'700'000'000'000;
  size_t offset = 0;
  while (offset + 4 <= data.size()) {
    const uint8_t type = static_cast<uint8_t>(data[offset]);
    const int sender = static_cast<uint8_t>(data[offset + 1]) % kKeys;
    const uint8_t hours = static_cast<uint8_t>(data[offset + 2]);
    const size_t size = static_cast<uint8_t>(data[offset + 3]);
    offset += 4;
    const std::string payload(data.substr(offset, size));
    offset += size;
    now += static_cast<int64_t>(hours) * 3'600'000 * (hours > 200 ? 24 : 1);
    ledger::Block block;
    block.header.timestamp_ms = now;
    block.transactions.push_back(Tx(*app, sender, type % 16, payload));
    ExecuteChecked(*app, block);
  }
}

void FuzzSnapshotEdits(std::string_view data) {
  std::string snapshot = HistorySnapshot();
  for (size_t offset = 0; offset + 3 <= data.size(); offset += 3) {
    const size_t at =
        (static_cast<uint8_t>(data[offset]) | (static_cast<uint8_t>(data[offset + 1]) << 8)) %
        snapshot.size();
    snapshot[at] = static_cast<char>(snapshot[at] ^ data[offset + 2]);
  }
  CheckRestore(snapshot);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  switch (data[0] % 4) {
    case 0:
      FuzzPayload(bytes.substr(1));
      break;
    case 1:
      FuzzBlock(bytes.substr(1));
      break;
    case 2:
      FuzzSnapshotEdits(bytes.substr(1));
      break;
    default:
      CheckRestore(bytes.substr(1));
      break;
  }
  return 0;
}
