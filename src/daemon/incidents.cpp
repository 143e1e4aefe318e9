// The detector's wiring: the tracker's options from the config, its subscription to the results
// stream, and its rebuild after a reload.
#include <fmt/format.h>

#include <iostream>

#include "daemon/impl.h"

namespace leeway::daemon {

namespace {

incident::TrackerOptions tracker_options(const config::Config& cfg) {
  incident::TrackerOptions o;
  incident::DetectorOptions& d = o.detector;
  for (const auto& service : cfg.services) {
    for (const auto& check : service.checks) d.checks[check.id] = {service.id, check.interval_us};
  }
  for (const auto& location : cfg.locations) {
    d.locations[location.id].labels = {location.isp, location.region};
  }
  // A location's references are silent after silent_after_intervals of the slowest of them.
  std::map<std::string, DurationUs> reference_interval;
  for (const auto& reference : cfg.references) {
    for (const auto& location : reference.locations) {
      d.locations[location].reference_checks.push_back(reference.id);
      DurationUs& interval = reference_interval[location];
      interval = std::max(interval, reference.interval_us);
    }
  }
  for (const auto& [location, interval] : reference_interval) {
    d.locations[location].reference_interval_us = interval;
  }
  const config::IncidentSettings& s = cfg.incidents;
  d.confirm = s.confirm;
  d.recover = s.recover;
  d.silent_after_intervals = s.silent_after_intervals;
  d.down_when = s.down_when.is_count ? incident::DownWhen::at_least(s.down_when.networks)
                                     : incident::DownWhen::more_than(s.down_when.fraction);
  d.change_window_us = s.change_window_us;
  d.reopen_within_us = s.reopen_within_us;
  return o;
}

}  // namespace

std::shared_ptr<incident::Tracker> Daemon::Impl::current_tracker() const {
  std::lock_guard lock(tracker_mutex);
  return tracker;
}

Status Daemon::Impl::subscribe_incidents() {
  auto first =
      std::make_shared<incident::Tracker>(tracker_options(*config), *store, *incident_store, clock);
  auto after = first->restore();
  if (!after) return fail("incidents: cannot restore from the store: ", after.error().message);
  tracker = std::move(first);
  return ingest.subscribe({.name = "detector", .after_seq = *after}, [this](ingest::Batch batch) {
    std::shared_ptr<const config::Config> reloaded;
    {
      std::lock_guard lock(tracker_mutex);
      reloaded = std::exchange(tracker_config, nullptr);
    }
    // A reload changed the checks or the rules: a tracker for them replays the store, which
    // holds everything up to this batch, so nothing is missed between the two.
    if (reloaded) {
      auto next = std::make_shared<incident::Tracker>(tracker_options(*reloaded), *store,
                                                      *incident_store, clock);
      if (auto s = next->restore(); s) {
        std::lock_guard lock(tracker_mutex);
        tracker = std::move(next);
      } else {
        std::cerr << "leeway serve: incidents: the reloaded config waits; cannot restore from "
                     "the store: "
                  << s.error().message << "\n";
        std::lock_guard lock(tracker_mutex);
        if (!tracker_config) tracker_config = std::move(reloaded);  // tried again next batch
      }
    }
    current_tracker()->add(batch);
  });
}

}  // namespace leeway::daemon
