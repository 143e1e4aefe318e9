// StoreWriter: batches results onto a Store from one named worker thread, so the event loops
// never wait on the disk.
#include <pthread.h>

#include <chrono>
#include <iostream>

#include "store/store.h"

namespace leeway::store {

StoreWriter::StoreWriter(Store& store, const Clock& clock, WriterOptions options,
                         CommitFn on_commit)
    : store_(store), clock_(clock), options_(options), on_commit_(std::move(on_commit)) {
  last_maintenance_us_ = clock_.now_us();
  worker_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "leeway-store");
    run();
  });
}

StoreWriter::~StoreWriter() {
  stop();
}

bool StoreWriter::enqueue(StoredResult result) {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ || queue_.size() >= options_.queue_capacity) {
      dropped_total_.fetch_add(1);
      return false;
    }
    queue_.push_back(std::move(result));
    ++enqueued_seq_;
    if (queue_.size() < options_.max_batch) return true;
  }
  wake_.notify_one();
  return true;
}

bool StoreWriter::enqueue_batch(std::vector<StoredResult> batch, BatchDone done) {
  if (batch.empty()) {
    done(BatchOutcome{});
    return true;
  }
  {
    std::lock_guard lock(mutex_);
    // Refused whole rather than dropped in part: the caller still holds the batch and retries.
    if (stopping_ || queue_.size() + batch.size() > options_.queue_capacity) return false;
    for (auto& r : batch) queue_.push_back(std::move(r));
    enqueued_seq_ += batch.size();
    units_.push_back(Unit{enqueued_seq_, batch.size(), std::move(done)});
  }
  wake_.notify_one();
  return true;
}

void StoreWriter::flush() {
  std::unique_lock lock(mutex_);
  std::uint64_t target = enqueued_seq_;
  ++flush_waiters_;
  wake_.notify_one();
  idle_.wait(lock, [&] { return done_seq_ >= target || exited_; });
  --flush_waiters_;
}

void StoreWriter::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  std::lock_guard join_lock(join_mutex_);
  if (worker_.joinable()) worker_.join();
}

std::size_t StoreWriter::queue_depth() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

std::string StoreWriter::last_error() const {
  std::lock_guard lock(mutex_);
  return last_error_;
}

std::size_t StoreWriter::next_take() const {
  std::uint64_t front = enqueued_seq_ - queue_.size();
  std::size_t n = std::min(queue_.size(), options_.max_batch);
  for (const Unit& unit : units_) {
    std::uint64_t start = unit.end - unit.count;
    if (start >= front + n) break;
    if (unit.end <= front + n) continue;
    // The cut would split this unit: stop before it, or take it whole when it comes first.
    return start > front ? std::size_t(start - front) : unit.count;
  }
  return n;
}

void StoreWriter::run() {
  std::vector<StoredResult> batch;
  std::vector<Unit> units;
  std::unique_lock lock(mutex_);
  while (true) {
    // Sleep until a batch is full, someone flushes or stops, or the commit interval passes
    // with results pending (the bound on what kill -9 can lose).
    wake_.wait_for(lock, std::chrono::microseconds(options_.commit_interval_us), [&] {
      // A unit's sender is waiting for its answer: it goes at once.
      return stopping_ || (flush_waiters_ > 0 && !queue_.empty()) ||
             queue_.size() >= options_.max_batch || !units_.empty();
    });
    while (!queue_.empty()) {
      std::size_t n = next_take();
      std::uint64_t start = enqueued_seq_ - queue_.size();
      batch.assign(std::make_move_iterator(queue_.begin()),
                   std::make_move_iterator(queue_.begin() + std::ptrdiff_t(n)));
      queue_.erase(queue_.begin(), queue_.begin() + std::ptrdiff_t(n));
      units.clear();
      while (!units_.empty() && units_.front().end <= start + n) {
        units.push_back(std::move(units_.front()));
        units_.pop_front();
      }
      lock.unlock();
      write_batch(batch, units, start);
      lock.lock();
      done_seq_ += n;
      idle_.notify_all();
    }
    if (stopping_) {
      exited_ = true;
      idle_.notify_all();
      return;
    }
    if (options_.maintenance_interval_us > 0 &&
        clock_.now_us() - last_maintenance_us_ >= options_.maintenance_interval_us) {
      last_maintenance_us_ = clock_.now_us();
      lock.unlock();
      maintain();
      lock.lock();
    }
  }
}

// Places in the batch are ascending, so one pass counts each unit's new results.
void StoreWriter::report_units(std::span<const std::uint32_t> places, std::span<Unit> units,
                               std::uint64_t start) {
  auto place = places.begin();
  for (auto& unit : units) {
    const std::uint64_t first = unit.end - unit.count - start;
    const std::uint64_t end = first + unit.count;
    std::size_t stored = 0;
    while (place != places.end() && *place < first) ++place;
    for (; place != places.end() && *place < end; ++place) ++stored;
    unit.done(BatchOutcome{stored, unit.count - stored});
  }
}

void StoreWriter::write_batch(std::vector<StoredResult>& batch, std::vector<Unit>& units,
                              std::uint64_t start) {
  DurationUs began = clock_.monotonic_us();
  auto written = store_.write_new(batch);
  DurationUs took = clock_.monotonic_us() - began;
  last_batch_us_.store(took);
  batch_us_total_.fetch_add(took);
  batches_total_.fetch_add(1);
  if (written) {
    const std::size_t fresh = written->places.size();
    written_total_.fetch_add(std::int64_t(fresh));
    duplicates_total_.fetch_add(std::int64_t(batch.size() - fresh));
    if (failing_.load()) {
      std::cerr << "leeway: store: writing works again after " << burst_failed_batches_
                << " failed batches (" << burst_dropped_ << " results lost)\n";
      failing_.store(false);
      burst_failed_batches_ = burst_dropped_ = 0;
    }
    // The batch is the writer's own: its new results go to on_commit_ moved, not copied.
    if (on_commit_ && fresh > 0) on_commit_(take_new(*written, batch));
    report_units(written->places, units, start);
  } else {
    // A failed batch is dropped: retrying a disk that refuses writes would only grow the
    // queue. It is logged once per burst of failures, counted, and /healthz reports it.
    write_errors_total_.fetch_add(1);
    dropped_total_.fetch_add(std::int64_t(batch.size()));
    ++burst_failed_batches_;
    burst_dropped_ += std::int64_t(batch.size());
    if (!failing_.load())
      std::cerr << "leeway: store: writing failed, results are lost until it works again: "
                << written.error().message << "\n";
    failing_.store(true);
    {
      std::lock_guard lock(mutex_);
      last_error_ = written.error().message;
    }
    for (auto& unit : units) unit.done(written.error());
  }
  batch.clear();
}

void StoreWriter::maintain() {
  TimeUs now = clock_.now_us();
  auto compacted = store_.compact(now - options_.compact_after_us);
  auto pruned = store_.prune(now);
  std::lock_guard lock(mutex_);
  if (!compacted) last_error_ = compacted.error().message;
  if (!pruned) last_error_ = pruned.error().message;
}

}  // namespace leeway::store
