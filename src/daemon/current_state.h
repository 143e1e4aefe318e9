// What the daemon knows now of each check at each location: the last result, and the run
// durations since it started. /api/v1/checks, `leeway status` and /metrics read it; the results
// stream feeds it. Not thread-safe: the daemon touches it only on its event loop.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/store.h"

namespace leeway::daemon {

// Escapes a Prometheus label value.
std::string label_escape(std::string_view v);

// One check at one location.
struct SeriesState {
  store::StoredResult last;
  std::string labels;  // check="...",location="..." escaped once for /metrics
  // Judged runs only (up, degraded, down), as in the store's rollups: an unknown run says nothing
  // of the target, so the SLO rules over these counters read what leeway's engine reads.
  std::array<std::uint64_t, store::kLatencyBuckets> buckets{};  // not cumulative
  std::uint64_t count = 0;
  std::array<std::uint64_t, 3> runs{};  // by outcome: up, degraded, down
  double sum_seconds = 0;
  std::uint64_t unknown = 0;  // runs leeway could not judge (probe::Outcome::kUnknown)
};

class CurrentState {
 public:
  // A result known from before the daemon started (the store's latest): it sets the last
  // result but not the histogram.
  void seed(const store::StoredResult& r);

  // A newly stored result. It counts in the histogram; it becomes the last result unless a run
  // that started later is already known (a late result from an agent's spool).
  void record(const store::StoredResult& r);

  // The last result at each location of `check`, ordered by location.
  std::vector<store::StoredResult> last_of(std::string_view check) const;

  // Every series, ordered by check then location.
  const std::map<std::pair<std::string, std::string>, SeriesState>& series() const {
    return series_;
  }

 private:
  SeriesState& at(const store::StoredResult& r);
  std::map<std::pair<std::string, std::string>, SeriesState> series_;
};

}  // namespace leeway::daemon
