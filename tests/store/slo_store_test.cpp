// One suite for every SloStore implementation: SQLite on a temporary file (beside the result and
// incident stores in the same file) and PostgreSQL on a real server the harness starts on
// loopback.
#include "store/slo_store.h"

#include <gtest/gtest.h>

#include "store/incident_store.h"
#include "store/raw_sql.h"
#include "support/fixtures.h"
#include "support/postgres_server.h"

namespace leeway::store {
namespace {

constexpr TimeUs kT0 = 1'635'160'000 * kSecondUs;  // 2021-10-25T11:06:40Z

StoredAlertEvent event(std::string slo, std::string severity, bool firing, TimeUs at_us) {
  return {0,
          slo,
          "shop",
          std::move(severity),
          firing,
          at_us,
          at_us / kMinuteUs * kMinuteUs,
          R"({"burn_rates":{"1h":15.5,"5m":null}})"};
}

StoredDecision decision(std::string service, std::string answer, TimeUs at_us) {
  return {0,
          std::move(service),
          at_us,
          "ci",
          "deploy",
          std::move(answer),
          {"SLO shop-up: 80.0% of the error budget remains", "no incident is open"},
          std::nullopt};
}

class SloStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      uri_ = "sqlite:" + (testing::fresh_test_dir("leeway-slos") / "leeway.db").string();
    } else {
      if (testing::PostgresServer::skip_requested()) GTEST_SKIP() << "LEEWAY_SKIP_POSTGRES=1";
      // Fails, never skips: CI must notice a PostgreSQL store that went untested.
      auto uri = testing::fresh_postgres_database("leeway_slos");
      ASSERT_TRUE(uri) << uri.error().message << " (set LEEWAY_SKIP_POSTGRES=1 to skip)";
      uri_ = *uri;
    }
    reopen();
  }

  void reopen() {
    store_.reset();
    auto opened = open_slo_store(uri_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  StoredAlertEvent add(StoredAlertEvent e) {
    auto added = store_->add_alert_event(std::move(e));
    EXPECT_TRUE(added) << added.error().message;
    return added ? *added : StoredAlertEvent{};
  }

  StoredDecision add(StoredDecision d) {
    auto added = store_->add_decision(std::move(d));
    EXPECT_TRUE(added) << added.error().message;
    return added ? *added : StoredDecision{};
  }

  std::string uri_;
  std::unique_ptr<SloStore> store_;
};

TEST_P(SloStoreTest, KeepsAlertEventsNewestFirstAndPages) {
  auto fired = add(event("shop-up", "page", true, kT0));
  auto ticket = add(event("shop-fast", "ticket", true, kT0 + kMinuteUs));
  auto resolved = add(event("shop-up", "page", false, kT0 + kHourUs));
  EXPECT_LT(fired.id, ticket.id);
  EXPECT_LT(ticket.id, resolved.id);

  auto all = store_->alert_events({});
  ASSERT_TRUE(all) << all.error().message;
  EXPECT_EQ(*all, (std::vector{resolved, ticket, fired}));

  auto up = store_->alert_events({.slo = "shop-up", .limit = 1});
  ASSERT_TRUE(up);
  EXPECT_EQ(*up, std::vector{resolved});
  auto next = store_->alert_events({.slo = "shop-up", .before_id = up->back().id, .limit = 1});
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, std::vector{fired});
  EXPECT_EQ(next->front().document, R"({"burn_rates":{"1h":15.5,"5m":null}})");
  EXPECT_EQ(next->front().data_us, kT0 / kMinuteUs * kMinuteUs);
}

TEST_P(SloStoreTest, TheLatestEventOfEachAlertIsItsState) {
  add(event("shop-up", "page", true, kT0));
  auto page = add(event("shop-up", "page", false, kT0 + kHourUs));
  auto ticket = add(event("shop-up", "ticket", true, kT0 + kMinuteUs));
  auto other = add(event("shop-fast", "page", true, kT0 + 2 * kMinuteUs));
  auto latest = store_->latest_alert_events();
  ASSERT_TRUE(latest) << latest.error().message;
  EXPECT_EQ(*latest, (std::vector{page, ticket, other}));
}

TEST_P(SloStoreTest, KeepsDecisionsWithTheirReasonsPerServiceAndPages) {
  auto first = add(decision("shop", "go", kT0));
  auto held = add(decision("shop", "hold", kT0 + kMinuteUs));
  add(decision("blog", "go", kT0 + kMinuteUs));
  auto page = store_->decisions({.service = "shop", .limit = 1});
  ASSERT_TRUE(page) << page.error().message;
  EXPECT_EQ(*page, std::vector{held});
  auto next = store_->decisions({.service = "shop", .before_id = held.id, .limit = 1});
  ASSERT_TRUE(next);
  EXPECT_EQ(*next, std::vector{first});
  EXPECT_EQ(next->front().reasons.size(), 2u);
  EXPECT_EQ(store_->decisions({})->size(), 3u);
}

// A change takes the latest "go" of its service in the bound that has no change yet; a hold,
// another service's go or one outside the bound is never taken.
TEST_P(SloStoreTest, LinksAChangeToTheLatestGoNotYetLinked) {
  auto old_go = add(decision("shop", "go", kT0 - 2 * kHourUs));
  auto go = add(decision("shop", "go", kT0));
  auto later_go = add(decision("shop", "go", kT0 + 5 * kMinuteUs));
  add(decision("shop", "hold", kT0 + 6 * kMinuteUs));
  add(decision("blog", "go", kT0 + 7 * kMinuteUs));

  const TimeUs at = kT0 + 10 * kMinuteUs;
  auto linked = store_->link_change("shop", 41, at - kHourUs, at);
  ASSERT_TRUE(linked) << linked.error().message;
  ASSERT_TRUE(*linked);
  EXPECT_EQ((*linked)->id, later_go.id);
  EXPECT_EQ((*linked)->change, 41);
  linked = store_->link_change("shop", 42, at - kHourUs, at);
  ASSERT_TRUE(linked && *linked);
  EXPECT_EQ((*linked)->id, go.id);
  linked = store_->link_change("shop", 43, at - kHourUs, at);
  ASSERT_TRUE(linked);
  EXPECT_FALSE(*linked) << "the go two hours before is out of the bound";

  auto of = store_->decision_of_change(42);
  ASSERT_TRUE(of && *of);
  EXPECT_EQ((*of)->id, go.id);
  of = store_->decision_of_change(43);
  ASSERT_TRUE(of);
  EXPECT_FALSE(*of);
  auto listed = store_->decisions({.service = "shop"});
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->back().id, old_go.id);
  EXPECT_FALSE(listed->back().change);
}

TEST_P(SloStoreTest, ReopeningKeepsEverythingBesideTheOtherTables) {
  auto incidents = open_incident_store(uri_);
  ASSERT_TRUE(incidents) << incidents.error().message;
  ASSERT_TRUE((*incidents)->record_change({0, "shop", kT0, "deploy", "v2", false, "ci"}));
  auto e = add(event("shop-up", "page", true, kT0));
  auto d = add(decision("shop", "go", kT0));
  reopen();
  EXPECT_EQ(*store_->alert_events({}), std::vector{e});
  EXPECT_EQ(*store_->decisions({}), std::vector{d});
  EXPECT_EQ((*incidents)->changes({})->size(), 1u);
}

// A database written by a newer leeway is refused, not misread.
TEST_P(SloStoreTest, RefusesANewerSchema) {
  store_.reset();
  ASSERT_EQ(testing::run_sql(uri_, "UPDATE slo_schema SET version = 99"), "");
  auto opened = open_slo_store(uri_);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("SLO tables have schema version 99, newer than this "
                                        "leeway supports (1); upgrade leeway"),
            std::string::npos)
      << opened.error().message;
  EXPECT_TRUE(open_incident_store(uri_)) << "the other tables' versions are their own";
}

INSTANTIATE_TEST_SUITE_P(Stores, SloStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace leeway::store
