// The agent's durable spool: every result is appended to files on disk before it is sent, and
// forgotten only once the server has committed it. Bounded by size: when full, the oldest
// results are dropped and counted (the count goes to the server with the next batch).
//
// Layout: <dir>/results/<n>.seg files of results, one JSON line each, in order; <dir>/state.json
// holds the position up to which the server has them and the dropped count. A torn line at the
// end (kill -9, power loss) is cut off when the spool opens.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/result.h"

namespace leeway::agent {

struct SpoolOptions {
  std::string dir;
  std::uint64_t max_bytes = std::uint64_t{64} << 20;  // results kept at most, on disk
  // Synced to disk about this often (what a power cut may lose; kill -9 loses nothing written).
  std::chrono::milliseconds sync_interval{1000};
};

// A place in the spool: a segment and a byte offset in it.
struct SpoolPosition {
  std::uint64_t segment = 0;
  std::uint64_t offset = 0;
  auto operator<=>(const SpoolPosition&) const = default;
};

// Records read from the oldest not yet acknowledged, and where they end.
struct SpoolChunk {
  std::vector<std::string> records;
  SpoolPosition begin;
  SpoolPosition end;
};

// Thread-safe: the agent's loop appends, the pusher peeks and acknowledges.
class Spool {
 public:
  // Opens (creating) the spool in options.dir, cutting a torn last line. Errors name the path.
  static Result<std::unique_ptr<Spool>> open(SpoolOptions options);
  // Syncs and stops the sync thread.
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  // Appends one record (no newline in it). Over max_bytes, the oldest segment goes first.
  Status append(std::string_view record);

  // Up to `max_records` records (and about `max_bytes`) from the oldest not acknowledged, in
  // order. Empty when everything was acknowledged.
  Result<SpoolChunk> peek(std::size_t max_records, std::size_t max_bytes);

  // The server has everything before `end`: forget it (finished segments are deleted).
  Status acknowledge(const SpoolPosition& end);

  // Waits until a record may be there to peek, `timeout` passes, or wake() is called.
  void wait(std::chrono::milliseconds timeout);
  void wake();

  // Writes what was appended to the disk (fdatasync); the sync thread calls it.
  Status sync();

  // Results dropped because the spool was full, since it was created (kept across restarts).
  std::int64_t dropped_total() const;
  const std::string& dir() const { return options_.dir; }
  // Bytes of results on disk, acknowledged ones of the oldest segment included.
  std::uint64_t bytes() const;

 private:
  explicit Spool(SpoolOptions options);
  Status start();
  std::string segment_path(std::uint64_t segment) const;
  Status open_segment(std::uint64_t segment);
  Status drop_oldest();
  Status save_state();

  const SpoolOptions options_;
  const std::uint64_t segment_bytes_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::uint64_t, std::uint64_t> segments_;  // segment -> bytes
  int fd_ = -1;                                      // the last segment, for appending
  bool dirty_ = false;
  bool woken_ = false;
  bool stopping_ = false;
  SpoolPosition acked_;
  std::int64_t dropped_total_ = 0;
  std::uint64_t appended_ = 0;  // appends since open, for wait()
  std::uint64_t seen_ = 0;      // appends that wait() has seen
  std::thread syncer_;
};

}  // namespace leeway::agent
