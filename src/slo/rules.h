// Prometheus recording and alerting rules for SLOs, in the shape Sloth generates (an error
// ratio per window, a few metadata series, then one alert per severity), over the counters
// leeway's /metrics exposes, so that a Prometheus user can keep alerting in Prometheus and get
// the same alerts at the same evaluations as leeway's engine.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "slo/spec.h"

namespace leeway::slo {

// The counters the rules read, named once. Runs by outcome (up, degraded, down; unknown runs
// are in none) and the duration histogram are per check and location; the slice counters are
// per SLO, counted by the SLO engine as each minute ends, because a time-based or sliced SLI
// judges a minute as a whole (the incident quorum, the slice target). For ratio_timeslices a
// bad slice adds its bad share (1 - good/total), not 1.
inline constexpr std::string_view kRunsMetric = "leeway_check_runs_total";
inline constexpr std::string_view kDurationMetric = "leeway_check_duration_seconds";
inline constexpr std::string_view kSlicesMetric = "leeway_slo_slices_total";
inline constexpr std::string_view kBadSlicesMetric = "leeway_slo_bad_slices_total";

// The `le` label of the duration histogram's bucket bounded by `bound_us`, as /metrics writes
// it ("0.25", "1", "2.5").
std::string le_label(DurationUs bound_us);

// The rules for every SLO, one rule group each (recordings first, so that the alerts of the same
// evaluation read them), as a Prometheus rule file. `source` names the config in the header.
std::string prometheus_rules(std::span<const SloSpec> slos, std::string_view source);

}  // namespace leeway::slo
