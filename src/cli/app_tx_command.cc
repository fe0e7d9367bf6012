// MelodAI — licensed under the Apache License 2.0.
// `melodai tx <type>` for every MelodAI application transaction (the transfer subcommand lives
// in tx_command.cc) and `melodai query <request>`. Each tx subcommand builds the payload, signs
// it with the client key, submits it to the validators of the genesis and waits for f+1
// matching replies; --dry-run prints the signed transaction instead of submitting it.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdio>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>

#include "app/app_payloads.h"
#include "app/melodai_app.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "core/clock.h"
#include "core/file_util.h"
#include "crypto/hash.h"
#include "node/genesis.h"
#include "node/key_file.h"
#include "node/ledger_client.h"

namespace melodai::cli {
namespace {

struct SubmitOptions {
  std::string genesis;
  std::string key;
  int64_t nonce = -1;  // -1: ask the validators.
  int timeout_ms = 60'000;
  bool dry_run = false;
};

void AddSubmitOptions(CLI::App& command, SubmitOptions& options) {
  command.add_option("--genesis", options.genesis, "genesis file (validator addresses and keys)")
      ->required();
  command.add_option("--key", options.key, "sender key file")->required();
  command.add_option("--nonce", options.nonce, "nonce (-1 = ask the validators)")
      ->capture_default_str();
  command.add_option("--timeout-ms", options.timeout_ms, "give up after this long")
      ->capture_default_str();
  command.add_flag("--dry-run", options.dry_run,
                   "print the signed transaction instead of submitting it");
}

// The first answer any connected validator gives to `request`.
core::Result<std::string> QueryAny(node::LedgerClient& client, const std::string& request) {
  core::Status last = core::UnavailableError("no validator answered '" + request + "'");
  for (uint32_t validator : client.connected()) {
    auto answer = client.Query(validator, request, 5000);
    if (answer.ok()) return answer;
    last = answer.status();
  }
  return last;
}

core::Result<uint64_t> ParseU64(std::string_view text, std::string_view what) {
  uint64_t value = 0;
  auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    return core::InvalidArgumentError(
        fmt::format("{}: '{}' is not a non-negative integer", what, text));
  }
  return value;
}

core::Result<crypto::Digest32> ParseDigest(std::string_view hex, std::string_view what) {
  auto bytes = crypto::FromHex(hex);
  if (!bytes.ok() || bytes->size() != 32) {
    return core::InvalidArgumentError(fmt::format("{}: expected 64 hex digits", what));
  }
  crypto::Digest32 digest{};
  std::copy(bytes->begin(), bytes->end(), digest.begin());
  return digest;
}

// Splits "a:b:c" into its fields; kInvalidArgument unless there are exactly `count`.
core::Result<std::vector<std::string>> Fields(std::string_view text, size_t count,
                                              std::string_view what) {
  std::vector<std::string> fields;
  size_t start = 0;
  while (true) {
    const size_t colon = text.find(':', start);
    fields.emplace_back(text.substr(
        start, colon == std::string_view::npos ? std::string_view::npos : colon - start));
    if (colon == std::string_view::npos) break;
    start = colon + 1;
  }
  if (fields.size() != count) {
    return core::InvalidArgumentError(
        fmt::format("{}: '{}' needs {} ':'-separated fields", what, text, count));
  }
  return fields;
}

// A payload builder may query the chain (for weights or the current period) through `client`,
// which is null in a dry run.
using PayloadBuilder = std::function<core::Result<std::string>(node::LedgerClient* client)>;

// Reads the governable parameter values from a validator ("params" query).
core::Result<app::ParameterValues> ChainParameters(node::LedgerClient* client) {
  if (client == nullptr) return core::FailedPreconditionError("give --total in a dry run");
  MELODAI_ASSIGN_OR_RETURN(std::string text, QueryAny(*client, "params"));
  const nlohmann::json answer = nlohmann::json::parse(text, nullptr, false);
  app::ParameterValues values{};
  for (uint32_t id = 0; id < app::kParameterCount; ++id) {
    const std::string name(app::ParameterName(id));
    if (answer.is_discarded() || !answer.contains(name) ||
        !answer[name]["value"].is_number_unsigned()) {
      return core::DataLossError("params answer lacks " + name);
    }
    values[id] = answer[name]["value"].get<uint64_t>();
  }
  return values;
}

int Submit(const SubmitOptions& options, uint8_t type, const PayloadBuilder& build) {
  auto genesis = node::ReadGenesisFile(options.genesis);
  if (!genesis.ok()) return ReportError(genesis.status());
  auto key = node::ReadKeyFile(options.key);
  if (!key.ok()) return ReportError(key.status());
  std::unique_ptr<node::LedgerClient> client;
  if (!options.dry_run) {
    auto connected = node::LedgerClient::Connect(*genesis, 3000);
    if (!connected.ok()) return ReportError(connected.status());
    client = std::move(*connected);
  }
  auto payload = build(client.get());
  if (!payload.ok()) return ReportError(payload.status());
  uint64_t nonce = options.nonce < 0 ? 0 : static_cast<uint64_t>(options.nonce);
  if (options.nonce < 0 && client != nullptr) {
    auto answer = QueryAny(*client, "nonce/" + node::PublicKeyToHex(key->public_key()));
    if (!answer.ok()) return ReportError(answer.status().WithContext("asking for the nonce"));
    auto parsed = ParseU64(*answer, "nonce answer");
    if (!parsed.ok()) return ReportError(parsed.status());
    nonce = *parsed;
  }
  const ledger::Transaction tx = app::MakeAppTransaction(*key, nonce, type, std::move(*payload));
  if (options.dry_run) {
    nlohmann::json line = {
        {"type", std::string(app::TxTypeName(type))},
        {"nonce", nonce},
        {"transaction", crypto::ToHex(ledger::TransactionHash(tx))},
        {"encoded", crypto::ToHex(crypto::AsBytes(ledger::EncodeTransaction(tx)))}};
    std::printf("%s\n", line.dump().c_str());
    return kExitOk;
  }
  auto hash = client->Submit(tx);
  if (!hash.ok()) return ReportError(hash.status());
  core::Stopwatch stopwatch;
  while (stopwatch.ElapsedSeconds() * 1000 < options.timeout_ms) {
    for (const node::Confirmation& confirmation : client->TakeConfirmations(200)) {
      if (confirmation.transaction_hash != *hash) continue;
      nlohmann::json line = {{"transaction", crypto::ToHex(*hash)},
                             {"type", std::string(app::TxTypeName(type))},
                             {"nonce", nonce},
                             {"height", confirmation.height},
                             {"code", confirmation.code},
                             {"reason", std::string(app::AppCodeReason(confirmation.code))}};
      std::printf("%s\n", line.dump().c_str());
      return confirmation.code == 0 ? kExitOk : kExitFailure;
    }
    for (const node::ClientRejection& rejection : client->TakeRejections()) {
      if (rejection.rejection.transaction_hash == *hash) {
        return ReportError(core::FailedPreconditionError(
            fmt::format("validator {} rejected the transaction: {}", rejection.validator,
                        rejection.rejection.message)));
      }
    }
  }
  return ReportError(core::DeadlineExceededError(
      fmt::format("not confirmed by f+1 validators within {} ms", options.timeout_ms)));
}

// Adds `melodai tx <name>` whose payload comes from `build` (run after parsing).
CLI::App* AddTx(CLI::App& tx, int& exit_code, const char* name, const char* help, uint8_t type,
                std::shared_ptr<SubmitOptions> options, PayloadBuilder build) {
  CLI::App* command = tx.add_subcommand(name, help);
  AddSubmitOptions(*command, *options);
  command->callback(
      [options, type, build, &exit_code] { exit_code = Submit(*options, type, build); });
  return command;
}

void RegisterRewardTransactions(CLI::App& tx, int& exit_code) {
  auto node_options = std::make_shared<SubmitOptions>();
  auto endpoint = std::make_shared<std::string>();
  AddTx(tx, exit_code, "register-node", "Register the sender as a node", app::kTxRegisterNode,
        node_options,
        [endpoint](node::LedgerClient*) -> core::Result<std::string> {
          return app::EncodeRegisterNode({*endpoint});
        })
      ->add_option("--endpoint", *endpoint, "where the node serves (informational)");

  struct Contribution {
    uint64_t epoch = 0;
    std::vector<std::string> scores;
    int64_t total = -1;
  };
  auto contribution = std::make_shared<Contribution>();
  CLI::App* report =
      AddTx(tx, exit_code, "node-contribution", "Report the day's node scores (validators only)",
            app::kTxNodeContribution, std::make_shared<SubmitOptions>(),
            [contribution](node::LedgerClient* client) -> core::Result<std::string> {
              app::NodeContributionPayload payload{contribution->epoch, {}, 0};
              for (const std::string& text : contribution->scores) {
                MELODAI_ASSIGN_OR_RETURN(auto fields, Fields(text, 4, "--score"));
                app::NodeScore score;
                MELODAI_ASSIGN_OR_RETURN(score.node, node::PublicKeyFromHex(fields[0]));
                MELODAI_ASSIGN_OR_RETURN(uint64_t b, ParseU64(fields[1], "--score B"));
                MELODAI_ASSIGN_OR_RETURN(uint64_t s, ParseU64(fields[2], "--score S"));
                MELODAI_ASSIGN_OR_RETURN(uint64_t p, ParseU64(fields[3], "--score P"));
                if (b > UINT32_MAX || s > UINT32_MAX || p > UINT32_MAX)
                  return core::InvalidArgumentError("--score: above 2^32");
                score.blocks = static_cast<uint32_t>(b);
                score.serving = static_cast<uint32_t>(s);
                score.compute = static_cast<uint32_t>(p);
                payload.scores.push_back(score);
              }
              if (contribution->total >= 0) {
                payload.score_total = static_cast<uint64_t>(contribution->total);
              } else {
                MELODAI_ASSIGN_OR_RETURN(app::ParameterValues w, ChainParameters(client));
                for (const app::NodeScore& s : payload.scores) {
                  payload.score_total += w[app::kWeightBlocks] * s.blocks +
                                         w[app::kWeightServing] * s.serving +
                                         w[app::kWeightCompute] * s.compute;
                }
              }
              return app::EncodeNodeContribution(payload);
            });
  report->add_option("--epoch", contribution->epoch, "the current daily epoch")->required();
  report->add_option("--score", contribution->scores, "NODE_KEY_HEX:B:S:P (repeatable)");
  report->add_option("--total", contribution->total, "Σ C from the secure sum (-1: compute it)");

  struct Round {
    uint64_t round = 0;
    std::string previous;
    std::string model;
    std::vector<std::string> participants;
    int64_t total = -1;
  };
  auto round = std::make_shared<Round>();
  CLI::App* committed = AddTx(
      tx, exit_code, "round-committed", "Record a federated round and pay its training rewards",
      app::kTxRoundCommitted, std::make_shared<SubmitOptions>(),
      [round](node::LedgerClient* client) -> core::Result<std::string> {
        app::RoundCommittedPayload payload;
        payload.round = round->round;
        if (!round->previous.empty()) {
          MELODAI_ASSIGN_OR_RETURN(payload.previous_model,
                                   ParseDigest(round->previous, "--previous"));
        }
        MELODAI_ASSIGN_OR_RETURN(payload.model, ParseDigest(round->model, "--model"));
        for (const std::string& text : round->participants) {
          MELODAI_ASSIGN_OR_RETURN(auto fields, Fields(text, 4, "--participant"));
          app::RoundParticipant p;
          MELODAI_ASSIGN_OR_RETURN(p.participant, node::PublicKeyFromHex(fields[0]));
          MELODAI_ASSIGN_OR_RETURN(uint64_t v, ParseU64(fields[1], "--participant V"));
          MELODAI_ASSIGN_OR_RETURN(uint64_t q, ParseU64(fields[2], "--participant Q"));
          MELODAI_ASSIGN_OR_RETURN(uint64_t r, ParseU64(fields[3], "--participant R"));
          if (v > UINT32_MAX || q > UINT32_MAX || r > UINT32_MAX)
            return core::InvalidArgumentError("--participant: above 2^32");
          p.volume = static_cast<uint32_t>(v);
          p.quality = static_cast<uint32_t>(q);
          p.reliability = static_cast<uint32_t>(r);
          payload.participants.push_back(p);
        }
        if (round->total >= 0) {
          payload.contribution_total = static_cast<uint64_t>(round->total);
        } else {
          MELODAI_ASSIGN_OR_RETURN(app::ParameterValues w, ChainParameters(client));
          for (const app::RoundParticipant& p : payload.participants) {
            payload.contribution_total += w[app::kWeightVolume] * p.volume +
                                          w[app::kWeightQuality] * p.quality +
                                          w[app::kWeightReliability] * p.reliability;
          }
        }
        return app::EncodeRoundCommitted(payload);
      });
  committed->add_option("--round", round->round, "the next round number")->required();
  committed->add_option("--previous", round->previous,
                        "previous model hash (hex; empty for round 1)");
  committed->add_option("--model", round->model, "new model hash (hex)")->required();
  committed->add_option("--participant", round->participants, "KEY_HEX:V:Q:R (repeatable)");
  committed->add_option("--total", round->total, "Σ D from the secure sum (-1: compute it)");
}

void RegisterGovernanceTransactions(CLI::App& tx, int& exit_code) {
  struct Proposal {
    std::string action;
    std::string description;
    std::string parameter;
    uint64_t value = 0;
    std::string category = "development";
    std::string recipient;
    uint64_t amount = 0;
    std::vector<std::string> candidates;
  };
  auto proposal = std::make_shared<Proposal>();
  CLI::App* propose = AddTx(
      tx, exit_code, "propose", "Make a governance proposal (escrows the deposit)", app::kTxPropose,
      std::make_shared<SubmitOptions>(),
      [proposal](node::LedgerClient*) -> core::Result<std::string> {
        app::ProposePayload body;
        body.description = proposal->description;
        if (proposal->action == "parameter") {
          body.action = app::ProposalAction::kParameterChange;
          body.parameter = app::ParameterByName(proposal->parameter);
          if (body.parameter == app::kParameterCount) {
            return core::InvalidArgumentError("--parameter: unknown '" + proposal->parameter + "'");
          }
          body.value = proposal->value;
        } else if (proposal->action == "spend") {
          body.action = app::ProposalAction::kTreasurySpend;
          body.category = app::kTreasuryCategoryCount;
          for (uint8_t i = 0; i < app::kTreasuryCategoryCount; ++i) {
            if (app::TreasuryCategoryName(i) == proposal->category) body.category = i;
          }
          if (body.category == app::kTreasuryCategoryCount) {
            return core::InvalidArgumentError(
                "--category: development | community | marketing | reserve");
          }
          MELODAI_ASSIGN_OR_RETURN(body.recipient, node::PublicKeyFromHex(proposal->recipient));
          body.amount = proposal->amount;
        } else if (proposal->action == "listing") {
          body.action = app::ProposalAction::kListing;
        } else if (proposal->action == "election") {
          body.action = app::ProposalAction::kCommitteeElection;
          for (const std::string& hex : proposal->candidates) {
            MELODAI_ASSIGN_OR_RETURN(auto key, node::PublicKeyFromHex(hex));
            body.candidates.push_back(key);
          }
        } else {
          return core::InvalidArgumentError("--action: parameter | spend | listing | election");
        }
        return app::EncodePropose(body);
      });
  propose->add_option("--action", proposal->action, "parameter | spend | listing | election")
      ->required();
  propose->add_option("--description", proposal->description, "what and why");
  propose->add_option("--parameter", proposal->parameter, "parameter name (e.g. transfer_fee_bps)");
  propose->add_option("--value", proposal->value, "new parameter value");
  propose->add_option("--category", proposal->category, "treasury category")->capture_default_str();
  propose->add_option("--recipient", proposal->recipient, "treasury spend recipient (hex key)");
  propose->add_option("--amount", proposal->amount, "treasury spend amount (base units)");
  propose->add_option("--candidate", proposal->candidates, "committee candidate key (repeatable)");

  auto vote_id = std::make_shared<uint64_t>(0);
  auto choice = std::make_shared<std::string>("for");
  CLI::App* vote = AddTx(tx, exit_code, "vote", "Vote on a proposal with the snapshot voting power",
                         app::kTxVote, std::make_shared<SubmitOptions>(),
                         [vote_id, choice](node::LedgerClient*) -> core::Result<std::string> {
                           app::VotePayload payload{*vote_id, app::VoteChoice::kFor};
                           if (*choice == "against")
                             payload.choice = app::VoteChoice::kAgainst;
                           else if (*choice == "abstain")
                             payload.choice = app::VoteChoice::kAbstain;
                           else if (*choice != "for")
                             return core::InvalidArgumentError("--choice: for | against | abstain");
                           return app::EncodeVote(payload);
                         });
  vote->add_option("--proposal", *vote_id, "proposal id")->required();
  vote->add_option("--choice", *choice, "for | against | abstain")->capture_default_str();

  for (auto [name, help, type] :
       {std::tuple{"execute", "Execute a passed proposal after its timelock", app::kTxExecute},
        std::tuple{"cancel", "Cancel a proposal (proposer before voting, or a committee member)",
                   app::kTxCancel}}) {
    auto id = std::make_shared<uint64_t>(0);
    AddTx(tx, exit_code, name, help, type, std::make_shared<SubmitOptions>(),
          [id](node::LedgerClient*) -> core::Result<std::string> {
            return app::EncodeProposalId({*id});
          })
        ->add_option("--proposal", *id, "proposal id")
        ->required();
  }
}

void RegisterMusicTransactions(CLI::App& tx, int& exit_code) {
  struct TrackOptions {
    std::string content_hash;
    std::string content_file;
    std::string title;
    std::string artist;
    std::string isrc;
    std::vector<std::string> splits;
  };
  auto track = std::make_shared<TrackOptions>();
  CLI::App* register_track =
      AddTx(tx, exit_code, "register-track", "Register a track with its royalty splits",
            app::kTxRegisterTrack, std::make_shared<SubmitOptions>(),
            [track](node::LedgerClient*) -> core::Result<std::string> {
              app::RegisterTrackPayload payload;
              if (!track->content_file.empty()) {
                MELODAI_ASSIGN_OR_RETURN(std::string bytes, core::ReadFile(track->content_file));
                payload.content_hash = crypto::Blake2b256(crypto::AsBytes(bytes));
              } else {
                MELODAI_ASSIGN_OR_RETURN(payload.content_hash,
                                         ParseDigest(track->content_hash, "--content-hash"));
              }
              payload.title = track->title;
              payload.artist = track->artist;
              payload.isrc = track->isrc;
              MELODAI_RETURN_IF_ERROR(app::NormalizeIsrc(payload.isrc).status());
              for (const std::string& text : track->splits) {
                MELODAI_ASSIGN_OR_RETURN(auto fields, Fields(text, 2, "--split"));
                app::RoyaltySplit split;
                MELODAI_ASSIGN_OR_RETURN(split.holder, node::PublicKeyFromHex(fields[0]));
                MELODAI_ASSIGN_OR_RETURN(uint64_t bps, ParseU64(fields[1], "--split bps"));
                if (bps > app::kBpsDenominator)
                  return core::InvalidArgumentError("--split: bps above 10000");
                split.bps = static_cast<uint32_t>(bps);
                payload.splits.push_back(split);
              }
              return app::EncodeRegisterTrack(payload);
            });
  auto* hash = register_track->add_option("--content-hash", track->content_hash,
                                          "BLAKE2b-256 of the audio (hex)");
  auto* file =
      register_track->add_option("--content-file", track->content_file, "audio file to hash");
  hash->excludes(file);
  register_track->add_option("--title", track->title, "title")->required();
  register_track->add_option("--artist", track->artist, "artist")->required();
  register_track->add_option("--isrc", track->isrc, "ISRC (CC-XXX-YY-NNNNN)")->required();
  register_track->add_option("--split", track->splits, "HOLDER_KEY_HEX:BPS (repeatable; sum 10000)")
      ->required();

  auto periods = std::make_shared<uint32_t>(1);
  AddTx(tx, exit_code, "subscribe", "Pay the subscription for consecutive payout periods",
        app::kTxSubscribe, std::make_shared<SubmitOptions>(),
        [periods](node::LedgerClient*) -> core::Result<std::string> {
          return app::EncodeSubscribe({*periods});
        })
      ->add_option("--periods", *periods, "number of periods")
      ->capture_default_str();

  auto period = std::make_shared<int64_t>(-1);
  auto plays = std::make_shared<std::vector<std::string>>();
  CLI::App* report =
      AddTx(tx, exit_code, "report-plays", "Report this period's plays (subscribers only)",
            app::kTxReportPlays, std::make_shared<SubmitOptions>(),
            [period, plays](node::LedgerClient* client) -> core::Result<std::string> {
              app::ReportPlaysPayload payload;
              if (*period >= 0) {
                payload.period = static_cast<uint64_t>(*period);
              } else {
                if (client == nullptr)
                  return core::InvalidArgumentError("give --period in a dry run");
                MELODAI_ASSIGN_OR_RETURN(std::string text, QueryAny(*client, "time"));
                const nlohmann::json time = nlohmann::json::parse(text, nullptr, false);
                if (time.is_discarded() || !time.contains("period"))
                  return core::DataLossError("bad time answer");
                payload.period = time["period"].get<uint64_t>();
              }
              for (const std::string& text : *plays) {
                MELODAI_ASSIGN_OR_RETURN(auto fields, Fields(text, 2, "--play"));
                MELODAI_ASSIGN_OR_RETURN(uint64_t track_id, ParseU64(fields[0], "--play track"));
                MELODAI_ASSIGN_OR_RETURN(uint64_t count, ParseU64(fields[1], "--play count"));
                if (count > UINT32_MAX)
                  return core::InvalidArgumentError("--play: count above 2^32");
                payload.plays.push_back({track_id, static_cast<uint32_t>(count)});
              }
              return app::EncodeReportPlays(payload);
            });
  report->add_option("--period", *period, "payout period (-1: the current one)");
  report->add_option("--play", *plays, "TRACK_ID:COUNT (repeatable)")->required();

  auto mint = std::make_shared<app::MintEditionPayload>();
  CLI::App* mint_command =
      AddTx(tx, exit_code, "mint-edition", "Mint a limited edition of one of your tracks",
            app::kTxMintEdition, std::make_shared<SubmitOptions>(),
            [mint](node::LedgerClient*) -> core::Result<std::string> {
              return app::EncodeMintEdition(*mint);
            });
  mint_command->add_option("--track", mint->track_id, "track id")->required();
  mint_command->add_option("--supply", mint->supply, "number of copies")->required();
  mint_command->add_option("--price", mint->price, "primary price (base units)")->required();
  mint_command
      ->add_option("--royalty-bps", mint->royalty_bps, "resale royalty (bps, within the bounds)")
      ->required();

  struct Trade {
    std::string op = "buy";
    app::TradeEditionPayload payload;
  };
  auto trade = std::make_shared<Trade>();
  CLI::App* trade_command =
      AddTx(tx, exit_code, "trade-edition", "Buy, list, delist or buy a listed edition copy",
            app::kTxTradeEdition, std::make_shared<SubmitOptions>(),
            [trade](node::LedgerClient*) -> core::Result<std::string> {
              static const std::map<std::string, app::TradeOp> kOps = {
                  {"buy", app::TradeOp::kBuyPrimary},
                  {"list", app::TradeOp::kList},
                  {"delist", app::TradeOp::kDelist},
                  {"buy-listed", app::TradeOp::kBuyListed}};
              auto op = kOps.find(trade->op);
              if (op == kOps.end())
                return core::InvalidArgumentError("--op: buy | list | delist | buy-listed");
              app::TradeEditionPayload payload = trade->payload;
              payload.op = op->second;
              return app::EncodeTradeEdition(payload);
            });
  trade_command->add_option("--op", trade->op, "buy | list | delist | buy-listed")
      ->capture_default_str();
  trade_command->add_option("--edition", trade->payload.edition_id, "edition id")->required();
  trade_command->add_option("--serial", trade->payload.serial,
                            "copy serial (list, delist, buy-listed)");
  trade_command->add_option("--price", trade->payload.price,
                            "price (base units): the edition or ask price");
}

struct QueryOptions {
  std::string genesis;
  std::string request;
  bool all = false;
};

int RunQuery(const QueryOptions& options) {
  auto genesis = node::ReadGenesisFile(options.genesis);
  if (!genesis.ok()) return ReportError(genesis.status());
  auto client = node::LedgerClient::Connect(*genesis, 3000);
  if (!client.ok()) return ReportError(client.status());
  if (!options.all) {
    auto answer = QueryAny(**client, options.request);
    if (!answer.ok()) return ReportError(answer.status());
    std::printf("%s\n", answer->c_str());
    return kExitOk;
  }
  for (uint32_t validator : (*client)->connected()) {
    auto answer = (*client)->Query(validator, options.request, 5000);
    std::printf("%u: %s\n", validator,
                answer.ok() ? answer->c_str() : answer.status().ToString().c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterAppCommands(CLI::App& app, int& exit_code) {
  // `tx transfer` is registered by tx_command.cc; the MelodAI types join the same command.
  CLI::App* tx = nullptr;
  for (CLI::App* command : app.get_subcommands([](CLI::App* c) { return c->get_name() == "tx"; })) {
    tx = command;
  }
  if (tx == nullptr) {
    tx = app.add_subcommand("tx", "Submit transactions to a validator set");
    tx->require_subcommand(1);
  }
  RegisterRewardTransactions(*tx, exit_code);
  RegisterGovernanceTransactions(*tx, exit_code);
  RegisterMusicTransactions(*tx, exit_code);

  auto options = std::make_shared<QueryOptions>();
  CLI::App* query = app.add_subcommand(
      "query",
      "Query the application state: balance/<key>, nonce/<key>, account/<key>, supply, params, "
      "time, committee, payout/last, node/<key>, proposal/<id>, track/<id>, edition/<id>");
  query->add_option("--genesis", options->genesis, "genesis file (validator addresses and keys)")
      ->required();
  query->add_option("request", options->request, "the request")->required();
  query->add_flag("--all", options->all, "ask every connected validator and print each answer");
  query->callback([options, &exit_code] { exit_code = RunQuery(*options); });
}

}  // namespace melodai::cli
