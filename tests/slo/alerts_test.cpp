// The burn-rate alert state machine, and leeway's own rule for windows without data.
#include "slo/alerts.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace leeway::slo {
namespace {

constexpr double kBudget = 0.001;

// Error ratios by window; a window missing from the map has no data.
ErrorRatioOf ratios(std::map<DurationUs, double> by_window) {
  return [by_window](DurationUs w) -> std::optional<double> {
    auto it = by_window.find(w);
    if (it == by_window.end()) return std::nullopt;
    return it->second;
  };
}

const std::vector<BurnCondition> kDefaults = default_burn_conditions();

Verdict page(std::map<DurationUs, double> by_window) {
  return judge(kDefaults, Severity::kPage, kBudget, ratios(std::move(by_window)));
}

constexpr DurationUs k5m = 5 * kMinuteUs, k30m = 30 * kMinuteUs, k6h = 6 * kHourUs;

TEST(Judge, BothWindowsOverTheBurnRate) {
  Verdict v = page({{kHourUs, 0.02}, {k5m, 0.02}, {k6h, 0.001}, {k30m, 0.001}});
  EXPECT_TRUE(v.met);
  EXPECT_EQ(v.condition->long_us, kHourUs);
  // One window over is not enough.
  v = page({{kHourUs, 0.02}, {k5m, 0.001}, {k6h, 0.001}, {k30m, 0.001}});
  EXPECT_FALSE(v.met);
  EXPECT_TRUE(v.known);
  // The slow pair alone.
  v = page({{kHourUs, 0.001}, {k5m, 0.001}, {k6h, 0.007}, {k30m, 0.007}});
  EXPECT_TRUE(v.met);
  EXPECT_EQ(v.condition->long_us, k6h);
}

TEST(Judge, ComparesAsPromQLDoes) {
  // ratio > (14.4 * 0.001): equal is not over.
  double threshold = 14.4 * kBudget;
  EXPECT_FALSE(page({{kHourUs, threshold}, {k5m, threshold}, {k6h, 0}, {k30m, 0}}).met);
  double above = std::nextafter(threshold, 1.0);
  EXPECT_TRUE(page({{kHourUs, above}, {k5m, above}, {k6h, 0}, {k30m, 0}}).met);
}

TEST(Judge, AWindowWithoutDataDecidesNothing) {
  // 5m empty, 1h over: the fast pair is undecided; the slow pair is unmet: unknown.
  Verdict v = page({{kHourUs, 0.02}, {k6h, 0.001}, {k30m, 0.001}});
  EXPECT_FALSE(v.met);
  EXPECT_FALSE(v.known);
  // 5m empty but 1h under: the fast pair is unmet whatever the 5m holds.
  v = page({{kHourUs, 0.001}, {k6h, 0.001}, {k30m, 0.001}});
  EXPECT_FALSE(v.met);
  EXPECT_TRUE(v.known);
  // Nothing at all: unknown.
  EXPECT_FALSE(page({}).known);
}

TEST(AlertState, FiresResolvesAndHoldsThroughSilence) {
  AlertState state;
  EXPECT_FALSE(state.step(Verdict{false, false, {}}, 1));  // no data: stays resolved
  EXPECT_TRUE(state.step(Verdict{true, true, kDefaults[0]}, 2));
  EXPECT_TRUE(state.firing());
  EXPECT_EQ(state.since_us(), 2);
  // The slow pair takes over from the fast one: still firing, no event.
  EXPECT_FALSE(state.step(Verdict{true, true, kDefaults[1]}, 3));
  // Traffic stops: the windows go empty. Prometheus would resolve (NaN > x is false); leeway
  // holds the alert until it can judge.
  EXPECT_FALSE(state.step(Verdict{false, false, {}}, 4));
  EXPECT_TRUE(state.firing());
  EXPECT_EQ(state.since_us(), 2);
  EXPECT_TRUE(state.step(Verdict{false, true, {}}, 5));
  EXPECT_FALSE(state.firing());
  EXPECT_EQ(state.since_us(), 5);
}

}  // namespace
}  // namespace leeway::slo
