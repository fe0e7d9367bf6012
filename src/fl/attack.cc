// MelodAI — licensed under the Apache License 2.0.
// Byzantine update transformations.
#include "fl/attack.h"

#include <fmt/format.h>

#include <array>
#include <cmath>

namespace melodai::fl {
namespace {
constexpr std::array<std::string_view, 4> kAttackNames = {"none", "scale", "signflip", "noise"};
}  // namespace

std::string_view AttackKindName(AttackKind kind) {
  const auto index = static_cast<size_t>(kind);
  MELODAI_CHECK_LT(index, kAttackNames.size());
  return kAttackNames[index];
}

core::Result<AttackKind> ParseAttackKind(std::string_view name) {
  for (size_t i = 0; i < kAttackNames.size(); ++i) {
    if (kAttackNames[i] == name) return static_cast<AttackKind>(i);
  }
  return core::InvalidArgumentError(fmt::format("unknown attack '{}' (expected one of: {})", name,
                                                fmt::join(kAttackNames, ", ")));
}

core::Status ValidateByzantineConfig(const ByzantineConfig& config) {
  if (!std::isfinite(config.scale)) return core::InvalidArgumentError("attack scale is not finite");
  if (!(config.noise_stddev >= 0.0) || !std::isfinite(config.noise_stddev)) {
    return core::InvalidArgumentError(
        fmt::format("attack noise std {} is negative", config.noise_stddev));
  }
  if (static_cast<size_t>(config.attack) >= kAttackNames.size()) {
    return core::InvalidArgumentError("unknown attack kind");
  }
  return core::Status::Ok();
}

void ApplyAttack(const ByzantineConfig& config, std::span<float> update, core::Rng& rng) {
  switch (config.attack) {
    case AttackKind::kNone:
      return;
    case AttackKind::kScale:
      for (float& value : update) value = static_cast<float>(config.scale * value);
      return;
    case AttackKind::kSignFlip:
      for (float& value : update) value = -value;
      return;
    case AttackKind::kNoise:
      for (float& value : update) value = static_cast<float>(config.noise_stddev * rng.Normal());
      return;
  }
}

}  // namespace melodai::fl
