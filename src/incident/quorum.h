// A check's state across locations: up, degraded, down, or unknown with the reason. The quorum
// is counted in networks (ISPs), not in vantages, so that many vantages inside one failing ISP
// never outvote the other networks; silent locations are never counted as down.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/time.h"
#include "incident/labels.h"
#include "probe/types.h"

namespace leeway::incident {

// One location's latest word on one check.
struct LocationReport {
  std::string location;
  Labels labels;
  std::optional<TimeUs> last_us;  // started_us of its latest result; none: never reported
  probe::Outcome outcome = probe::Outcome::kUp;
  probe::Stage stage = probe::Stage::kNone;  // the failing stage, when outcome is kDown
  // Since when its next result has been awaited, when that is later than last_us: after a spell
  // in which no location reported the check (leeway or every vantage stopped), from the moment
  // results came back. A location silent since before such a spell has not fallen silent while
  // the others reported: it counts as lost only once it was awaited for as long as silence takes.
  TimeUs awaited_since_us = 0;
};

// When a check is down: at least `count` networks down, or more than `fraction` of the networks
// that reported recently. A network is down when more than half of its recently reporting
// locations see the check down. The default, more than half of the networks, means one failing
// ISP out of three makes the check degraded (an incident, attributed to that ISP), not down.
struct DownWhen {
  enum class Kind { kCount, kFraction };
  Kind kind = Kind::kFraction;
  int count = 1;          // kCount: this many networks down, or more
  double fraction = 0.5;  // kFraction: strictly more than this share of reporting networks

  static DownWhen at_least(int networks) { return {Kind::kCount, networks, 0.5}; }
  static DownWhen more_than(double share) { return {Kind::kFraction, 1, share}; }
};

struct QuorumOptions {
  DurationUs interval_us = 30 * kSecondUs;  // the check's interval
  // A location whose latest result is older than this many intervals is silent.
  int silent_after_intervals = 3;
  DownWhen down_when;
};

enum class CheckState { kUp, kDegraded, kDown, kUnknown };
std::string_view to_string(CheckState state);

// One network's tally in a quorum.
struct NetworkTally {
  std::string network;
  int reporting = 0;  // locations with a recent, known result
  int down = 0;       // of those, seeing the check down
  int silent = 0;     // locations with no recent result, or only an unknown one
  bool is_down = false;
};

struct Quorum {
  CheckState state = CheckState::kUnknown;
  std::string reason;  // why, in words with the numbers; always set
  int networks_reporting = 0;
  int networks_down = 0;
  int locations_reporting = 0;
  int locations_down = 0;
  int locations_degraded = 0;
  int locations_silent = 0;
  // Of the silent, those that had reported and fell silent while awaited (see awaited_since_us).
  int locations_lost = 0;
  std::vector<NetworkTally> networks;  // sorted by network name
};

// Whether a location with this latest result counts as silent at `now_us`: no result, a result
// older than silent_after_intervals intervals, or an unknown outcome (leeway's own failure says
// nothing about the target).
bool is_silent(const LocationReport& report, TimeUs now_us, const QuorumOptions& options);

// The check's state at `now_us` from each location's latest result:
//   unknown   no location reported recently (with the reason);
//   down      the down_when rule holds over the networks;
//   degraded  not down, but some location sees it down or degraded, or fell silent after
//             reporting (see awaited_since_us): what cannot be seen any more is worth an
//             incident, which attribution then lays at the vantage or its network, never at
//             the service;
//   up        every recently reporting location sees it up, and none fell silent.
Quorum decide_quorum(std::span<const LocationReport> reports, TimeUs now_us,
                     const QuorumOptions& options);

// decide_quorum without the reason: the counts and the state, for callers that take it often.
Quorum tally_quorum(std::span<const LocationReport> reports, TimeUs now_us,
                    const QuorumOptions& options);

// decide_quorum's state alone, without the words: for callers that take it at every result.
CheckState quorum_state(std::span<const LocationReport> reports, TimeUs now_us,
                        const QuorumOptions& options);

}  // namespace leeway::incident
