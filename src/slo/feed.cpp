// Rollups and quorum verdicts into SLO minutes.
#include "slo/feed.h"

#include <algorithm>

namespace leeway::slo {

MinuteCounts runs_minute(const SloSpec& spec, std::span<const store::MinuteRollup> rollups) {
  const auto& bounds = store::kLatencyBucketBoundsUs;
  // The last bucket a fast run falls in; check_spec made the threshold one of the bounds.
  std::size_t fast_buckets =
      std::size_t(std::lower_bound(bounds.begin(), bounds.end(), spec.threshold_us) -
                  bounds.begin()) +
      1;
  std::int64_t good = 0, total = 0;
  for (const auto& rollup : rollups) {
    if (std::find(spec.checks.begin(), spec.checks.end(), rollup.check) == spec.checks.end())
      continue;
    total += rollup.total;
    if (spec.sli == Sli::kLatency) {
      for (std::size_t i = 0; i < fast_buckets && i < rollup.latency_buckets.size(); ++i)
        good += rollup.latency_buckets[i];
    } else {
      good += rollup.good + rollup.degraded;
    }
  }
  auto clamp = [](std::int64_t n) {
    return std::uint32_t(std::clamp<std::int64_t>(n, 0, std::int64_t(UINT32_MAX)));
  };
  return MinuteCounts{clamp(std::min(good, total)), clamp(total)};
}

MinuteCounts quorum_minute(std::optional<bool> down) {
  if (!down) return MinuteCounts{0, 0};
  return MinuteCounts{*down ? 0u : 1u, 1};
}

}  // namespace leeway::slo
