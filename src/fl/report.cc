// MelodAI — licensed under the Apache License 2.0.
// CSV and JSON writers for simulation results (hand-written: the format is flat and stable).
#include "fl/report.h"

#include <fmt/format.h>

#include <cmath>

#include "core/file_util.h"

namespace melodai::fl {
namespace {

std::string Number(double value) {
  if (!std::isfinite(value)) return "null";
  return fmt::format("{}", value);
}

// Metrics a trainer cannot measure are -1: empty in CSV, null in JSON.
std::string Metric(double value, bool present, bool json) {
  if (!present || value < 0.0 || !std::isfinite(value)) return json ? "null" : "";
  return fmt::format("{}", value);
}

std::string Escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string CsvField(std::string_view text) {
  if (text.find_first_of(",\"\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string RoundJson(const RoundRecord& r) {
  return fmt::format(
      "{{\"round\":{},\"sampled\":{},\"accepted\":{},\"stragglers\":{},\"dropped\":{},"
      "\"aggregated\":{},\"byzantine\":{},\"applied\":{},\"note\":\"{}\",\"train_loss\":{},"
      "\"update_norm\":{},\"evaluated\":{},\"eval_loss\":{},\"ndcg_at_10\":{},\"map_at_10\":{},"
      "\"recall_at_20\":{},\"mrr\":{},\"epsilon\":{},\"delta\":{},\"noise_multiplier\":{},"
      "\"bytes_down\":{},\"bytes_up\":{},\"bytes_down_per_client\":{},\"bytes_up_per_client\":{},"
      "\"bytes_up_max\":{},\"simulated_ms\":{},\"train_seconds\":{},\"aggregation_seconds\":{},"
      "\"secagg_client_seconds\":{},\"secagg_server_seconds\":{},\"eval_seconds\":{},"
      "\"wall_seconds\":{}}}",
      r.round, r.sampled, r.accepted, r.stragglers, r.dropped, r.aggregated, r.byzantine,
      r.applied ? "true" : "false", Escape(r.note), Metric(r.train_loss, true, true),
      Number(r.update_norm), r.evaluated ? "true" : "false", Metric(r.eval.loss, r.evaluated, true),
      Metric(r.eval.ndcg_at_10, r.evaluated, true), Metric(r.eval.map_at_10, r.evaluated, true),
      Metric(r.eval.recall_at_20, r.evaluated, true), Metric(r.eval.mrr, r.evaluated, true),
      Number(r.epsilon), Number(r.delta), Number(r.noise_multiplier), r.bytes_down, r.bytes_up,
      Number(r.bytes_down_per_client), Number(r.bytes_up_per_client), r.bytes_up_max,
      Number(r.simulated_ms), Number(r.train_seconds), Number(r.aggregation_seconds),
      Number(r.secagg_client_seconds), Number(r.secagg_server_seconds), Number(r.eval_seconds),
      Number(r.wall_seconds));
}

std::string ConfigJson(const SimulationConfig& c) {
  return fmt::format(
      "{{\"rounds\":{},\"client_fraction\":{},\"sampling\":\"{}\",\"local_epochs\":{},"
      "\"local_learning_rate\":{},\"batch_size\":{},\"prox_mu\":{},\"aggregator\":\"{}\","
      "\"trim_fraction\":{},\"krum_byzantine\":{},\"krum_selected\":{},\"bound_factor\":{},\"weight_cap\":{},\"min_cosine\":{},\"reject_factor\":{},\"server_optimizer\":\"{}\","
      "\"server_learning_rate\":{},\"beta1\":{},\"beta2\":{},\"tau\":{},\"lr_decay\":{},\"weighting\":\"{}\","
      "\"clip_norm\":{},\"dp\":{},\"dp_clip_norm\":{},\"dp_target_epsilon\":{},\"dp_delta\":{},"
      "\"secagg\":{},\"secagg_modulus_bits\":{},\"secagg_full_graph\":{},\"quantize_bits\":{},"
      "\"top_k_fraction\":{},\"error_feedback\":{},\"attackers_per_round\":{},\"attack\":\"{}\","
      "\"attack_scale\":{},\"deadline_ms\":{},\"dropout_probability\":{},\"threads\":{},"
      "\"parallel_clients\":{},\"seed\":{},\"keep_best\":{},\"server_ema\":{}}}",
      c.rounds, Number(c.client_fraction),
      c.sampling == SamplingMode::kPoisson ? "poisson" : "fixed_size", c.local.epochs,
      Number(c.local.learning_rate), c.local.batch_size, Number(c.local.prox_mu),
      AggregatorKindName(c.aggregator.kind), Number(c.aggregator.trim_fraction),
      c.aggregator.krum_byzantine, c.aggregator.krum_selected, Number(c.aggregator.bound_factor),
      Number(c.aggregator.weight_cap), Number(c.aggregator.min_cosine),
      Number(c.aggregator.reject_factor),
      ServerOptimizerKindName(c.server_optimizer.kind), Number(c.server_optimizer.learning_rate),
      Number(c.server_optimizer.beta1), Number(c.server_optimizer.beta2),
      Number(c.server_optimizer.tau), Number(c.server_optimizer.lr_decay), c.weighting == Weighting::kUniform ? "uniform" : "examples",
      Number(c.clip_norm), c.dp.enabled ? "true" : "false", Number(c.dp.clip_norm),
      Number(c.dp.target_epsilon), Number(c.dp.delta), c.secagg.enabled ? "true" : "false",
      c.secagg.modulus_bits, c.secagg.full_graph ? "true" : "false", c.compression.quantize_bits,
      Number(c.compression.top_k_fraction), c.compression.error_feedback ? "true" : "false",
      c.byzantine.attackers_per_round, AttackKindName(c.byzantine.attack), Number(c.byzantine.scale),
      Number(c.deadline_ms), Number(c.latency.dropout_probability), c.threads, c.parallel_clients,
      c.seed, c.keep_best ? "true" : "false", Number(c.server_ema));
}

std::string HumanBytes(double bytes) {
  if (bytes >= 1e6) return fmt::format("{:.2f} MB", bytes / 1e6);
  if (bytes >= 1e3) return fmt::format("{:.1f} KB", bytes / 1e3);
  return fmt::format("{:.0f} B", bytes);
}

}  // namespace

std::string RoundsToCsv(std::span<const RoundRecord> rounds) {
  std::string out =
      "round,sampled,accepted,stragglers,dropped,aggregated,byzantine,applied,note,train_loss,"
      "update_norm,eval_loss,ndcg_at_10,map_at_10,recall_at_20,mrr,epsilon,delta,noise_multiplier,"
      "bytes_down,bytes_up,bytes_down_per_client,bytes_up_per_client,bytes_up_max,simulated_ms,"
      "train_seconds,aggregation_seconds,secagg_client_seconds,secagg_server_seconds,eval_seconds,"
      "wall_seconds\n";
  for (const RoundRecord& r : rounds) {
    out += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
        r.round, r.sampled, r.accepted, r.stragglers, r.dropped, r.aggregated, r.byzantine,
        r.applied ? 1 : 0, CsvField(r.note), Metric(r.train_loss, true, false), r.update_norm,
        Metric(r.eval.loss, r.evaluated, false), Metric(r.eval.ndcg_at_10, r.evaluated, false),
        Metric(r.eval.map_at_10, r.evaluated, false), Metric(r.eval.recall_at_20, r.evaluated, false),
        Metric(r.eval.mrr, r.evaluated, false), r.epsilon, r.delta, r.noise_multiplier, r.bytes_down,
        r.bytes_up, r.bytes_down_per_client, r.bytes_up_per_client, r.bytes_up_max, r.simulated_ms,
        r.train_seconds, r.aggregation_seconds, r.secagg_client_seconds, r.secagg_server_seconds,
        r.eval_seconds, r.wall_seconds);
  }
  return out;
}

std::string SimulationToJson(const SimulationResult& result, const SimulationConfig& config) {
  const PersonalizationSummary& p = result.personalization;
  std::string out = fmt::format(
      "{{\"config\":{},\"noise_multiplier\":{},\"final_epsilon\":{},\"best_round\":{},\"personalization\":"
      "{{\"clients\":{},\"mean_global_loss\":{},\"mean_personalized_loss\":{},"
      "\"mean_global_ndcg_at_10\":{},\"mean_personalized_ndcg_at_10\":{},\"mean_gain\":{}}},"
      "\"rounds\":[",
      ConfigJson(config), Number(result.noise_multiplier), Number(result.final_epsilon), result.best_round, p.clients,
      Metric(p.mean_global_loss, p.clients > 0, true),
      Metric(p.mean_personalized_loss, p.clients > 0, true),
      Metric(p.mean_global_ndcg_at_10, p.clients > 0, true),
      Metric(p.mean_personalized_ndcg_at_10, p.clients > 0, true), Number(p.mean_gain));
  for (size_t i = 0; i < result.rounds.size(); ++i) {
    if (i > 0) out += ",";
    out += "\n  " + RoundJson(result.rounds[i]);
  }
  out += "\n]}\n";
  return out;
}

core::Status WriteRoundsCsv(const std::filesystem::path& path, const SimulationResult& result) {
  return core::WriteFileAtomic(path, RoundsToCsv(result.rounds));
}

core::Status WriteSimulationJson(const std::filesystem::path& path, const SimulationResult& result,
                                 const SimulationConfig& config) {
  return core::WriteFileAtomic(path, SimulationToJson(result, config));
}

std::string FormatRoundProgress(const RoundRecord& r, uint32_t total_rounds) {
  std::string line = fmt::format("round {}/{}: {} sampled, {} in time ({} late, {} dropped)",
                                 r.round, total_rounds, r.sampled, r.accepted, r.stragglers, r.dropped);
  if (!r.applied) line += fmt::format(", skipped: {}", r.note);
  if (r.train_loss >= 0.0) line += fmt::format(", loss {:.4f}", r.train_loss);
  if (r.evaluated && r.eval.ndcg_at_10 >= 0.0) line += fmt::format(", ndcg@10 {:.4f}", r.eval.ndcg_at_10);
  if (r.evaluated && r.eval.ndcg_at_10 < 0.0 && r.eval.loss >= 0.0) {
    line += fmt::format(", eval loss {:.4f}", r.eval.loss);
  }
  if (r.noise_multiplier > 0.0) line += fmt::format(", eps {:.3f}", r.epsilon);
  line += fmt::format(", up {}/client, {:.2f} s", HumanBytes(r.bytes_up_per_client), r.wall_seconds);
  return line;
}

}  // namespace melodai::fl
