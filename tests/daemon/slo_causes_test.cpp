// The daemon's SLO state on real stores, fed by a real incident tracker: a time-based SLI counts
// a minute bad only when an incident of the service covers it and a network saw the service down
// in that minute (a location going silent, or one vantage failing beside a working one in its
// ISP, makes no minute bad); the budget spent by incident (a network's apart, spending or not as
// the SLO says) and by change; the burn-down.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "config/config.h"
#include "core/clock.h"
#include "daemon/slos.h"
#include "incident/tracker.h"
#include "store/incident_store.h"
#include "store/slo_store.h"
#include "store/store.h"
#include "support/fixtures.h"
#include "support/token_hash.h"

namespace leeway::testing {
namespace {

constexpr TimeUs kT0 = 1'700'000'040 * kSecondUs;  // a whole minute
constexpr DurationUs kInterval = 10 * kSecondUs;

class SloCausesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_test_dir("leeway-slo-causes");
    path_ = (dir_ / "leeway.db").string();
    std::ofstream(dir_ / "leeway.yaml")
        << "server:\n  store: " << path_ << "\nlocations:\n"
        << "  - id: a\n    isp: isp-a\n    token: \"" << token_hash_text("ta") << "\"\n"
        << "  - id: b\n    isp: isp-b\n    token: \"" << token_hash_text("tb") << "\"\n"
        << "  - id: c\n    isp: isp-c\n    token: \"" << token_hash_text("tc") << "\"\n"
        << "  - id: d\n    isp: isp-a\n    token: \"" << token_hash_text("td") << "\"\n"
        << "defaults:\n  interval: 10s\n  locations: [a, b, c]\n"
        << "incidents:\n  change_window: 30m\n"
        << "services:\n  - id: web\n    checks:\n"
        << "      - name: home\n        target: http://127.0.0.1:9/\n"
        << "    slos:\n"
        << "      - id: web-up\n        sli: availability_minutes\n        objective: 99\n"
        << "        window: 1h\n"
        << "      - id: web-up-own\n        sli: availability_minutes\n        objective: 99\n"
        << "        window: 1h\n        network_spends_budget: false\n";
    auto cfg = config::load_config((dir_ / "leeway.yaml").string());
    ASSERT_TRUE(cfg.ok()) << (cfg.errors.empty() ? "" : cfg.errors[0].to_string());
    config_ = std::move(*cfg.config);
    auto results = store::open_store(path_);
    auto incidents = store::open_incident_store(path_);
    auto records = store::open_slo_store(path_);
    ASSERT_TRUE(results && incidents && records);
    results_ = std::move(*results);
    incidents_ = std::move(*incidents);
    records_ = std::move(*records);
  }

  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Results of web/home at `location` every 10 s in minutes [from, to) after kT0.
  void runs(std::vector<store::StoredResult>& out, const std::string& location, int from, int to,
            probe::Outcome outcome) {
    for (TimeUs t = kT0 + from * kMinuteUs; t < kT0 + to * kMinuteUs; t += kInterval) {
      store::StoredResult r;
      r.check = "web/home";
      r.location = location;
      r.started_us = t;
      r.total_us = 1000;
      r.outcome = outcome;
      if (outcome == probe::Outcome::kDown) r.stage = probe::Stage::kStatus;
      out.push_back(r);
    }
  }

  // Stores the results and lets a real tracker make the incidents of them.
  std::vector<store::Committed> detect(std::vector<store::StoredResult> batch, TimeUs now) {
    incident::TrackerOptions o;
    o.detector.checks["web/home"] = {"web", kInterval};
    for (const char* l : {"a", "b", "c"})
      o.detector.locations[l].labels = {std::string("isp-") + l, ""};
    o.detector.locations["d"].labels = {"isp-a", ""};  // a's neighbour, for the tests that use it
    o.detector.change_window_us = 30 * kMinuteUs;
    ManualClock clock(now);
    incident::Tracker tracker(o, *results_, *incidents_, clock);
    EXPECT_TRUE(tracker.restore());
    auto committed = results_->write(batch);
    EXPECT_TRUE(committed) << committed.error().message;
    if (!committed) return {};
    tracker.add(*committed);
    EXPECT_EQ(tracker.status().last_error, "");
    return *committed;
  }

  std::filesystem::path dir_;
  std::string path_;
  config::Config config_;
  std::unique_ptr<store::Store> results_;
  std::unique_ptr<store::IncidentStore> incidents_;
  std::unique_ptr<store::SloStore> records_;
};

std::string describe(const daemon::Causes& c) {
  return daemon::causes_json(c).dump(2);
}

TEST_F(SloCausesTest, ASilentLocationMakesNoMinuteBadAndTheBudgetIsSpentByCause) {
  std::vector<store::StoredResult> batch;
  runs(batch, "a", 0, 20, probe::Outcome::kUp);
  runs(batch, "b", 0, 20, probe::Outcome::kUp);
  runs(batch, "c", 0, 5, probe::Outcome::kUp);  // c falls silent at 5, back at 10
  runs(batch, "c", 10, 50, probe::Outcome::kUp);
  runs(batch, "a", 20, 30, probe::Outcome::kDown);
  runs(batch, "b", 20, 30, probe::Outcome::kDown);
  runs(batch, "a", 30, 50, probe::Outcome::kUp);
  runs(batch, "b", 30, 40, probe::Outcome::kUp);
  runs(batch, "b", 40, 50, probe::Outcome::kDown);  // isp-b alone from 40 on
  const TimeUs now = kT0 + 50 * kMinuteUs + 5 * kSecondUs;
  detect(batch, now);
  auto early =
      incidents_->record_change({0, "web", kT0 + 5 * kMinuteUs, "deploy", "v2", false, "ci"});
  auto late =
      incidents_->record_change({0, "web", kT0 + 38 * kMinuteUs, "deploy", "v3", true, "ci"});
  ASSERT_TRUE(early && late);
  auto changes = incidents_->changes({});
  ASSERT_TRUE(changes);

  daemon::SloState slos(config_, {*results_, *incidents_, *records_});
  ASSERT_TRUE(slos.restore(now));

  // web-up: 20:00-30:00 (two networks of three down) and 40:00-50:00 (isp-b): 20 bad minutes;
  // the incident c's silence raised spends nothing.
  auto up = slos.view("web-up");
  ASSERT_TRUE(up);
  auto causes = slos.causes("web-up", *changes);
  ASSERT_TRUE(causes);
  EXPECT_EQ(up->status.budget.spent, 20) << describe(*causes);
  EXPECT_EQ(up->status.budget.counted.data_minutes, 50);
  ASSERT_EQ(causes->incidents.size(), 3u) << describe(*causes);
  EXPECT_EQ(causes->incidents[0].spent, 0) << "c's silence alone";
  EXPECT_EQ(causes->incidents[1].verdict, "service");
  EXPECT_EQ(causes->incidents[1].spent, 10);
  EXPECT_EQ(causes->incidents[2].verdict, "network:isp-b");
  EXPECT_TRUE(causes->incidents[2].network);
  EXPECT_EQ(causes->incidents[2].spent, 10);
  EXPECT_EQ(causes->in_incidents, 20);
  EXPECT_EQ(causes->by_network, 10);
  EXPECT_EQ(causes->outside_incidents, 0);
  ASSERT_EQ(causes->changes.size(), 2u);
  EXPECT_EQ(causes->changes[0].spent, 10);  // 20-30 within 30 minutes of v2
  EXPECT_FALSE(causes->changes[0].change.improvement);
  EXPECT_EQ(causes->changes[1].spent, 10);  // 40-50 within 30 minutes of v3
  EXPECT_TRUE(causes->changes[1].change.improvement);

  // web-up-own: isp-b's bad minutes leave the window.
  auto own = slos.view("web-up-own");
  auto own_causes = slos.causes("web-up-own", *changes);
  ASSERT_TRUE(own && own_causes);
  EXPECT_EQ(own->status.budget.spent, 10) << describe(*own_causes);
  EXPECT_EQ(own->status.budget.counted.data_minutes, 40);
  EXPECT_FALSE(own_causes->incidents[2].spends);
  // isp-c's silence and isp-b's failure, shown apart.
  EXPECT_EQ(own_causes->network_minutes,
            10 + (own_causes->incidents[0].to_us - own_causes->incidents[0].from_us) / kMinuteUs);

  auto points = slos.burn_down("web-up", 11);
  ASSERT_EQ(points.size(), 11u);
  EXPECT_EQ(points[0].at_us, up->status.budget.period.start_us);
  EXPECT_EQ(points[0].remaining_ratio, 1.0);
  EXPECT_LT(*points[10].remaining_ratio, 0);  // 20 minutes spent of 0.6
}

// One vantage failing while its neighbour behind the same ISP is fine is the vantage's problem:
// the incident is opened (and attributed to it), but no user felt it, so no minute is bad. When
// the neighbour fails too, the ISP is down in those minutes: they are bad, and a network's.
TEST_F(SloCausesTest, OneBrokenVantageBesideAWorkingOneSpendsNoBudget) {
  std::vector<store::StoredResult> batch;
  for (const char* l : {"a", "b", "c"}) runs(batch, l, 0, 30, probe::Outcome::kUp);
  runs(batch, "a", 20, 30, probe::Outcome::kDown);
  batch.erase(std::remove_if(batch.begin(), batch.end(),
                             [](const store::StoredResult& r) {
                               return r.location == "a" && r.started_us >= kT0 + 20 * kMinuteUs &&
                                      r.outcome == probe::Outcome::kUp;
                             }),
              batch.end());
  runs(batch, "d", 0, 10, probe::Outcome::kUp);
  runs(batch, "d", 10, 30, probe::Outcome::kDown);
  const TimeUs now = kT0 + 30 * kMinuteUs + 5 * kSecondUs;
  detect(batch, now);

  daemon::SloState slos(config_, {*results_, *incidents_, *records_});
  ASSERT_TRUE(slos.restore(now));
  auto causes = slos.causes("web-up", {});
  ASSERT_TRUE(causes);
  ASSERT_EQ(causes->incidents.size(), 1u) << describe(*causes);
  // 10:00-20:00: d alone (1 of isp-a's 2 locations: no majority); 20:00-30:00: a and d.
  EXPECT_EQ(slos.view("web-up")->status.budget.spent, 10) << describe(*causes);
  EXPECT_EQ(causes->by_network, 10) << describe(*causes);
  EXPECT_EQ(slos.view("web-up-own")->status.budget.spent, 0) << describe(*causes);
}

// An incident the detector writes after the SLOs were restored reaches them at the next
// evaluation, whichever of the two subscribers saw the results first.
TEST_F(SloCausesTest, IncidentsAreReadAgainAtEachEvaluation) {
  std::vector<store::StoredResult> batch;
  runs(batch, "a", 0, 10, probe::Outcome::kUp);
  runs(batch, "b", 0, 10, probe::Outcome::kUp);
  runs(batch, "c", 0, 10, probe::Outcome::kUp);
  ASSERT_TRUE(results_->write(batch));
  TimeUs now = kT0 + 10 * kMinuteUs + 5 * kSecondUs;
  daemon::SloState slos(config_, {*results_, *incidents_, *records_});
  ASSERT_TRUE(slos.restore(now));
  EXPECT_EQ(slos.view("web-up")->status.budget.spent, 0);

  std::vector<store::StoredResult> down;
  runs(down, "a", 10, 15, probe::Outcome::kDown);
  runs(down, "b", 10, 15, probe::Outcome::kDown);
  runs(down, "c", 10, 15, probe::Outcome::kDown);
  now = kT0 + 15 * kMinuteUs + 5 * kSecondUs;
  auto committed_down = detect(down, now);
  slos.add(committed_down);  // read before the cover knows the incident: good minutes
  slos.evaluate(now);
  EXPECT_EQ(slos.view("web-up")->status.budget.spent, 5);
  auto causes = slos.causes("web-up", {});
  ASSERT_TRUE(causes);
  ASSERT_EQ(causes->incidents.size(), 1u);
  EXPECT_EQ(causes->incidents[0].verdict, "service");
}

}  // namespace
}  // namespace leeway::testing
