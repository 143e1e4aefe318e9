// The SQLite store's write and compaction paths at batch sizes the shared suite does not reach:
// results inserted in groups (with rewrites of stored keys in the group), chunks stored in
// page-sized pieces, a minute's rollup split between the two tiers, and the schema migration.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>

#include "store/store.h"

namespace leeway::store {
namespace {

using probe::Outcome;
using probe::Stage;

constexpr TimeUs kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

StoredResult make(std::string location, TimeUs started_us, DurationUs total_us) {
  StoredResult r;
  r.check = "c";
  r.location = std::move(location);
  r.started_us = started_us;
  r.total_us = total_us;
  r.outcome = total_us > 100'000 ? Outcome::kDown : Outcome::kUp;
  if (r.outcome == Outcome::kDown) {
    r.stage = Stage::kTimeout;
    r.error = "no result within the 100ms timeout";
  } else {
    r.http_status = 200;
    r.dns_us = 300 + started_us % 97;
    r.connect_us = r.dns_us + 1'000 + started_us % 311;
    r.first_byte_us = r.connect_us + 5'000;
  }
  return r;
}

class SqliteIngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/leeway-sqlite-ingest-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = open_store("sqlite:" + dir_ + "/leeway.db");
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::vector<StoredResult> all(Order order, std::size_t limit) {
    std::vector<StoredResult> out;
    ResultQuery q;
    q.check = "c";
    q.from_us = 0;
    q.to_us = kT0 + 1000 * kDayUs;
    q.order = order;
    q.limit = limit;
    while (true) {
      auto page = store_->results(q);
      EXPECT_TRUE(page) << (page ? "" : page.error().message);
      if (!page) return out;
      out.insert(out.end(), page->results.begin(), page->results.end());
      if (page->next_cursor.empty()) return out;
      q.cursor = page->next_cursor;
    }
  }

  std::int64_t total_in_rollups() {
    auto a = store_->availability("c", std::nullopt, 0, kT0 + 1000 * kDayUs);
    EXPECT_TRUE(a);
    return a ? a->total : -1;
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(SqliteIngestTest, RewritingStoredKeysInALargeBatchKeepsTheFirstAndCountsOnce) {
  std::vector<StoredResult> first;
  for (int i = 0; i < 100; ++i)
    first.push_back(make(i % 2 ? "a" : "b", kT0 + i * kSecondUs, 10'000 + i));
  ASSERT_TRUE(store_->write(first));

  // 100 results, unsorted: 40 already stored (with other values, to be ignored), 60 new, and
  // one new key twice in the batch (the first of the two wins).
  std::vector<StoredResult> second;
  for (int i = 99; i >= 0; --i) {
    if (i < 40)
      second.push_back(make(i % 2 ? "a" : "b", kT0 + (60 + i) * kSecondUs, 999'000));
    else
      second.push_back(make(i % 2 ? "a" : "b", kT0 + (100 + i) * kSecondUs, 20'000 + i));
  }
  StoredResult twice = make("a", kT0 + 500 * kSecondUs, 30'000);
  second.push_back(twice);
  twice.total_us = 40'000;
  second.push_back(twice);
  ASSERT_TRUE(store_->write(second));

  auto stored = all(Order::kOldestFirst, 1000);
  ASSERT_EQ(stored.size(), 100u + 60u + 1u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(stored[std::size_t(i)], first[std::size_t(i)]) << i;
  EXPECT_EQ(stored.back().total_us, 30'000);
  EXPECT_EQ(total_in_rollups(), 161);

  auto latest = store_->latest("c");
  ASSERT_TRUE(latest);
  ASSERT_EQ(latest->size(), 2u);
  EXPECT_EQ((*latest)[0].started_us, twice.started_us);  // "a"
  EXPECT_EQ((*latest)[0].total_us, 30'000);
  EXPECT_EQ((*latest)[1].started_us, kT0 + 198 * kSecondUs);  // "b"
}

TEST_F(SqliteIngestTest, LatestOfManySeriesInOneBatchIsEachOnesNewest) {
  // 40 locations (more than one upsert statement's group), three runs each, newest first.
  auto batch_at = [](int first_run) {
    std::vector<StoredResult> batch;
    for (int run = first_run + 2; run >= first_run; --run) {
      for (int l = 0; l < 40; ++l) {
        batch.push_back(
            make("l" + std::to_string(100 + l), kT0 + run * kMinuteUs + l, 10'000 + run));
      }
    }
    return batch;
  };
  ASSERT_TRUE(store_->write(batch_at(3)));
  ASSERT_TRUE(store_->write(batch_at(0)));  // older runs leave the latest alone
  auto latest = store_->latest("c");
  ASSERT_TRUE(latest);
  ASSERT_EQ(latest->size(), 40u);
  for (int l = 0; l < 40; ++l) {
    EXPECT_EQ((*latest)[std::size_t(l)].location, "l" + std::to_string(100 + l));
    EXPECT_EQ((*latest)[std::size_t(l)].started_us, kT0 + 5 * kMinuteUs + l);
    EXPECT_EQ((*latest)[std::size_t(l)].total_us, 10'005);
  }
  EXPECT_EQ(total_in_rollups(), 40 * 6);
}

TEST_F(SqliteIngestTest, ChunksAreStoredInPiecesThatPackPagesAndReadBackWhole) {
  // Two series every 10 s for 6 h: a 2 h chunk span holds 720 results each, several KB.
  std::vector<StoredResult> batch;
  for (int i = 0; i < 2 * 6 * 360; ++i) {
    TimeUs t = kT0 + (i / 2) * 10 * kSecondUs + (i * 7919) % 3'000;
    batch.push_back(
        make(i % 2 ? "a" : "b", t, i % 500 == 7 ? 200'000 : 20'000 + (i * 131) % 9'000));
  }
  ASSERT_TRUE(store_->write(batch));
  auto old_first = all(Order::kOldestFirst, 333);
  auto new_first = all(Order::kNewestFirst, 100);
  ASSERT_EQ(old_first.size(), batch.size());
  auto moved = store_->compact(kT0 + 5 * kHourUs);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(*moved, 2 * 5 * 360);
  EXPECT_EQ(all(Order::kOldestFirst, 333), old_first);
  EXPECT_EQ(all(Order::kNewestFirst, 100), new_first);
  EXPECT_EQ(total_in_rollups(), std::int64_t(batch.size()));

  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ + "/leeway.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  ASSERT_EQ(sqlite3_prepare_v2(db, "SELECT count(*), max(length(data)), sum(count) FROM chunks", -1,
                               &st, nullptr),
            SQLITE_OK);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_GT(sqlite3_column_int64(st, 0), 2 * 3);   // more pieces than (series x spans)
  EXPECT_LE(sqlite3_column_int64(st, 1), 1'200);   // each about a quarter of a page
  EXPECT_EQ(sqlite3_column_int64(st, 2), *moved);  // every compacted result once
  sqlite3_finalize(st);
  sqlite3_close(db);

  // Pruning through the middle of a span keeps its younger pieces' results.
  auto pruned = store_->prune(kT0 + 3 * kHourUs + 14 * kDayUs);
  ASSERT_TRUE(pruned) << pruned.error().message;
  std::vector<StoredResult> kept;
  for (const auto& r : old_first) {
    if (r.started_us >= kT0 + 3 * kHourUs) kept.push_back(r);
  }
  EXPECT_EQ(pruned->results, std::int64_t(old_first.size() - kept.size()));
  EXPECT_EQ(all(Order::kOldestFirst, 333), kept);
}

TEST_F(SqliteIngestTest, AMinuteWrittenBeforeAndAfterCompactionAddsUp) {
  // Compaction moves every recent rollup into the long-term table, including the minute still
  // being written; what comes later for that minute lands in the recent tier again.
  ASSERT_TRUE(store_->write(std::vector{make("a", kT0 + 1 * kSecondUs, 10'000),
                                        make("b", kT0 + 2 * kSecondUs, 200'000)}));
  ASSERT_TRUE(store_->compact(kT0));  // no raw result is old enough; the rollups move
  ASSERT_TRUE(store_->write(std::vector{make("a", kT0 + 31 * kSecondUs, 20'000),
                                        make("a", kT0 + 61 * kSecondUs, 20'000)}));

  RollupQuery q;
  q.check = "c";
  q.from_us = kT0;
  q.to_us = kT0 + 2 * kMinuteUs;
  auto per_location = store_->rollups(q);
  ASSERT_TRUE(per_location) << per_location.error().message;
  ASSERT_EQ(per_location->size(), 3u);  // (0, a), (0, b), (1, a)
  EXPECT_EQ((*per_location)[0].location, "a");
  EXPECT_EQ((*per_location)[0].total, 2);
  EXPECT_EQ((*per_location)[0].good, 2);
  EXPECT_EQ((*per_location)[1].location, "b");
  EXPECT_EQ((*per_location)[1].total, 1);
  EXPECT_EQ((*per_location)[1].good, 0);
  EXPECT_EQ((*per_location)[2].minute_us, kT0 + kMinuteUs);
  EXPECT_EQ((*per_location)[2].total, 1);

  q.sum_locations = true;
  auto summed = store_->rollups(q);
  ASSERT_TRUE(summed);
  ASSERT_EQ(summed->size(), 2u);
  EXPECT_EQ((*summed)[0].location, "");
  EXPECT_EQ((*summed)[0].total, 3);
  EXPECT_EQ((*summed)[0].good, 2);

  auto a = store_->availability("c", std::string("a"), kT0, kT0 + kMinuteUs);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->total, 2);
  EXPECT_EQ(a->good, 2);
  EXPECT_EQ(total_in_rollups(), 4);
}

TEST_F(SqliteIngestTest, AVersion1DatabaseIsMigratedWithItsHistory) {
  // Version 1 kept raw results keyed by series first: the layout of files written before
  // 2026-11-25, made here by hand with two results and their rollup.
  store_.reset();
  const std::string path = dir_ + "/v1.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* v1 = R"sql(
CREATE TABLE checks(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE locations(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE series(id INTEGER PRIMARY KEY, check_id INTEGER NOT NULL, location_id INTEGER NOT NULL,
                    UNIQUE(check_id, location_id));
CREATE TABLE errors(id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE results(series INTEGER NOT NULL, started_us INTEGER NOT NULL, total_us INTEGER NOT NULL,
                     outcome_stage INTEGER NOT NULL, http_status INTEGER NOT NULL,
                     error_id INTEGER NOT NULL, dns_us INTEGER NOT NULL, connect_us INTEGER NOT NULL,
                     tls_us INTEGER NOT NULL, first_byte_us INTEGER NOT NULL,
                     PRIMARY KEY(series, started_us)) WITHOUT ROWID;
CREATE TABLE chunks(id INTEGER PRIMARY KEY, series INTEGER NOT NULL, first_us INTEGER NOT NULL,
                    last_us INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX chunks_by_series ON chunks(series, first_us);
CREATE TABLE rollups(series INTEGER NOT NULL, minute INTEGER NOT NULL, total INTEGER NOT NULL,
                     good INTEGER NOT NULL, degraded INTEGER NOT NULL,
                     b0 INTEGER NOT NULL, b1 INTEGER NOT NULL, b2 INTEGER NOT NULL,
                     b3 INTEGER NOT NULL, b4 INTEGER NOT NULL, b5 INTEGER NOT NULL,
                     b6 INTEGER NOT NULL, b7 INTEGER NOT NULL, b8 INTEGER NOT NULL,
                     b9 INTEGER NOT NULL, b10 INTEGER NOT NULL, b11 INTEGER NOT NULL,
                     PRIMARY KEY(series, minute)) WITHOUT ROWID;
CREATE TABLE latest(series INTEGER PRIMARY KEY, started_us INTEGER NOT NULL,
                    total_us INTEGER NOT NULL, outcome_stage INTEGER NOT NULL,
                    http_status INTEGER NOT NULL, error_id INTEGER NOT NULL,
                    dns_us INTEGER NOT NULL, connect_us INTEGER NOT NULL, tls_us INTEGER NOT NULL,
                    first_byte_us INTEGER NOT NULL);
INSERT INTO checks VALUES(1, 'c');
INSERT INTO locations VALUES(1, 'a');
INSERT INTO series VALUES(1, 1, 1);
INSERT INTO errors VALUES(1, 'connection refused');
-- 2026-01-01T00:00:05Z up (outcome 0, stage 0), and 00:00:35Z down at connect (1 * 8 + 2).
INSERT INTO results VALUES(1, 1767225605000000, 12000, 0, 200, 0, 100, 1100, -1, 9000);
INSERT INTO results VALUES(1, 1767225635000000, 3000, 10, 0, 1, 100, -1, -1, -1);
INSERT INTO rollups VALUES(1, 29453760, 2, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0);
PRAGMA user_version = 1;
)sql";
  ASSERT_EQ(sqlite3_exec(db, v1, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto s = open_store("sqlite:" + path);
  ASSERT_TRUE(s) << s.error().message;
  store_ = std::move(*s);
  auto stored = all(Order::kOldestFirst, 10);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0].started_us, kT0 + 5 * kSecondUs);
  EXPECT_EQ(stored[0].http_status, 200);
  EXPECT_EQ(stored[0].first_byte_us, 9'000);
  EXPECT_EQ(stored[1].started_us, kT0 + 35 * kSecondUs);
  EXPECT_EQ(stored[1].error, "connection refused");
  EXPECT_EQ(total_in_rollups(), 2);

  // It takes new results, and they and the old ones compact together.
  ASSERT_TRUE(store_->write(std::vector{make("a", kT0 + 65 * kSecondUs, 10'000)}));
  EXPECT_EQ(total_in_rollups(), 3);
  auto moved = store_->compact(kT0 + kHourUs);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(*moved, 3);
  EXPECT_EQ(all(Order::kOldestFirst, 10).size(), 3u);
  EXPECT_EQ(total_in_rollups(), 3);
}

TEST_F(SqliteIngestTest, AVersion3DatabaseGetsSeqsForItsChunksAndRecentRows) {
  // Schema 3 as a file written before 2026-12-01 holds it: a chunk in the old format (no seqs;
  // the two rows of the version 1 test above) and a row in the recent tier.
  store_.reset();
  const std::string path = dir_ + "/v3.db";
  {
    auto s = open_store("sqlite:" + path);
    ASSERT_TRUE(s) << s.error().message;
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* v3 = R"sql(
DROP TABLE recent_commits;
DROP INDEX chunks_by_seq;
DROP TABLE store_state;
ALTER TABLE recent_results DROP COLUMN seq;
ALTER TABLE chunks DROP COLUMN min_seq;
ALTER TABLE chunks DROP COLUMN max_seq;
ALTER TABLE chunks DROP COLUMN seq_class;
INSERT INTO checks VALUES(1, 'c');
INSERT INTO locations VALUES(1, 'a');
INSERT INTO series VALUES(1, 1, 1);
INSERT INTO errors VALUES(1, 'connection refused');
INSERT INTO chunks VALUES(1, 1, 1767225605000000, 1767225635000000, 2,
  X'0280ade4e688d2a306c0bb01a0c801ca019a1100d28c01808ece1ccf8c01ea000100991100d18c01');
INSERT INTO rollups VALUES(1, 29453760, 2, 1, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0);
INSERT INTO hourly_rollups VALUES(1, 490896, 2, 1, 0);
INSERT INTO recent_results VALUES(29453820, 1, 1767229200000000, 5000, 0, 200, 0, -1, -1, -1, -1);
INSERT INTO recent_rollups VALUES(29453820, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
PRAGMA user_version = 3;
)sql";
  ASSERT_EQ(sqlite3_exec(db, v3, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto s = open_store("sqlite:" + path);
  ASSERT_TRUE(s) << s.error().message;
  store_ = std::move(*s);
  auto stream = store_->read_since(0, 10);
  ASSERT_TRUE(stream) << stream.error().message;
  ASSERT_EQ(stream->size(), 3u);
  EXPECT_EQ((*stream)[0].seq, 1);
  EXPECT_EQ((*stream)[0].result.started_us, kT0 + 5 * kSecondUs);
  EXPECT_EQ((*stream)[1].seq, 2);
  EXPECT_EQ((*stream)[1].result.error, "connection refused");
  EXPECT_EQ((*stream)[2].seq, 3);
  EXPECT_EQ((*stream)[2].result.started_us, kT0 + kHourUs);
  EXPECT_EQ(*store_->last_seq(), 3);
  EXPECT_EQ(total_in_rollups(), 3);

  // A result already in the old chunk is not stored again; a new one follows seq 3, and
  // compacting the two tiers together keeps every seq.
  auto written = store_->write(std::vector{make("a", kT0 + 35 * kSecondUs, 10'000),
                                           make("a", kT0 + 65 * kSecondUs, 10'000)});
  ASSERT_TRUE(written) << written.error().message;
  ASSERT_EQ(written->size(), 1u);
  EXPECT_EQ((*written)[0].seq, 5);  // its place in the batch: the first one's 4 is a gap
  EXPECT_EQ(total_in_rollups(), 4);
  ASSERT_TRUE(store_->compact(kT0 + 2 * kHourUs));
  auto after = store_->read_since(0, 10);
  ASSERT_TRUE(after);
  ASSERT_EQ(after->size(), 4u);
  EXPECT_EQ(std::vector(after->begin(), after->begin() + 3), *stream);
  EXPECT_EQ((*after)[3], (*written)[0]);
}

TEST_F(SqliteIngestTest, AVersion5DatabaseKeepsItsCausesWhenTheyMoveIntoOutcomeStage) {
  // Schema 5 kept a result's cause in a column of its own, in the recent tier and in latest;
  // schema 6 packs it into outcome_stage. The file: results written now, one compacted into a
  // chunk (whose format did not change), then taken back to schema 5's layout.
  std::vector<StoredResult> written = {
      make("a", kT0 + 5 * kSecondUs, 200'000), make("a", kT0 + kHourUs, 200'000),
      make("a", kT0 + kHourUs + 30 * kSecondUs, 10'000), make("b", kT0 + kHourUs, 200'000)};
  written[0].cause = probe::Cause::kRefused;
  written[0].stage = Stage::kConnect;
  written[1].cause = probe::Cause::kTimeout;
  written[3].cause = probe::Cause::kTls;  // the largest: all three bits
  written[3].stage = Stage::kTls;
  ASSERT_TRUE(store_->write(written));
  ASSERT_TRUE(store_->compact(kT0 + 30 * kMinuteUs));
  store_.reset();
  const std::string path = dir_ + "/leeway.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  const char* v5 = R"sql(
ALTER TABLE recent_results ADD COLUMN cause INTEGER NOT NULL DEFAULT 0;
ALTER TABLE latest ADD COLUMN cause INTEGER NOT NULL DEFAULT 0;
UPDATE recent_results SET cause = outcome_stage >> 5, outcome_stage = outcome_stage & 31;
UPDATE latest SET cause = outcome_stage >> 5, outcome_stage = outcome_stage & 31;
PRAGMA user_version = 5;
)sql";
  ASSERT_EQ(sqlite3_exec(db, v5, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto s = open_store("sqlite:" + path);
  ASSERT_TRUE(s) << s.error().message;
  store_ = std::move(*s);
  auto stream = store_->read_since(0, 10);
  ASSERT_TRUE(stream) << stream.error().message;
  ASSERT_EQ(stream->size(), written.size());
  for (std::size_t i = 0; i < written.size(); ++i) EXPECT_EQ((*stream)[i].result, written[i]);
  auto latest = store_->latest("c");
  ASSERT_TRUE(latest) << latest.error().message;
  ASSERT_EQ(latest->size(), 2u);
  EXPECT_EQ((*latest)[0], written[2]);
  EXPECT_EQ((*latest)[1], written[3]);
  // Written after the migration, and compacted: the cause stays.
  StoredResult later = make("b", kT0 + 2 * kHourUs, 200'000);
  later.cause = probe::Cause::kServfail;
  ASSERT_TRUE(store_->write(std::vector{later}));
  ASSERT_TRUE(store_->compact(kT0 + 3 * kHourUs));
  auto all = store_->read_since(0, 10);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 5u);
  EXPECT_EQ(all->back().result, later);
  for (std::size_t i = 0; i < written.size(); ++i) EXPECT_EQ((*all)[i].result, written[i]);
}

// Schema 7 adds the stream consumers' positions; a schema 6 file keeps its results and takes
// positions after the migration.
TEST_F(SqliteIngestTest, AVersion6DatabaseGainsPositions) {
  ASSERT_TRUE(store_->write(std::vector{make("a", kT0, 200'000)}));
  store_.reset();
  const std::string path = dir_ + "/leeway.db";
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(
      sqlite3_exec(db, "DROP TABLE positions; PRAGMA user_version = 6;", nullptr, nullptr, nullptr),
      SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);

  auto s = open_store("sqlite:" + path);
  ASSERT_TRUE(s) << s.error().message;
  store_ = std::move(*s);
  EXPECT_EQ(store_->read_since(0, 10)->size(), 1u);
  ASSERT_TRUE(store_->save_position("detector", 1));
  EXPECT_EQ(*store_->take_position("detector"), 1);
}

}  // namespace
}  // namespace leeway::store
