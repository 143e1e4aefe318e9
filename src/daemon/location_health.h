// What the daemon knows of each location's agent: when it last made contact and how far its
// clock is from ours. Updated by the agent API's threads, read by the API and /metrics.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/time.h"

namespace leeway::daemon {

// An agent clock further than this from the server's is flagged: its results' times (the times
// incidents are built from) are that far off.
inline constexpr DurationUs kClockOffsetLimitUs = 2 * kSecondUs;

// One location's contact, as last seen.
struct Contact {
  TimeUs last_contact_us = 0;  // 0: none since the server started
  // The server's clock minus the agent's when its last batch arrived (network delay included);
  // none until a batch came.
  std::optional<DurationUs> clock_offset_us;
  std::int64_t results_total = 0;        // results received, stored or duplicate
  std::int64_t agent_dropped_total = 0;  // results the agent's full spool dropped, as it says
};

// Thread-safe.
class LocationHealth {
 public:
  // Any authenticated request of the location's agent.
  void contact(const std::string& location, TimeUs now_us);
  // A batch that arrived at now_us, sent at the agent's sent_us.
  void batch(const std::string& location, TimeUs now_us, TimeUs sent_us);
  // A batch committed: its results, and the agent's own count of results it had to drop
  // (a total, so that a resent batch does not count them twice).
  void committed(const std::string& location, std::int64_t results,
                 std::int64_t agent_dropped_total);
  std::map<std::string, Contact> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, Contact> contacts_;
};

// A location as the API, `leeway status` and /metrics show it.
struct LocationView {
  const config::Location* location = nullptr;
  bool up = false;
  TimeUs last_contact_us = 0;  // 0: no contact since the server started
  TimeUs silent_since_us = 0;  // when down: since when (0: since before the server started)
  std::optional<DurationUs> clock_offset_us;
  bool clock_offset_flagged = false;
  std::int64_t results_total = 0;
  std::int64_t agent_dropped_total = 0;
};

// How long an agent location may be silent and still count as up: `incidents.silent_after` (3)
// of its shortest check interval, and never less than a long poll and a margin (an agent with only
// slow checks still asks for its checks that often).
DurationUs silent_after_us(const config::Config& config, const std::string& location);

// Every location of the config, in config order. The daemon's own is up, with no offset.
std::vector<LocationView> location_views(const config::Config& config,
                                         const std::map<std::string, Contact>& contacts,
                                         TimeUs now_us);

}  // namespace leeway::daemon
