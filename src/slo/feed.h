// From what the store keeps to an SLO's minutes: the counts the daemon's SLO subscriber sends
// the engine for each minute that a committed (or late) result falls in. Pure functions over
// the store's vocabulary (MinuteRollup, the latency bucket bounds); the SLO module reads no
// store itself.
#pragma once

#include <optional>
#include <span>

#include "slo/series.h"
#include "slo/spec.h"
#include "store/store.h"

namespace leeway::slo {

// One minute of an event-based SLI (availability_runs, latency) from that minute's rollups:
// those of the SLO's checks count (at any location, or summed), the rest are ignored. Good is
// up or degraded for availability, at most the threshold for latency (a bucket's bound is
// inclusive, as the histogram's `le`). Unknown runs are in no rollup.
// REQUIRES: spec.sli is not kAvailabilityMinutes; the rollups are of one minute.
MinuteCounts runs_minute(const SloSpec& spec, std::span<const store::MinuteRollup> rollups);

// One minute of a time-based SLI: one event, bad when the service was down in it (the daemon
// asks the detector's incidents); no event (no data) when no location could tell (all silent).
MinuteCounts quorum_minute(std::optional<bool> down);

}  // namespace leeway::slo
