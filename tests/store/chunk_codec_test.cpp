// The compact chunk codec: exact round trips, robustness against corrupt bytes, and its size.
#include <gtest/gtest.h>

#include <limits>
#include <random>

#include "store/detail.h"

namespace leeway::store::detail {
namespace {

Row regular_row(int i) {
  Row r;
  r.started_us = 1'767'225'600'000'000 + i * 30 * kSecondUs + (i * 7919) % 20'000;  // jitter
  r.total_us = 40'000 + (i * 131) % 9'000;
  r.outcome_stage = pack_outcome_stage(probe::Outcome::kUp, probe::Stage::kNone);
  r.http_status = 200;
  r.dns_us = 900 + i % 50;
  r.connect_us = 1'800 + (i * 17) % 300;
  r.tls_us = 9'000 + (i * 29) % 2'000;
  r.first_byte_us = 25'000 + (i * 37) % 5'000;
  r.seq = 90'000 + i * 2'000 + (i * 7) % 50;  // 2,000 series commit between two of its runs
  return r;
}

TEST(ChunkCodec, RoundTripsRegularRows) {
  std::vector<Row> rows;
  for (int i = 0; i < 240; ++i) rows.push_back(regular_row(i));
  rows[17].outcome_stage = pack_outcome_stage(probe::Outcome::kDown, probe::Stage::kTimeout);
  rows[17].http_status = 0;
  rows[17].error_id = 3;
  rows[17].first_byte_us = rows[17].tls_us = -1;
  rows[17].cause = static_cast<int>(probe::Cause::kTimeout);
  rows[18].cause = static_cast<int>(probe::Cause::kReset);  // the status alone stays the same
  rows[18].dns_us = rows[18].connect_us = rows[18].tls_us = rows[18].first_byte_us = -1;
  std::string data = encode_chunk(rows);
  auto back = decode_chunk(data);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, rows);
  // Regular rows with stage timings fit well under the 24-byte budget per result.
  EXPECT_LT(double(data.size()) / double(rows.size()), 16.0) << data.size();
}

TEST(ChunkCodec, RoundTripsExtremesAndEmpty) {
  auto empty = decode_chunk(encode_chunk({}));
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());

  constexpr auto kMin = std::numeric_limits<std::int64_t>::min();
  constexpr auto kMax = std::numeric_limits<std::int64_t>::max();
  std::vector<Row> rows = {
      Row{kMin, kMax, 31, -1, kMax, kMin, kMax, -1, 0, kMax},
      Row{kMax, kMin, 0, std::numeric_limits<int>::max(), 0, kMax, kMin, kMax, kMin, kMin},
      Row{kMin, 0, 7, std::numeric_limits<int>::min(), 1, -1, -1, -1, -1, 0},
  };
  auto back = decode_chunk(encode_chunk(rows));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, rows);
}

// Chunks of schema 4 carry seqs but no causes: their rows read as cause 0 (none).
TEST(ChunkCodec, ReadsSchema4ChunksWithoutCauses) {
  // One row: started_us 2, seq 5, total 100 us, up, status 200 (0xc8 0x01): the format byte 0,
  // count 1, zigzag 4, zigzag 10, zigzag 200, flags "status changed", status.
  const std::string data("\x00\x01\x04\x0a\xc8\x01\x20\xc8\x01", 9);
  auto rows = decode_chunk(data);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].started_us, 2);
  EXPECT_EQ((*rows)[0].seq, 5);
  EXPECT_EQ((*rows)[0].total_us, 100);
  EXPECT_EQ((*rows)[0].http_status, 200);
  EXPECT_EQ((*rows)[0].cause, 0);
}

TEST(ChunkCodec, RoundTripsRandomRows) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 50; ++round) {
    std::vector<Row> rows(rng() % 100);
    for (auto& r : rows) {
      r = Row{std::int64_t(rng()),
              std::int64_t(rng() % 20'000'000),
              int(rng() % 32),
              int(rng() % 600),
              std::int64_t(rng() % 3),
              std::int64_t(rng() % 5) - 1,
              std::int64_t(rng() % 5'000) - 1,
              -1,
              std::int64_t(rng()),
              std::int64_t(rng())};
      r.cause = int(rng() % 8);
    }
    auto back = decode_chunk(encode_chunk(rows));
    ASSERT_TRUE(back) << back.error().message;
    EXPECT_EQ(*back, rows);
  }
}

// Chunks written before schema 4 carry no seqs: their rows number on from the piece's first.
TEST(ChunkCodec, DecodesChunksWithoutSeqs) {
  // Two rows in the format of schema 3: 2026-01-01T00:00:05Z up (200, timings 100, 1100, -, 9000)
  // and 00:00:35Z down at connect with error 1 (timings 100, -, -, -).
  const std::string hex =
      "0280ade4e688d2a306c0bb01a0c801ca019a1100d28c01808ece1ccf8c01ea000100991100d18c01";
  std::string data;
  for (std::size_t i = 0; i < hex.size(); i += 2) data += char(std::stoi(hex.substr(i, 2), 0, 16));
  auto rows = decode_chunk(data, 41);
  ASSERT_TRUE(rows) << rows.error().message;
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0], (Row{1'767'225'605'000'000, 12'000, 0, 200, 0, 100, 1'100, -1, 9'000, 41}));
  EXPECT_EQ((*rows)[1], (Row{1'767'225'635'000'000, 3'000, 10, 0, 1, 100, -1, -1, -1, 42}));
  // Written again, they carry their seqs.
  EXPECT_EQ(*decode_chunk(encode_chunk(*rows)), *rows);
}

TEST(ChunkCodec, CorruptBytesAreErrorsNotCrashes) {
  std::vector<Row> rows;
  for (int i = 0; i < 20; ++i) rows.push_back(regular_row(i));
  std::string data = encode_chunk(rows);
  for (std::size_t cut = 0; cut < data.size(); ++cut) {
    EXPECT_FALSE(decode_chunk(std::string_view(data).substr(0, cut))) << cut;
  }
  EXPECT_FALSE(decode_chunk(data + "x"));
  EXPECT_FALSE(decode_chunk(std::string(12, '\xff')));
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string junk = data;
    junk[rng() % junk.size()] = char(rng());
    (void)decode_chunk(junk);  // any answer, as long as it does not crash or read out of bounds
  }
}

TEST(Cursor, RoundTripsAndRejectsGarbage) {
  auto c = decode_cursor(encode_cursor({-5, "seoul/kt"}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->started_us, -5);
  EXPECT_EQ(c->location, "seoul/kt");
  EXPECT_FALSE(decode_cursor(""));
  EXPECT_FALSE(decode_cursor("12x/a"));
  EXPECT_FALSE(decode_cursor("nope"));
}

TEST(MinuteOf, FloorsInUtcMicroseconds) {
  EXPECT_EQ(minute_of(0), 0);
  EXPECT_EQ(minute_of(kMinuteUs - 1), 0);
  EXPECT_EQ(minute_of(kMinuteUs), kMinuteUs);
  EXPECT_EQ(minute_of(-1), -kMinuteUs);
}

TEST(LatencyBucket, BoundsAreInclusive) {
  EXPECT_EQ(latency_bucket(0), 0u);
  EXPECT_EQ(latency_bucket(5'000), 0u);
  EXPECT_EQ(latency_bucket(5'001), 1u);
  EXPECT_EQ(latency_bucket(10'000'000), 10u);
  EXPECT_EQ(latency_bucket(10'000'001), 11u);
}

}  // namespace
}  // namespace leeway::store::detail
