// The agent's spool on a real folder: oldest first, forgotten only when acknowledged, kept across
// a reopen (a restart), a torn last line cut off, and the size bound dropping (and counting) the
// oldest.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "agent/spool.h"
#include "support/fixtures.h"

namespace leeway::agent {
namespace {

std::string record(int i) {
  return "{\"n\":" + std::to_string(i) + ",\"pad\":\"" + std::string(80, 'x') + "\"}";
}

int number(const std::string& r) {
  return std::stoi(r.substr(5));
}

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::fresh_test_dir("leeway-spool"); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Spool> open(std::uint64_t max_bytes = 1 << 20) {
    auto spool = Spool::open({dir_.string(), max_bytes});
    EXPECT_TRUE(spool) << spool.error().message;
    return spool ? std::move(*spool) : nullptr;
  }

  // Everything not acknowledged, oldest first, by record number.
  std::vector<int> pending(Spool& spool) {
    auto chunk = spool.peek(1'000'000, 1 << 30);
    EXPECT_TRUE(chunk);
    std::vector<int> out;
    for (const auto& r : chunk->records) out.push_back(number(r));
    return out;
  }

  std::filesystem::path dir_;
};

TEST_F(SpoolTest, OldestFirstAndForgottenOnlyWhenAcknowledged) {
  auto spool = open(64 << 10);  // segments of 8 KiB: the records span several
  for (int i = 0; i < 300; ++i) ASSERT_TRUE(spool->append(record(i)));
  auto first = spool->peek(100, 1 << 20);
  ASSERT_TRUE(first);
  ASSERT_EQ(first->records.size(), 100u);
  EXPECT_EQ(number(first->records[0]), 0);
  EXPECT_EQ(number(first->records[99]), 99);
  // Not acknowledged: the same again.
  EXPECT_EQ(number(spool->peek(1, 1 << 20)->records[0]), 0);
  ASSERT_TRUE(spool->acknowledge(first->end));
  auto second = spool->peek(1000, 4096);  // by bytes: about 4 KiB
  ASSERT_TRUE(second);
  EXPECT_EQ(number(second->records[0]), 100);
  EXPECT_LT(second->records.size(), 60u);
  ASSERT_TRUE(spool->acknowledge(second->end));
  int next = 100 + int(second->records.size());

  // A restart: what was acknowledged stays forgotten, the rest is there in order.
  spool.reset();
  spool = open(64 << 10);
  std::vector<int> rest = pending(*spool);
  ASSERT_EQ(rest.size(), std::size_t(300 - next));
  for (std::size_t i = 0; i < rest.size(); ++i) EXPECT_EQ(rest[i], next + int(i));
  EXPECT_EQ(spool->dropped_total(), 0);
}

TEST_F(SpoolTest, ARecordLongerThanABatchStillComesOut) {
  auto spool = open();
  std::string big = "{\"n\":1,\"pad\":\"" + std::string(10'000, 'y') + "\"}";
  ASSERT_TRUE(spool->append(big));
  ASSERT_TRUE(spool->append(record(2)));
  auto chunk = spool->peek(100, 1000);
  ASSERT_TRUE(chunk);
  ASSERT_EQ(chunk->records.size(), 1u);
  EXPECT_EQ(chunk->records[0], big);
}

TEST_F(SpoolTest, ATornLastLineIsCutOff) {
  {
    auto spool = open();
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(spool->append(record(i)));
  }
  std::filesystem::path segment;
  for (const auto& e : std::filesystem::directory_iterator(dir_ / "results")) segment = e.path();
  std::ofstream(segment, std::ios::app) << "{\"n\":3,\"pad\":\"xx";  // kill -9 mid-write
  auto spool = open();
  EXPECT_EQ(pending(*spool), (std::vector<int>{0, 1, 2}));
  ASSERT_TRUE(spool->append(record(4)));
  EXPECT_EQ(pending(*spool), (std::vector<int>{0, 1, 2, 4}));
}

TEST_F(SpoolTest, WhenFullTheOldestAreDroppedAndCounted) {
  auto spool = open(32 << 10);  // 8 segments of 4 KiB
  const int kAppended = 2000;   // ~200 KiB
  for (int i = 0; i < kAppended; ++i) ASSERT_TRUE(spool->append(record(i)));
  EXPECT_LE(spool->bytes(), 32u << 10);
  std::vector<int> kept = pending(*spool);
  ASSERT_FALSE(kept.empty());
  // The newest are kept, contiguous up to the last; every other one is counted as dropped.
  EXPECT_EQ(kept.back(), kAppended - 1);
  for (std::size_t i = 1; i < kept.size(); ++i) EXPECT_EQ(kept[i], kept[i - 1] + 1);
  EXPECT_EQ(spool->dropped_total(), kAppended - std::int64_t(kept.size()));
  // The count survives a restart, to be reported when the server is back.
  std::int64_t dropped = spool->dropped_total();
  spool.reset();
  spool = open(32 << 10);
  EXPECT_EQ(spool->dropped_total(), dropped);
}

TEST_F(SpoolTest, AcknowledgedRecordsAreNotCountedAsDropped) {
  auto spool = open(32 << 10);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(spool->append(record(i)));
  auto all = spool->peek(1000, 1 << 20);
  ASSERT_TRUE(spool->acknowledge(all->end));
  for (int i = 100; i < 500; ++i) ASSERT_TRUE(spool->append(record(i)));
  std::vector<int> kept = pending(*spool);
  EXPECT_EQ(spool->dropped_total(), 400 - std::int64_t(kept.size()));
}

}  // namespace
}  // namespace leeway::agent
