// Rollups and quorum verdicts into SLO minutes.
#include "slo/feed.h"

#include <gtest/gtest.h>

namespace leeway::slo {
namespace {

store::MinuteRollup rollup(std::string check, std::int64_t good, std::int64_t degraded,
                           std::int64_t total) {
  store::MinuteRollup r;
  r.check = std::move(check);
  r.good = good;
  r.degraded = degraded;
  r.total = total;
  return r;
}

TEST(Feed, AvailabilityCountsUpAndDegradedRunsOfTheSlosChecksOnly) {
  SloSpec spec;
  spec.sli = Sli::kAvailabilityRuns;
  spec.checks = {"shop/home", "shop/api"};
  std::vector<store::MinuteRollup> minute = {
      rollup("shop/home", 4, 1, 6), rollup("shop/api", 6, 0, 6), rollup("shop/admin", 0, 0, 6)};
  EXPECT_EQ(runs_minute(spec, minute), (MinuteCounts{11, 12}));
  EXPECT_EQ(runs_minute(spec, {}), (MinuteCounts{0, 0}));
}

TEST(Feed, LatencyCountsRunsAtMostTheThreshold) {
  SloSpec spec;
  spec.sli = Sli::kLatency;
  spec.threshold_us = 250 * kMillisecondUs;
  spec.checks = {"shop/home"};
  store::MinuteRollup r = rollup("shop/home", 0, 0, 10);
  // Buckets by upper bound (inclusive: a run of exactly 250ms is fast): 5ms, 10ms, 25ms, 50ms,
  // 100ms, 250ms, 500ms, ... 10s, then the unbounded one.
  ASSERT_EQ(store::kLatencyBucketBoundsUs[5], 250 * kMillisecondUs);
  r.latency_buckets[5] = 3;                           // 100ms < run <= 250ms
  r.latency_buckets[0] = 4;                           // <= 5ms
  r.latency_buckets[6] = 2;                           // 250ms < run <= 500ms
  r.latency_buckets[store::kLatencyBuckets - 1] = 1;  // over 10s
  EXPECT_EQ(runs_minute(spec, std::span(&r, 1)), (MinuteCounts{7, 10}));
}

TEST(Feed, AQuorumMinuteIsOneEventOrNone) {
  EXPECT_EQ(quorum_minute(false), (MinuteCounts{1, 1}));
  EXPECT_EQ(quorum_minute(true), (MinuteCounts{0, 1}));
  EXPECT_EQ(quorum_minute(std::nullopt), (MinuteCounts{0, 0}));
}

}  // namespace
}  // namespace leeway::slo
