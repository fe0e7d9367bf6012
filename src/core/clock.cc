// MelodAI — licensed under the Apache License 2.0.
// The real clocks and the manual clock.
#include "core/clock.h"

#include <chrono>

#include "core/check.h"

namespace melodai::core {

int64_t SystemClock::NowNanos() const {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t SystemClock::WallMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

void ManualClock::Advance(int64_t nanos) {
  MELODAI_CHECK_GE(nanos, 0);
  now_nanos_ += nanos;
}

}  // namespace melodai::core
