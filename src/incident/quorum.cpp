// Counts a check's locations by network and applies the down_when rule.
#include "incident/quorum.h"

#include <fmt/format.h>

#include <map>

namespace leeway::incident {

std::string_view to_string(CheckState state) {
  switch (state) {
    case CheckState::kUp:
      return "up";
    case CheckState::kDegraded:
      return "degraded";
    case CheckState::kDown:
      return "down";
    case CheckState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

bool is_silent(const LocationReport& report, TimeUs now_us, const QuorumOptions& options) {
  if (!report.last_us || report.outcome == probe::Outcome::kUnknown) return true;
  return now_us - *report.last_us > options.silent_after_intervals * options.interval_us;
}

namespace {

// Whether a silent location fell silent while the check was watched: it had reported, and it has
// been awaited for silent_after_intervals (when it is silent for its age, its last result is
// that old too).
bool is_lost(const LocationReport& report, TimeUs now_us, const QuorumOptions& options) {
  return report.last_us &&
         now_us - report.awaited_since_us > options.silent_after_intervals * options.interval_us;
}

bool rule_holds(const DownWhen& rule, int networks_down, int networks_reporting) {
  if (networks_down == 0) return false;
  if (rule.kind == DownWhen::Kind::kCount) return networks_down >= rule.count;
  return networks_down > rule.fraction * networks_reporting;
}

std::string down_networks(const std::vector<NetworkTally>& networks) {
  std::string out;
  for (const NetworkTally& n : networks) {
    if (!n.is_down) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("{}: {} of {} locations", n.network, n.down, n.reporting);
  }
  return out;
}

}  // namespace

Quorum tally_quorum(std::span<const LocationReport> reports, TimeUs now_us,
                    const QuorumOptions& options) {
  Quorum q;
  std::map<std::string, NetworkTally> by_network;
  for (const LocationReport& r : reports) {
    NetworkTally& n = by_network[network_of(r.location, r.labels)];
    if (is_silent(r, now_us, options)) {
      ++n.silent;
      ++q.locations_silent;
      if (is_lost(r, now_us, options)) ++q.locations_lost;
      continue;
    }
    ++n.reporting;
    ++q.locations_reporting;
    if (r.outcome == probe::Outcome::kDown) {
      ++n.down;
      ++q.locations_down;
    } else if (r.outcome == probe::Outcome::kDegraded) {
      ++q.locations_degraded;
    }
  }
  for (auto& [name, n] : by_network) {
    n.network = name;
    // A strict majority, so that one of two vantages losing its uplink does not sink its ISP.
    n.is_down = n.reporting > 0 && 2 * n.down > n.reporting;
    if (n.reporting > 0) ++q.networks_reporting;
    if (n.is_down) ++q.networks_down;
    q.networks.push_back(n);
  }
  if (q.locations_reporting == 0) {
    q.state = CheckState::kUnknown;
  } else if (rule_holds(options.down_when, q.networks_down, q.networks_reporting)) {
    q.state = CheckState::kDown;
  } else if (q.locations_down > 0 || q.locations_degraded > 0 || q.locations_lost > 0) {
    q.state = CheckState::kDegraded;
  } else {
    q.state = CheckState::kUp;
  }
  return q;
}

CheckState quorum_state(std::span<const LocationReport> reports, TimeUs now_us,
                        const QuorumOptions& options) {
  return tally_quorum(reports, now_us, options).state;
}

Quorum decide_quorum(std::span<const LocationReport> reports, TimeUs now_us,
                     const QuorumOptions& options) {
  Quorum q = tally_quorum(reports, now_us, options);
  const std::string silent_after =
      format_duration(options.silent_after_intervals * options.interval_us);
  if (q.state == CheckState::kUnknown) {
    q.reason = reports.empty() ? std::string("no location runs this check")
                               : fmt::format("none of {} locations reported in the last {}",
                                             reports.size(), silent_after);
    return q;
  }
  const std::string silent_note =
      q.locations_silent == 0
          ? std::string()
          : fmt::format(
                "; {} silent for over {}{}, not counted as down", q.locations_silent, silent_after,
                q.locations_lost == 0 ? std::string()
                                      : fmt::format(" ({} after reporting)", q.locations_lost));
  if (q.state == CheckState::kDown) {
    q.reason = fmt::format("{} of {} networks see it down ({}){}", q.networks_down,
                           q.networks_reporting, down_networks(q.networks), silent_note);
  } else if (q.state == CheckState::kDegraded) {
    q.reason = fmt::format(
        "{} of {} networks see it down; {} down and {} degraded of {} "
        "locations reporting{}",
        q.networks_down, q.networks_reporting, q.locations_down, q.locations_degraded,
        q.locations_reporting, silent_note);
  } else {
    q.reason =
        fmt::format("all {} locations reporting see it up{}", q.locations_reporting, silent_note);
  }
  return q;
}

}  // namespace leeway::incident
