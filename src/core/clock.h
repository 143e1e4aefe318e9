// The one place leeway reads the time. Everything time-driven takes a Clock& so tests can run
// a month of schedule in a millisecond with ManualClock.
#pragma once

#include <atomic>

#include "core/time.h"

namespace leeway {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, UTC microseconds since the epoch.
  virtual TimeUs now_us() const = 0;
  // A monotonic reading in microseconds for measuring intervals; never goes backwards.
  virtual DurationUs monotonic_us() const = 0;
};

// The real clock (system_clock and steady_clock).
class SystemClock final : public Clock {
 public:
  TimeUs now_us() const override;
  DurationUs monotonic_us() const override;
  // A process-wide instance for code paths that are not time-driven (the CLI).
  static const SystemClock& instance();
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeUs start_us = 0) : now_(start_us) {}
  TimeUs now_us() const override { return now_.load(); }
  DurationUs monotonic_us() const override { return now_.load(); }
  void set(TimeUs t) { now_.store(t); }
  void advance(DurationUs d) { now_.fetch_add(d); }

 private:
  std::atomic<TimeUs> now_;
};

}  // namespace leeway
