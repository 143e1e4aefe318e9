// One suite for every SlaStore implementation: SQLite on a temporary file (beside the result and
// incident stores in the same file) and PostgreSQL on a real server the harness starts on
// loopback.
#include "store/sla_store.h"

#include <gtest/gtest.h>

#include "store/incident_store.h"
#include "store/raw_sql.h"
#include "store/store.h"
#include "support/fixtures.h"
#include "support/postgres_server.h"

namespace leeway::store {
namespace {

constexpr TimeUs kT0 = 1'793'491'200 * kSecondUs;  // 2026-11-01T00:00:00Z
using Source = MaintenanceWindow::Source;

MaintenanceWindow window(TimeUs start_us, TimeUs end_us, std::vector<std::string> services,
                         std::string description = "database upgrade") {
  return {0,
          start_us,
          end_us,
          std::move(services),
          start_us - 7 * kDayUs,
          "ops",
          std::move(description),
          Source::kApi};
}

class SlaStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      uri_ = "sqlite:" + (testing::fresh_test_dir("leeway-sla") / "leeway.db").string();
    } else {
      if (testing::PostgresServer::skip_requested()) GTEST_SKIP() << "LEEWAY_SKIP_POSTGRES=1";
      // Fails, never skips: CI must notice a PostgreSQL store that went untested.
      auto uri = testing::fresh_postgres_database("leeway_sla");
      ASSERT_TRUE(uri) << uri.error().message << " (set LEEWAY_SKIP_POSTGRES=1 to skip)";
      uri_ = *uri;
    }
    reopen();
  }

  void reopen() {
    store_.reset();
    auto opened = open_sla_store(uri_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  MaintenanceWindow add(MaintenanceWindow w) {
    auto added = store_->add_window(std::move(w));
    EXPECT_TRUE(added) << added.error().message;
    return added ? *added : MaintenanceWindow{};
  }

  std::vector<MaintenanceWindow> windows(RangeQuery q = {}) {
    auto found = store_->windows(q);
    EXPECT_TRUE(found) << found.error().message;
    return found ? *found : std::vector<MaintenanceWindow>{};
  }

  std::string uri_;
  std::unique_ptr<SlaStore> store_;
};

std::vector<std::int64_t> ids_of(const auto& records) {
  std::vector<std::int64_t> out;
  for (const auto& r : records) out.push_back(r.id);
  return out;
}

TEST_P(SlaStoreTest, StoresWindowsAndListsThoseThatOverlapByService) {
  MaintenanceWindow a = add(window(kT0, kT0 + kHourUs, {"shop-web", "payments"}));
  MaintenanceWindow b = add(window(kT0 + 2 * kHourUs, kT0 + 3 * kHourUs, {"shop-web"}));
  MaintenanceWindow c = add(window(kT0 - kDayUs, kT0 - kDayUs + kHourUs, {"shop-web-admin"}));
  EXPECT_GT(a.id, 0);
  EXPECT_NE(a.id, b.id);

  auto all = windows();
  ASSERT_EQ(ids_of(all), (std::vector{c.id, a.id, b.id}));  // oldest start first
  EXPECT_EQ(all[1], a);
  // A service matches a whole item of the list, never a prefix.
  EXPECT_EQ(ids_of(windows({.service = "shop-web"})), (std::vector{a.id, b.id}));
  EXPECT_EQ(ids_of(windows({.service = "payments"})), (std::vector{a.id}));
  EXPECT_EQ(ids_of(windows({.service = "shop"})), (std::vector<std::int64_t>{}));
  // Overlap of half-open ranges: a window ending at `from` does not overlap it.
  EXPECT_EQ(ids_of(windows({.from_us = kT0 + kHourUs, .to_us = kT0 + 2 * kHourUs})),
            (std::vector<std::int64_t>{}));
  EXPECT_EQ(ids_of(windows({.from_us = kT0 + 30 * kMinuteUs, .to_us = kT0 + 2 * kHourUs + 1})),
            (std::vector{a.id, b.id}));
  EXPECT_EQ(ids_of(windows({.limit = 1})), (std::vector{c.id}));
}

TEST_P(SlaStoreTest, RefusesBadRecordsNamingTheFieldAndStoresNothing) {
  auto backwards = store_->add_window(window(kT0, kT0, {"shop-web"}));
  ASSERT_FALSE(backwards);
  EXPECT_EQ(backwards.error().kind, ErrorKind::kInvalidArgument);
  EXPECT_EQ(backwards.error().message, "end: must be after start");
  auto nobody = store_->add_window(window(kT0, kT0 + 1, {}));
  ASSERT_FALSE(nobody);
  EXPECT_EQ(nobody.error().message, "services: expected at least one service");

  auto no_reason = store_->add_exclusion({0, kT0, kT0 + kHourUs, {"shop-web"}, "", "ops", kT0});
  ASSERT_FALSE(no_reason);
  EXPECT_EQ(no_reason.error().message, "reason: required: say why");
  auto bad_field = store_->reclassify({0, "shop-web@x", "colour", "red", "ops", "why", kT0});
  ASSERT_FALSE(bad_field);
  EXPECT_EQ(bad_field.error().message,
            "field: expected grade, attribution or exclusion, got \"colour\"");
  auto bad_exclusion = store_->reclassify({0, "shop-web@x", "exclusion", "yes", "ops", "w", kT0});
  ASSERT_FALSE(bad_exclusion);
  EXPECT_EQ(bad_exclusion.error().message,
            "value: expected excluded or counted for an exclusion, got \"yes\"");
  auto silent = store_->reclassify({0, "shop-web@x", "grade", "1", "ops", "", kT0});
  ASSERT_FALSE(silent);
  EXPECT_EQ(silent.error().kind, ErrorKind::kInvalidArgument);

  EXPECT_TRUE(windows().empty());
  EXPECT_TRUE(store_->exclusions({})->empty());
  EXPECT_TRUE(store_->reclassifications("shop-web@x")->empty());
}

TEST_P(SlaStoreTest, SyncingTheConfigsWindowsKeepsTheUnchangedAndLeavesTheApisAlone) {
  MaintenanceWindow from_api = add(window(kT0, kT0 + kHourUs, {"shop-web"}, "from the API"));
  MaintenanceWindow one = window(kT0 + kDayUs, kT0 + kDayUs + kHourUs, {"shop-web"}, "one");
  MaintenanceWindow two = window(kT0 + 2 * kDayUs, kT0 + 2 * kDayUs + kHourUs, {"payments"}, "two");
  one.author = two.author = "config";
  one.source = two.source = Source::kConfig;
  std::vector<MaintenanceWindow> config = {one, two};
  ASSERT_TRUE(store_->sync_config_windows(config));
  auto first = windows();
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[1].source, Source::kConfig);
  EXPECT_EQ(first[1].description, "one");

  // Again with the same windows (a restart, a reload): nothing changes, ids included.
  ASSERT_TRUE(store_->sync_config_windows(config));
  EXPECT_EQ(windows(), first);

  // `one` removed from the config and `two` moved: `one` goes, `two` is new, the API's stays.
  config = {two};
  config[0].end_us += kHourUs;
  ASSERT_TRUE(store_->sync_config_windows(config));
  auto after = windows();
  ASSERT_EQ(after.size(), 2u);
  EXPECT_EQ(after[0], from_api);
  EXPECT_EQ(after[1].end_us, two.end_us + kHourUs);
  EXPECT_NE(after[1].id, first[2].id);

  // A bad window refuses the whole sync.
  config.push_back(window(kT0, kT0 - 1, {"shop-web"}));
  EXPECT_FALSE(store_->sync_config_windows(config));
  EXPECT_EQ(windows(), after);
  ASSERT_TRUE(store_->sync_config_windows({}));
  EXPECT_EQ(windows(), std::vector{from_api});
}

TEST_P(SlaStoreTest, ReclassificationsAreAnAppendOnlyTrailWhereTheLatestPerFieldIsInForce) {
  const std::string id = "shop-web@2026-11-01T00:00:00Z";
  auto first = store_->reclassify({0, id, "grade", "2", "kim", "only the search was down", kT0});
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_TRUE(store_->reclassify({0, id, "attribution", "network:kt", "kim", "KT's outage", kT0}));
  auto again = store_->reclassify({0, id, "grade", "1", "lee", "payments failed too", kT0 + 1});
  ASSERT_TRUE(again);
  ASSERT_TRUE(store_->reclassify({0, "other@x", "grade", "3", "lee", "minor", kT0}));

  auto trail = store_->reclassifications(id);
  ASSERT_TRUE(trail) << trail.error().message;
  ASSERT_EQ(trail->size(), 3u);  // nothing is replaced
  EXPECT_EQ((*trail)[0], *first);
  EXPECT_EQ((*trail)[2], *again);
  auto current = in_force(*trail);
  ASSERT_EQ(current.size(), 2u);
  EXPECT_EQ(current[0].value, "1");
  EXPECT_EQ(current[0].author, "lee");
  EXPECT_EQ(current[1].field, "attribution");
  EXPECT_TRUE(store_->reclassifications("nobody@x")->empty());
}

TEST_P(SlaStoreTest, StoresAndListsManualExclusions) {
  auto e = store_->add_exclusion(
      {0, kT0, kT0 + kHourUs, {"shop-web", "payments"}, "the customer's firewall", "kim", kT0});
  ASSERT_TRUE(e) << e.error().message;
  ASSERT_TRUE(store_->add_exclusion(
      {0, kT0 + kDayUs, kT0 + kDayUs + 1, {"payments"}, "r", "kim", kT0 + kDayUs}));
  auto all = store_->exclusions({});
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0], *e);
  EXPECT_EQ(store_->exclusions({.service = "shop-web"})->size(), 1u);
  EXPECT_EQ(store_->exclusions({.from_us = kT0 + kHourUs})->size(), 1u);
}

TEST_P(SlaStoreTest, ReopeningKeepsEverythingBesideTheOtherStores) {
  MaintenanceWindow w = add(window(kT0, kT0 + kHourUs, {"shop-web"}));
  ASSERT_TRUE(store_->reclassify({0, "shop-web@x", "exclusion", "excluded", "kim", "why", kT0}));
  ASSERT_TRUE(store_->add_exclusion({0, kT0, kT0 + 1, {"shop-web"}, "why", "kim", kT0}));
  // The result and incident stores open on the same database, each with its own tables.
  auto results = open_store(uri_);
  ASSERT_TRUE(results) << results.error().message;
  auto incidents = open_incident_store(uri_);
  ASSERT_TRUE(incidents) << incidents.error().message;
  reopen();
  EXPECT_EQ(windows(), std::vector{w});
  EXPECT_EQ(store_->reclassifications("shop-web@x")->size(), 1u);
  EXPECT_EQ(store_->exclusions({})->size(), 1u);
}

FrozenReport frozen(int revision, std::string sha) {
  return {"shop-ops",
          "2026-10",
          revision,
          std::move(sha),
          "{\"incidents\":{}}",
          kT0 + revision * kHourUs,
          "{}",
          "# report",
          "<html></html>",
          "id\r\n"};
}

// Revisions are kept, never rewritten: the latest is served unless one is asked for, and a
// revision stored twice (two requests freezing at once) keeps the first.
TEST_P(SlaStoreTest, FrozenReportsKeepEveryRevision) {
  EXPECT_EQ(*store_->frozen_report("shop-ops", "2026-10", std::nullopt), std::nullopt);
  EXPECT_EQ(*store_->add_frozen_report(frozen(1, "aa")), true);
  EXPECT_EQ(*store_->add_frozen_report(frozen(1, "bb")), false);
  EXPECT_EQ(*store_->add_frozen_report(frozen(2, "cc")), true);
  EXPECT_EQ(*store_->frozen_report("shop-ops", "2026-10", std::nullopt), frozen(2, "cc"));
  EXPECT_EQ(*store_->frozen_report("shop-ops", "2026-10", 1), frozen(1, "aa"));
  EXPECT_EQ(*store_->frozen_report("shop-ops", "2026-10", 3), std::nullopt);
  EXPECT_EQ(*store_->frozen_report("shop-ops", "2026-11", std::nullopt), std::nullopt);
  reopen();
  EXPECT_EQ(*store_->frozen_report("shop-ops", "2026-10", std::nullopt), frozen(2, "cc"));
}

// An incident whose id changed takes its reclassifications along, each as it was made.
TEST_P(SlaStoreTest, ReclassificationsFollowAMovedIncident) {
  auto made = store_->reclassify({0, "web@a", "grade", "2", "ops", "short", kT0});
  ASSERT_TRUE(made) << made.error().message;
  ASSERT_TRUE(store_->reclassify({0, "web@other", "grade", "1", "ops", "long", kT0}));
  ASSERT_TRUE(store_->move_reclassifications("web@a", "web@b"));
  EXPECT_TRUE(store_->reclassifications("web@a")->empty());
  Reclassification moved = *made;
  moved.incident_id = "web@b";
  EXPECT_EQ(*store_->reclassifications("web@b"), std::vector{moved});
  EXPECT_EQ(store_->reclassifications("web@other")->size(), 1u);
}

// A database of schema 1 (before frozen reports) is migrated and keeps its records.
TEST_P(SlaStoreTest, MigratesSchemaOneToTwo) {
  MaintenanceWindow w = add(window(kT0, kT0 + kHourUs, {"shop-web"}));
  store_.reset();
  const char* undo = "DROP TABLE frozen_reports; UPDATE sla_schema SET version = 1";
  ASSERT_EQ(testing::run_sql(uri_, undo), "");
  reopen();
  EXPECT_EQ(windows(), std::vector{w});
  EXPECT_EQ(*store_->add_frozen_report(frozen(1, "aa")), true);
}

// A database written by a newer leeway is refused, not misread.
TEST_P(SlaStoreTest, RefusesANewerSchema) {
  store_.reset();
  ASSERT_EQ(testing::run_sql(uri_, "UPDATE sla_schema SET version = 99"), "");
  auto opened = open_sla_store(uri_);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find(
                "SLA tables have schema version 99, newer than this leeway supports (2); "
                "upgrade leeway"),
            std::string::npos)
      << opened.error().message;
}

INSTANTIATE_TEST_SUITE_P(Stores, SlaStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace leeway::store
