// Availability of every check over the last 24 hours and 30 days, read from the store on a worker
// thread, so that /api/v1/checks answers from memory and never queries the store on the event
// loop (at 10,000 checks, two queries per check held the loop for seconds).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "store/store.h"

namespace leeway::daemon {

struct AvailabilityCacheOptions {
  // Time between two passes over every check; 0: no worker, the owner calls refresh().
  DurationUs refresh_interval_us = kMinuteUs;
  // The 30-day window is recomputed when its value is older than this: a few more minutes
  // barely move it, and it is the expensive query (30 days of minute rollups per check).
  DurationUs month_max_age_us = 10 * kMinuteUs;
};

// What the cache knows of one check; a window is nullopt until computed (or when its query
// failed).
struct CachedAvailability {
  std::optional<store::Availability> day;    // [as_of - 24 h, as_of)
  std::optional<store::Availability> month;  // [month_as_of - 30 d, month_as_of)
  TimeUs day_as_of_us = 0;
  TimeUs month_as_of_us = 0;
};

// Thread-safe. The worker ("leeway-avail") starts at once when refresh_interval_us > 0, runs a
// first pass as soon as it has checks, then one pass per interval.
class AvailabilityCache {
 public:
  // `store` and `clock` must outlive the cache.
  AvailabilityCache(store::Store& store, const Clock& clock, AvailabilityCacheOptions options = {});
  // Calls stop().
  ~AvailabilityCache();
  AvailabilityCache(const AvailabilityCache&) = delete;
  AvailabilityCache& operator=(const AvailabilityCache&) = delete;

  // Makes the cached checks exactly `ids` (start-up, reload): kept checks keep their values,
  // new ones are computed on the next pass, which starts at once.
  void set_checks(const std::vector<std::string>& ids);

  // What is known of a check; nullopt when it is not one of the checks set.
  std::optional<CachedAvailability> get(std::string_view id) const;

  // One pass over every check, on the caller's thread: the 24-hour window always, the 30-day
  // window when older than month_max_age_us. Store errors leave the previous values.
  void refresh();

  // How long the last complete pass took, for /metrics.
  DurationUs last_refresh_us() const { return last_refresh_us_.load(); }

  // Stops the worker (a pass in progress ends after its current check). Idempotent.
  void stop();

 private:
  void run();

  store::Store& store_;
  const Clock& clock_;
  const AvailabilityCacheOptions options_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::string, CachedAvailability, std::less<>> entries_;  // keys: the checks set
  bool dirty_ = false;  // set_checks() added checks the worker has not computed yet
  bool stopping_ = false;
  std::atomic<DurationUs> last_refresh_us_{0};
  std::thread worker_;
};

}  // namespace leeway::daemon
