// MelodAI — licensed under the Apache License 2.0.
// The PBFT cluster simulator: hosts (store + app + replica), Byzantine output filters, clients,
// fault schedule, and the invariant checker run after every delivery and tick.

#include "tests/sim/pbft_simulation.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "app/transfer_app.h"
#include "core/rng.h"
#include "crypto/hash.h"
#include "ledger/chain/certificate.h"
#include "ledger/pbft/messages.h"
#include "ledger/pbft/reply_collector.h"
#include "testing/sim_kv_store.h"

namespace melodai::sim {
namespace {

using ledger::pbft::CommittedBlock;
using ledger::pbft::Output;
using ledger::pbft::Replica;

constexpr uint64_t kGenesisBalance = 1'000'000;
constexpr uint32_t kSinkAccounts = 3;
constexpr int64_t kResubmitMs = 1500;

crypto::Ed25519KeyPair KeyFromRng(core::Rng& rng) {
  std::array<uint8_t, 32> seed{};
  for (size_t i = 0; i < seed.size(); i += 8) {
    uint64_t value = rng.NextU64();
    std::memcpy(seed.data() + i, &value, 8);
  }
  return crypto::Ed25519KeyPair::FromSeed(seed);
}

struct Client {
  explicit Client(crypto::Ed25519KeyPair k, const ledger::ValidatorSet& validators)
      : key(std::move(k)), collector(validators) {}
  crypto::Ed25519KeyPair key;
  ledger::pbft::ReplyCollector collector;
  uint64_t next_nonce = 0;
  std::optional<ledger::Transaction> current;
  crypto::Digest32 current_hash{};
  int64_t submitted_ms = 0;
  int64_t next_action_ms = 0;
  uint32_t done = 0;
};

struct Host {
  uint32_t id = 0;
  uint32_t endpoint = 0;
  Byzantine behaviour = Byzantine::kNone;
  std::unique_ptr<testing::SimKvStore> store;
  std::unique_ptr<app::TransferApp> app;
  std::unique_ptr<Replica> replica;
  bool down = false;
  int64_t restart_ms = 0;
  int64_t down_for_ms = 0;
  uint64_t checked_height = 0;
  uint64_t snapshots_seen = 0;
  std::vector<std::string> history;
  std::pair<uint64_t, bool> traced_view{0, false};
  bool honest() const { return behaviour == Byzantine::kNone; }
};

class Simulation {
 public:
  explicit Simulation(const SimOptions& options);
  SimResult Run();

 private:
  void Fail(const std::string& message);
  void StartReplica(Host& host);
  void Deliver(const testing::SimDelivery& delivery);
  void Route(Host& host, Output output);
  void Send(Host& host, uint32_t target_id, const std::string& bytes);
  void SendToEndpoint(Host& host, uint32_t endpoint, std::string bytes);
  void CheckCommitted(Host& host, const CommittedBlock& committed);
  void ClientStep(Client& client, size_t index);
  void ApplyFaults();
  void CheckHalted(Host& host);
  void ByzantineTick(Host& host);
  bool Settled() const;
  void FinalChecks();
  uint64_t MaxHonestView() const;

  SimOptions options_;
  uint32_t f_;
  core::Rng rng_;
  core::Rng fault_rng_;
  testing::SimNetwork network_;
  std::vector<crypto::Ed25519KeyPair> keys_;
  std::optional<ledger::ValidatorSet> validators_;
  std::vector<std::pair<crypto::Ed25519PublicKey, uint64_t>> genesis_;
  std::vector<crypto::Ed25519PublicKey> sinks_;
  std::vector<std::unique_ptr<Host>> hosts_;  // Indexed by endpoint.
  std::vector<std::vector<uint32_t>> endpoints_of_;  // Replica id -> endpoints.
  std::vector<std::unique_ptr<Client>> clients_;
  std::map<crypto::Digest32, size_t> client_of_tx_;
  std::set<crypto::Digest32> submitted_;
  std::set<crypto::Digest32> committed_txs_;
  std::set<crypto::Digest32> verified_certificates_;
  std::map<uint64_t, crypto::Digest32> agreed_;  // Height -> block hash (honest replicas).
  std::set<std::pair<crypto::Ed25519PublicKey, uint64_t>> executed_;
  uint64_t total_supply_ = 0;
  int64_t now_ms_ = 0;
  bool healed_ = false;
  uint64_t view_at_heal_ = 0;
  SimResult result_;
};

Simulation::Simulation(const SimOptions& options)
    : options_(options),
      f_((options.n - 1) / 3),
      rng_(options.seed),
      fault_rng_(rng_.Fork(1)),
      network_(options.n + 1, options.network, rng_.Fork(2).NextU64()) {
  core::Rng key_rng = rng_.Fork(3);
  std::vector<crypto::Ed25519PublicKey> public_keys;
  for (uint32_t i = 0; i < options.n; ++i) {
    keys_.push_back(KeyFromRng(key_rng));
    public_keys.push_back(keys_.back().public_key());
  }
  validators_ = ledger::ValidatorSet::Create(public_keys).value();
  for (uint32_t i = 0; i < options.clients; ++i) {
    clients_.push_back(std::make_unique<Client>(KeyFromRng(key_rng), *validators_));
    genesis_.emplace_back(clients_.back()->key.public_key(), kGenesisBalance);
    total_supply_ += kGenesisBalance;
  }
  for (uint32_t i = 0; i < kSinkAccounts; ++i) sinks_.push_back(KeyFromRng(key_rng).public_key());
  endpoints_of_.resize(options.n);
  for (uint32_t i = 0; i <= options.n; ++i) {
    auto host = std::make_unique<Host>();
    host->id = i < options.n ? i : options.n;
    host->endpoint = i;
    host->store = std::make_unique<testing::SimKvStore>();
    hosts_.push_back(std::move(host));
  }
  uint32_t twin_of = options.n;
  for (uint32_t i = 0; i < options.n && i < options.byzantine.size(); ++i) {
    hosts_[i]->behaviour = options.byzantine[i];
    if (options.byzantine[i] == Byzantine::kTwins) twin_of = i;
  }
  for (uint32_t i = 0; i < options.n; ++i) endpoints_of_[i].push_back(i);
  Host& twin = *hosts_[options.n];
  if (twin_of < options.n) {
    twin.id = twin_of;
    twin.behaviour = Byzantine::kTwins;
    endpoints_of_[twin_of].push_back(options.n);
  } else {
    // No Twins in this scenario: the spare endpoint stays unused (and is not counted).
    twin.behaviour = Byzantine::kTwins;
    twin.down = true;
    twin.restart_ms = INT64_MAX;
  }
  for (auto& host : hosts_) {
    if (host->id < options.n) StartReplica(*host);
  }
  if (twin_of < options.n) {
    // Twins: each instance of the duplicated identity sees a different part of the cluster.
    std::set<uint32_t> group = {twin_of};
    for (uint32_t i = 0; i < options.n; ++i) {
      if (i != twin_of && group.size() < (options.n + 1) / 2) group.insert(i);
    }
    network_.Partition(group);
  }
}

void Simulation::Fail(const std::string& message) {
  if (!result_.ok) return;
  result_.ok = false;
  result_.failure = "t=" + std::to_string(now_ms_) + "ms: " + message;
}

void Simulation::StartReplica(Host& host) {
  auto app = app::TransferApp::Create(genesis_);
  MELODAI_CHECK(app.ok());
  host.app = std::make_unique<app::TransferApp>(std::move(app).value());
  ledger::pbft::ReplicaConfig config = options_.replica;
  config.replica_id = host.id;
  std::array<uint8_t, 32> seed = keys_[host.id].seed();
  host.replica = std::make_unique<Replica>(config, *validators_,
                                           crypto::Ed25519KeyPair::FromSeed(seed), *host.store,
                                           *host.app);
  core::Status status = host.replica->Recover();
  if (!status.ok()) {
    Fail("replica " + std::to_string(host.id) + " failed to recover: " + status.ToString());
    return;
  }
  host.down = false;
  host.checked_height = host.replica->height();
  host.snapshots_seen = 0;
  if (host.honest()) {
    // Blocks recovered from the store must still match what the cluster agreed on.
    auto it = agreed_.find(host.checked_height);
    if (host.checked_height > 0 && it != agreed_.end() &&
        it->second != ledger::BlockHash(host.replica->last_header())) {
      Fail("replica " + std::to_string(host.id) + " recovered a divergent block at height " +
           std::to_string(host.checked_height));
    }
    if (host.app->SumOfBalances() != total_supply_) {
      Fail("replica " + std::to_string(host.id) + " recovered a state violating supply");
    }
  }
}

void Simulation::CheckHalted(Host& host) {
  if (host.down || !host.replica || host.replica->status().ok()) return;
  // The store crashed under the replica: the process is gone; it restarts later.
  host.replica.reset();
  host.app.reset();
  host.down = true;
  host.restart_ms = now_ms_ + host.down_for_ms;
  ++result_.restarts;
}

void Simulation::Deliver(const testing::SimDelivery& delivery) {
  Host& host = *hosts_[delivery.to];
  if (host.down) return;
  uint32_t from_id = hosts_[delivery.from]->id;
  Output output = host.replica->OnMessage(from_id, delivery.bytes);
  Route(host, std::move(output));
}

void Simulation::SendToEndpoint(Host& host, uint32_t endpoint, std::string bytes) {
  network_.Send(host.endpoint, endpoint, std::move(bytes), now_ms_);
}

void Simulation::Send(Host& host, uint32_t target_id, const std::string& bytes) {
  for (uint32_t endpoint : endpoints_of_[target_id]) {
    if (endpoint == host.endpoint) continue;
    std::string copy = bytes;
    switch (host.behaviour) {
      case Byzantine::kBadSignature:
        if (fault_rng_.Uniform(2) == 0 && copy.size() > 64) copy[copy.size() - 1 - fault_rng_.Uniform(64)] ^= 0x40;
        break;
      case Byzantine::kWithhold:
        if (target_id == (host.id + 1) % options_.n || fault_rng_.UniformDouble() < 0.6) continue;
        break;
      case Byzantine::kEquivocate: {
        auto message = ledger::pbft::DecodeSignedMessage(copy);
        if (message.ok() && message->type == ledger::pbft::MessageType::kPrePrepare &&
            target_id % 2 == 1) {
          auto pre_prepare = ledger::pbft::DecodePrePrepare(message->body);
          if (pre_prepare.ok()) {
            pre_prepare->batch.timestamp_ms += 1;
            if (!pre_prepare->batch.transactions.empty()) pre_prepare->batch.transactions.pop_back();
            copy = ledger::pbft::EncodeSignedMessage(ledger::pbft::SignMessage(
                message->type, host.id, ledger::pbft::EncodePrePrepare(*pre_prepare),
                keys_[host.id]));
          }
        }
        break;
      }
      case Byzantine::kReplay:
        if (host.history.size() < 4096) host.history.push_back(copy);
        break;
      case Byzantine::kGarbage:
        if (fault_rng_.Uniform(4) == 0) {
          std::string garbage = copy.substr(0, fault_rng_.Uniform(copy.size() + 1));
          if (!garbage.empty()) garbage[fault_rng_.Uniform(garbage.size())] ^= 0x5a;
          SendToEndpoint(host, endpoint, std::move(garbage));
        }
        break;
      default:
        break;
    }
    SendToEndpoint(host, endpoint, std::move(copy));
  }
}

void Simulation::Route(Host& host, Output output) {
  for (ledger::pbft::OutboundMessage& message : output.messages) {
    if (message.target == ledger::pbft::OutboundMessage::kBroadcast) {
      for (uint32_t id = 0; id < options_.n; ++id) {
        if (id != host.id) Send(host, id, message.bytes);
      }
    } else {
      Send(host, message.target, message.bytes);
    }
  }
  for (const ledger::pbft::ClientReply& reply : output.replies) {
    std::set<size_t> targets;
    for (const crypto::Digest32& hash : reply.transaction_hashes) {
      auto it = client_of_tx_.find(hash);
      if (it != client_of_tx_.end()) targets.insert(it->second);
    }
    for (size_t index : targets) {
      auto accepted = clients_[index]->collector.Add(reply.bytes);
      if (!accepted.ok() && host.honest()) Fail("honest reply rejected: " + accepted.status().ToString());
    }
  }
  if (host.honest()) {
    for (const CommittedBlock& committed : output.committed) CheckCommitted(host, committed);
  }
  if (options_.trace && host.replica) {
    auto metrics = host.replica->metrics();
    auto key = std::make_pair(metrics.view, metrics.in_view_change);
    if (host.traced_view != key) {
      host.traced_view = key;
      std::fprintf(stderr, "t=%lld r%u%s view %llu%s height %llu stable %llu\n",
                   static_cast<long long>(now_ms_), host.id, host.honest() ? "" : "(byz)",
                   static_cast<unsigned long long>(metrics.view),
                   metrics.in_view_change ? " (changing)" : " installed",
                   static_cast<unsigned long long>(metrics.height),
                   static_cast<unsigned long long>(metrics.stable_checkpoint));
    }
  }
  CheckHalted(host);
}

void Simulation::CheckCommitted(Host& host, const CommittedBlock& committed) {
  const ledger::BlockHeader& header = committed.block.header;
  std::string who = "replica " + std::to_string(host.id) + " height " + std::to_string(header.height);
  uint64_t snapshots = host.replica->metrics().snapshots_installed;
  if (header.height <= host.checked_height) return Fail(who + ": executed twice");
  if (header.height != host.checked_height + 1 && snapshots == host.snapshots_seen) {
    return Fail(who + ": skipped heights without a snapshot");
  }
  host.snapshots_seen = snapshots;
  host.checked_height = header.height;
  crypto::Digest32 hash = ledger::BlockHash(header);
  auto [it, inserted] = agreed_.emplace(header.height, hash);
  if (!inserted && it->second != hash) return Fail(who + ": AGREEMENT violated");
  auto previous = agreed_.find(header.height - 1);
  if (previous != agreed_.end() && previous->second != header.previous_hash) {
    return Fail(who + ": does not extend the agreed prefix");
  }
  // The first copy of a height is verified completely; later copies have the same block hash,
  // so only their (possibly different) certificates need checking, once each.
  std::string certificate_bytes = ledger::EncodeCommitCertificate(committed.certificate);
  crypto::Digest32 certificate_digest = crypto::Blake2b256(
      {reinterpret_cast<const uint8_t*>(certificate_bytes.data()), certificate_bytes.size()});
  if (verified_certificates_.insert(certificate_digest).second) {
    core::Status verified =
        inserted ? ledger::VerifyCommittedBlock(committed.block, committed.certificate, *validators_)
                 : ledger::VerifyCommitCertificate(committed.certificate, *validators_);
    if (verified.ok() &&
        committed.certificate.batch_digest !=
            ledger::BatchDigest(header.height, header.view, header.timestamp_ms,
                                header.transactions_root)) {
      verified = core::DataLossError("batch digest differs from the block");
    }
    if (!verified.ok()) return Fail(who + ": certificate invalid: " + verified.ToString());
  }
  if (host.app->SumOfBalances() != total_supply_) return Fail(who + ": total supply changed");
  if (!inserted) return;
  for (size_t i = 0; i < committed.block.transactions.size(); ++i) {
    const ledger::Transaction& tx = committed.block.transactions[i];
    crypto::Digest32 tx_hash = ledger::TransactionHash(tx);
    if (!submitted_.contains(tx_hash)) return Fail(who + ": VALIDITY: unknown transaction");
    committed_txs_.insert(tx_hash);
    if (committed.codes[i] == ledger::kTransactionApplied &&
        !executed_.emplace(tx.sender, tx.nonce).second) {
      return Fail(who + ": transaction (sender, nonce " + std::to_string(tx.nonce) +
                  ") executed twice");
    }
  }
  result_.committed_transactions += committed.block.transactions.size();
}

void Simulation::ClientStep(Client& client, size_t index) {
  if (client.done >= options_.transactions_per_client || now_ms_ < client.next_action_ms) return;
  if (client.current) {
    bool accepted = client.collector.Result(client.current_hash).has_value();
    if (accepted || committed_txs_.contains(client.current_hash)) {
      client.current.reset();
      ++client.done;
      // Spread each client's transactions over the fault window, so faults hit activity.
      uint64_t spread = static_cast<uint64_t>(
          std::max<int64_t>(20, 2 * options_.heal_ms / options_.transactions_per_client));
      client.next_action_ms = now_ms_ + static_cast<int64_t>(rng_.Uniform(spread));
      return;
    }
    if (now_ms_ - client.submitted_ms < kResubmitMs) return;
  } else {
    crypto::Ed25519PublicKey recipient =
        rng_.Uniform(2) == 0 ? sinks_[rng_.Uniform(sinks_.size())]
                             : clients_[rng_.Uniform(clients_.size())]->key.public_key();
    // Never more than a client's balance can go below: admission refuses overdrafts.
    uint64_t amount = 1 + rng_.Uniform(1000);
    client.current = app::MakeTransfer(client.key, client.next_nonce++, recipient, amount);
    client.current_hash = ledger::TransactionHash(*client.current);
    client.collector.Expect(client.current_hash);
    submitted_.insert(client.current_hash);
    client_of_tx_[client.current_hash] = index;
  }
  client.submitted_ms = now_ms_;
  std::string bytes = ledger::EncodeTransaction(*client.current);
  std::vector<uint32_t> order(options_.n);
  for (uint32_t i = 0; i < options_.n; ++i) order[i] = i;
  rng_.Shuffle(order);
  for (uint32_t i = 0; i < 2 * f_ + 1; ++i) {
    Host& host = *hosts_[order[i]];
    if (host.down) continue;
    auto output = host.replica->SubmitRequest(bytes);
    // Refusals (already pending, nonce used) are normal for resubmissions.
    if (output.ok()) Route(host, std::move(output).value());
  }
}

void Simulation::ApplyFaults() {
  for (const CrashEvent& crash : options_.crashes) {
    if (crash.at_ms != now_ms_ || healed_) continue;
    Host& host = *hosts_[crash.replica];
    if (host.down) continue;
    host.down_for_ms = crash.down_ms;
    if (crash.after_writes == 0) {
      host.store->CrashNow();
      host.replica.reset();
      host.app.reset();
      host.down = true;
      host.restart_ms = now_ms_ + crash.down_ms;
      ++result_.restarts;
    } else {
      host.store->ArmCrash(crash.after_writes, crash.apply_crashing_write);
    }
  }
  for (const PartitionEvent& partition : options_.partitions) {
    if (healed_) break;
    if (partition.at_ms == now_ms_) {
      network_.Partition(std::set<uint32_t>(partition.group.begin(), partition.group.end()));
    } else if (partition.at_ms + partition.duration_ms == now_ms_) {
      network_.Partition({});
    }
  }
  if (!healed_ && now_ms_ >= options_.heal_ms) {
    healed_ = true;
    network_.Heal();
    view_at_heal_ = MaxHonestView();
    for (auto& host : hosts_) {
      host->store->Disarm();
      if (host->down && host->restart_ms != INT64_MAX) host->restart_ms = now_ms_;
    }
  }
  for (auto& host : hosts_) {
    if (host->down && host->restart_ms <= now_ms_) {
      host->store->Restart();
      StartReplica(*host);
    }
  }
}

void Simulation::ByzantineTick(Host& host) {
  if (host.behaviour != Byzantine::kReplay || host.history.empty()) return;
  if (fault_rng_.Uniform(3) != 0) return;
  const std::string& old = host.history[fault_rng_.Uniform(host.history.size())];
  uint32_t target = static_cast<uint32_t>(fault_rng_.Uniform(options_.n));
  if (target != host.id) SendToEndpoint(host, target, old);
}

uint64_t Simulation::MaxHonestView() const {
  uint64_t view = 0;
  for (const auto& host : hosts_) {
    if (host->honest() && !host->down) view = std::max(view, host->replica->view());
  }
  return view;
}

bool Simulation::Settled() const {
  for (const auto& client : clients_) {
    if (client->done < options_.transactions_per_client) return false;
  }
  uint64_t top = agreed_.empty() ? 0 : agreed_.rbegin()->first;
  for (const auto& host : hosts_) {
    if (!host->honest()) continue;
    if (host->down || host->replica->height() < top) return false;
  }
  return true;
}

void Simulation::FinalChecks() {
  for (const auto& host : hosts_) {
    if (!host->honest() || host->down) continue;
    for (uint64_t height = 1; height <= host->replica->height(); ++height) {
      auto block = host->replica->ReadBlock(height);
      if (!block.ok()) continue;  // Below an installed snapshot.
      auto it = agreed_.find(height);
      if (it == agreed_.end() || it->second != ledger::BlockHash(block->block.header)) {
        return Fail("replica " + std::to_string(host->id) + " stores a block at height " +
                    std::to_string(height) + " that differs from the agreed chain");
      }
    }
    if (host->app->StateRoot() != host->replica->last_header().state_root) {
      return Fail("replica " + std::to_string(host->id) + " state root differs from its head");
    }
  }
}

SimResult Simulation::Run() {
  uint64_t max_view_changes = options_.max_view_changes_after_heal > 0
                                  ? options_.max_view_changes_after_heal
                                  : 4 * (f_ + 1) + 2;
  int64_t deadline = options_.heal_ms + options_.liveness_budget_ms;
  for (now_ms_ = 0; result_.ok; now_ms_ += options_.tick_ms) {
    while (auto delivery = network_.PopDue(now_ms_)) {
      Deliver(*delivery);
      if (!result_.ok) break;
    }
    ApplyFaults();
    for (size_t i = 0; i < clients_.size() && result_.ok; ++i) ClientStep(*clients_[i], i);
    for (auto& host : hosts_) {
      if (host->down || !result_.ok) continue;
      Route(*host, host->replica->OnTick(now_ms_));
      if (!host->down) ByzantineTick(*host);
    }
    if (healed_ && Settled()) break;
    if (now_ms_ > deadline) {
      std::ostringstream stuck;
      for (const auto& host : hosts_) {
        if (host->down || host->id >= options_.n) continue;
        auto m = host->replica->metrics();
        stuck << " r" << host->id << "{h=" << m.height << " v=" << m.view
              << (m.in_view_change ? "*" : "") << " pend=" << m.pending_transactions << "}";
      }
      for (const auto& client : clients_) {
        stuck << " c{done=" << client->done << " nonce=" << client->next_nonce
              << (client->current ? " waiting" : "") << "}";
      }
      Fail("LIVENESS: not settled " + std::to_string(options_.liveness_budget_ms) +
           "ms after healing:" + stuck.str());
      break;
    }
  }
  if (options_.trace) {
    for (const auto& host : hosts_) {
      if (host->down || !host->replica) continue;
      auto m = host->replica->metrics();
      std::fprintf(stderr, "r%u dropped:", host->id);
      for (size_t i = 0; i < ledger::pbft::kDropReasonCount; ++i) {
        std::fprintf(stderr, " %s=%llu",
                     std::string(ledger::pbft::DropReasonName(static_cast<ledger::pbft::DropReason>(i))).c_str(),
                     static_cast<unsigned long long>(m.dropped[i]));
      }
      std::fprintf(stderr, "\n");
    }
  }
  result_.view_changes_after_heal = MaxHonestView() - view_at_heal_;
  if (result_.ok && result_.view_changes_after_heal > max_view_changes) {
    Fail("LIVENESS: " + std::to_string(result_.view_changes_after_heal) +
         " view changes after healing (bound " + std::to_string(max_view_changes) + ")");
  }
  if (result_.ok) FinalChecks();
  result_.final_height = agreed_.empty() ? 0 : agreed_.rbegin()->first;
  result_.max_view = MaxHonestView();
  result_.messages_sent = network_.sent();
  result_.end_ms = now_ms_;
  for (const auto& host : hosts_) {
    if (host->down || !host->replica) continue;
    auto m = host->replica->metrics();
    result_.snapshots_installed += m.snapshots_installed;
    result_.fetched_blocks += m.fetched_blocks;
  }
  return result_;
}

std::string Describe(const SimOptions& options) {
  std::ostringstream out;
  out << "seed=" << options.seed << " n=" << options.n << " K=" << options.replica.checkpoint_interval
      << " L=" << options.replica.watermark_window << " loss=" << options.network.loss_probability
      << " dup=" << options.network.duplicate_probability
      << " reorder=" << options.network.reorder_probability
      << " delay<=" << options.network.max_delay_ms << "ms byzantine=[";
  for (size_t i = 0; i < options.byzantine.size(); ++i) {
    if (options.byzantine[i] != Byzantine::kNone) out << i << ":" << ByzantineName(options.byzantine[i]) << " ";
  }
  out << "] crashes=" << options.crashes.size() << " partitions=" << options.partitions.size()
      << " heal=" << options.heal_ms << "ms";
  return out.str();
}

}  // namespace

std::string_view ByzantineName(Byzantine behaviour) {
  switch (behaviour) {
    case Byzantine::kNone: return "none";
    case Byzantine::kEquivocate: return "equivocate";
    case Byzantine::kBadSignature: return "bad_signature";
    case Byzantine::kWithhold: return "withhold";
    case Byzantine::kReplay: return "replay";
    case Byzantine::kTwins: return "twins";
    case Byzantine::kGarbage: return "garbage";
    case Byzantine::kCount: break;
  }
  return "unknown";
}

SimOptions RandomScenario(uint64_t seed, uint32_t n) {
  core::Rng rng(seed ^ 0x5eed5eed5eedULL);
  SimOptions options;
  options.seed = seed;
  options.n = n;
  uint32_t f = (n - 1) / 3;
  options.replica.checkpoint_interval = rng.Uniform(2) == 0 ? 4 : 8;
  options.replica.watermark_window = options.replica.checkpoint_interval * (2 + rng.Uniform(3));
  options.replica.max_in_flight_batches = 1 + rng.Uniform(4);
  options.replica.max_batch_transactions = 1 + static_cast<uint32_t>(rng.Uniform(8));
  options.replica.view_change_timeout_ms = 300;
  options.replica.max_view_change_timeout_ms = 2400;
  options.replica.retransmit_interval_ms = 100;
  options.replica.max_fetch_blocks = 1 + static_cast<uint32_t>(rng.Uniform(8));
  options.replica.snapshot_transfer_threshold = rng.Uniform(2) == 0 ? 4 : 1000;
  const double losses[] = {0.0, 0.02, 0.1, 0.2};
  options.network.loss_probability = losses[rng.Uniform(4)];
  options.network.duplicate_probability = rng.Uniform(3) == 0 ? 0.05 : 0.0;
  options.network.reorder_probability = rng.Uniform(3) == 0 ? 0.1 : 0.0;
  options.network.min_delay_ms = 1;
  options.network.max_delay_ms = rng.Uniform(2) == 0 ? 5 : 40;
  options.heal_ms = 1000 + 500 * static_cast<int64_t>(rng.Uniform(5));
  options.clients = 2 + static_cast<uint32_t>(rng.Uniform(3));
  options.transactions_per_client = 3 + static_cast<uint32_t>(rng.Uniform(6));
  options.byzantine.assign(n, Byzantine::kNone);
  uint32_t byzantine = static_cast<uint32_t>(rng.Uniform(f + 1));
  for (uint32_t i = 0; i < byzantine; ++i) {
    uint32_t id = static_cast<uint32_t>(rng.Uniform(n));
    if (options.byzantine[id] != Byzantine::kNone) continue;
    auto kind = static_cast<Byzantine>(1 + rng.Uniform(static_cast<uint64_t>(Byzantine::kCount) - 1));
    bool has_twins = std::find(options.byzantine.begin(), options.byzantine.end(),
                               Byzantine::kTwins) != options.byzantine.end();
    if (kind == Byzantine::kTwins && has_twins) kind = Byzantine::kEquivocate;
    options.byzantine[id] = kind;
  }
  uint32_t crash_count = static_cast<uint32_t>(rng.Uniform(3));
  for (uint32_t i = 0; i < crash_count; ++i) {
    CrashEvent crash;
    crash.replica = static_cast<uint32_t>(rng.Uniform(n));
    if (options.byzantine[crash.replica] != Byzantine::kNone) continue;
    crash.at_ms = options.replica.view_change_timeout_ms / 10 * 10 +
                  10 * static_cast<int64_t>(rng.Uniform(static_cast<uint64_t>(options.heal_ms / 10)));
    crash.down_ms = 10 * static_cast<int64_t>(1 + rng.Uniform(150));
    crash.after_writes = rng.Uniform(2) == 0 ? 0 : static_cast<uint32_t>(1 + rng.Uniform(30));
    crash.apply_crashing_write = rng.Uniform(2) == 0;
    options.crashes.push_back(crash);
  }
  bool has_twins = std::find(options.byzantine.begin(), options.byzantine.end(),
                             Byzantine::kTwins) != options.byzantine.end();
  uint32_t partition_count = has_twins ? 0 : static_cast<uint32_t>(rng.Uniform(3));
  for (uint32_t i = 0; i < partition_count; ++i) {
    PartitionEvent partition;
    partition.at_ms = 10 * static_cast<int64_t>(rng.Uniform(static_cast<uint64_t>(options.heal_ms / 10)));
    partition.duration_ms = 10 * static_cast<int64_t>(1 + rng.Uniform(100));
    uint32_t size = 1 + static_cast<uint32_t>(rng.Uniform(n / 2));
    for (uint32_t j = 0; j < size; ++j) partition.group.push_back(static_cast<uint32_t>(rng.Uniform(n)));
    options.partitions.push_back(partition);
  }
  return options;
}

SimResult RunSimulation(const SimOptions& options) {
  Simulation simulation(options);
  SimResult result = simulation.Run();
  result.description = Describe(options);
  return result;
}

}  // namespace melodai::sim
