// The detector's wiring: the tracker's options from the config, its subscription to the results
// stream, and its rebuild after a reload.
#include <fmt/format.h>

#include <algorithm>
#include <iostream>

#include "daemon/impl.h"
#include "incident/options.h"

namespace leeway::daemon {

namespace {

constexpr const char* kDetector = "detector";  // its subscriber's name and its saved position's

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
  // The restore replays results by time, as far back as the detector's windows reach from now;
  // what the detector had left unhandled when leeway stopped may be older by now, so the stream
  // starts from where it stopped (the detector skips what the restore replayed already).
  auto stopped_at = store->take_position(kDetector);
  if (!stopped_at) return fail("incidents: cannot read the store: ", stopped_at.error().message);
  const std::int64_t from = std::min(stopped_at->value_or(*after), *after);
  return ingest.subscribe({.name = kDetector, .after_seq = from}, [this](ingest::Batch batch) {
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

void Daemon::Impl::save_detector_position() {
  auto last = store->last_seq();
  for (const auto& s : ingest.subscribers()) {
    if (s.name != kDetector || !last || s.position >= *last) continue;
    if (Status saved = store->save_position(kDetector, s.position); !saved)
      std::cerr << "leeway serve: incidents: the detector's position was not saved, so results "
                   "it had not handled are replayed only as far as its windows reach: "
                << saved.error().message << "\n";
  }
}

}  // namespace leeway::daemon
