// MelodAI — licensed under the Apache License 2.0.
// Byzantine clients for robustness experiments: a client that trained honestly replaces its
// update with a scaled, sign-flipped or random one before sending it.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "core/rng.h"
#include "core/status.h"

namespace melodai::fl {

enum class AttackKind : uint8_t {
  kNone = 0,
  kScale,     // Δ' = scale · Δ (scale = -10 by default: a large step the wrong way).
  kSignFlip,  // Δ' = -Δ.
  kNoise,     // Δ' ~ N(0, noise_stddev²) per element, unrelated to the data.
};

// "none", "scale", "signflip", "noise".
std::string_view AttackKindName(AttackKind kind);
core::Result<AttackKind> ParseAttackKind(std::string_view name);

struct ByzantineConfig {
  uint32_t attackers_per_round = 0;  // K of the round's sampled clients, drawn per round.
  AttackKind attack = AttackKind::kScale;
  double scale = -10.0;
  double noise_stddev = 1.0;
};

// kInvalidArgument for a non-finite scale or a negative noise std.
core::Status ValidateByzantineConfig(const ByzantineConfig& config);

// Rewrites `update` in place as the attack says. Deterministic given `rng`.
void ApplyAttack(const ByzantineConfig& config, std::span<float> update, core::Rng& rng);

}  // namespace melodai::fl
