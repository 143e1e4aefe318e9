// Batches submitted as one unit (an agent's push) on a real SQLite file: each goes into one
// transaction, never split, among single results; its completion says how many results were new;
// a resent batch is all duplicates and stored once.
#include <gtest/gtest.h>

#include <filesystem>
#include <future>
#include <mutex>

#include "ingest/ingest.h"
#include "support/fixtures.h"

namespace leeway::ingest {
namespace {

constexpr TimeUs kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

store::StoredResult make(TimeUs started_us, std::string location = "agent-1") {
  store::StoredResult r;
  r.check = "web/home";
  r.location = std::move(location);
  r.started_us = started_us;
  r.total_us = 1'000;
  r.outcome = probe::Outcome::kUp;
  return r;
}

std::vector<store::StoredResult> batch_of(int first, int n) {
  std::vector<store::StoredResult> out;
  for (int i = first; i < first + n; ++i) out.push_back(make(kT0 + i * kSecondUs));
  return out;
}

// The real SQLite store, noting which results each transaction held.
class RecordingStore final : public store::Store {
 public:
  explicit RecordingStore(std::unique_ptr<store::Store> inner) : inner_(std::move(inner)) {}
  Result<store::Written> write_new(std::span<const store::StoredResult> b) override {
    std::lock_guard lock(mutex_);
    writes_.emplace_back(b.begin(), b.end());
    return inner_->write_new(b);
  }
  Result<std::vector<store::Committed>> read_since(std::int64_t s, std::size_t l) override {
    return inner_->read_since(s, l);
  }
  Result<std::int64_t> last_seq() override { return inner_->last_seq(); }
  Status save_position(std::string_view c, std::int64_t seq) override {
    return inner_->save_position(c, seq);
  }
  Result<std::optional<std::int64_t>> take_position(std::string_view c) override {
    return inner_->take_position(c);
  }
  Result<store::ResultPage> results(const store::ResultQuery& q) override {
    return inner_->results(q);
  }
  Result<std::vector<store::MinuteRollup>> rollups(const store::RollupQuery& q) override {
    return inner_->rollups(q);
  }
  Result<std::vector<store::StoredResult>> latest(std::string_view c) override {
    return inner_->latest(c);
  }
  Result<store::Availability> availability(std::string_view c, const std::optional<std::string>& l,
                                           TimeUs f, TimeUs t) override {
    return inner_->availability(c, l, f, t);
  }
  Result<store::PruneStats> prune(TimeUs now) override { return inner_->prune(now); }
  Result<std::int64_t> compact(TimeUs before) override { return inner_->compact(before); }
  std::string describe() const override { return inner_->describe(); }

  // The transaction that held the result started at `t`, by index; -1 when none did.
  int write_of(TimeUs t) {
    std::lock_guard lock(mutex_);
    for (std::size_t w = 0; w < writes_.size(); ++w)
      for (const auto& r : writes_[w])
        if (r.started_us == t && r.location == "agent-1") return int(w);
    return -1;
  }

 private:
  std::unique_ptr<store::Store> inner_;
  std::mutex mutex_;
  std::vector<std::vector<store::StoredResult>> writes_;
};

class BatchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::fresh_test_dir("leeway-batch");
    auto s = store::open_store("sqlite:" + (dir_ / "leeway.db").string());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::make_unique<RecordingStore>(std::move(*s));
  }
  void TearDown() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Submits a batch and returns its future outcome.
  std::future<Result<store::BatchOutcome>> submit(Ingest& ingest,
                                                  std::vector<store::StoredResult> batch) {
    auto promise = std::make_shared<std::promise<Result<store::BatchOutcome>>>();
    auto future = promise->get_future();
    EXPECT_TRUE(ingest.submit_batch(
        std::move(batch), [promise](auto outcome) { promise->set_value(std::move(outcome)); }));
    return future;
  }

  std::filesystem::path dir_;
  std::unique_ptr<RecordingStore> store_;
  ManualClock clock_{kT0};
};

TEST_F(BatchTest, AUnitIsNeverSplitAcrossTransactions) {
  store::WriterOptions options;
  options.max_batch = 7;
  Ingest ingest(*store_, clock_, options);
  // Singles from the local probes before and between the units, so that a cut at max_batch
  // would fall inside them.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(ingest.submit(make(kT0 + i * kSecondUs, "local")));
  auto small = submit(ingest, batch_of(0, 5));
  for (int i = 5; i < 8; ++i) ASSERT_TRUE(ingest.submit(make(kT0 + i * kSecondUs, "local")));
  auto big = submit(ingest, batch_of(100, 12));  // larger than max_batch: written alone
  auto small_outcome = small.get();
  auto big_outcome = big.get();
  ASSERT_TRUE(small_outcome) << small_outcome.error().message;
  ASSERT_TRUE(big_outcome) << big_outcome.error().message;
  EXPECT_EQ(small_outcome->stored, 5u);
  EXPECT_EQ(small_outcome->duplicates, 0u);
  EXPECT_EQ(big_outcome->stored, 12u);
  ingest.flush();
  for (int i = 1; i < 5; ++i)
    EXPECT_EQ(store_->write_of(kT0 + i * kSecondUs), store_->write_of(kT0)) << i;
  for (int i = 101; i < 112; ++i)
    EXPECT_EQ(store_->write_of(kT0 + i * kSecondUs), store_->write_of(kT0 + 100 * kSecondUs)) << i;
}

TEST_F(BatchTest, AResentBatchIsStoredOnceAndReportedAsDuplicates) {
  Ingest ingest(*store_, clock_);
  auto first = submit(ingest, batch_of(0, 50)).get();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->stored, 50u);
  // Resent with ten new results at its end (the agent's spool grew meanwhile).
  auto again = submit(ingest, batch_of(0, 60)).get();
  ASSERT_TRUE(again);
  EXPECT_EQ(again->stored, 10u);
  EXPECT_EQ(again->duplicates, 50u);
  store::ResultQuery q{.check = "web/home", .location = "agent-1", .to_us = kT0 + kDayUs};
  q.limit = 1000;
  auto page = store_->results(q);
  ASSERT_TRUE(page);
  EXPECT_EQ(page->results.size(), 60u);
}

TEST_F(BatchTest, ABatchIsRefusedWholeWhenTheQueueHasNoRoom) {
  store::WriterOptions options;
  options.queue_capacity = 10;
  Ingest ingest(*store_, clock_, options);
  bool called = false;
  EXPECT_FALSE(ingest.submit_batch(batch_of(0, 11), [&](auto) { called = true; }));
  ingest.stop();
  EXPECT_FALSE(ingest.submit_batch(batch_of(0, 1), [&](auto) { called = true; }));
  EXPECT_FALSE(called);
  EXPECT_EQ(store_->write_of(kT0), -1);
}

}  // namespace
}  // namespace leeway::ingest
