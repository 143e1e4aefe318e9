// The one place leeway reads the time and waits for it. Everything time-driven takes a Clock& and
// makes its timers from it, so tests run a month of schedule in a millisecond with ManualClock.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "core/time.h"

namespace boost::asio {
class io_context;
}

namespace leeway {

// A one-shot timer made by a Clock. Destroying it cancels it. Not thread-safe: arm and cancel it
// from the thread its callback runs on.
class Timer {
 public:
  virtual ~Timer() = default;
  // Calls `fn` once, when the clock reaches `at_us` (soon, if it already has). Arming again
  // replaces the previous arm.
  virtual void arm_at(TimeUs at_us, std::function<void()> fn) = 0;
  // Forgets the current arm, if any; its callback will not run.
  virtual void cancel() = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, UTC microseconds since the epoch.
  virtual TimeUs now_us() const = 0;
  // A monotonic reading in microseconds for measuring intervals; never goes backwards.
  virtual DurationUs monotonic_us() const = 0;
  // A timer on this clock. SystemClock runs its callbacks on `io`; ManualClock inside
  // advance() and set().
  virtual std::unique_ptr<Timer> make_timer(boost::asio::io_context& io) const = 0;
};

// The real clock (system_clock and steady_clock). A timer sleeps the distance between now_us()
// and its due time on a steady_timer, so the due times are wall-clock times.
class SystemClock final : public Clock {
 public:
  TimeUs now_us() const override;
  DurationUs monotonic_us() const override;
  std::unique_ptr<Timer> make_timer(boost::asio::io_context& io) const override;
  // A process-wide instance for code paths that are not time-driven (the CLI).
  static const SystemClock& instance();
};

// A clock that moves only when told to. Thread-safe. advance() and set() run the callbacks of the
// timers they pass, in order of due time (ties in arming order), on the calling thread, each with
// now_us() equal to its due time; a callback may arm timers, which run too if they fall due
// within the same move.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimeUs start_us = 0) : now_(start_us) {}
  TimeUs now_us() const override { return now_.load(); }
  DurationUs monotonic_us() const override { return now_.load(); }
  std::unique_ptr<Timer> make_timer(boost::asio::io_context& io) const override;
  // Moves the clock to `t` and runs every timer due by then (advance(0) runs those that fell
  // due when they were armed).
  void set(TimeUs t);
  void advance(DurationUs d) { set(now_.load() + d); }
  // Timers armed and not yet run.
  std::size_t pending_timers() const;

 private:
  class ManualTimer;
  struct Armed {
    TimeUs at_us;
    std::uint64_t order;
    std::function<void()> fn;
  };
  void arm(const ManualTimer* timer, TimeUs at_us, std::function<void()> fn) const;
  void cancel(const ManualTimer* timer) const;

  std::atomic<TimeUs> now_;
  mutable std::mutex mutex_;
  mutable std::map<const ManualTimer*, Armed> armed_;
  mutable std::uint64_t next_order_ = 0;
};

}  // namespace leeway
