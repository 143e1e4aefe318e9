// The detector's wiring: the tracker's options from the config, its subscription to the results
// stream, and its rebuild after a reload.
#include <fmt/format.h>

#include <iostream>

#include "daemon/impl.h"
#include "incident/options.h"

namespace leeway::daemon {

namespace {

incident::TrackerOptions tracker_options(const config::Config& cfg, store::SlaStore& sla) {
  incident::TrackerOptions o;
  o.detector = incident::detector_options(cfg);
  o.moved = [&sla](const store::IncidentRetirement& r) {
    return sla.move_reclassifications(r.id, r.to_id);
  };
  return o;
}

}  // namespace

std::shared_ptr<incident::Tracker> Daemon::Impl::current_tracker() const {
  std::lock_guard lock(tracker_mutex);
  return tracker;
}

Status Daemon::Impl::subscribe_incidents() {
  auto first = std::make_shared<incident::Tracker>(tracker_options(*config, *sla_store), *store,
                                                   *incident_store, clock);
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
      auto next = std::make_shared<incident::Tracker>(tracker_options(*reloaded, *sla_store),
                                                      *store, *incident_store, clock);
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
