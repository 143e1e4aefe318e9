// One SLO's SLI, minute by minute: good and total per minute, kept in hours with running sums
// over the hours, so that any window sums as two differences of running sums plus at most two
// partial hours of minutes, and a late minute costs one write and the running sums after its
// hour. An hour whose minutes are all alike (the usual steady state) keeps one value.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <vector>

#include "core/time.h"
#include "slo/spec.h"

namespace leeway::slo {

// One minute of an SLI: good and total events (runs, or for a time-based SLI one event, the
// minute itself). total 0: no data; the minute is neither good nor bad.
struct MinuteCounts {
  std::uint32_t good = 0;
  std::uint32_t total = 0;
  bool operator==(const MinuteCounts&) const = default;
};

// What the minutes of a window add up to, in the budgeting method's terms.
struct WindowSums {
  std::int64_t minutes = 0;       // minutes in the window
  std::int64_t data_minutes = 0;  // of them, minutes with data
  // Occurrences: events and bad events. Timeslices: minutes with data and bad minutes.
  // Ratio timeslices: minutes with data and the sum of their bad shares (1 - good/total).
  double weight = 0;
  double bad = 0;

  std::int64_t no_data_minutes() const { return minutes - data_minutes; }
  void add(const WindowSums& other);
  void subtract(const WindowSums& other);
};

// How one minute counts under a budgeting method.
class Counting {
 public:
  // REQUIRES: slice_target set when method is kTimeslices (a time-based SLI's minutes carry one
  // event each, so any target above 0 reads them right).
  Counting(Method method, Ratio slice_target) : method_(method), target_(slice_target) {}
  // The minute's weight and bad share; data_minutes 1 when it has data.
  WindowSums of(MinuteCounts m) const;

 private:
  Method method_;
  Ratio target_;
};

class MinuteSeries {
 public:
  // Keeps at most `span_us` of minutes (rounded up to hours): a minute further back than that
  // from the newest is refused, and a newer minute pushes the oldest hours out.
  MinuteSeries(Counting counting, DurationUs span_us);
  MinuteSeries(MinuteSeries&&) = default;
  MinuteSeries& operator=(MinuteSeries&&) = default;
  // Not copied by accident: a month of minutes per SLO.
  MinuteSeries(const MinuteSeries&) = delete;
  MinuteSeries& operator=(const MinuteSeries&) = delete;

  // Sets one minute's counts, replacing what was there. False when it is refused (see above).
  // REQUIRES: minute_us is a multiple of kMinuteUs.
  bool set(TimeUs minute_us, MinuteCounts counts);

  // The counts of one minute (zero when unknown).
  MinuteCounts at(TimeUs minute_us) const;

  // The sums of the minutes in [from_us, to_us). REQUIRES: both multiples of kMinuteUs.
  WindowSums sum(TimeUs from_us, TimeUs to_us) const;

  // Forgets the hours that end at or before `minute_us`.
  void drop_before(TimeUs minute_us);

  // Brings the hours changed since the last call up to date (their sums, and one value for an
  // hour whose minutes are alike). sum() is right without it, only slower on changed hours.
  void settle();

  // Bytes held, roughly: for the benchmark's memory figure.
  std::size_t memory_bytes() const;

 private:
  struct Hour {
    MinuteCounts uniform;  // every minute's counts, when `minutes` is null
    std::unique_ptr<std::array<MinuteCounts, 60>> minutes;
    WindowSums sums;     // of the whole hour, when not dirty
    WindowSums before;   // of every hour held before this one, when nothing is dirty
    bool dirty = false;  // changed since the last settle(): sums is stale
  };

  Hour* hour_at(std::int64_t hour);
  const Hour* hour_at(std::int64_t hour) const;
  // Sums of minutes [first, last) of one hour (0..60).
  WindowSums partial(const Hour& hour, int first, int last) const;

  // Brings `before` up to date from hours_[from] on.
  void running_sums_from(std::size_t from);

  Counting counting_;
  std::int64_t max_hours_;
  std::vector<Hour> hours_;      // a vector, not a deque: a deque keeps 5 of these per block
  std::int64_t first_hour_ = 0;  // the hour index (time / 1h) of hours_[0]
  std::vector<std::int64_t> dirty_;
};

}  // namespace leeway::slo
