// Stream: fans committed results out to subscribers, each on its own thread with a bounded
// queue; a subscriber whose queue overflowed reads what it missed back from the store.
#include "ingest/stream.h"

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

namespace leeway::ingest {

class Stream::Subscription {
 public:
  Subscription(store::Store& store, SubscriberOptions options, Handler handler,
               std::int64_t position)
      : store_(store),
        options_(std::move(options)),
        handler_(std::move(handler)),
        position_(position),
        published_seq_(position) {
    worker_ = std::thread([this] {
      pthread_setname_np(pthread_self(), ("leeway-" + options_.name).substr(0, 15).c_str());
      run();
    });
  }

  ~Subscription() { stop(); }

  void push(Batch batch) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_ || batch.empty()) return;
      published_seq_ = batch.back().seq;
      if (queue_.size() + batch.size() > options_.queue_capacity) {
        // Dropping keeps the writer's pace; what is dropped is committed, so the worker reads
        // it back from the store once it has caught up.
        lost_ = true;
        dropped_total_ += std::int64_t(batch.size());
      } else {
        queue_.insert(queue_.end(), batch.begin(), batch.end());
      }
    }
    wake_.notify_one();
  }

  void flush() {
    std::unique_lock lock(mutex_);
    std::int64_t target = published_seq_;
    idle_.wait(lock, [&] { return position_ >= target || exited_; });
  }

  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_one();
    if (worker_.joinable()) worker_.join();
  }

  SubscriberMetrics metrics() const {
    std::lock_guard lock(mutex_);
    return {options_.name,    queue_.size(), dropped_total_, replayed_total_,
            delivered_total_, position_,     last_error_};
  }

 private:
  void run() {
    std::unique_lock lock(mutex_);
    while (true) {
      wake_.wait(lock, [&] { return stopping_ || lost_ || !queue_.empty(); });
      // Stopping skips what is queued (or lost): it is committed, so a consumer that resumes
      // from its position reads it back from the store, and a slow handler cannot hold up the
      // daemon's exit by the length of its queue.
      if (stopping_) break;
      if (lost_) {
        // Everything queued is committed, so the store read below returns it too.
        lost_ = false;
        queue_.clear();
        lock.unlock();
        bool caught_up = replay();
        lock.lock();
        if (!caught_up) {
          lost_ = true;
          // The store failed (or stop() came): try again in a second.
          wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
        }
        continue;
      }
      const auto take =
          queue_.begin() + std::ptrdiff_t(std::min(queue_.size(), options_.max_batch));
      std::vector<store::Committed> batch;
      batch.reserve(std::size_t(take - queue_.begin()));
      for (auto c = queue_.begin(); c != take; ++c)
        if (c->seq > position_) batch.push_back(std::move(*c));  // a replay delivered the rest
      queue_.erase(queue_.begin(), take);
      lock.unlock();
      deliver(batch);
      lock.lock();
      if (!batch.empty()) set_position(batch.back().seq, batch.size(), false);
    }
    exited_ = true;
    idle_.notify_all();
  }

  // Reads every result after position_ from the store and delivers it. False if a read failed
  // or stop() came first.
  bool replay() {
    while (true) {
      if (stopping()) return false;
      auto page = store_.read_since(current_position(), options_.max_batch);
      if (!page) {
        std::lock_guard lock(mutex_);
        if (last_error_ != page.error().message)
          std::cerr << "leeway: subscriber " << options_.name
                    << ": reading missed results from the store failed: " << page.error().message
                    << "\n";
        last_error_ = page.error().message;
        return false;
      }
      if (page->empty()) return true;
      deliver(*page);
      std::lock_guard lock(mutex_);
      set_position(page->back().seq, page->size(), true);
      last_error_.clear();
      if (page->size() < options_.max_batch) return true;
    }
  }

  void deliver(const std::vector<store::Committed>& batch) {
    if (batch.empty()) return;
    try {
      handler_(batch);
    } catch (const std::exception& e) {
      // A handler's bug must not stop the stream for the others; it is logged and the batch
      // counts as delivered (handlers do not throw by contract).
      std::cerr << "leeway: subscriber " << options_.name << " threw: " << e.what() << "\n";
    }
  }

  // REQUIRES: mutex_ held.
  void set_position(std::int64_t seq, std::size_t n, bool replayed) {
    position_ = seq;
    delivered_total_ += std::int64_t(n);
    if (replayed) replayed_total_ += std::int64_t(n);
    idle_.notify_all();
  }

  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  std::int64_t current_position() {
    std::lock_guard lock(mutex_);
    return position_;
  }

  store::Store& store_;
  const SubscriberOptions options_;
  Handler handler_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;  // the worker: results, a loss or stop
  std::condition_variable idle_;  // flush(): the position moved
  std::deque<store::Committed> queue_;
  bool lost_ = true;  // start with a read from the store: what was committed before subscribing
  bool stopping_ = false;
  bool exited_ = false;
  std::int64_t position_;       // the last seq delivered
  std::int64_t published_seq_;  // the last seq pushed (queued or dropped)
  std::int64_t dropped_total_ = 0;
  std::int64_t replayed_total_ = 0;
  std::int64_t delivered_total_ = 0;
  std::string last_error_;
  std::thread worker_;
};

Stream::Stream(store::Store& store) : store_(store) {}

Stream::~Stream() {
  stop();
}

Status Stream::subscribe(SubscriberOptions options, Handler handler) {
  std::int64_t position = 0;
  if (options.after_seq) {
    position = *options.after_seq;
  } else {
    auto last = store_.last_seq();
    if (!last) return fail("subscriber ", options.name, ": ", last.error().message);
    position = *last;
  }
  std::lock_guard lock(mutex_);
  subscriptions_.push_back(
      std::make_unique<Subscription>(store_, std::move(options), std::move(handler), position));
  return {};
}

void Stream::publish(Batch batch) {
  std::lock_guard lock(mutex_);
  for (auto& s : subscriptions_) s->push(batch);
}

void Stream::flush() {
  // Waits outside the lock, so that publish() (the writer) is never held up by a flush.
  std::vector<Subscription*> all;
  {
    std::lock_guard lock(mutex_);
    for (auto& s : subscriptions_) all.push_back(s.get());
  }
  for (auto* s : all) s->flush();
}

void Stream::stop() {
  std::lock_guard lock(mutex_);
  for (auto& s : subscriptions_) s->stop();
}

std::vector<SubscriberMetrics> Stream::metrics() const {
  std::lock_guard lock(mutex_);
  std::vector<SubscriberMetrics> out;
  for (const auto& s : subscriptions_) out.push_back(s->metrics());
  return out;
}

}  // namespace leeway::ingest
