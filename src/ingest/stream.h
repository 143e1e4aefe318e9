// The stream of what was stored: after each commit, the newly stored results go to every
// subscriber, in commit order, each on a thread of its own behind a bounded queue. A subscriber
// that falls behind (its queue was full) or starts late catches up by reading the store from its
// position, so it sees every stored result exactly once whatever its speed.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "store/store.h"

namespace leeway::ingest {

// A run of newly stored results, in seq order.
using Batch = std::span<const store::Committed>;
// Called on the subscriber's own thread, never concurrently with itself.
using Handler = std::function<void(Batch)>;

struct SubscriberOptions {
  std::string name;  // for /metrics and the thread's name: "state", "detector"
  // Results waiting for the handler at most; past it they are dropped from the queue (counted)
  // and read back from the store once the handler has caught up.
  std::size_t queue_capacity = 100'000;
  // Replay every stored result with a greater seq before the live ones (a consumer that
  // remembers its position); none: only results committed after subscribe().
  std::optional<std::int64_t> after_seq;
  // Results per handler call at most, from the queue or a replay query's page: stop() waits
  // for one such call at most, however long the queue.
  std::size_t max_batch = 10'000;
};

// What /metrics shows of one subscriber.
struct SubscriberMetrics {
  std::string name;
  std::size_t queue_depth = 0;       // results waiting
  std::int64_t dropped_total = 0;    // results dropped from the queue (then replayed)
  std::int64_t replayed_total = 0;   // results delivered from the store rather than the queue
  std::int64_t delivered_total = 0;  // results handed to the handler
  std::int64_t position = 0;         // the seq of the last result delivered
  std::string last_error;            // the last failed replay read; empty if none
};

class Stream {
 public:
  // `store` must outlive the stream; replays read it from the subscribers' threads.
  explicit Stream(store::Store& store);
  // Calls stop().
  ~Stream();
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  // Registers a subscriber and starts its thread. Thread-safe. A subscriber without after_seq
  // starts at the store's last seq, read here (blocking): call it before results flow.
  Status subscribe(SubscriberOptions options, Handler handler);

  // Hands newly committed results (seq order, after the previous call's) to every subscriber.
  // Never blocks on a subscriber: a full queue drops and marks the subscriber for a replay.
  void publish(Batch batch);

  // Returns once every subscriber has handled everything published before the call.
  void flush();

  // Stops every subscriber's thread as soon as its handler returns, without delivering what
  // is queued or replaying what was dropped: all of it is committed, so a consumer that resumes
  // from its position reads it from the store. Idempotent.
  void stop();

  std::vector<SubscriberMetrics> metrics() const;

 private:
  class Subscription;
  store::Store& store_;
  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<Subscription>> subscriptions_;
};

}  // namespace leeway::ingest
