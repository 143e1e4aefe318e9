// The results stream on a real SQLite file and a real PostgreSQL server: every stored result
// reaches each subscriber exactly once, in commit order, however slow the subscriber, and across
// a restart from its position.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "ingest/ingest.h"
#include "support/fixtures.h"
#include "support/postgres_server.h"

namespace leeway::ingest {
namespace {

constexpr TimeUs kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

store::StoredResult make(std::string check, TimeUs started_us) {
  store::StoredResult r;
  r.check = std::move(check);
  r.location = "local";
  r.started_us = started_us;
  r.total_us = 1'000;
  r.outcome = probe::Outcome::kUp;
  return r;
}

// What a subscriber saw, for the test thread to read.
struct Seen {
  std::mutex mutex;
  std::vector<store::Committed> all;

  Handler handler() {
    return [this](Batch batch) {
      std::lock_guard lock(mutex);
      all.insert(all.end(), batch.begin(), batch.end());
    };
  }
  std::vector<store::Committed> copy() {
    std::lock_guard lock(mutex);
    return all;
  }
};

// Strictly increasing seqs, and exactly the expected start times in that order.
void expect_once_in_order(const std::vector<store::Committed>& seen,
                          const std::vector<TimeUs>& started) {
  ASSERT_EQ(seen.size(), started.size());
  for (std::size_t i = 0; i < seen.size(); ++i) {
    EXPECT_EQ(seen[i].result.started_us, started[i]) << "at " << i;
    if (i > 0) {
      EXPECT_GT(seen[i].seq, seen[i - 1].seq) << "at " << i;
    }
  }
}

class StreamTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    if (GetParam() == "sqlite") {
      dir_ = testing::fresh_test_dir("leeway-stream").string();
      uri_ = "sqlite:" + dir_ + "/leeway.db";
    } else {
      if (testing::PostgresServer::skip_requested()) GTEST_SKIP() << "LEEWAY_SKIP_POSTGRES=1";
      auto uri = testing::fresh_postgres_database("leeway_stream");
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
    auto s = store::open_store(uri_);
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }

  std::string dir_;
  std::string uri_;
  std::unique_ptr<store::Store> store_;
  ManualClock clock_{kT0};
};

TEST_P(StreamTest, EveryStoredResultOnceInOrderAndNoDuplicates) {
  Seen seen;
  Ingest ingest(*store_, clock_);
  ASSERT_TRUE(ingest.subscribe({.name = "test"}, seen.handler()));
  std::vector<TimeUs> started;
  for (int i = 0; i < 500; ++i) {
    started.push_back(kT0 + i * kSecondUs);
    ASSERT_TRUE(ingest.submit(make("web/home", started.back())));
  }
  ingest.flush();
  // Resent results (an agent retrying a batch) are stored once and not repeated.
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(ingest.submit(make("web/home", started[i])));
  ingest.flush();
  expect_once_in_order(seen.copy(), started);
  EXPECT_EQ(ingest.writer().duplicates_total(), 100);
}

TEST_P(StreamTest, SlowSubscriberNeverStallsTheWriterAndCatchesUpFromTheStore) {
  Seen seen;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<bool> blocked_once{false};
  store::WriterOptions fast;
  fast.max_batch = 50;
  Ingest ingest(*store_, clock_, fast);
  ASSERT_TRUE(ingest.subscribe({.name = "slow", .queue_capacity = 100}, [&](Batch batch) {
    if (!blocked_once.exchange(true)) released.wait();
    seen.handler()(batch);
  }));
  std::vector<TimeUs> started;
  for (int i = 0; i < 2'000; ++i) {
    started.push_back(kT0 + i * kSecondUs);
    ASSERT_TRUE(ingest.submit(make("web/home", started.back())));
  }
  // The subscriber is stuck in its first batch, yet everything is written.
  ingest.flush_store();
  const store::StoreWriter& writer = ingest.writer();
  EXPECT_EQ(writer.results_written_total(), 2'000);
  EXPECT_EQ(writer.dropped_total(), 0);
  auto during = ingest.subscribers().at(0);
  EXPECT_GT(during.dropped_total, 0);
  EXPECT_LE(during.queue_depth, 100u);

  release.set_value();
  ingest.flush();
  expect_once_in_order(seen.copy(), started);
  auto after = ingest.subscribers().at(0);
  EXPECT_GT(after.replayed_total, 0);
  EXPECT_EQ(after.delivered_total, 2'000);
}

TEST_P(StreamTest, ARestartedSubscriberReplaysFromItsPosition) {
  std::vector<TimeUs> started;
  std::int64_t position = 0;
  {
    Seen seen;
    Ingest ingest(*store_, clock_);
    ASSERT_TRUE(ingest.subscribe({.name = "first"}, seen.handler()));
    for (int i = 0; i < 300; ++i) {
      started.push_back(kT0 + i * kSecondUs);
      ASSERT_TRUE(ingest.submit(make("web/home", started.back())));
    }
    ingest.flush();
    auto all = seen.copy();
    ASSERT_EQ(all.size(), 300u);
    position = all[119].seq;  // the consumer had handled 120 results when it went down
  }
  reopen();  // the daemon restarts on the same file

  Seen seen;
  Ingest ingest(*store_, clock_);
  ASSERT_TRUE(ingest.subscribe({.name = "again", .after_seq = position}, seen.handler()));
  for (int i = 300; i < 400; ++i) {
    started.push_back(kT0 + i * kSecondUs);
    ASSERT_TRUE(ingest.submit(make("web/home", started.back())));
  }
  ingest.flush();
  expect_once_in_order(seen.copy(), std::vector<TimeUs>(started.begin() + 120, started.end()));
}

// Stopping with a slow subscriber and a long queue: stop() waits for the handler call under way
// (at most max_batch results), not for the queue, and what the subscriber skipped is in the store:
// resumed from its position after a restart, it sees every result once, in order.
TEST_P(StreamTest, StopSkipsASlowSubscribersQueueAndTheStoreKeepsWhatItSkipped) {
  using namespace std::chrono_literals;
  constexpr int kResults = 2'000;
  constexpr auto kPerResult = 10ms;  // working through the whole queue would take 20 s
  std::vector<TimeUs> started;
  Seen seen;
  {
    store::WriterOptions fast;
    fast.max_batch = 50;
    Ingest ingest(*store_, clock_, fast);
    ASSERT_TRUE(ingest.subscribe({.name = "slow", .max_batch = 20}, [&](Batch batch) {
      std::this_thread::sleep_for(kPerResult * batch.size());
      seen.handler()(batch);
    }));
    for (int i = 0; i < kResults; ++i) {
      started.push_back(kT0 + i * kSecondUs);
      ASSERT_TRUE(ingest.submit(make("web/home", started.back())));
    }
    ingest.flush_store();
    EXPECT_GT(ingest.subscribers().at(0).queue_depth, std::size_t(kResults / 2));
    auto begun = std::chrono::steady_clock::now();
    ingest.stop();
    // One handler call is 0.2 s; the queue would be 10 s or more.
    EXPECT_LT(std::chrono::steady_clock::now() - begun, 5s);
    EXPECT_EQ(ingest.writer().results_written_total(), kResults);
  }
  auto handled = seen.copy();
  ASSERT_LT(handled.size(), std::size_t(kResults));
  auto stored = store_->read_since(0, kResults + 1);
  ASSERT_TRUE(stored) << stored.error().message;
  EXPECT_EQ(stored->size(), std::size_t(kResults));

  reopen();  // the daemon starts again on the same file
  Ingest ingest(*store_, clock_);
  const std::int64_t position = handled.empty() ? 0 : handled.back().seq;
  ASSERT_TRUE(ingest.subscribe({.name = "again", .after_seq = position}, seen.handler()));
  started.push_back(kT0 + kResults * kSecondUs);
  ASSERT_TRUE(ingest.submit(make("web/home", started.back())));
  ingest.flush();
  expect_once_in_order(seen.copy(), started);
}

TEST_P(StreamTest, ALateSubscriberSeesOnlyWhatIsStoredAfterIt) {
  Ingest ingest(*store_, clock_);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(ingest.submit(make("web/home", kT0 + i * kSecondUs)));
  ingest.flush();
  Seen seen;
  ASSERT_TRUE(ingest.subscribe({.name = "late"}, seen.handler()));
  ASSERT_TRUE(ingest.submit(make("web/home", kT0 + 10 * kSecondUs)));
  ingest.flush();
  expect_once_in_order(seen.copy(), {kT0 + 10 * kSecondUs});
}

INSTANTIATE_TEST_SUITE_P(Stores, StreamTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace leeway::ingest
