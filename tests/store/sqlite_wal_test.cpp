// The SQLite store's write-ahead log must not grow without bound while the daemon runs: SQLite
// can only restart the log when no connection, the writer included, holds a read snapshot.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>

#include "store/store.h"

namespace leeway::store {
namespace {

constexpr TimeUs kT0 = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z

TEST(SqliteWal, StaysBoundedUnderWritesAndReads) {
  char tmpl[] = "/tmp/leeway-sqlite-wal-test-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl;
  {
    auto store = open_store("sqlite:" + dir + "/leeway.db");
    ASSERT_TRUE(store) << store.error().message;
    // As the daemon does: small batches from the writer, reads from the API between them.
    // 300 checks x 400 rounds = 120,000 results, several times the log's checkpoint size.
    for (int round = 0; round < 400; ++round) {
      std::vector<StoredResult> batch;
      for (int c = 0; c < 300; ++c) {
        StoredResult r;
        r.check = "svc/check-" + std::to_string(c);
        r.location = "local";
        r.started_us = kT0 + round * 10 * kSecondUs + c * kMillisecondUs;
        r.outcome = c % 50 == 0 ? probe::Outcome::kDown : probe::Outcome::kUp;
        if (r.outcome == probe::Outcome::kDown) r.error = "connect: Connection refused";
        r.total_us = 1'000 + c;
        batch.push_back(std::move(r));
      }
      ASSERT_TRUE((*store)->write(batch));
      ASSERT_TRUE((*store)->latest(""));
      ASSERT_TRUE((*store)->availability("svc/check-1", std::nullopt, kT0, kT0 + kDayUs));
      ResultQuery q;
      q.check = "svc/check-2";
      q.from_us = kT0;
      q.to_us = kT0 + kDayUs;
      q.limit = 5;
      ASSERT_TRUE((*store)->results(q));
    }
    // The log restarts once checkpointed (every 4,096 pages, 16 MiB); a log that never restarts
    // holds every page written since start, far beyond this.
    const auto wal_bytes = std::filesystem::file_size(dir + "/leeway.db-wal");
    EXPECT_LT(wal_bytes, 64u << 20) << "the write-ahead log is never restarted";
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace leeway::store
