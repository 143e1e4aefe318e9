// What only the PostgreSQL store has: URIs and connection errors, schema migrations in a shared
// database, several nodes writing at once, and surviving a dropped connection. The behaviour it
// shares with SQLite is tested in store_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <pqxx/pqxx>
#include <thread>

#include "store/detail.h"
#include "store/store.h"
#include "support/peers.h"
#include "support/postgres_server.h"

namespace leeway::store {
namespace {

constexpr TimeUs kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

StoredResult make(std::string check, std::string location, TimeUs started_us,
                  probe::Outcome outcome = probe::Outcome::kUp) {
  StoredResult r;
  r.check = std::move(check);
  r.location = std::move(location);
  r.started_us = started_us;
  r.total_us = 42'000;
  r.outcome = outcome;
  r.http_status = 200;
  return r;
}

testing::PostgresServer* server() {
  static auto started = testing::PostgresServer::start();
  if (!started) {
    ADD_FAILURE() << started.error().message;
    return nullptr;
  }
  return started->get();
}

class PostgresTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Fails, never skips, unless asked: CI must notice a PostgreSQL store that went untested.
    if (testing::PostgresServer::skip_requested()) GTEST_SKIP() << "LEEWAY_SKIP_POSTGRES=1";
    pg_ = server();
    ASSERT_NE(pg_, nullptr);
    static int databases = 0;
    std::string name = "leeway_pg_" + std::to_string(++databases);
    ASSERT_TRUE(pg_->create_database(name));
    uri_ = pg_->uri(name);
  }

  std::unique_ptr<Store> open() {
    auto s = open_store(uri_);
    EXPECT_TRUE(s) << s.error().message;
    return s ? std::move(*s) : nullptr;
  }

  // Runs SQL on the test database directly, as an operator with psql would.
  pqxx::result sql(const std::string& statement) {
    pqxx::connection conn(uri_);
    pqxx::work txn(conn);
    pqxx::result r = txn.exec(statement);
    txn.commit();
    return r;
  }

  std::size_t count(const std::string& check, Store& store) {
    ResultQuery q;
    q.check = check;
    q.to_us = kT0 + kDayUs;
    q.limit = 100'000;
    auto page = store.results(q);
    EXPECT_TRUE(page) << page.error().message;
    return page ? page->results.size() : 0;
  }

  testing::PostgresServer* pg_ = nullptr;
  std::string uri_;
};

TEST(PostgresUri, ABadUriSaysWhyWithoutThePassword) {
  auto s = open_store("postgresql://leeway:s3cret@127.0.0.1/leeway?nonsense=1");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("bad PostgreSQL URI"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("nonsense"), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.find("s3cret"), std::string::npos) << s.error().message;
}

TEST(PostgresUri, AnUnreachableServerIsNamedWithoutThePassword) {
  const std::string port = std::to_string(testing::closed_port());
  auto s = open_store("postgres://leeway:s3cret@127.0.0.1:" + port + "/leeway");
  ASSERT_FALSE(s);
  const std::string& message = s.error().message;
  EXPECT_EQ(message.rfind("store: postgres: cannot connect to 127.0.0.1:" + port + ": ", 0), 0u)
      << message;
  EXPECT_NE(message.find("refused"), std::string::npos) << message;
  EXPECT_EQ(message.find("s3cret"), std::string::npos) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
}

TEST_F(PostgresTest, AMissingDatabaseIsAnError) {
  auto s = open_store(pg_->uri("no_such_db"));
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("database \"no_such_db\" does not exist"), std::string::npos)
      << s.error().message;
}

TEST_F(PostgresTest, DescribeHidesThePassword) {
  // The harness trusts every local connection, so any password gets in.
  uri_.replace(uri_.find("postgres@"), 9, "postgres:s3cret@");
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->describe().find("s3cret"), std::string::npos) << store->describe();
  EXPECT_NE(store->describe().find("postgres:***@127.0.0.1:" + std::to_string(pg_->port())),
            std::string::npos)
      << store->describe();
}

TEST_F(PostgresTest, MigratesAnEmptyDatabaseOnce) {
  ASSERT_NE(open(), nullptr);
  EXPECT_EQ(sql("SELECT version FROM schema_version")[0][0].as<int>(),
            detail::kPostgresSchemaVersion);
  EXPECT_EQ(sql("SELECT count(*) FROM schema_version")[0][0].as<int>(), 1);
  for (const char* table : {"checks", "locations", "series", "results", "rollups", "latest"}) {
    EXPECT_FALSE(sql(std::string("SELECT to_regclass('") + table + "')")[0][0].is_null()) << table;
  }
  ASSERT_NE(open(), nullptr);  // already at the current version: nothing to do
  EXPECT_EQ(sql("SELECT count(*) FROM schema_version")[0][0].as<int>(), 1);
}

TEST_F(PostgresTest, MigratesFromAnOlderVersion) {
  ASSERT_TRUE(detail::force_schema_version(uri_, 0));  // a schema_version table, nothing else
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(sql("SELECT version FROM schema_version")[0][0].as<int>(),
            detail::kPostgresSchemaVersion);
  ASSERT_TRUE(store->write(std::vector{make("c", "a", kT0)}));
  EXPECT_EQ(count("c", *store), 1u);
}

// Version 4 adds the stream consumers' positions to a version 3 database.
TEST_F(PostgresTest, MigratesToPositions) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->write(std::vector{make("c", "a", kT0)}));
  }
  sql("DROP TABLE positions; UPDATE schema_version SET version = 3");
  auto store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(sql("SELECT version FROM schema_version")[0][0].as<int>(),
            detail::kPostgresSchemaVersion);
  EXPECT_EQ(count("c", *store), 1u);
  ASSERT_TRUE(store->save_position("detector", 1));
  EXPECT_EQ(*store->take_position("detector"), 1);
}

TEST_F(PostgresTest, MigrationNumbersStoredResultsInTimeOrder) {
  {
    auto store = open();
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->write(
        std::vector{make("c", "b", kT0 + 2), make("c", "a", kT0 + 1), make("d", "a", kT0 + 3)}));
  }
  // Back to schema 1, as a database written before 2026-12-01.
  sql("ALTER TABLE results DROP COLUMN cause; ALTER TABLE latest DROP COLUMN cause; "
      "DROP TABLE seq_counter; ALTER TABLE results DROP COLUMN seq; "
      "UPDATE schema_version SET version = 1");
  auto store = open();
  ASSERT_NE(store, nullptr);
  auto stream = store->read_since(0, 10);
  ASSERT_TRUE(stream) << stream.error().message;
  ASSERT_EQ(stream->size(), 3u);
  EXPECT_EQ((*stream)[0].seq, 1);
  EXPECT_EQ((*stream)[0].result, make("c", "a", kT0 + 1));
  EXPECT_EQ((*stream)[2].seq, 3);
  EXPECT_EQ((*stream)[2].result, make("d", "a", kT0 + 3));
  EXPECT_EQ(*store->last_seq(), 3);
  auto written = store->write(std::vector{make("c", "a", kT0 + 1), make("c", "a", kT0 + 4)});
  ASSERT_TRUE(written) << written.error().message;
  ASSERT_EQ(written->size(), 1u);
  EXPECT_EQ((*written)[0].seq, 5);  // its place in the batch: the duplicate's 4 is a gap
}

// A database that takes no writes (a standby, or read-only by setting) is refused at start,
// rather than started on to drop every result.
TEST_F(PostgresTest, AReadOnlyDatabaseIsAnError) {
  ASSERT_NE(open(), nullptr);
  sql("DO $$BEGIN EXECUTE format('ALTER DATABASE %I SET default_transaction_read_only = on', "
      "current_database()); END$$");
  auto s = open_store(uri_);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("read-only transaction"), std::string::npos)
      << s.error().message;
}

TEST_F(PostgresTest, AFailedMigrationChangesNothing) {
  sql("CREATE TABLE rollups(something_else INTEGER)");  // in the way of migration 1
  auto s = open_store(uri_);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("migrating to schema version 1"), std::string::npos)
      << s.error().message;
  EXPECT_NE(s.error().message.find("\"rollups\" already exists"), std::string::npos)
      << s.error().message;
  EXPECT_TRUE(sql("SELECT to_regclass('schema_version')")[0][0].is_null());
  EXPECT_TRUE(sql("SELECT to_regclass('checks')")[0][0].is_null());

  sql("DROP TABLE rollups");
  ASSERT_NE(open(), nullptr);
}

TEST_F(PostgresTest, ReopeningKeepsResultsRollupsAndLatest) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->write(std::vector{make("c", "a", kT0), make("c", "b", kT0 + 1),
                                       make("c", "a", kT0 + kMinuteUs, probe::Outcome::kDown)}));
  EXPECT_EQ(*store->compact(kT0 + kDayUs), 0);  // PostgreSQL keeps plain rows
  store = open();
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(count("c", *store), 3u);
  auto latest = store->latest("c");
  ASSERT_TRUE(latest);
  ASSERT_EQ(latest->size(), 2u);
  EXPECT_EQ((*latest)[0].outcome, probe::Outcome::kDown);
  auto availability = store->availability("c", std::nullopt, kT0, kT0 + kDayUs);
  ASSERT_TRUE(availability);
  EXPECT_EQ(availability->total, 3);
  EXPECT_EQ(availability->good, 2);
}

TEST_F(PostgresTest, TextsSurviveCopyEscaping) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  StoredResult r = make("web/home page\t\\N", "서울-kt\n", kT0, probe::Outcome::kDown);
  r.error = "tab\there\nnew line \\N back\\slash 'single' \"double\" \r\x01 end\\";
  ASSERT_TRUE(store->write(std::vector{r}));
  ResultQuery q;
  q.check = r.check;
  q.to_us = kT0 + 1;
  auto page = store->results(q);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(page->results.size(), 1u);
  EXPECT_EQ(page->results[0], r);
}

// Two leeway nodes on one database: the same results arrive at both (say, a retried agent
// batch), in different batch orders. Each is stored and counted once, and nobody deadlocks.
TEST_F(PostgresTest, TwoNodesWritingAtOnceStoreAndCountEachResultOnce) {
  auto first = open();
  auto second = open();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  constexpr int kBatches = 20, kPerBatch = 300;
  std::vector<Committed> committed[2];
  auto node = [&](Store& store, bool reversed, std::atomic<int>& errors) {
    for (int b = 0; b < kBatches; ++b) {
      int batch = reversed ? kBatches - 1 - b : b;
      std::vector<StoredResult> rows;
      for (int i = 0; i < kPerBatch; ++i) {
        int n = batch * kPerBatch + i;
        rows.push_back(
            make("c" + std::to_string(n % 5), "loc" + std::to_string(n % 3), kT0 + n * kSecondUs));
      }
      if (reversed) std::reverse(rows.begin(), rows.end());
      if (auto s = store.write(rows); !s) {
        ADD_FAILURE() << s.error().message;
        ++errors;
      } else {
        auto& mine = committed[reversed];
        mine.insert(mine.end(), s->begin(), s->end());
      }
    }
  };
  // A consumer follows the stream while both write: commit order means it never skips a result
  // that commits late with a smaller seq.
  auto third = open();
  ASSERT_NE(third, nullptr);
  std::atomic<bool> writing{true};
  std::vector<Committed> followed;
  std::thread consumer([&] {
    std::int64_t position = 0;
    for (bool last_round = false; !last_round;) {
      last_round = !writing.load();
      while (true) {
        auto page = third->read_since(position, 500);
        ASSERT_TRUE(page) << page.error().message;
        if (page->empty()) break;
        followed.insert(followed.end(), page->begin(), page->end());
        position = page->back().seq;
      }
    }
  });
  std::atomic<int> errors{0};
  std::thread a(node, std::ref(*first), false, std::ref(errors));
  std::thread b(node, std::ref(*second), true, std::ref(errors));
  a.join();
  b.join();
  writing = false;
  consumer.join();
  EXPECT_EQ(errors.load(), 0);
  // Each result is new to exactly one node, and the consumer saw each once, in seq order.
  std::vector<Committed> both = committed[0];
  both.insert(both.end(), committed[1].begin(), committed[1].end());
  std::sort(both.begin(), both.end(),
            [](const Committed& x, const Committed& y) { return x.seq < y.seq; });
  EXPECT_EQ(both.size(), std::size_t(kBatches * kPerBatch));
  EXPECT_EQ(followed, both);
  EXPECT_EQ(*third->last_seq(), both.back().seq);
  std::int64_t total = 0;
  for (int c = 0; c < 5; ++c) {
    std::string check = "c" + std::to_string(c);
    EXPECT_EQ(count(check, *first), std::size_t(kBatches * kPerBatch / 5));
    total += second->availability(check, std::nullopt, kT0, kT0 + kDayUs)->total;
  }
  EXPECT_EQ(total, kBatches * kPerBatch);
  EXPECT_EQ(sql("SELECT count(*) FROM series")[0][0].as<int>(), 15);
}

// A server restart or an idle timeout drops connections; the store connects again by itself.
TEST_F(PostgresTest, ADroppedConnectionIsReplaced) {
  auto store = open();
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->write(std::vector{make("c", "a", kT0)}));
  EXPECT_EQ(count("c", *store), 1u);  // a reader connection in the pool
  auto killed =
      sql("SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
          "WHERE datname = current_database() AND pid <> pg_backend_pid()");
  EXPECT_EQ(killed.size(), 2u);  // the writer and the pooled reader
  auto s = store->write(std::vector{make("c", "a", kT0 + 1)});
  EXPECT_TRUE(s) << s.error().message;
  EXPECT_EQ(count("c", *store), 2u);
  EXPECT_EQ(store->latest("c")->at(0).started_us, kT0 + 1);
}

}  // namespace
}  // namespace leeway::store
