// The result store: every probe result, per-minute rollups and the latest result per check and
// location, behind one interface with a SQLite (default) and a PostgreSQL implementation.
#pragma once

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/time.h"
#include "probe/types.h"

namespace leeway::store {

// One stored probe result: the ProbeResult fields people need, keyed by check and location.
// A result is identified by (check, location, started_us); writing the same key twice keeps the
// first.
struct StoredResult {
  std::string check;     // e.g. "shop-web/home"
  std::string location;  // e.g. "local", "seoul-kt"
  TimeUs started_us = 0;
  DurationUs total_us = 0;
  probe::Outcome outcome = probe::Outcome::kDown;
  probe::Stage stage = probe::Stage::kNone;
  probe::Cause cause = probe::Cause::kNone;  // kNone also for results stored before causes
  int http_status = 0;
  std::string error;
  // Stage timings as in probe::Timings; -1 when not reached or not applicable.
  DurationUs dns_us = -1;
  DurationUs connect_us = -1;
  DurationUs tls_us = -1;
  DurationUs first_byte_us = -1;

  bool operator==(const StoredResult&) const = default;
};

// A result as the store committed it. `seq` is its position in commit order: strictly
// increasing across commits (and within a batch in batch order), never reused, gaps allowed;
// the same on every read. A consumer that remembers the last seq it handled resumes from it.
struct Committed {
  std::int64_t seq = 0;
  StoredResult result;

  bool operator==(const Committed&) const = default;
};

// Which results of a batch were new. The batch took the seqs first_seq, first_seq + 1, ... by
// place (a duplicate's seq is never used), so the new result at place i has seq first_seq + i.
struct Written {
  std::int64_t first_seq = 0;
  std::vector<std::uint32_t> places;  // ascending
};

// The new results of a written batch, moved out of it, in seq order.
std::vector<Committed> take_new(const Written& written, std::span<StoredResult> batch);

// Copies the stored fields of a probe result.
StoredResult make_stored_result(std::string check, std::string location,
                                const probe::ProbeResult& result);

// Upper bounds (inclusive, microseconds) of the latency histogram buckets of a rollup; a last,
// unbounded bucket follows them. Prometheus-like, 5ms to 10s.
constexpr std::array<DurationUs, 11> kLatencyBucketBoundsUs = {
    5'000,   10'000,    25'000,    50'000,    100'000,   250'000,
    500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};
constexpr std::size_t kLatencyBuckets = kLatencyBucketBoundsUs.size() + 1;

// The index of the histogram bucket that counts a run of `total_us`.
std::size_t latency_bucket(DurationUs total_us);

// One minute of one check at one location (or at all locations, when location is empty).
struct MinuteRollup {
  std::string check;
  std::string location;  // empty in a rollup summed over locations
  TimeUs minute_us = 0;  // the minute's start, UTC microseconds, a multiple of kMinuteUs
  std::int64_t total = 0;
  std::int64_t good = 0;      // up
  std::int64_t degraded = 0;  // degraded (counted apart from good)
  std::array<std::int64_t, kLatencyBuckets> latency_buckets{};  // counts, not cumulative

  bool operator==(const MinuteRollup&) const = default;
};

enum class Order { kNewestFirst, kOldestFirst };

// Which raw results to read: one check, [from_us, to_us), optionally one location, a page.
struct ResultQuery {
  std::string check;
  std::optional<std::string> location;
  TimeUs from_us = 0;
  TimeUs to_us = 0;
  Order order = Order::kNewestFirst;
  std::size_t limit = 100;
  std::string cursor;  // empty: the first page; else a ResultPage::next_cursor
};

// Whether the query's cursor is one that a ResultPage::next_cursor gave. The API answers a bad
// cursor with 400 before it asks the store, so that a failing store is told apart (500).
Status check_cursor(const ResultQuery& query);

struct ResultPage {
  std::vector<StoredResult> results;
  std::string next_cursor;  // empty when there are no more results
};

// Which rollups to read: one check, minutes starting in [from_us, to_us).
struct RollupQuery {
  std::string check;
  std::optional<std::string> location;  // none: one rollup per location
  TimeUs from_us = 0;
  TimeUs to_us = 0;
  bool sum_locations = false;  // true: locations summed into one rollup per minute
};

// Availability over a window, from rollups: (good + degraded) / total.
struct Availability {
  std::int64_t total = 0;
  std::int64_t good = 0;
  std::int64_t degraded = 0;
  // 1.0 when there were no results (nothing to hold against the check).
  double ratio() const { return total == 0 ? 1.0 : double(good + degraded) / double(total); }
};

struct StoreOptions {
  DurationUs raw_retention_us = 14 * kDayUs;
  DurationUs rollup_retention_us = 400 * kDayUs;
  // SQLite: results older than this are compacted into chunks by compact().
  DurationUs chunk_span_us = 2 * kHourUs;
};

// What prune() removed.
struct PruneStats {
  std::int64_t results = 0;  // raw results (plain rows and rows inside chunks)
  std::int64_t rollups = 0;
};

// A result store. Thread-safe: one writer and any number of readers may call it concurrently.
// Every call may do blocking I/O: call it from a worker (StoreWriter), never from an event loop.
class Store {
 public:
  virtual ~Store() = default;

  // Writes a batch in one transaction: raw results, minute rollups and the latest results.
  // Returns which results were NEW: a result whose (check, location, started_us) is already
  // stored, at any age within raw retention, is skipped (stored and counted once) and not
  // among them. A kUnknown result is stored but counted in no rollup.
  virtual Result<Written> write_new(std::span<const StoredResult> batch) = 0;

  // write_new(), returning the new results themselves, in seq order (copies).
  Result<std::vector<Committed>> write(std::span<const StoredResult> batch);
  // The same, moving each new result out of `batch` instead of copying it; what is left in
  // `batch` is unspecified.
  Result<std::vector<Committed>> write(std::vector<StoredResult>&& batch);

  // Results with seq > after_seq in seq order, at most `limit`; as far back as raw retention.
  virtual Result<std::vector<Committed>> read_since(std::int64_t after_seq, std::size_t limit) = 0;

  // The highest seq committed so far (0 for an empty store).
  virtual Result<std::int64_t> last_seq() = 0;

  // Where a named consumer of the results stream stopped with results left unhandled: saved at
  // a clean stop, taken (and so forgotten) at the next start, which resumes from it. After a
  // crash there is none, rather than an old one that would replay days of results.
  virtual Status save_position(std::string_view consumer, std::int64_t seq) = 0;
  virtual Result<std::optional<std::int64_t>> take_position(std::string_view consumer) = 0;

  // A page of raw results of one check, ordered by started_us (ties by location).
  virtual Result<ResultPage> results(const ResultQuery& query) = 0;

  // Minute rollups, ordered by minute then location.
  virtual Result<std::vector<MinuteRollup>> rollups(const RollupQuery& query) = 0;

  // The latest result per location of `check`, or of every check when `check` is empty;
  // ordered by check then location.
  virtual Result<std::vector<StoredResult>> latest(std::string_view check) = 0;

  // Availability of a check in [from_us, to_us) from rollups (whole minutes), at one location or
  // all of them.
  virtual Result<Availability> availability(std::string_view check,
                                            const std::optional<std::string>& location,
                                            TimeUs from_us, TimeUs to_us) = 0;

  // Deletes raw results older than now - raw retention and rollups older than now - rollup
  // retention. Latest results are kept.
  virtual Result<PruneStats> prune(TimeUs now_us) = 0;

  // Moves raw results started before `before_us` into compact chunks. Invisible to readers.
  // Returns how many results were moved; 0 for stores that keep plain rows (PostgreSQL).
  virtual Result<std::int64_t> compact(TimeUs before_us) = 0;

  // The store's name and where it lives, for logs: "sqlite:/var/lib/leeway/leeway.db".
  virtual std::string describe() const = 0;
};

// Opens (creating and migrating if needed) the store a URI names: a file path or sqlite:PATH
// for SQLite; postgres://... or postgresql://... for PostgreSQL. Errors name the URI and cause.
Result<std::unique_ptr<Store>> open_store(std::string_view uri, const StoreOptions& options = {});

struct WriterOptions {
  // Results waiting at most; enqueue() drops (and counts) beyond it rather than block the loop.
  std::size_t queue_capacity = 100'000;
  // Results written per transaction at most.
  std::size_t max_batch = 10'000;
  // A pending result is committed within this time (after kill -9 at most this much is lost).
  DurationUs commit_interval_us = 200 * kMillisecondUs;
  // How often compact() and prune() run on the worker; 0: never.
  DurationUs maintenance_interval_us = 5 * kMinuteUs;
  // Results older than this (relative to the clock) are compacted by the maintenance run.
  DurationUs compact_after_us = 1 * kHourUs;
};

// Called on the writer's thread after each commit with the results that were new (a resent
// duplicate is not among them), in seq order. Must not block: hand them on and return.
using CommitFn = std::function<void(std::span<const Committed>)>;

// What became of a batch enqueued as one unit: how many of its results were new and how many the
// store already held (a resent batch is all duplicates).
struct BatchOutcome {
  std::size_t stored = 0;
  std::size_t duplicates = 0;
};
// Called once on the writer's thread after the unit's transaction committed, or with the error
// that rolled it back. Must not block.
using BatchDone = std::function<void(Result<BatchOutcome>)>;

// Batches writes to a Store on a named worker thread ("leeway-store") with a bounded queue.
// enqueue() never blocks on I/O: when the queue is full the result is dropped and counted in
// dropped_total(), so a slow disk shows up as a metric instead of a stalled event loop.
class StoreWriter {
 public:
  // `store` and `clock` must outlive the writer. The worker starts at once. `on_commit` (may be
  // empty) sees every newly stored result once, after its transaction committed.
  StoreWriter(Store& store, const Clock& clock, WriterOptions options = {},
              CommitFn on_commit = {});
  // Calls stop().
  ~StoreWriter();
  StoreWriter(const StoreWriter&) = delete;
  StoreWriter& operator=(const StoreWriter&) = delete;

  // Queues a result for writing. Thread-safe. Returns false (and counts a drop) when the
  // queue is full or the writer is stopped.
  bool enqueue(StoredResult result);

  // Queues `batch` as one unit: its results go into one transaction (with others, never split
  // across two), so it is stored whole or not at all, and the worker starts on it at once. False
  // (and `done` is never called) when it does not fit in the queue or the writer is stopped:
  // nothing was taken, and the caller may try again later.
  bool enqueue_batch(std::vector<StoredResult> batch, BatchDone done);

  // Returns once every result enqueued before the call has been written (or failed).
  void flush();

  // Writes everything pending, then stops the worker. Idempotent and thread-safe. Later
  // enqueues are dropped.
  void stop();

  // Whether the last write succeeded; while it is false, last_error() says why and results
  // are being dropped.
  bool healthy() const { return !failing_.load(); }

  // Metrics (thread-safe).
  std::size_t queue_depth() const;
  std::int64_t results_written_total() const { return written_total_.load(); }
  // Results enqueued again that the store already held (stored and counted once).
  std::int64_t duplicates_total() const { return duplicates_total_.load(); }
  // Results lost: the queue was full, or their batch failed to write.
  std::int64_t dropped_total() const { return dropped_total_.load(); }
  std::int64_t write_errors_total() const { return write_errors_total_.load(); }
  // Duration of the last batch's write, and the sum over all batches, in microseconds.
  DurationUs last_batch_write_us() const { return last_batch_us_.load(); }
  DurationUs batch_write_us_total() const { return batch_us_total_.load(); }
  std::int64_t batches_total() const { return batches_total_.load(); }
  // The message of the last failed write or maintenance run; empty if none.
  std::string last_error() const;

 private:
  void run();
  // A unit of enqueue_batch(), by its place in the queue's numbering (see enqueued_seq_).
  struct Unit {
    std::uint64_t end = 0;  // enqueued_seq_ after its last result
    std::size_t count = 0;
    BatchDone done;
  };
  // How many results from the front of the queue the next transaction takes: at most max_batch,
  // but never part of a unit (a unit larger than max_batch goes alone). REQUIRES: mutex_ held.
  std::size_t next_take() const;
  void write_batch(std::vector<StoredResult>& batch, std::vector<Unit>& units, std::uint64_t start);
  // Tells each unit of a committed batch (which starts at `start` in the queue's numbering) how
  // many of its results were new, from the places of the new results in the batch.
  static void report_units(std::span<const std::uint32_t> places, std::span<Unit> units,
                           std::uint64_t start);
  void maintain();

  Store& store_;
  const Clock& clock_;
  const WriterOptions options_;
  const CommitFn on_commit_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;  // the worker: work, a flush or stop
  std::condition_variable idle_;  // flush(): a batch finished
  std::deque<StoredResult> queue_;
  std::deque<Unit> units_;          // in queue order
  std::uint64_t enqueued_seq_ = 0;  // results accepted so far
  std::uint64_t done_seq_ = 0;      // results written (or failed) so far
  std::uint64_t flush_waiters_ = 0;
  bool stopping_ = false;
  bool exited_ = false;  // the worker has drained the queue and returned
  std::string last_error_;

  std::atomic<bool> failing_{false};       // the last write failed
  std::int64_t burst_failed_batches_ = 0;  // failed batches since the last success (worker only)
  std::int64_t burst_dropped_ = 0;         // results they held (worker only)
  std::atomic<std::int64_t> written_total_{0};
  std::atomic<std::int64_t> duplicates_total_{0};
  std::atomic<std::int64_t> dropped_total_{0};
  std::atomic<std::int64_t> write_errors_total_{0};
  std::atomic<std::int64_t> batches_total_{0};
  std::atomic<DurationUs> last_batch_us_{0};
  std::atomic<DurationUs> batch_us_total_{0};
  TimeUs last_maintenance_us_ = 0;
  std::mutex join_mutex_;  // stop() may be called from several threads
  std::thread worker_;
};

}  // namespace leeway::store
