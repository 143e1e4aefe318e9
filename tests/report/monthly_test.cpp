// A contract's monthly report from real stores (SQLite on a temporary file, PostgreSQL on a
// server the harness starts on loopback), as the API serves it: a provisional month is not
// frozen; a closed month is frozen once, served unchanged while its inputs are, and an edited
// contract (its penalty, a grade) makes a new revision that says which terms changed, the
// earlier one still served when asked for.
#include "report/monthly.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "report/shop_ops.h"
#include "support/fixtures.h"
#include "support/postgres_server.h"

namespace leeway::report {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

constexpr TimeUs kOpened = 1'791'590'400 * kSecondUs;  // 2026-10-10T00:00:00Z

sla::Contract contract() {
  return testing::shop_ops();
}

std::shared_ptr<const config::Config> web_config() {
  auto config = std::make_shared<config::Config>();
  config::Service web;
  web.id = "web";
  config::Check home;
  home.id = "web/home";
  home.service_id = "web";
  home.name = "home";
  home.locations = {"seoul", "busan"};
  web.checks.push_back(home);
  config->services.push_back(web);
  return config;
}

// A 45-minute incident seen from both locations, acknowledged after 5 minutes: grade 1.
store::StoredIncident incident() {
  json document = {{"checks", {"web/home"}},
                   {"worst", "down"},
                   {"locations", {{{"location", "seoul"}}, {{"location", "busan"}}}}};
  return {"web@2026-10-10T00:00:00Z", "web",          kOpened,
          kOpened + 45 * kMinuteUs,   "resolved",     "service",
          "web failed everywhere",    document.dump()};
}

class MonthlyTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string uri;
    if (GetParam() == "sqlite") {
      uri = "sqlite:" + (testing::fresh_test_dir("leeway-monthly") / "leeway.db").string();
    } else {
      if (testing::PostgresServer::skip_requested()) GTEST_SKIP() << "LEEWAY_SKIP_POSTGRES=1";
      // Fails, never skips: CI must notice a PostgreSQL store that went untested.
      auto pg = testing::fresh_postgres_database("leeway_monthly");
      ASSERT_TRUE(pg) << pg.error().message << " (set LEEWAY_SKIP_POSTGRES=1 to skip)";
      uri = *pg;
    }
    auto results = store::open_store(uri);
    ASSERT_TRUE(results) << results.error().message;
    results_ = std::move(*results);
    auto incidents = store::open_incident_store(uri);
    ASSERT_TRUE(incidents) << incidents.error().message;
    incidents_ = std::move(*incidents);
    auto sla = store::open_sla_store(uri);
    ASSERT_TRUE(sla) << sla.error().message;
    sla_ = std::move(*sla);
    const store::StoredIncident stored = incident();
    ASSERT_TRUE(incidents_->write_incidents({&stored, 1}));
    ASSERT_TRUE(incidents_->add_note(
        stored.id, {store::IncidentNote::Kind::kAck, kOpened + 5 * kMinuteUs, "lee", ""}));
  }

  // The report of October 2026 as JSON, asked for at `now_us`.
  Result<MonthlyReport> report(const sla::Contract& c, TimeUs now_us,
                               std::optional<int> revision = std::nullopt) {
    MonthlyRequest q{
        web_config(),       c,        sla::report_month(c.time_zone, {2026, 10}).value(),
        sla::Format::kJson, revision, now_us};
    return monthly_report(q, Stores{*results_, *incidents_, *sla_});
  }

  std::unique_ptr<store::Store> results_;
  std::unique_ptr<store::IncidentStore> incidents_;
  std::unique_ptr<store::SlaStore> sla_;
};

TEST_P(MonthlyTest, AProvisionalMonthIsNotFrozen) {
  auto r = report(contract(), kOpened + kDayUs);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->revision, std::nullopt);
  const json j = json::parse(r->body);
  EXPECT_EQ(j["provisional"], true);
  EXPECT_EQ(j["incidents"][0]["grade"]["effective"], "1");
  EXPECT_EQ(*sla_->frozen_report("shop-ops", "2026-10", std::nullopt), std::nullopt);
}

// By hand: grade 1, 3,000,000; acknowledged in 5 of 10 minutes; no credit (no tiers): 3,000,000.
// Edited: grade 1's penalty 3,500,000 and grade 2 dropped: 3,500,000 in revision 2.
TEST_P(MonthlyTest, AnEditedContractMakesAVisibleRevision) {
  const TimeUs after_month = kOpened + 30 * kDayUs;
  auto first = report(contract(), after_month);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->revision, 1);
  EXPECT_EQ(json::parse(first->body)["total"]["minor_units"], 3'000'000);
  // Asked again with the same contract and evidence: the same frozen revision.
  auto again = report(contract(), after_month + kHourUs);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->body, first->body);

  sla::Contract edited = contract();
  edited.grades[0].penalty_minor_units = 3'500'000;
  edited.grades.pop_back();
  auto second = report(edited, after_month + 2 * kHourUs);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->revision, 2);
  const json j = json::parse(second->body);
  EXPECT_EQ(j["total"]["minor_units"], 3'500'000);
  EXPECT_EQ(j["revision"]["previous"]["total"]["minor_units"], 3'000'000);
  ASSERT_EQ(j["revision"]["changes"].size(), 1u) << j["revision"].dump(2);
  const std::string change = j["revision"]["changes"][0];
  EXPECT_THAT(change, HasSubstr("contract shop-ops: grades in order [\"1\",\"2\"] -> [\"1\"]; "
                                "penalty of grade 1 KRW 3,000,000 -> KRW 3,500,000; "));
  EXPECT_THAT(change, HasSubstr("penalty of grade 2 KRW 1,000,000 -> removed"));

  // The first revision is kept; an edit back is a third revision, not a silent return.
  auto kept = report(edited, after_month + 3 * kHourUs, 1);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_EQ(kept->body, first->body);
  auto back = report(contract(), after_month + 4 * kHourUs);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->revision, 3);
  auto missing = report(contract(), after_month, 9);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().message, "revision: no revision 9 of shop-ops's report for 2026-10");
}

INSTANTIATE_TEST_SUITE_P(Stores, MonthlyTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace leeway::report
