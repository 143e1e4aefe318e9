// One suite for every Store implementation: SQLite on a temporary file and PostgreSQL on a real
// server the harness starts on loopback.
#include "store/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <numeric>
#include <random>
#include <thread>

#include "store/detail.h"
#include "support/fixtures.h"
#include "support/postgres_server.h"

namespace leeway::store {
namespace {

using probe::Outcome;
using probe::Stage;

constexpr TimeUs kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z, a minute boundary

StoredResult make(std::string check, std::string location, TimeUs started_us,
                  DurationUs total_us = 42'000, Outcome outcome = Outcome::kUp) {
  StoredResult r;
  r.check = std::move(check);
  r.location = std::move(location);
  r.started_us = started_us;
  r.total_us = total_us;
  r.outcome = outcome;
  r.http_status = outcome == Outcome::kDown ? 503 : 200;
  if (outcome == Outcome::kDown) {
    r.stage = Stage::kStatus;
    r.error = "status 503 not in 200-399";
  }
  r.dns_us = 1'000;
  r.connect_us = 2'000 + started_us % 7;
  r.tls_us = -1;
  r.first_byte_us = total_us / 2;
  return r;
}

// All results of a check, read page by page.
std::vector<StoredResult> read_all(Store& store, ResultQuery q) {
  std::vector<StoredResult> out;
  for (int pages = 0; pages < 100'000; ++pages) {
    auto page = store.results(q);
    EXPECT_TRUE(page) << (page ? "" : page.error().message);
    if (!page) break;
    out.insert(out.end(), page->results.begin(), page->results.end());
    if (page->next_cursor.empty()) break;
    q.cursor = page->next_cursor;
  }
  return out;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      dir_ = testing::fresh_test_dir("leeway-store").string();
      uri_ = "sqlite:" + dir_ + "/leeway.db";
    } else {
      if (testing::PostgresServer::skip_requested()) GTEST_SKIP() << "LEEWAY_SKIP_POSTGRES=1";
      // Fails, never skips: CI must notice a PostgreSQL store that went untested.
      auto uri = testing::fresh_postgres_database("leeway_test");
      ASSERT_TRUE(uri) << uri.error().message << " (set LEEWAY_SKIP_POSTGRES=1 to skip)";
      uri_ = *uri;
    }
    reopen();
  }

  void TearDown() override {
    store_.reset();
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  void reopen() {
    store_.reset();
    auto s = open_store(uri_, options_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }

  // Writes a batch; returns what the store says was new.
  std::vector<Committed> write(const std::vector<StoredResult>& batch) {
    auto s = store_->write(batch);
    EXPECT_TRUE(s) << s.error().message;
    return s ? *s : std::vector<Committed>();
  }

  // Everything read_since() gives after `after`, `limit` at a time.
  std::vector<Committed> since(std::int64_t after, std::size_t limit = 1000) {
    std::vector<Committed> out;
    while (true) {
      auto page = store_->read_since(after, limit);
      EXPECT_TRUE(page) << page.error().message;
      if (!page || page->empty()) return out;
      EXPECT_LE(page->size(), limit);
      out.insert(out.end(), page->begin(), page->end());
      after = page->back().seq;
    }
  }

  Availability everything(const std::string& check) {
    auto a = store_->availability(check, std::nullopt, kT0 - 1000 * kDayUs, kT0 + 1000 * kDayUs);
    EXPECT_TRUE(a) << a.error().message;
    return a ? *a : Availability{};
  }

  std::vector<StoredResult> all(const std::string& check, Order order = Order::kOldestFirst,
                                std::size_t limit = 1000) {
    ResultQuery q;
    q.check = check;
    q.from_us = 0;
    q.to_us = kT0 + 1000 * kDayUs;
    q.order = order;
    q.limit = limit;
    return read_all(*store_, q);
  }

  std::string dir_;
  std::string uri_;
  StoreOptions options_;
  std::unique_ptr<Store> store_;
};

TEST_P(StoreTest, RoundTripsEveryField) {
  StoredResult up = make("shop-web/home", "local", kT0 + 1);
  up.tls_us = 3'456;
  StoredResult down = make("shop-web/home", "seoul-kt", kT0 + 2, 10'000'001, Outcome::kDown);
  down.dns_us = down.connect_us = down.first_byte_us = -1;
  down.stage = Stage::kConnect;
  down.cause = probe::Cause::kUnreachable;
  StoredResult degraded = make("shop-web/home", "local", kT0 + 3, 900'000, Outcome::kDegraded);
  degraded.stage = Stage::kNone;
  degraded.http_status = 0;
  degraded.error = "слишком медленно: 900ms";  // any UTF-8 survives
  write({up, down, degraded});
  EXPECT_EQ(all("shop-web/home"), (std::vector<StoredResult>{up, down, degraded}));
  EXPECT_TRUE(all("other").empty());
  auto latest = store_->latest("shop-web/home");
  ASSERT_TRUE(latest) << latest.error().message;
  EXPECT_EQ(*latest, (std::vector<StoredResult>{degraded, down}));
  auto since = store_->read_since(0, 10);
  ASSERT_TRUE(since) << since.error().message;
  ASSERT_EQ(since->size(), 3u);
  EXPECT_EQ((*since)[1].result, down);
}

TEST_P(StoreTest, MakeStoredResultCopiesTheProbeFields) {
  probe::ProbeResult p;
  p.outcome = Outcome::kDown;
  p.stage = Stage::kConnect;
  p.cause = probe::Cause::kRefused;
  p.started_us = kT0;
  p.timings = {12, 34, -1, -1, 5'000};
  p.http_status = 0;
  p.error = "connection refused";
  StoredResult s = make_stored_result("c", "l", p);
  write({s});
  auto back = all("c");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].stage, Stage::kConnect);
  EXPECT_EQ(back[0].cause, probe::Cause::kRefused);
  EXPECT_EQ(back[0].dns_us, 12);
  EXPECT_EQ(back[0].connect_us, 34);
  EXPECT_EQ(back[0].tls_us, -1);
  EXPECT_EQ(back[0].total_us, 5'000);
  EXPECT_EQ(back[0].error, "connection refused");
}

TEST_P(StoreTest, PagesInBothOrdersWithoutGapsOrRepeats) {
  std::vector<StoredResult> batch;
  for (int i = 0; i < 25; ++i) {
    for (const char* loc : {"a", "b", "c"}) {
      // Locations share timestamps, so the cursor must break ties by location.
      batch.push_back(make("check", loc, kT0 + i * kSecondUs));
    }
  }
  write(batch);
  write(batch);  // the same results again: kept once
  auto sorted = batch;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    return std::tie(a.started_us, a.location) < std::tie(b.started_us, b.location);
  });
  EXPECT_EQ(all("check", Order::kOldestFirst, 7), sorted);
  std::reverse(sorted.begin(), sorted.end());
  EXPECT_EQ(all("check", Order::kNewestFirst, 7), sorted);
  EXPECT_EQ(all("check", Order::kNewestFirst, 1), sorted);

  ResultQuery q;
  q.check = "check";
  q.from_us = kT0 + 5 * kSecondUs;
  q.to_us = kT0 + 7 * kSecondUs;  // [5s, 7s): two timestamps, three locations
  q.limit = 100;
  auto page = store_->results(q);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->results.size(), 6u);
  EXPECT_EQ(page->results.front().started_us, kT0 + 6 * kSecondUs);
  EXPECT_TRUE(page->next_cursor.empty());
}

TEST_P(StoreTest, BadCursorIsAnError) {
  ResultQuery q;
  q.check = "check";
  q.to_us = kT0;
  q.cursor = "garbage";
  EXPECT_FALSE(store_->results(q));
}

TEST_P(StoreTest, FiltersByLocation) {
  write({make("c", "local", kT0), make("c", "seoul-kt", kT0 + 1), make("c", "local", kT0 + 2),
         make("d", "seoul-kt", kT0 + 3)});
  ResultQuery q;
  q.check = "c";
  q.location = "seoul-kt";
  q.to_us = kT0 + kDayUs;
  auto page = store_->results(q);
  ASSERT_TRUE(page);
  ASSERT_EQ(page->results.size(), 1u);
  EXPECT_EQ(page->results[0].started_us, kT0 + 1);
  q.location = "nowhere";
  EXPECT_TRUE(store_->results(q)->results.empty());
}

TEST_P(StoreTest, RollsUpPerMinuteInUtcMicroseconds) {
  const TimeUs m1 = kT0 + 10 * kMinuteUs;
  write({
      make("c", "a", m1 - 1, 5'000),  // the minute before; bucket 0
      make("c", "a", m1, 5'001),      // first instant of m1; bucket 1
      make("c", "a", m1 + kMinuteUs - 1, 10'000'001, Outcome::kDown),    // last instant; +Inf
      make("c", "a", m1 + 30 * kSecondUs, 300'000, Outcome::kDegraded),  // bucket 6 (<=500ms)
      make("c", "b", m1 + 1, 10'000'000),                                // bucket 10 (<=10s)
      make("c", "a", m1 + kMinuteUs, 1),                                 // the next minute
  });
  RollupQuery q;
  q.check = "c";
  q.from_us = m1;
  q.to_us = m1 + kMinuteUs;
  auto rollups = store_->rollups(q);
  ASSERT_TRUE(rollups) << rollups.error().message;
  ASSERT_EQ(rollups->size(), 2u);
  const MinuteRollup& a = (*rollups)[0];
  EXPECT_EQ(a.location, "a");
  EXPECT_EQ(a.minute_us, m1);
  EXPECT_EQ(a.total, 3);
  EXPECT_EQ(a.good, 1);
  EXPECT_EQ(a.degraded, 1);
  std::array<std::int64_t, kLatencyBuckets> want{};
  want[1] = want[6] = want[11] = 1;
  EXPECT_EQ(a.latency_buckets, want);
  EXPECT_EQ((*rollups)[1].location, "b");
  EXPECT_EQ((*rollups)[1].latency_buckets[10], 1);

  q.sum_locations = true;
  q.from_us = m1 - kMinuteUs;  // minutes starting in [m1 - 1m, m1 + 2m)
  q.to_us = m1 + 2 * kMinuteUs;
  rollups = store_->rollups(q);
  ASSERT_TRUE(rollups);
  ASSERT_EQ(rollups->size(), 3u);
  EXPECT_EQ((*rollups)[0].minute_us, m1 - kMinuteUs);
  EXPECT_EQ((*rollups)[1].total, 4);
  EXPECT_EQ((*rollups)[1].location, "");
  EXPECT_EQ((*rollups)[2].minute_us, m1 + kMinuteUs);

  q.sum_locations = false;
  q.location = "b";
  rollups = store_->rollups(q);
  ASSERT_TRUE(rollups);
  ASSERT_EQ(rollups->size(), 1u);
  EXPECT_EQ((*rollups)[0].total, 1);

  // Rewriting a stored result does not count it twice.
  write({make("c", "b", m1 + 1, 10'000'000)});
  EXPECT_EQ(store_->rollups(q)->at(0).total, 1);
}

TEST_P(StoreTest, AvailabilityComesFromRollups) {
  std::vector<StoredResult> batch;
  for (int i = 0; i < 100; ++i) {
    Outcome o = i < 90 ? Outcome::kUp : i < 95 ? Outcome::kDegraded : Outcome::kDown;
    batch.push_back(make("c", i % 2 ? "a" : "b", kT0 + i * 10 * kSecondUs, 1000, o));
  }
  write(batch);
  auto all_locations = store_->availability("c", std::nullopt, kT0, kT0 + kDayUs);
  ASSERT_TRUE(all_locations) << all_locations.error().message;
  EXPECT_EQ(all_locations->total, 100);
  EXPECT_EQ(all_locations->good, 90);
  EXPECT_EQ(all_locations->degraded, 5);
  EXPECT_DOUBLE_EQ(all_locations->ratio(), 0.95);
  auto a = store_->availability("c", std::string("a"), kT0, kT0 + kDayUs);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->total, 50);
  // Whole minutes only: [kT0, kT0 + 1m) holds results 0..5.
  auto first_minute = store_->availability("c", std::nullopt, kT0, kT0 + kMinuteUs);
  ASSERT_TRUE(first_minute);
  EXPECT_EQ(first_minute->total, 6);
  auto none = store_->availability("missing", std::nullopt, kT0, kT0 + kDayUs);
  ASSERT_TRUE(none);
  EXPECT_EQ(none->total, 0);
  EXPECT_DOUBLE_EQ(none->ratio(), 1.0);
}

// Availability over any window equals the sum of the window's minute rollups, whether the
// minutes are recent, compacted (SQLite sums whole hours apart), or written late into an hour
// already compacted.
TEST_P(StoreTest, AvailabilityOverHoursAddsUpTheMinutes) {
  auto result = [](int i) {
    Outcome o = i % 11 == 0 ? Outcome::kDown : i % 7 == 0 ? Outcome::kDegraded : Outcome::kUp;
    return make("c", i % 3 ? "a" : "b", kT0 + i * 173 * kSecondUs, 1000, o);
  };
  std::vector<StoredResult> batch;
  for (int i = 0; i < 100; ++i) batch.push_back(result(i));  // ~4.8 hours
  write(batch);
  ASSERT_TRUE(store_->compact(kT0 + 3 * kHourUs + 7 * kMinuteUs));
  batch.clear();
  for (int i = 100; i < 130; ++i) batch.push_back(result(i));
  for (int i = 0; i < 130; i += 9) {  // late: into hours already compacted
    StoredResult late = result(i);
    late.started_us += 20 * kSecondUs;
    batch.push_back(late);
  }
  write(batch);

  const std::vector<std::pair<TimeUs, TimeUs>> windows = {
      {kT0, kT0 + 7 * kHourUs},
      {kT0 + 13 * kMinuteUs, kT0 + 2 * kHourUs + 47 * kMinuteUs},
      {kT0 + kHourUs + kMinuteUs, kT0 + 2 * kHourUs - kMinuteUs},
      {kT0 + 30 * kSecondUs, kT0 + 5 * kHourUs + 90 * kSecondUs},
      {kT0 + kHourUs, kT0 + 3 * kHourUs},
      {kT0 - kDayUs, kT0 + kDayUs}};
  for (const auto& [from, to] : windows) {
    RollupQuery q{"c", std::nullopt, from, to, true};
    auto minutes = store_->rollups(q);
    ASSERT_TRUE(minutes) << minutes.error().message;
    Availability expected;
    for (const auto& m : *minutes) {
      expected.total += m.total;
      expected.good += m.good;
      expected.degraded += m.degraded;
    }
    auto got = store_->availability("c", std::nullopt, from, to);
    ASSERT_TRUE(got) << got.error().message;
    SCOPED_TRACE(format_rfc3339(from) + " to " + format_rfc3339(to));
    EXPECT_GT(got->total, 0);
    EXPECT_EQ(got->total, expected.total);
    EXPECT_EQ(got->good, expected.good);
    EXPECT_EQ(got->degraded, expected.degraded);
  }
  auto everything = store_->availability("c", std::nullopt, kT0 - kDayUs, kT0 + kDayUs);
  ASSERT_TRUE(everything);
  EXPECT_EQ(everything->total, 130 + 15);
}

TEST_P(StoreTest, KeepsTheLatestResultPerCheckAndLocation) {
  write({make("c", "a", kT0 + 5), make("c", "b", kT0 + 1), make("d", "a", kT0 + 9)});
  write({make("c", "a", kT0 + 3, 7, Outcome::kDown)});  // late, older: not the latest
  write({make("c", "b", kT0 + 8, 9, Outcome::kDown)});
  auto latest = store_->latest("c");
  ASSERT_TRUE(latest) << latest.error().message;
  ASSERT_EQ(latest->size(), 2u);
  EXPECT_EQ((*latest)[0], make("c", "a", kT0 + 5));
  EXPECT_EQ((*latest)[1], make("c", "b", kT0 + 8, 9, Outcome::kDown));
  auto every = store_->latest("");
  ASSERT_TRUE(every);
  ASSERT_EQ(every->size(), 3u);
  EXPECT_EQ((*every)[2].check, "d");
}

TEST_P(StoreTest, PruningDropsOldResultsButKeepsRollups) {
  const TimeUs now = kT0 + 30 * kDayUs;
  std::vector<StoredResult> batch;
  for (int day = 0; day < 30; ++day) {
    for (int i = 0; i < 10; ++i)
      batch.push_back(make("c", "a", kT0 + day * kDayUs + i * kMinuteUs));
  }
  write(batch);
  // Some of the old ones are in chunks (SQLite), some still plain rows.
  ASSERT_TRUE(store_->compact(kT0 + 10 * kDayUs + 5 * kMinuteUs));
  auto pruned = store_->prune(now);
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_EQ(pruned->results, 16 * 10);  // days 0-15 are older than 14 days
  EXPECT_EQ(pruned->rollups, 0);
  auto left = all("c");
  ASSERT_EQ(left.size(), 14u * 10);
  EXPECT_EQ(left.front().started_us, kT0 + 16 * kDayUs);
  auto availability = store_->availability("c", std::nullopt, kT0, now);
  ASSERT_TRUE(availability);
  EXPECT_EQ(availability->total, 300);
  EXPECT_EQ(store_->latest("c")->size(), 1u);

  pruned = store_->prune(kT0 + 416 * kDayUs);
  ASSERT_TRUE(pruned);
  EXPECT_EQ(pruned->results, 140);
  EXPECT_EQ(pruned->rollups, 160);  // days 0-15 are older than 400 days
}

TEST_P(StoreTest, CompactionIsInvisibleToReaders) {
  std::vector<StoredResult> batch;
  for (int i = 0; i < 2000; ++i) {
    StoredResult r = make("c", i % 3 ? "a" : "b", kT0 + i * 7 * kSecondUs + (i * 7919) % 100'000,
                          10'000 + (i * 31) % 5'000, i % 17 ? Outcome::kUp : Outcome::kDown);
    if (i % 50 == 0) r.error = "error " + std::to_string(i % 3);
    // Causes change apart from the status too: both kept in chunks.
    if (i % 17 == 0) r.cause = static_cast<probe::Cause>(i / 17 % 8);
    batch.push_back(r);
  }
  write(batch);
  auto before_old = all("c", Order::kOldestFirst, 333);
  auto before_new = all("c", Order::kNewestFirst, 333);
  ASSERT_EQ(before_old.size(), 2000u);
  auto moved = store_->compact(kT0 + 2 * kHourUs + 17 * kSecondUs);
  ASSERT_TRUE(moved) << moved.error().message;
  EXPECT_EQ(all("c", Order::kOldestFirst, 333), before_old);
  EXPECT_EQ(all("c", Order::kNewestFirst, 333), before_new);
  EXPECT_EQ(all("c", Order::kNewestFirst, 1).size(), 2000u);

  // A late result in an already compacted span, then compacting again, merges into the chunk.
  StoredResult late = make("c", "a", kT0 + 3);
  write({late});
  ASSERT_TRUE(store_->compact(kT0 + 4 * kHourUs));
  before_old.insert(before_old.begin() + 1, late);
  EXPECT_EQ(all("c", Order::kOldestFirst, 100), before_old);
  reopen();
  EXPECT_EQ(all("c", Order::kOldestFirst, 1000), before_old);
}

TEST_P(StoreTest, ReopeningKeepsEverything) {
  write({make("c", "a", kT0), make("c", "b", kT0 + 1, 5, Outcome::kDown)});
  reopen();
  EXPECT_EQ(all("c").size(), 2u);
  EXPECT_EQ(store_->latest("c")->size(), 2u);
  // New writes after reopening reuse the known check and location ids.
  write({make("c", "a", kT0 + 2)});
  EXPECT_EQ(all("c").size(), 3u);
}

// A stream consumer's position, saved at a stop and taken at the next start: taken once, kept
// across a reopen, one per consumer, the last save winning.
TEST_P(StoreTest, APositionIsSavedAndTakenOnce) {
  auto none = store_->take_position("detector");
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_EQ(*none, std::nullopt);
  ASSERT_TRUE(store_->save_position("detector", 7));
  ASSERT_TRUE(store_->save_position("detector", 41));
  ASSERT_TRUE(store_->save_position("other", 3));
  reopen();
  auto taken = store_->take_position("detector");
  ASSERT_TRUE(taken) << taken.error().message;
  EXPECT_EQ(*taken, 41);
  EXPECT_EQ(*store_->take_position("detector"), std::nullopt);
  EXPECT_EQ(*store_->take_position("other"), 3);
}

TEST_P(StoreTest, RefusesANewerSchema) {
  store_.reset();
  ASSERT_TRUE(detail::force_schema_version(uri_, 1000));
  auto s = open_store(uri_, options_);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("newer than this leeway supports"), std::string::npos)
      << s.error().message;
}

TEST_P(StoreTest, WriterWritesEverythingOnStop) {
  ManualClock clock(kT0);
  WriterOptions options;
  options.commit_interval_us = 60 * kSecondUs;  // only stop() can flush in time
  options.max_batch = 1000;
  StoreWriter writer(*store_, clock, options);
  for (int i = 0; i < 5000; ++i) ASSERT_TRUE(writer.enqueue(make("c", "a", kT0 + i)));
  writer.stop();
  EXPECT_EQ(writer.results_written_total(), 5000);
  EXPECT_EQ(writer.dropped_total(), 0);
  EXPECT_EQ(writer.queue_depth(), 0u);
  EXPECT_GE(writer.batches_total(), 5);
  EXPECT_EQ(all("c").size(), 5000u);
  EXPECT_FALSE(writer.enqueue(make("c", "a", kT0 - 1)));
  EXPECT_EQ(writer.dropped_total(), 1);
}

TEST_P(StoreTest, WriterFlushAndDropsWhenFull) {
  ManualClock clock(kT0);
  WriterOptions options;
  options.queue_capacity = 10;
  options.commit_interval_us = 60 * kSecondUs;
  options.max_batch = 1000;  // the worker waits for 1000 or the interval: the queue fills
  StoreWriter writer(*store_, clock, options);
  int accepted = 0;
  for (int i = 0; i < 25; ++i) accepted += writer.enqueue(make("c", "a", kT0 + i));
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(writer.dropped_total(), 15);
  writer.flush();
  EXPECT_EQ(writer.results_written_total(), 10);
  EXPECT_EQ(all("c").size(), 10u);
}

TEST_P(StoreTest, ConcurrentReadsWhileWriting) {
  ManualClock clock(kT0);
  WriterOptions options;
  options.commit_interval_us = 5 * kMillisecondUs;
  StoreWriter writer(*store_, clock, options);
  std::atomic<bool> done{false};
  std::atomic<int> read_errors{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      while (!done.load()) {
        ResultQuery q;
        q.check = "c";
        q.to_us = kT0 + kDayUs;
        q.limit = 50;
        if (!store_->results(q) || !store_->latest("c") ||
            !store_->availability("c", std::nullopt, kT0, kT0 + kDayUs)) {
          ++read_errors;
        }
      }
    });
  }
  for (int i = 0; i < 3000; ++i) {
    writer.enqueue(make("c", i % 2 ? "a" : "b", kT0 + i * kSecondUs));
    if (i % 500 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  writer.flush();
  done = true;
  for (auto& t : readers) t.join();
  EXPECT_EQ(read_errors.load(), 0);
  EXPECT_EQ(writer.results_written_total(), 3000);
  EXPECT_EQ(store_->availability("c", std::nullopt, kT0, kT0 + kDayUs)->total, 3000);
}

TEST_P(StoreTest, WriterMaintenanceCompactsAndPrunes) {
  ManualClock clock(kT0 + 20 * kDayUs);
  WriterOptions options;
  options.commit_interval_us = 5 * kMillisecondUs;
  options.maintenance_interval_us = kMinuteUs;
  StoreWriter writer(*store_, clock, options);
  writer.enqueue(make("c", "a", kT0));                    // past retention
  writer.enqueue(make("c", "a", kT0 + 19 * kDayUs));      // compacted
  writer.enqueue(make("c", "a", kT0 + 20 * kDayUs - 1));  // stays a plain row
  writer.flush();
  clock.advance(kMinuteUs);
  for (int i = 0; i < 500 && all("c").size() != 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  writer.stop();
  EXPECT_EQ(all("c").size(), 2u);
  EXPECT_EQ(writer.last_error(), "");
}

TEST_P(StoreTest, WriteReturnsTheNewResultsInCommitOrder) {
  EXPECT_EQ(*store_->last_seq(), 0);
  EXPECT_TRUE(store_->read_since(0, 10)->empty());
  std::vector<StoredResult> first = {make("c", "b", kT0 + 2), make("c", "a", kT0 + 1),
                                     make("c", "a", kT0 + 1, 7), make("d", "a", kT0)};
  auto committed = write(first);
  // In batch order; the second copy of (c, a, kT0 + 1) in the batch is not new.
  ASSERT_EQ(committed.size(), 3u);
  EXPECT_EQ(committed[0].result, first[0]);
  EXPECT_EQ(committed[1].result, first[1]);
  EXPECT_EQ(committed[2].result, first[3]);
  EXPECT_GT(committed[0].seq, 0);
  EXPECT_LT(committed[0].seq, committed[1].seq);
  EXPECT_LT(committed[1].seq, committed[2].seq);
  EXPECT_EQ(*store_->last_seq(), committed[2].seq);

  auto again = write({make("c", "a", kT0 + 1), make("c", "a", kT0 + 3)});
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].result, make("c", "a", kT0 + 3));
  EXPECT_GT(again[0].seq, committed[2].seq);
  EXPECT_TRUE(write({make("c", "b", kT0 + 2)}).empty());
  EXPECT_EQ(*store_->last_seq(), again[0].seq);

  committed.push_back(again[0]);
  EXPECT_EQ(since(0), committed);
  EXPECT_EQ(since(0, 1), committed);
  EXPECT_EQ(since(committed[1].seq), std::vector(committed.begin() + 2, committed.end()));
  EXPECT_TRUE(store_->read_since(committed.back().seq, 10)->empty());
  EXPECT_TRUE(store_->read_since(0, 0)->empty());

  // The same seqs after compaction and after reopening; new ones follow the old.
  ASSERT_TRUE(store_->compact(kT0 + kHourUs));
  EXPECT_EQ(since(0), committed);
  reopen();
  EXPECT_EQ(since(0, 2), committed);
  EXPECT_EQ(*store_->last_seq(), committed.back().seq);
  auto later = write({make("c", "a", kT0 + kDayUs)});
  ASSERT_EQ(later.size(), 1u);
  EXPECT_GT(later[0].seq, committed.back().seq);

  // Pruning everything reuses no seq.
  ASSERT_TRUE(store_->prune(kT0 + 100 * kDayUs));
  EXPECT_TRUE(since(0).empty());
  reopen();
  EXPECT_EQ(*store_->last_seq(), later[0].seq);
  auto after_prune = write({make("c", "a", kT0 + 100 * kDayUs)});
  ASSERT_EQ(after_prune.size(), 1u);
  EXPECT_GT(after_prune[0].seq, later[0].seq);
}

// Agents resend batches after an outage: a result written twice, at any age within raw
// retention, is stored and counted once, also once it was compacted.
TEST_P(StoreTest, LateDuplicatesAreStoredAndCountedOnce) {
  std::vector<StoredResult> batch;
  for (int i = 0; i < 300; ++i) {
    batch.push_back(make("c", i % 2 ? "a" : "b", kT0 + i * 20 * kSecondUs, 1'000,
                         i % 5 ? Outcome::kUp : Outcome::kDown));
  }
  auto first = write(batch);
  ASSERT_EQ(first.size(), batch.size());
  ResultQuery day{"c", std::nullopt, kT0, kT0 + kDayUs, Order::kOldestFirst, 1000, ""};
  const auto stored = read_all(*store_, day);
  ASSERT_EQ(stored.size(), 300u);
  auto counted = [&] { return *store_->availability("c", std::nullopt, kT0, kT0 + kDayUs); };
  const Availability before = counted();
  ASSERT_EQ(before.total, 300);
  RollupQuery minutes{"c", std::nullopt, kT0, kT0 + kDayUs, false};
  const auto rollups = store_->rollups(minutes);
  ASSERT_TRUE(rollups);

  int round = 0;
  auto resend = [&](std::vector<StoredResult> copies) {
    SCOPED_TRACE("round " + std::to_string(++round));
    // One new result among the copies, on another day.
    copies.push_back(make("c", "a", kT0 + 5 * kDayUs + round));
    auto fresh = write(copies);
    ASSERT_EQ(fresh.size(), 1u);
    EXPECT_EQ(fresh[0].result, copies.back());
    EXPECT_EQ(read_all(*store_, day), stored);
    const Availability after = counted();
    EXPECT_EQ(after.total, before.total);
    EXPECT_EQ(after.good, before.good);
    EXPECT_EQ(*store_->rollups(minutes), *rollups);
  };
  resend(batch);                                       // while recent
  ASSERT_TRUE(store_->compact(kT0 + 50 * kMinuteUs));  // part compacted, part recent
  resend(batch);
  ASSERT_TRUE(store_->compact(kT0 + 6 * kDayUs));
  resend(batch);
  resend({batch[7], batch[7], batch[150], batch[299]});  // single ones, in a small batch
  // Late duplicates of compacted results, compacted again: still once.
  ASSERT_TRUE(store_->compact(kT0 + 7 * kDayUs));
  EXPECT_EQ(read_all(*store_, day), stored);
  EXPECT_EQ(counted().total, before.total);
  auto stream = since(0);
  ASSERT_EQ(stream.size(), 300u + 4);
  EXPECT_EQ(std::vector(stream.begin(), stream.begin() + 300), first);
}

// leeway's own failure says nothing about the target: an unknown result is stored and read back,
// but counted in no rollup or availability figure.
TEST_P(StoreTest, UnknownResultsAreStoredButNotCounted) {
  StoredResult unknown = make("c", "a", kT0 + 10 * kSecondUs, 1, Outcome::kUnknown);
  unknown.error = "no file descriptors left";
  auto committed = write({make("c", "a", kT0, 1'000), unknown, make("c", "a", kT0 + kHourUs)});
  ASSERT_EQ(committed.size(), 3u);
  EXPECT_EQ(committed[1].result.outcome, Outcome::kUnknown);
  auto back = all("c");
  ASSERT_EQ(back.size(), 3u);
  EXPECT_EQ(back[1], unknown);
  EXPECT_EQ(to_string(back[1].outcome), "unknown");
  auto availability = everything("c");
  EXPECT_EQ(availability.total, 2);
  EXPECT_EQ(availability.good, 2);
  RollupQuery q{"c", std::nullopt, kT0, kT0 + kMinuteUs, false};
  auto rollups = store_->rollups(q);
  ASSERT_TRUE(rollups);
  ASSERT_EQ(rollups->size(), 1u);
  EXPECT_EQ((*rollups)[0].total, 1);
  EXPECT_EQ(std::accumulate((*rollups)[0].latency_buckets.begin(),
                            (*rollups)[0].latency_buckets.end(), std::int64_t{0}),
            1);
  // A minute with only an unknown result has no rollup, before and after compaction.
  write({make("c", "b", kT0 + 3 * kMinuteUs, 1, Outcome::kUnknown)});
  ASSERT_TRUE(store_->compact(kT0 + 2 * kHourUs));
  q.from_us = kT0 + kMinuteUs;
  q.to_us = kT0 + 10 * kMinuteUs;
  EXPECT_TRUE(store_->rollups(q)->empty());
  EXPECT_EQ(everything("c").total, 2);
  EXPECT_EQ(all("c")[1], unknown);
}

// Results arriving hours late, resent, and compacted in between land in their minutes and
// hours: whatever the order, the rollups, the availability over any window and the stream
// equal what a plain model of the distinct results says. Seeded: the same run every time.
TEST_P(StoreTest, LateWritesInterleavedWithCompactionAddUp) {
  std::mt19937_64 rng(20261201);
  const TimeUs start = kT0, end = kT0 + 12 * kHourUs;
  using Key = std::tuple<std::string, TimeUs>;  // location, started_us
  std::map<Key, StoredResult> model;
  std::vector<Committed> stream;
  TimeUs now = start + kHourUs;
  auto random_result = [&](TimeUs from, TimeUs to) {
    const char* locations[] = {"a", "b", "c"};
    // Whole seconds, so that rewrites of the same key happen often.
    TimeUs t = from + TimeUs(rng() % std::uint64_t((to - from) / kSecondUs)) * kSecondUs;
    int o = int(rng() % 10);
    return make("c", locations[rng() % 3], t, DurationUs(rng() % 3'000'000),
                o < 6   ? Outcome::kUp
                : o < 8 ? Outcome::kDown
                : o < 9 ? Outcome::kDegraded
                        : Outcome::kUnknown);
  };
  for (int round = 0; round < 40; ++round) {
    std::vector<StoredResult> batch;
    const int size = 1 + int(rng() % 60);
    for (int i = 0; i < size; ++i) {
      // Mostly live results; some hours late; some resent.
      int kind = int(rng() % 10);
      if (kind < 5) {
        batch.push_back(random_result(now - kMinuteUs, now));
      } else if (kind < 8 || model.empty()) {
        batch.push_back(random_result(start, now));
      } else {
        auto it = model.begin();
        std::advance(it, rng() % model.size());
        batch.push_back(it->second);
      }
    }
    std::vector<Committed> expected;
    std::map<Key, StoredResult> in_batch;
    for (const StoredResult& r : batch) {
      Key key{r.location, r.started_us};
      if (model.contains(key) || in_batch.contains(key)) continue;
      in_batch.emplace(key, r);
      expected.push_back({0, r});
    }
    auto committed = write(batch);
    ASSERT_EQ(committed.size(), expected.size()) << "round " << round;
    for (std::size_t i = 0; i < committed.size(); ++i) {
      EXPECT_EQ(committed[i].result, expected[i].result) << "round " << round;
      if (!stream.empty()) {
        EXPECT_GT(committed[i].seq, stream.back().seq);
      }
      stream.push_back(committed[i]);
    }
    model.merge(in_batch);
    now += TimeUs(rng() % 20) * kMinuteUs;
    if (rng() % 3 == 0) {
      ASSERT_TRUE(store_->compact(now - TimeUs(rng() % 120) * kMinuteUs));
    }
  }

  std::map<TimeUs, Availability> minutes, hours;  // by minute and hour start
  for (const auto& [key, r] : model) {
    if (r.outcome == Outcome::kUnknown) continue;
    for (auto* per : {&minutes, &hours}) {
      TimeUs unit = per == &minutes ? kMinuteUs : kHourUs;
      Availability& a = (*per)[r.started_us / unit * unit];
      ++a.total;
      a.good += r.outcome == Outcome::kUp;
      a.degraded += r.outcome == Outcome::kDegraded;
    }
  }
  auto rollups = store_->rollups({"c", std::nullopt, start, end, true});
  ASSERT_TRUE(rollups) << rollups.error().message;
  ASSERT_EQ(rollups->size(), minutes.size());
  for (const MinuteRollup& m : *rollups) {
    SCOPED_TRACE(format_rfc3339(m.minute_us));
    EXPECT_EQ(m.total, minutes[m.minute_us].total);
    EXPECT_EQ(m.good, minutes[m.minute_us].good);
    EXPECT_EQ(m.degraded, minutes[m.minute_us].degraded);
  }
  for (TimeUs hour = start; hour < end; hour += kHourUs) {
    SCOPED_TRACE(format_rfc3339(hour));
    auto a = store_->availability("c", std::nullopt, hour, hour + kHourUs);
    ASSERT_TRUE(a);
    EXPECT_EQ(a->total, hours[hour].total);
    EXPECT_EQ(a->good, hours[hour].good);
    EXPECT_EQ(a->degraded, hours[hour].degraded);
  }
  for (int i = 0; i < 20; ++i) {  // and windows across hours, not on minute bounds
    TimeUs from = start + TimeUs(rng() % std::uint64_t(end - start));
    TimeUs to = from + TimeUs(rng() % std::uint64_t(6 * kHourUs));
    Availability want;
    for (const auto& [minute, a] : minutes) {
      if (minute < from || minute >= to) continue;  // minutes that start in the window
      want.total += a.total;
      want.good += a.good;
      want.degraded += a.degraded;
    }
    auto got = store_->availability("c", std::nullopt, from, to);
    ASSERT_TRUE(got);
    EXPECT_EQ(got->total, want.total) << format_rfc3339(from) << " to " << format_rfc3339(to);
    EXPECT_EQ(got->good, want.good);
  }

  std::vector<StoredResult> by_time;
  for (const auto& [key, r] : model) by_time.push_back(r);
  std::sort(by_time.begin(), by_time.end(), [](const auto& a, const auto& b) {
    return std::tie(a.started_us, a.location) < std::tie(b.started_us, b.location);
  });
  EXPECT_EQ(all("c", Order::kOldestFirst, 97), by_time);
  // The stream, from anywhere, at any page size.
  EXPECT_EQ(since(0, 1000), stream);
  for (int i = 0; i < 10; ++i) {
    std::size_t from = rng() % stream.size();
    std::size_t limit = 1 + rng() % 50;
    EXPECT_EQ(since(stream[from].seq, limit),
              std::vector(stream.begin() + std::ptrdiff_t(from) + 1, stream.end()));
  }
}

INSTANTIATE_TEST_SUITE_P(Stores, StoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

TEST(OpenStore, BadUrisAreErrorsThatSayWhy) {
  auto s = open_store("ftp://example/x");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("unknown scheme \"ftp\""), std::string::npos)
      << s.error().message;
  s = open_store("");
  ASSERT_FALSE(s);
  s = open_store("sqlite:");
  ASSERT_FALSE(s);
  s = open_store("/nonexistent-dir/leeway.db");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("/nonexistent-dir/leeway.db"), std::string::npos)
      << s.error().message;
  // Port 1 on loopback: nothing listens there.
  s = open_store("postgresql://postgres@127.0.0.1:1/leeway");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("127.0.0.1"), std::string::npos) << s.error().message;
}

TEST(OpenStore, NotADatabaseIsAnError) {
  char tmpl[] = "/tmp/leeway-store-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string path = std::string(tmpl) + "/junk.db";
  FILE* f = std::fopen(path.c_str(), "w");
  ASSERT_NE(f, nullptr);
  std::fputs("this is not a database, but long enough to look like a header....................",
             f);
  std::fclose(f);
  auto s = open_store(path);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("not a database"), std::string::npos) << s.error().message;
  std::filesystem::remove_all(tmpl);
}

// A store that would drop every result is refused at start (the daemon then exits 1): a file
// that cannot be written, a damaged b-tree.
TEST(OpenStore, AReadOnlyFileIsAnError) {
  char tmpl[] = "/tmp/leeway-store-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/leeway.db";
  {
    auto store = open_store(path);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->write(std::vector{make("c", "a", kT0)}));
  }
  ASSERT_EQ(::chmod(tmpl, 0755), 0);
  ASSERT_EQ(::chmod(path.c_str(), 0444), 0);
  // Tests may run as root, whom file modes do not stop: the store is opened by a child that
  // runs as nobody, and sends back the error.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    if (::getuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    auto store = open_store(path);
    std::string message = store ? "" : store.error().message;
    ssize_t n = ::write(pipe_fds[1], message.data(), message.size());
    ::_exit(n == ssize_t(message.size()) ? (store ? 0 : 1) : 4);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, n);
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1) << message;
  EXPECT_NE(message.find(path), std::string::npos) << message;
  EXPECT_NE(message.find("readonly"), std::string::npos) << message;
  std::filesystem::remove_all(tmpl);
}

TEST(OpenStore, AZeroedPageIsAnError) {
  char tmpl[] = "/tmp/leeway-store-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/leeway.db";
  {
    auto store = open_store(path);
    ASSERT_TRUE(store) << store.error().message;
    ASSERT_TRUE((*store)->write(std::vector{make("c", "a", kT0)}));
  }  // closing copies the log into the file
  // Page 2 (4 KiB pages) is the root of the first table created.
  FILE* f = std::fopen(path.c_str(), "r+b");
  ASSERT_NE(f, nullptr);
  ASSERT_EQ(std::fseek(f, 4096, SEEK_SET), 0);
  const std::string zeros(4096, '\0');
  ASSERT_EQ(std::fwrite(zeros.data(), 1, zeros.size(), f), zeros.size());
  std::fclose(f);
  auto store = open_store(path);
  ASSERT_FALSE(store);
  EXPECT_NE(store.error().message.find("is damaged"), std::string::npos) << store.error().message;
  EXPECT_NE(store.error().message.find(path), std::string::npos) << store.error().message;
  std::filesystem::remove_all(tmpl);
}

// kill -9 while writing: a child writes through a StoreWriter and is killed; what survives is
// everything enqueued up to a second before the kill.
TEST(SqliteCrash, Kill9LosesAtMostTheLastSecond) {
  char tmpl[] = "/tmp/leeway-store-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string path = std::string(tmpl) + "/leeway.db";
  const SystemClock& clock = SystemClock::instance();
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    auto store = open_store(path);
    if (!store) ::_exit(2);
    WriterOptions options;  // the default commit interval
    StoreWriter writer(**store, clock, options);
    for (std::int64_t i = 0;; ++i) {
      // total_us carries the enqueue time, so the parent knows what had to survive.
      writer.enqueue(make("c", "a", kT0 + i, clock.monotonic_us()));
      ::usleep(200);
    }
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  const DurationUs killed_at = clock.monotonic_us();
  ASSERT_EQ(::kill(child, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status));

  auto store = open_store(path);
  ASSERT_TRUE(store) << store.error().message;
  ResultQuery q;
  q.check = "c";
  q.to_us = kT0 + kDayUs;
  q.order = Order::kOldestFirst;
  q.limit = 1'000'000;
  auto page = (*store)->results(q);
  ASSERT_TRUE(page);
  ASSERT_FALSE(page->results.empty());
  // Results are enqueued in order, so what survives is a prefix; its end is at most 1s old.
  for (std::size_t i = 0; i < page->results.size(); ++i) {
    ASSERT_EQ(page->results[i].started_us, kT0 + std::int64_t(i));
  }
  DurationUs last_enqueued_at = page->results.back().total_us;
  EXPECT_GE(last_enqueued_at, killed_at - kSecondUs);
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace leeway::store
