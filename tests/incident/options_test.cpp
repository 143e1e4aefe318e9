// The detector's options from a config: the `incidents:` rules reach the Detector.
#include "incident/options.h"

#include <gtest/gtest.h>

namespace leeway::incident {
namespace {

constexpr TimeUs kStartUs = 1'635'160'000 * kSecondUs;  // 2021-10-25T11:06:40Z
constexpr DurationUs kIntervalUs = 10 * kSecondUs;

// The incidents seen when three locations run shop/home every 10 s for rounds [0, 8) and kt-1
// stops after round 4, under a config with `incidents_yaml` appended.
std::vector<Incident> kt_1_stops(const std::string& incidents_yaml) {
  const std::string yaml = R"(locations:
  - {id: kt-1, isp: kt}
  - {id: skb-1, isp: skb}
  - {id: lgu-1, isp: lgu}
defaults:
  interval: 10s
  locations: [kt-1, skb-1, lgu-1]
services:
  - id: shop
    checks: [{name: home, target: "https://shop.example/"}]
)" + incidents_yaml;
  const config::LoadResult loaded = config::load_config_text(yaml);
  EXPECT_TRUE(loaded.ok()) << loaded.errors.front().to_string();
  if (!loaded.ok()) return {};
  Detector detector(detector_options(*loaded.config));
  std::vector<store::Committed> results;
  for (int round = 0; round < 8; ++round) {
    for (const char* location : {"kt-1", "skb-1", "lgu-1"}) {
      if (location == std::string("kt-1") && round > 4) continue;
      store::StoredResult r;
      r.check = "shop/home";
      r.location = location;
      r.outcome = probe::Outcome::kUp;
      r.started_us = kStartUs + round * kIntervalUs;
      results.push_back({std::int64_t(results.size() + 1), r});
    }
  }
  detector.add(results);
  return detector.incidents();
}

// kt-1's last result (round 4) is over 2 intervals old at round 7, but not yet over 3.
TEST(DetectorOptions, SilentAfterFromTheConfigDecidesWhenALocationIsSilent) {
  const std::vector<Incident> incidents = kt_1_stops("incidents:\n  silent_after: 2\n");
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].opened_us, kStartUs + 7 * kIntervalUs);
  EXPECT_EQ(incidents[0].verdict.silent, std::vector<std::string>{"kt-1"});

  EXPECT_TRUE(kt_1_stops("").empty());  // the default, 3 intervals
}

}  // namespace
}  // namespace leeway::incident
