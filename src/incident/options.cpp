// Config to DetectorOptions: one translation for every caller.
#include "incident/options.h"

#include <algorithm>

namespace leeway::incident {

DetectorOptions detector_options(const config::Config& cfg) {
  DetectorOptions d;
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
  d.silent_after_intervals = s.silent_after_intervals;
  d.recover = s.recover;
  d.down_when = s.down_when.is_count ? DownWhen::at_least(s.down_when.networks)
                                     : DownWhen::more_than(s.down_when.fraction);
  d.change_window_us = s.change_window_us;
  d.reopen_within_us = s.reopen_within_us;
  return d;
}

}  // namespace leeway::incident
