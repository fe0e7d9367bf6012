// MelodAI — licensed under the Apache License 2.0.
// Injectable time. Protocol code asks a Clock; production passes SystemClock, tests and
// simulations pass ManualClock and advance it themselves.
#pragma once

#include <cstdint>

namespace melodai::core {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic nanoseconds since an arbitrary epoch.
  virtual int64_t NowNanos() const = 0;
  // Wall-clock milliseconds since the Unix epoch (for timestamps that leave the process).
  virtual int64_t WallMillis() const = 0;
};

// The real clocks (steady_clock and system_clock). Thread-safe.
class SystemClock final : public Clock {
 public:
  int64_t NowNanos() const override;
  int64_t WallMillis() const override;
  // The process-wide instance.
  static SystemClock& Instance();
};

// Time that moves only when told to. Not thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t start_nanos = 0, int64_t wall_start_millis = 0)
      : now_nanos_(start_nanos), wall_start_millis_(wall_start_millis) {}
  int64_t NowNanos() const override { return now_nanos_; }
  int64_t WallMillis() const override { return wall_start_millis_ + now_nanos_ / 1'000'000; }
  // REQUIRES: nanos >= 0.
  void Advance(int64_t nanos);

 private:
  int64_t now_nanos_;
  int64_t wall_start_millis_;
};

// Measures elapsed time on a Clock.
class Stopwatch {
 public:
  explicit Stopwatch(const Clock& clock = SystemClock::Instance())
      : clock_(clock), start_nanos_(clock.NowNanos()) {}
  double ElapsedSeconds() const { return static_cast<double>(clock_.NowNanos() - start_nanos_) * 1e-9; }
  void Reset() { start_nanos_ = clock_.NowNanos(); }

 private:
  const Clock& clock_;
  int64_t start_nanos_;
};

}  // namespace melodai::core
