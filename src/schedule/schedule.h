// When each check runs: a stable per-check phase inside its interval, due times computed from the
// epoch (never accumulated, so no drift), a limit on concurrent runs per host, and lateness
// metrics.
//
// Resuming after a restart needs no saved state: a check's due times are a function of its id,
// its interval and the clock (due = k * interval + phase(id)), so a restarted daemon picks up the
// same slots it would have used had it never stopped.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/clock.h"
#include "core/result.h"
#include "core/time.h"

namespace leeway::schedule {

// One scheduled check as the scheduler sees it.
struct Entry {
  std::string id;              // stable across reloads and restarts; the phase derives from it
  DurationUs interval_us = 0;  // > 0
  std::string host;            // runs with the same host share the per-host concurrency limit
  std::size_t payload = 0;     // opaque to the scheduler: e.g. an index into the daemon's checks
};

// The check's offset inside its interval, in [0, interval_us). The same id and interval give the
// same phase in every build and on every machine. REQUIRES: interval_us > 0.
DurationUs phase_us(std::string_view id, DurationUs interval_us);

// The first due time of the check at or after `t`: the least k * interval_us + phase_us(id) >= t.
// REQUIRES: interval_us > 0.
TimeUs next_slot_us(std::string_view id, DurationUs interval_us, TimeUs t);

// Upper bounds of the lateness histogram's buckets in seconds (Prometheus `le`), +Inf implied.
inline constexpr std::array<double, 12> kLatenessBucketsSeconds = {
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

// A snapshot of the scheduler's counters, for the /metrics endpoint.
struct Metrics {
  // Cumulative counts of runs whose start lateness (started - scheduled) was <= each bound of
  // kLatenessBucketsSeconds; the last element is the +Inf bucket and equals lateness_count.
  std::array<std::uint64_t, kLatenessBucketsSeconds.size() + 1> lateness_buckets{};
  std::uint64_t lateness_count = 0;
  double lateness_sum_seconds = 0;
  std::uint64_t runs_started_total = 0;
  // Slots not run because the check's previous run was still in flight or waiting for its host.
  std::uint64_t runs_skipped_still_running_total = 0;
  // Slots not run because the scheduler fell more than one interval behind (overload, a clock
  // step forward): only the latest missed slot runs.
  std::uint64_t runs_skipped_behind_total = 0;
  std::size_t runs_waiting_for_host = 0;  // due runs queued until their host has a free slot
  std::size_t runs_in_flight = 0;
  std::size_t checks = 0;
};

// Renders the metrics in the Prometheus text format (leeway_schedule_* names), ready to append
// to a /metrics response.
std::string format_prometheus(const Metrics& metrics);

struct Options {
  // At most this many runs in flight per host; further due runs wait FIFO for a free slot.
  std::size_t max_in_flight_per_host = 4;
  // Where skip notices go (one line each, no trailing newline). Empty: standard error.
  std::function<void(std::string_view line)> log;
};

// A run the caller should start now. Pass run_id to Schedule::finish() when it completes.
struct Run {
  std::uint64_t run_id = 0;
  Entry entry;  // a copy, so a reload during the run cannot change it under the caller
  TimeUs scheduled_us = 0;
  TimeUs started_us = 0;  // the `now_us` of the due() call that returned it
};

// The clock-free core: the caller passes the time in, so tests drive it with any clock and the
// daemon with the real one. Cost per run is O(log checks); nothing scans all checks per tick.
// Not thread-safe (REQUIRES: external synchronization); Driver adds the locking.
class Schedule {
 public:
  explicit Schedule(Options options = {});
  ~Schedule();
  Schedule(const Schedule&) = delete;
  Schedule& operator=(const Schedule&) = delete;

  // Adds a check; its first due time is its first slot at or after now_us. Fails on an empty or
  // duplicate id or a non-positive interval.
  Status add(Entry entry, TimeUs now_us);

  // Removes a check: it will not be started again and its waiting run (if any) is dropped. A run
  // already in flight still frees its host slot through finish(). False if the id is unknown.
  bool remove(std::string_view id);

  // Makes the set of checks exactly `entries` (a config reload). Unchanged checks keep their
  // slots, so nothing fires twice or misses its current slot; a check whose interval changed
  // moves to its new phase, never earlier than just after its last scheduled slot. On error
  // (as for add) nothing changes.
  Status replace(std::vector<Entry> entries, TimeUs now_us);

  // Every run to start at now_us: runs due at or before now_us whose host has a free slot, and
  // earlier runs whose host slot has since been freed (FIFO per host). Records each run's
  // lateness, and counts slots it must skip (still running, or fell behind) with a log line.
  std::vector<Run> due(TimeUs now_us);

  // Marks a run finished and frees its host slot; a waiting run of that host becomes due at
  // the next due() call. True when such a run is waiting, so the caller should call due() soon.
  // Unknown or already-finished run ids are ignored (false).
  bool finish(std::uint64_t run_id);

  // When due() next has work: the earliest due time, or a time <= now when runs are waiting
  // only for due() to be called. Nullopt when there are no checks and nothing is waiting.
  std::optional<TimeUs> next_due_us() const;

  // Slots the check has skipped since it was added (both reasons); 0 for an unknown id.
  std::uint64_t skipped(std::string_view id) const;

  // Number of checks scheduled.
  std::size_t size() const;

  Metrics metrics() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Runs a Schedule on an Asio loop with one steady_timer for all checks. Time comes only from the
// injected Clock: the timer's wait is the difference between the next due time and clock.now_us().
// add/remove/replace/metrics/skipped may be called from any thread; `start` is called on the
// loop's thread. REQUIRES: destroyed on the loop's thread or after the loop has stopped.
class Driver {
 public:
  // Starts one run of `entry` for the slot `scheduled_us`. The callee must call `done` exactly
  // once, from any thread, when the run is over (a probe's failure is still a finished run).
  using StartFn =
      std::function<void(const Entry& entry, TimeUs scheduled_us, std::function<void()> done)>;

  Driver(boost::asio::io_context& io, const Clock& clock, StartFn start, Options options = {});
  ~Driver();
  Driver(const Driver&) = delete;
  Driver& operator=(const Driver&) = delete;

  // As Schedule's, at the clock's current time; the timer is re-armed on the loop.
  Status add(Entry entry);
  bool remove(std::string_view id);
  Status replace(std::vector<Entry> entries);

  // Stops starting runs; runs in flight may still call done. Idempotent.
  void stop();

  Metrics metrics() const;
  std::uint64_t skipped(std::string_view id) const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;  // shared so `done` callbacks outliving the Driver stay safe
};

}  // namespace leeway::schedule
