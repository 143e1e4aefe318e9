// One suite for every IncidentStore implementation: SQLite on a temporary file (beside the result
// store in the same file) and PostgreSQL on a real server the harness starts on loopback.
#include "store/incident_store.h"

#include <gtest/gtest.h>

#include "store/raw_sql.h"
#include "store/store.h"
#include "support/fixtures.h"
#include "support/postgres_server.h"

namespace leeway::store {
namespace {

constexpr TimeUs kT0 = 1'635'160'000 * kSecondUs;  // 2021-10-25T11:06:40Z

StoredIncident make(std::string service, TimeUs opened_us, std::optional<TimeUs> resolved_us,
                    std::string verdict = "service") {
  StoredIncident i;
  i.service = std::move(service);
  i.opened_us = opened_us;
  i.id = i.service + "@" + format_rfc3339(opened_us);
  i.resolved_us = resolved_us;
  i.state = resolved_us ? "resolved" : "open";
  i.verdict = std::move(verdict);
  i.summary = i.service + " fails: " + i.verdict;
  i.document = R"({"id":")" + i.id + R"(","timeline":[]})";
  return i;
}

std::vector<std::string> ids(const std::vector<StoredIncident>& incidents) {
  std::vector<std::string> out;
  for (const auto& i : incidents) out.push_back(i.id);
  return out;
}

class IncidentStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      uri_ = "sqlite:" + (testing::fresh_test_dir("leeway-incidents") / "leeway.db").string();
    } else {
      if (testing::PostgresServer::skip_requested()) GTEST_SKIP() << "LEEWAY_SKIP_POSTGRES=1";
      // Fails, never skips: CI must notice a PostgreSQL store that went untested.
      auto uri = testing::fresh_postgres_database("leeway_incidents");
      ASSERT_TRUE(uri) << uri.error().message << " (set LEEWAY_SKIP_POSTGRES=1 to skip)";
      uri_ = *uri;
    }
    reopen();
  }

  void reopen() {
    store_.reset();
    auto opened = open_incident_store(uri_);
    ASSERT_TRUE(opened) << opened.error().message;
    store_ = std::move(*opened);
  }

  void write(std::vector<StoredIncident> incidents, std::vector<IncidentRetirement> retired = {}) {
    auto s = store_->write_incidents(incidents, retired);
    ASSERT_TRUE(s) << s.error().message;
  }

  std::vector<StoredIncident> list(IncidentQuery q = {}) {
    auto found = store_->incidents(q);
    EXPECT_TRUE(found) << found.error().message;
    return found ? *found : std::vector<StoredIncident>{};
  }

  std::string uri_;
  std::unique_ptr<IncidentStore> store_;
};

TEST_P(IncidentStoreTest, UpsertsByIdAndReadsOneBack) {
  StoredIncident open = make("shop-web", kT0, std::nullopt, "network:kt");
  write({open});
  auto got = store_->incident(open.id);
  ASSERT_TRUE(got) << got.error().message;
  EXPECT_EQ(*got, open);

  // The same id again replaces every field: it resolved, the verdict changed.
  StoredIncident resolved = make("shop-web", kT0, kT0 + 5 * kMinuteUs, "service");
  resolved.document = R"({"id":")" + resolved.id + R"(","timeline":["opened","resolved"]})";
  write({resolved});
  got = store_->incident(open.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(*got, resolved);
  EXPECT_EQ(ids(list()), std::vector<std::string>{open.id});

  auto missing = store_->incident("shop-web@nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
  EXPECT_EQ(missing.error().message, "no such incident: \"shop-web@nope\"");
}

TEST_P(IncidentStoreTest, ListsByServiceStateAndOverlapNewestFirst) {
  const StoredIncident a = make("shop-web", kT0, kT0 + 10 * kMinuteUs);
  const StoredIncident b = make("shop-web", kT0 + kHourUs, std::nullopt);
  const StoredIncident c = make("api", kT0 + 30 * kMinuteUs, kT0 + 40 * kMinuteUs);
  write({a, b, c});

  EXPECT_EQ(ids(list()), (std::vector<std::string>{b.id, c.id, a.id}));
  EXPECT_EQ(ids(list({.service = "shop-web"})), (std::vector<std::string>{b.id, a.id}));
  EXPECT_EQ(ids(list({.state = "open"})), std::vector<std::string>{b.id});
  EXPECT_EQ(ids(list({.service = "api", .state = "open"})), std::vector<std::string>{});
  // Overlap with [from, to): a resolved at +10 min, c from +30 to +40, b open since +60.
  EXPECT_EQ(ids(list({.from_us = kT0 + 5 * kMinuteUs, .to_us = kT0 + 35 * kMinuteUs})),
            (std::vector<std::string>{c.id, a.id}));
  EXPECT_EQ(ids(list({.from_us = kT0 + 41 * kMinuteUs, .to_us = kT0 + 50 * kMinuteUs})),
            std::vector<std::string>{});
  EXPECT_EQ(ids(list({.from_us = kT0 + 2 * kHourUs})), std::vector<std::string>{b.id});
  EXPECT_EQ(ids(list({.limit = 1})), std::vector<std::string>{b.id});
}

TEST_P(IncidentStoreTest, AcksAndNotesStayThroughUpsertsAndCountInListings) {
  StoredIncident i = make("shop-web", kT0, std::nullopt);
  write({i});
  const IncidentNote ack{IncidentNote::Kind::kAck, kT0 + kMinuteUs, "ops", ""};
  const IncidentNote note{IncidentNote::Kind::kNote, kT0 + 2 * kMinuteUs, "ops",
                          "kt says its DNS is down nationwide"};
  ASSERT_TRUE(store_->add_note(i.id, ack));
  ASSERT_TRUE(store_->add_note(i.id, note));
  i.resolved_us = kT0 + kHourUs;
  i.state = "resolved";
  write({i});

  auto got = store_->incident(i.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->notes, (std::vector<IncidentNote>{ack, note}));
  EXPECT_EQ(got->acks, 1);
  ASSERT_EQ(list().size(), 1u);
  EXPECT_EQ(list()[0].acks, 1);
  EXPECT_TRUE(list()[0].notes.empty());

  const Status unknown = store_->add_note("shop-web@nope", note);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().kind, ErrorKind::kNotFound);
}

TEST_P(IncidentStoreTest, RetiringMovesNotesToTheIncidentThatReplacesIt) {
  const StoredIncident old = make("shop-web", kT0, std::nullopt);
  const StoredIncident gone = make("api", kT0, std::nullopt);
  write({old, gone});
  const IncidentNote note{IncidentNote::Kind::kNote, kT0, "ops", "looking"};
  ASSERT_TRUE(store_->add_note(old.id, note));
  ASSERT_TRUE(store_->add_note(gone.id, note));

  // Late results moved the opening a minute earlier: a new id takes the old one's place.
  const StoredIncident earlier = make("shop-web", kT0 - kMinuteUs, std::nullopt);
  write({earlier}, {{old.id, earlier.id}, {gone.id, ""}});
  EXPECT_EQ(ids(list()), std::vector<std::string>{earlier.id});
  auto got = store_->incident(earlier.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->notes, std::vector<IncidentNote>{note});
  EXPECT_FALSE(store_->incident(old.id));
  // The notes of one retired without a successor went with it: a new incident with its id
  // starts without them.
  write({gone});
  got = store_->incident(gone.id);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->notes.empty());
}

// A retirement with a successor records the move in its transaction, kept until forgotten, so
// that what other stores keep of the incident can follow it even after a crash.
TEST_P(IncidentStoreTest, RetiringRecordsTheMoveUntilItIsForgotten) {
  const StoredIncident old = make("shop-web", kT0, std::nullopt);
  const StoredIncident gone = make("api", kT0, std::nullopt);
  write({old, gone});
  EXPECT_TRUE(store_->pending_moves()->empty());
  const StoredIncident earlier = make("shop-web", kT0 - kMinuteUs, std::nullopt);
  const StoredIncident earliest = make("shop-web", kT0 - 2 * kMinuteUs, std::nullopt);
  write({earlier}, {{old.id, earlier.id}, {gone.id, ""}});
  write({earliest}, {{earlier.id, earliest.id}});
  reopen();
  auto pending = store_->pending_moves();
  ASSERT_TRUE(pending) << pending.error().message;
  ASSERT_EQ(pending->size(), 2u);
  EXPECT_EQ((*pending)[0].from_id, old.id);  // oldest first: the chain in order
  EXPECT_EQ((*pending)[0].to_id, earlier.id);
  EXPECT_EQ((*pending)[1].from_id, earlier.id);
  EXPECT_EQ((*pending)[1].to_id, earliest.id);
  EXPECT_LT((*pending)[0].id, (*pending)[1].id);
  ASSERT_TRUE(store_->forget_move((*pending)[0].id));
  ASSERT_TRUE(store_->forget_move((*pending)[0].id));  // twice: nothing left to forget
  EXPECT_EQ(*store_->pending_moves(), std::vector{(*pending)[1]});
}

// A database of schema 1 (before the moves were recorded) is migrated and keeps its incidents.
TEST_P(IncidentStoreTest, MigratesSchemaOneToTwo) {
  const StoredIncident i = make("shop-web", kT0, std::nullopt);
  write({i});
  store_.reset();
  const char* undo = "DROP TABLE incident_moves; UPDATE incident_schema SET version = 1";
  ASSERT_EQ(testing::run_sql(uri_, undo), "");
  reopen();
  EXPECT_EQ(ids(list()), std::vector<std::string>{i.id});
  const StoredIncident earlier = make("shop-web", kT0 - kMinuteUs, std::nullopt);
  write({earlier}, {{i.id, earlier.id}});
  EXPECT_EQ(store_->pending_moves()->size(), 1u);
}

TEST_P(IncidentStoreTest, RecordsAndListsChangesOldestFirst) {
  StoredChange deploy{0, "shop-web", kT0, "deploy", "v2.3: new checkout", true, "ci"};
  StoredChange config{0, "shop-web", kT0 - kHourUs, "config", "cache TTL 60s", false, "ops"};
  StoredChange other{0, "api", kT0 + kMinuteUs, "deploy", "v9", false, "ci"};
  for (StoredChange* c : {&deploy, &config, &other}) {
    auto recorded = store_->record_change(*c);
    ASSERT_TRUE(recorded) << recorded.error().message;
    EXPECT_GT(recorded->id, 0);
    c->id = recorded->id;
    EXPECT_EQ(*recorded, *c);
  }
  EXPECT_LT(deploy.id, config.id);

  auto all = store_->changes({});
  ASSERT_TRUE(all);
  EXPECT_EQ(*all, (std::vector<StoredChange>{config, deploy, other}));
  auto web = store_->changes({.service = "shop-web", .from_us = kT0 - kHourUs, .to_us = kT0});
  ASSERT_TRUE(web);
  EXPECT_EQ(*web, std::vector<StoredChange>{config});  // [from, to): the deploy is at `to`
}

TEST_P(IncidentStoreTest, ReopeningKeepsEverythingAndSharesTheResultStoresDatabase) {
  auto results = open_store(uri_);
  ASSERT_TRUE(results) << results.error().message;
  StoredResult r;
  r.check = "shop-web/home";
  r.location = "kt-1";
  r.started_us = kT0;
  ASSERT_TRUE((*results)->write(std::span(&r, 1)));

  const StoredIncident i = make("shop-web", kT0, std::nullopt);
  write({i});
  ASSERT_TRUE(store_->add_note(i.id, {IncidentNote::Kind::kAck, kT0, "ops", ""}));
  ASSERT_TRUE(store_->record_change({0, "shop-web", kT0, "deploy", "v2", false, "ci"}));
  reopen();
  auto got = store_->incident(i.id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->acks, 1);
  EXPECT_EQ(store_->changes({})->size(), 1u);
  EXPECT_EQ(*(*results)->last_seq(), 1);
}

// A database written by a newer leeway is refused, not misread.
TEST_P(IncidentStoreTest, RefusesANewerSchema) {
  store_.reset();
  ASSERT_EQ(testing::run_sql(uri_, "UPDATE incident_schema SET version = 99"), "");
  auto opened = open_incident_store(uri_);
  ASSERT_FALSE(opened);
  EXPECT_NE(opened.error().message.find("incident tables have schema version 99, newer than this "
                                        "leeway supports (2); upgrade leeway"),
            std::string::npos)
      << opened.error().message;
}

INSTANTIATE_TEST_SUITE_P(Stores, IncidentStoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace leeway::store
