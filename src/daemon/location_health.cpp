// Location health: last contact and clock offset per agent location.
#include "daemon/location_health.h"

#include <algorithm>
#include <cstdlib>

#include "agent/wire.h"

namespace leeway::daemon {

void LocationHealth::contact(const std::string& location, TimeUs now_us) {
  std::lock_guard lock(mutex_);
  Contact& c = contacts_[location];
  c.last_contact_us = std::max(c.last_contact_us, now_us);
}

void LocationHealth::batch(const std::string& location, TimeUs now_us, TimeUs sent_us) {
  std::lock_guard lock(mutex_);
  Contact& c = contacts_[location];
  c.last_contact_us = std::max(c.last_contact_us, now_us);
  c.clock_offset_us = now_us - sent_us;
}

void LocationHealth::committed(const std::string& location, std::int64_t results,
                               std::int64_t agent_dropped_total) {
  std::lock_guard lock(mutex_);
  Contact& c = contacts_[location];
  c.results_total += results;
  c.agent_dropped_total = std::max(c.agent_dropped_total, agent_dropped_total);
}

std::map<std::string, Contact> LocationHealth::snapshot() const {
  std::lock_guard lock(mutex_);
  return contacts_;
}

DurationUs silent_after_us(const config::Config& config, const std::string& location) {
  DurationUs least = (agent::kLongPollWaitS + 10) * kSecondUs;
  DurationUs shortest = 0;
  for (const auto& service : config.services)
    for (const auto& check : service.checks)
      if (std::find(check.locations.begin(), check.locations.end(), location) !=
              check.locations.end() &&
          (shortest == 0 || check.interval_us < shortest))
        shortest = check.interval_us;
  return std::max(least, config.incidents.silent_after_intervals * shortest);
}

std::vector<LocationView> location_views(const config::Config& config,
                                         const std::map<std::string, Contact>& contacts,
                                         TimeUs now_us) {
  std::vector<LocationView> out;
  for (const auto& location : config.locations) {
    LocationView view;
    view.location = &location;
    if (location.id == config.server.location) {
      view.up = true;
      view.last_contact_us = now_us;
      view.clock_offset_us = 0;
      out.push_back(view);
      continue;
    }
    if (auto it = contacts.find(location.id); it != contacts.end()) {
      const Contact& c = it->second;
      view.last_contact_us = c.last_contact_us;
      view.clock_offset_us = c.clock_offset_us;
      view.results_total = c.results_total;
      view.agent_dropped_total = c.agent_dropped_total;
    }
    view.up = view.last_contact_us > 0 &&
              now_us - view.last_contact_us <= silent_after_us(config, location.id);
    if (!view.up) view.silent_since_us = view.last_contact_us;
    view.clock_offset_flagged =
        view.clock_offset_us && std::llabs(*view.clock_offset_us) > kClockOffsetLimitUs;
    out.push_back(view);
  }
  return out;
}

}  // namespace leeway::daemon
