// MelodAI — licensed under the Apache License 2.0.
// Node composition: store + transfer application + replica, the Asio transport and client
// port feeding one consensus loop, and the metrics that loop publishes.
#include "node/node.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>

#include "app/app_genesis.h"
#include "app/melodai_app.h"
#include "app/transfer_app.h"
#include "core/clock.h"
#include "core/logging.h"
#include "crypto/random_source.h"
#include "ledger/chain/validator_set.h"
#include "ledger/pbft/replica.h"
#include "ledger/storage/rocksdb_store.h"
#include "net/asio_transport.h"
#include "net/client_protocol.h"
#include "net/client_server.h"
#include "node/genesis.h"
#include "node/inbox.h"
#include "node/key_file.h"
#include "node/metrics.h"

namespace melodai::node {
namespace {

constexpr std::string_view kGenesisHashKey = "node/genesis_hash";
// Client transactions whose reply has not come after this long stop being tracked.
constexpr int64_t kWaiterExpiryMs = 120'000;
constexpr size_t kMaxWaitingTransactions = 1'000'000;

// The replica with everything it borrows, in destruction-safe order.
struct ReplicaParts {
  Genesis genesis;
  crypto::Digest32 genesis_hash{};
  std::unique_ptr<ledger::RocksDbStore> store;
  std::unique_ptr<ledger::Application> app;
  std::unique_ptr<ledger::pbft::Replica> replica;
};

// The replicated application: the MelodAI application (tokens, rewards, governance, track
// rights) when the genesis file has an "app" section, otherwise the plain transfer ledger over
// the genesis accounts (local test networks and benchmarks).
core::Result<std::unique_ptr<ledger::Application>> MakeApplication(const std::filesystem::path& genesis_file,
                                                                   const Genesis& genesis) {
  if (!genesis.app_section.empty()) {
    if (!genesis.accounts.empty()) {
      return core::InvalidArgumentError(fmt::format(
          "{}: \"accounts\" and \"app\" both give balances; with the MelodAI application every token "
          "comes from app.allocations",
          genesis_file.string()));
    }
    // The app genesis also reads the top-level timestamp and validators: parse it from the
    // genesis already read (and hashed), not from a second read of the file.
    MELODAI_ASSIGN_OR_RETURN(app::AppGenesis app_genesis,
                             app::ParseAppGenesis(GenesisToJson(genesis), genesis_file.string()));
    MELODAI_ASSIGN_OR_RETURN(std::unique_ptr<app::MelodaiApp> melodai, app::MelodaiApp::Create(std::move(app_genesis)));
    MELODAI_LOG_INFO("application: MelodAI (genesis {})", genesis_file.string());
    return std::unique_ptr<ledger::Application>(std::move(melodai));
  }
  std::vector<std::pair<crypto::Ed25519PublicKey, uint64_t>> balances;
  for (const GenesisAccount& account : genesis.accounts) balances.emplace_back(account.public_key, account.balance);
  MELODAI_ASSIGN_OR_RETURN(app::TransferApp transfer, app::TransferApp::Create(std::move(balances)));
  MELODAI_LOG_INFO("application: transfer ledger ({} genesis accounts)", genesis.accounts.size());
  return std::unique_ptr<ledger::Application>(std::make_unique<app::TransferApp>(std::move(transfer)));
}

ledger::pbft::ReplicaConfig MakeReplicaConfig(uint32_t id, const Genesis& genesis) {
  ledger::pbft::ReplicaConfig config;
  config.replica_id = id;
  config.checkpoint_interval = genesis.consensus.checkpoint_interval;
  config.watermark_window = 4ull * genesis.consensus.checkpoint_interval;
  config.max_batch_transactions = genesis.consensus.max_block_transactions;
  config.view_change_timeout_ms = genesis.consensus.view_change_timeout_ms;
  config.genesis_timestamp_ms = genesis.timestamp_ms;
  return config;
}

// Records the genesis hash in a fresh store, or checks it in an existing one.
core::Status CheckStoreGenesis(ledger::KvStore& store, const crypto::Digest32& hash,
                               const std::filesystem::path& where) {
  MELODAI_ASSIGN_OR_RETURN(std::optional<std::string> stored,
                           store.Get(ledger::Column::kMeta, kGenesisHashKey));
  const std::string expected(hash.begin(), hash.end());
  if (stored.has_value()) {
    if (*stored != expected) {
      return core::FailedPreconditionError(fmt::format(
          "store {} belongs to another network (genesis hash differs)", where.string()));
    }
    return core::Status::Ok();
  }
  ledger::WriteBatch batch;
  batch.Put(ledger::Column::kMeta, kGenesisHashKey, expected);
  return store.Write(batch, /*sync=*/true);
}

core::Result<ReplicaParts> OpenReplica(const NodeConfig& config) {
  ReplicaParts parts;
  MELODAI_ASSIGN_OR_RETURN(parts.genesis, ReadGenesisFile(config.genesis_file));
  parts.genesis_hash = GenesisHash(parts.genesis);
  if (config.validator_id >= parts.genesis.validators.size()) {
    return core::InvalidArgumentError(fmt::format("validator_id {} but the genesis has {} validators",
                                                  config.validator_id,
                                                  parts.genesis.validators.size()));
  }
  MELODAI_ASSIGN_OR_RETURN(crypto::Ed25519KeyPair key, ReadKeyFile(config.key_file));
  if (key.public_key() != parts.genesis.validators[config.validator_id].public_key) {
    return core::FailedPreconditionError(
        fmt::format("key file {} is not the key of validator {} in the genesis",
                    config.key_file.string(), config.validator_id));
  }
  std::vector<crypto::Ed25519PublicKey> keys;
  for (const GenesisValidator& validator : parts.genesis.validators) {
    keys.push_back(validator.public_key);
  }
  MELODAI_ASSIGN_OR_RETURN(ledger::ValidatorSet validators, ledger::ValidatorSet::Create(keys));
  const std::filesystem::path store_path = config.data_dir / "store";
  MELODAI_ASSIGN_OR_RETURN(parts.store, ledger::RocksDbStore::Open(store_path));
  MELODAI_RETURN_IF_ERROR(CheckStoreGenesis(*parts.store, parts.genesis_hash, store_path));
  MELODAI_ASSIGN_OR_RETURN(parts.app, MakeApplication(config.genesis_file, parts.genesis));
  parts.replica = std::make_unique<ledger::pbft::Replica>(
      MakeReplicaConfig(config.validator_id, parts.genesis), std::move(validators),
      std::move(key), *parts.store, *parts.app);
  core::Status recovered = parts.replica->Recover();
  if (!recovered.ok()) return recovered.WithContext("recovering the replica from " + store_path.string());
  return parts;
}

std::string MetricName(std::string_view reason) {
  std::string name;
  for (char c : reason) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    name.push_back(keep ? c : (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : '_');
  }
  return name;
}

}  // namespace

struct Node::Impl {
  // Metrics published by the consensus loop.
  struct Published {
    Gauge* height;
    Gauge* view;
    Gauge* in_view_change;
    Gauge* stable_checkpoint;
    Gauge* pending;
    Gauge* connected_peers;
    Counter* view_changes;
    Counter* committed;
    Counter* dropped_total;
    std::array<Counter*, ledger::pbft::kDropReasonCount> dropped_by_reason;
    Counter* inbox_dropped;
    Counter* net_queue_full;
    Counter* net_oversize;
    Counter* net_rejected;
    Counter* client_requests;
    Counter* client_rejected;
    LatencyHistogram* commit_latency;
  };
  struct Waiter {
    std::vector<net::ClientConnectionId> connections;
    int64_t submitted_ms = 0;
  };

  explicit Impl(NodeConfig node_config, ReplicaParts replica_parts)
      : config(std::move(node_config)),
        parts(std::move(replica_parts)),
        inbox(config.max_inbox_messages) {}

  void RegisterMetrics();
  void PublishMetrics();
  void HandleClient(net::ClientConnectionId connection, std::string_view payload);
  void Submit(net::ClientConnectionId connection, std::string_view transaction_bytes);
  void Process(ledger::pbft::Output output);
  void ReplyForBlock(const ledger::pbft::CommittedBlock& committed);
  void ExpireWaiters();
  int64_t NowMs() {
    now_ms = std::max(now_ms, core::SystemClock::Instance().WallMillis());
    return now_ms;
  }

  NodeConfig config;
  ReplicaParts parts;
  crypto::SystemRandomSource random;
  // The validator key, for the transport handshake and client replies (the replica owns its
  // own copy).
  std::unique_ptr<crypto::Ed25519KeyPair> transport_key;
  Inbox inbox;
  MetricsRegistry registry;
  Published metrics{};
  // Consensus thread only.
  std::map<crypto::Digest32, Waiter> waiting;
  int64_t now_ms = 0;
  int64_t last_expiry_ms = 0;
  // Network side; declared last so that they stop first.
  std::unique_ptr<net::AsioTransport> transport;
  std::unique_ptr<net::ClientServer> client_server;
  std::unique_ptr<MetricsServer> metrics_server;
};

void Node::Impl::RegisterMetrics() {
  metrics.height = &registry.AddGauge("melodai_ledger_height", "Last executed block height.");
  metrics.view = &registry.AddGauge("melodai_pbft_view", "Current PBFT view.");
  metrics.in_view_change = &registry.AddGauge("melodai_pbft_in_view_change", "1 during a view change.");
  metrics.stable_checkpoint =
      &registry.AddGauge("melodai_pbft_stable_checkpoint", "Low watermark (stable checkpoint).");
  metrics.pending = &registry.AddGauge("melodai_pbft_pending_transactions", "Transactions waiting to be ordered.");
  metrics.connected_peers = &registry.AddGauge("melodai_net_connected_peers", "Authenticated outbound peer connections.");
  metrics.view_changes = &registry.AddCounter("melodai_pbft_view_changes_total", "Views entered since start.");
  metrics.committed = &registry.AddCounter("melodai_ledger_committed_transactions_total", "Transactions committed since start.");
  metrics.dropped_total = &registry.AddCounter("melodai_dropped_messages_total", "Messages dropped for any reason (consensus, network, inbox).");
  for (size_t i = 0; i < ledger::pbft::kDropReasonCount; ++i) {
    const std::string reason = MetricName(ledger::pbft::DropReasonName(static_cast<ledger::pbft::DropReason>(i)));
    metrics.dropped_by_reason[i] = &registry.AddCounter(
        fmt::format("melodai_pbft_dropped_{}_total", reason), "Consensus inputs dropped: " + reason + ".");
  }
  metrics.inbox_dropped = &registry.AddCounter("melodai_node_inbox_dropped_total", "Events dropped because the consensus inbox was full.");
  metrics.net_queue_full = &registry.AddCounter("melodai_net_dropped_queue_full_total", "Outbound messages dropped on a full peer queue.");
  metrics.net_oversize = &registry.AddCounter("melodai_net_dropped_oversize_total", "Outbound messages above the frame limit.");
  metrics.net_rejected = &registry.AddCounter("melodai_net_rejected_connections_total", "Connections dropped for failed handshakes or bad frames.");
  metrics.client_requests = &registry.AddCounter("melodai_client_requests_total", "Messages received on the client port.");
  metrics.client_rejected = &registry.AddCounter("melodai_client_rejected_total", "Client transactions refused at admission.");
  metrics.commit_latency = &registry.AddHistogram("melodai_commit_latency_ms", "Submission to commit of client transactions, milliseconds.");
}

void Node::Impl::PublishMetrics() {
  const ledger::pbft::ReplicaMetrics replica = parts.replica->metrics();
  metrics.height->Set(static_cast<int64_t>(replica.height));
  metrics.view->Set(static_cast<int64_t>(replica.view));
  metrics.in_view_change->Set(replica.in_view_change ? 1 : 0);
  metrics.stable_checkpoint->Set(static_cast<int64_t>(replica.stable_checkpoint));
  metrics.pending->Set(static_cast<int64_t>(replica.pending_transactions));
  metrics.view_changes->SetTotal(replica.view_changes);
  metrics.committed->SetTotal(replica.committed_transactions);
  uint64_t total = 0;
  for (size_t i = 0; i < replica.dropped.size(); ++i) {
    metrics.dropped_by_reason[i]->SetTotal(replica.dropped[i]);
    total += replica.dropped[i];
  }
  const net::TransportStats network = transport->stats();
  metrics.connected_peers->Set(static_cast<int64_t>(transport->connected_peer_count()));
  metrics.net_queue_full->SetTotal(network.dropped_queue_full);
  metrics.net_oversize->SetTotal(network.dropped_oversize);
  metrics.net_rejected->SetTotal(network.rejected_connections);
  metrics.inbox_dropped->SetTotal(inbox.dropped());
  total += network.dropped_queue_full + network.dropped_oversize + network.dropped_unknown_peer +
           inbox.dropped();
  metrics.dropped_total->SetTotal(total);
}

void Node::Impl::HandleClient(net::ClientConnectionId connection, std::string_view payload) {
  metrics.client_requests->Add();
  auto message = net::DecodeClientMessage(payload);
  if (!message.ok()) {
    net::Rejection rejection{{}, static_cast<uint8_t>(message.status().code()), message.status().message()};
    client_server->Reply(connection, net::EncodeClientMessage(net::ClientMessageKind::kRejected,
                                                              net::EncodeRejection(rejection)));
    return;
  }
  switch (message->kind) {
    case net::ClientMessageKind::kSubmit:
      return Submit(connection, message->body);
    case net::ClientMessageKind::kStatusRequest: {
      const ledger::pbft::ReplicaMetrics replica = parts.replica->metrics();
      net::NodeStatus status;
      status.replica_id = config.validator_id;
      status.height = replica.height;
      status.view = replica.view;
      status.in_view_change = replica.in_view_change;
      status.last_block_hash = ledger::BlockHash(parts.replica->last_header());
      status.state_root = parts.replica->last_header().state_root;
      status.committed_transactions = replica.committed_transactions;
      client_server->Reply(connection, net::EncodeClientMessage(net::ClientMessageKind::kStatus,
                                                                net::EncodeNodeStatus(status)));
      return;
    }
    case net::ClientMessageKind::kWatch: {
      // A client that submitted elsewhere (usually to the primary) asks for our reply too.
      if (message->body.size() != sizeof(crypto::Digest32)) break;
      crypto::Digest32 hash{};
      std::copy(message->body.begin(), message->body.end(), hash.begin());
      if (waiting.size() < kMaxWaitingTransactions) {
        Waiter& waiter = waiting[hash];
        if (waiter.connections.empty()) waiter.submitted_ms = NowMs();
        waiter.connections.push_back(connection);
      }
      return;
    }
    case net::ClientMessageKind::kQuery: {
      net::QueryResult result;
      auto answer = parts.app->Query(message->body);
      result.status_code = static_cast<uint8_t>(answer.status().code());
      result.value = answer.ok() ? *answer : answer.status().message();
      client_server->Reply(connection, net::EncodeClientMessage(net::ClientMessageKind::kQueryResult,
                                                                net::EncodeQueryResult(result)));
      return;
    }
    default:
      break;
  }
  net::Rejection rejection{{}, static_cast<uint8_t>(core::StatusCode::kInvalidArgument),
                           "clients may submit, watch, query or ask for status; nothing else"};
  client_server->Reply(connection, net::EncodeClientMessage(net::ClientMessageKind::kRejected,
                                                            net::EncodeRejection(rejection)));
}

void Node::Impl::Submit(net::ClientConnectionId connection, std::string_view transaction_bytes) {
  crypto::Digest32 hash{};
  if (auto tx = ledger::DecodeTransaction(transaction_bytes); tx.ok()) {
    hash = ledger::TransactionHash(*tx);
  }
  auto output = parts.replica->SubmitRequest(transaction_bytes);
  // kAlreadyExists: the transaction reached this replica first through another one; the client
  // still waits for our reply when the block commits.
  if (output.ok() || output.status().code() == core::StatusCode::kAlreadyExists) {
    if (waiting.size() < kMaxWaitingTransactions) {
      Waiter& waiter = waiting[hash];
      if (waiter.connections.empty()) waiter.submitted_ms = NowMs();
      waiter.connections.push_back(connection);
    }
    if (output.ok()) Process(std::move(output).value());
    return;
  }
  metrics.client_rejected->Add();
  net::Rejection rejection{hash, static_cast<uint8_t>(output.status().code()),
                           output.status().message()};
  client_server->Reply(connection, net::EncodeClientMessage(net::ClientMessageKind::kRejected,
                                                            net::EncodeRejection(rejection)));
}

void Node::Impl::Process(ledger::pbft::Output output) {
  const uint32_t self = config.validator_id;
  const uint32_t count = static_cast<uint32_t>(parts.genesis.validators.size());
  for (ledger::pbft::OutboundMessage& message : output.messages) {
    if (message.target == ledger::pbft::OutboundMessage::kBroadcast) {
      for (uint32_t peer = 0; peer < count; ++peer) {
        if (peer != self) transport->Send(peer, message.bytes);
      }
    } else if (message.target != self) {
      transport->Send(message.target, std::move(message.bytes));
    }
  }
  // Clients are answered from the committed blocks rather than from output.replies: the
  // replica replies only for transactions it admitted itself, but a transaction may reach it
  // first through a peer (SubmitRequest then says kAlreadyExists) while the client still
  // waits for this validator's reply.
  for (const ledger::pbft::CommittedBlock& committed : output.committed) ReplyForBlock(committed);
}

void Node::Impl::ReplyForBlock(const ledger::pbft::CommittedBlock& committed) {
  const ledger::Block& block = committed.block;
  MELODAI_CHECK_EQ(committed.codes.size(), block.transactions.size());
  if (waiting.empty()) return;
  const int64_t now = NowMs();
  std::map<net::ClientConnectionId, std::vector<ledger::pbft::ReplyEntry>> per_connection;
  for (size_t i = 0; i < block.transactions.size(); ++i) {
    const crypto::Digest32 hash = ledger::TransactionHash(block.transactions[i]);
    auto found = waiting.find(hash);
    if (found == waiting.end()) continue;
    metrics.commit_latency->Observe(static_cast<double>(now - found->second.submitted_ms));
    for (net::ClientConnectionId connection : found->second.connections) {
      per_connection[connection].push_back({hash, committed.codes[i]});
    }
    waiting.erase(found);
  }
  for (auto& [connection, entries] : per_connection) {
    ledger::pbft::Reply reply;
    reply.view = block.header.view;
    reply.height = block.header.height;
    reply.block_hash = ledger::BlockHash(block.header);
    reply.entries = std::move(entries);
    const ledger::pbft::SignedMessage message = ledger::pbft::SignMessage(
        ledger::pbft::MessageType::kReply, config.validator_id, ledger::pbft::EncodeReply(reply),
        *transport_key);
    client_server->Reply(connection,
                         net::EncodeClientMessage(net::ClientMessageKind::kReply,
                                                  ledger::pbft::EncodeSignedMessage(message)));
  }
}

void Node::Impl::ExpireWaiters() {
  const int64_t now = NowMs();
  if (now - last_expiry_ms < 1000) return;
  last_expiry_ms = now;
  std::erase_if(waiting, [now](const auto& entry) {
    return now - entry.second.submitted_ms > kWaiterExpiryMs;
  });
}

Node::Node(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Node::~Node() {
  if (impl_ == nullptr) return;
  if (impl_->metrics_server) impl_->metrics_server->Stop();
  if (impl_->client_server) impl_->client_server->Stop();
  if (impl_->transport) impl_->transport->Stop();
}

core::Result<std::unique_ptr<Node>> Node::Create(const NodeConfig& config) {
  MELODAI_ASSIGN_OR_RETURN(ReplicaParts parts, OpenReplica(config));
  auto impl = std::make_unique<Impl>(config, std::move(parts));
  Impl& node = *impl;
  node.RegisterMetrics();
  MELODAI_ASSIGN_OR_RETURN(crypto::Ed25519KeyPair transport_key, ReadKeyFile(config.key_file));
  node.transport_key = std::make_unique<crypto::Ed25519KeyPair>(std::move(transport_key));

  const Genesis& genesis = node.parts.genesis;
  net::AsioTransportOptions options;
  options.self = config.validator_id;
  options.network_id = node.parts.genesis_hash;
  for (const GenesisValidator& validator : genesis.validators) {
    options.validator_keys.push_back(validator.public_key);
    options.endpoints.push_back({validator.address.host, validator.address.port});
  }
  options.listen_host = genesis.validators[config.validator_id].address.host;
  options.listen_port = genesis.validators[config.validator_id].address.port;
  MELODAI_ASSIGN_OR_RETURN(node.transport,
                           net::AsioTransport::Create(options, *node.transport_key, node.random));
  node.transport->SetReceiveHandler([&node](net::PeerId from, std::string payload) {
    node.inbox.Push({InboxEvent::Kind::kPeerMessage, from, 0, std::move(payload)});
  });

  net::ClientServerOptions client_options;
  client_options.host = genesis.validators[config.validator_id].client_address.host;
  client_options.port = genesis.validators[config.validator_id].client_address.port;
  client_options.max_frame_bytes = ledger::kMaxTransactionBytes + 64;
  MELODAI_ASSIGN_OR_RETURN(
      node.client_server,
      net::ClientServer::Create(client_options, [&node](net::ClientConnectionId connection,
                                                        std::string payload) {
        node.inbox.Push({InboxEvent::Kind::kClientMessage, 0, connection, std::move(payload)});
      }));
  if (config.metrics_address.port != 0) {
    MELODAI_ASSIGN_OR_RETURN(node.metrics_server,
                             MetricsServer::Start(config.metrics_address, node.registry));
  }
  MELODAI_LOG_INFO("node {}: recovered at height {} view {}; genesis {}", config.validator_id,
                   node.parts.replica->height(), node.parts.replica->view(),
                   crypto::ToHex(node.parts.genesis_hash));
  return std::unique_ptr<Node>(new Node(std::move(impl)));
}

core::Status Node::Run(const std::atomic<bool>& stop) {
  Impl& node = *impl_;
  node.transport->Start();
  node.client_server->Start();
  const int64_t tick_ms = node.parts.genesis.consensus.tick_ms;
  int64_t last_tick_ms = 0;
  std::vector<InboxEvent> events;
  while (!stop.load()) {
    node.inbox.PopAll(events, std::chrono::milliseconds(tick_ms));
    for (InboxEvent& event : events) {
      if (event.kind == InboxEvent::Kind::kPeerMessage) {
        node.Process(node.parts.replica->OnMessage(event.peer, event.payload));
      } else {
        node.HandleClient(event.connection, event.payload);
      }
    }
    const int64_t now = node.NowMs();
    if (now - last_tick_ms >= tick_ms) {
      node.Process(node.parts.replica->OnTick(now));
      last_tick_ms = now;
      node.ExpireWaiters();
      node.PublishMetrics();
    }
    if (!node.parts.replica->status().ok()) {
      return node.parts.replica->status().WithContext("the replica halted");
    }
  }
  node.PublishMetrics();
  return core::Status::Ok();
}

uint16_t Node::peer_port() const { return impl_->transport->listen_port(); }
uint16_t Node::client_port() const { return impl_->client_server->port(); }
uint16_t Node::metrics_port() const {
  return impl_->metrics_server ? impl_->metrics_server->port() : 0;
}

core::Result<StoreSummary> InspectStore(const NodeConfig& config, bool list_transactions) {
  MELODAI_ASSIGN_OR_RETURN(ReplicaParts parts, OpenReplica(config));
  StoreSummary summary;
  summary.height = parts.replica->height();
  summary.view = parts.replica->view();
  summary.last_block_hash = ledger::BlockHash(parts.replica->last_header());
  summary.state_root = parts.replica->last_header().state_root;
  crypto::Blake2bHasher chain;
  for (uint64_t height = 1; height <= summary.height; ++height) {
    auto block = parts.replica->ReadBlock(height);
    if (!block.ok()) return block.status().WithContext(fmt::format("reading block {}", height));
    const crypto::Digest32 hash = ledger::BlockHash(block->block.header);
    chain.Update(hash);
    summary.transaction_count += block->block.transactions.size();
    if (list_transactions) {
      for (const ledger::Transaction& tx : block->block.transactions) {
        summary.transaction_hashes.push_back(ledger::TransactionHash(tx));
      }
    }
  }
  summary.chain_digest = chain.Finish();
  return summary;
}

}  // namespace melodai::node
