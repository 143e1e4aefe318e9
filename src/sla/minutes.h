// The minute sweep of one service: downtime and exclusion spans in, the month's minutes out,
// classified once each (an overlap is counted once) and merged into ranges that name their
// sources. Minute indices count from the month's start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "sla/report.h"

namespace leeway::sla::detail {

struct Span {
  std::int64_t first = 0;                                  // minute index, inclusive
  std::int64_t last = 0;                                   // exclusive
  bool exclusion = false;                                  // else downtime
  ExclusionReason reason = ExclusionReason::kMaintenance;  // exclusions only
  std::string source;  // exclusion: "maintenance:mw-1"; downtime: the incident id
};

struct SweptRange {
  std::int64_t first = 0;
  std::int64_t last = 0;
  bool excluded = false;  // else unavailable
  ExclusionReason reason = ExclusionReason::kMaintenance;
  std::vector<std::string> sources;  // sorted
};

struct Sweep {
  MinuteCounts counts;
  std::vector<SweptRange> ranges;  // in order, excluded and unavailable ones only
};

// Classifies minutes [measured_first, measured_last) of a month of `month_minutes`: excluded
// when any exclusion covers it (under the first reason in ExclusionReason's order, naming every
// covering source), else unavailable when a downtime does, else available.
Sweep sweep_minutes(std::int64_t month_minutes, std::int64_t measured_first,
                    std::int64_t measured_last, const std::vector<Span>& spans);

// The minute indices a time range covers in a month starting at `month_start_us`: those it
// touches when partial minutes count, else those wholly inside it. Not clipped to the month.
struct MinuteIndices {
  std::int64_t first = 0;
  std::int64_t last = 0;
};
MinuteIndices to_minutes(TimeUs month_start_us, TimeUs start_us, TimeUs end_us,
                         bool partial_minutes_count);

}  // namespace leeway::sla::detail
