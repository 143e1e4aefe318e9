// CurrentState: the last result per (check, location), and run durations since the start.
#include "daemon/current_state.h"

#include <gtest/gtest.h>

namespace leeway::daemon {
namespace {

constexpr TimeUs kT0 = 1'767'225'600'000'000;

store::StoredResult result(std::string check, std::string location, TimeUs started_us,
                           probe::Outcome outcome = probe::Outcome::kUp) {
  store::StoredResult r;
  r.check = std::move(check);
  r.location = std::move(location);
  r.started_us = started_us;
  r.total_us = 30'000;
  r.outcome = outcome;
  return r;
}

TEST(CurrentState, KeepsTheLastResultOfEachLocation) {
  CurrentState state;
  state.record(result("web/home", "seoul-kt", kT0));
  state.record(result("web/home", "busan-skb", kT0 + 1, probe::Outcome::kDown));
  state.record(result("web/api", "seoul-kt", kT0 + 2));
  state.record(result("web/home", "seoul-kt", kT0 + 10, probe::Outcome::kDegraded));

  auto home = state.last_of("web/home");
  ASSERT_EQ(home.size(), 2u);
  EXPECT_EQ(home[0].location, "busan-skb");
  EXPECT_EQ(home[0].outcome, probe::Outcome::kDown);
  EXPECT_EQ(home[1].location, "seoul-kt");
  EXPECT_EQ(home[1].outcome, probe::Outcome::kDegraded);
  EXPECT_EQ(state.last_of("web/api").size(), 1u);
  EXPECT_TRUE(state.last_of("web").empty());  // a prefix is not a check
  EXPECT_EQ(state.series().size(), 3u);
  EXPECT_EQ(state.series().at({"web/home", "seoul-kt"}).labels,
            "check=\"web/home\",location=\"seoul-kt\"");
}

TEST(CurrentState, ALateResultCountsButDoesNotReplaceANewerOne) {
  CurrentState state;
  state.record(result("web/home", "local", kT0 + 60 * kSecondUs));
  state.record(result("web/home", "local", kT0, probe::Outcome::kDown));  // from a spool
  const SeriesState& s = state.series().at({"web/home", "local"});
  EXPECT_EQ(s.last.started_us, kT0 + 60 * kSecondUs);
  EXPECT_EQ(s.last.outcome, probe::Outcome::kUp);
  EXPECT_EQ(s.count, 2u);
  EXPECT_DOUBLE_EQ(s.sum_seconds, 0.06);
}

// The counters `leeway slo rules` reads: runs by outcome, and durations of judged runs only, as
// the store's rollups count them (an unknown run is leeway's failure, not the target's).
TEST(CurrentState, CountsRunsByOutcomeAndLeavesUnknownRunsOutOfTheHistogram) {
  CurrentState state;
  state.record(result("web/home", "local", kT0));
  state.record(result("web/home", "local", kT0 + 1, probe::Outcome::kDown));
  state.record(result("web/home", "local", kT0 + 2, probe::Outcome::kDown));
  state.record(result("web/home", "local", kT0 + 3, probe::Outcome::kUnknown));
  const SeriesState& s = state.series().at({"web/home", "local"});
  EXPECT_EQ(s.runs, (std::array<std::uint64_t, 3>{1, 0, 2}));
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.unknown, 1u);
  EXPECT_EQ(s.last.outcome, probe::Outcome::kUnknown);
}

TEST(CurrentState, SeededResultsSetTheLastResultButNotTheHistogram) {
  CurrentState state;
  state.seed(result("web/home", "local", kT0));
  const SeriesState& s = state.series().at({"web/home", "local"});
  EXPECT_EQ(s.last.started_us, kT0);
  EXPECT_EQ(s.count, 0u);
  EXPECT_EQ(state.series().at({"web/home", "local"}).labels.find("\\"), std::string::npos);
}

TEST(CurrentState, LabelValuesAreEscaped) {
  CurrentState state;
  state.record(result("web/\"x\"\\y", "a\nb", kT0));
  EXPECT_EQ(state.series().begin()->second.labels,
            "check=\"web/\\\"x\\\"\\\\y\",location=\"a\\nb\"");
}

}  // namespace
}  // namespace leeway::daemon
