#include "daemon/availability.h"

#include <pthread.h>

#include <chrono>

namespace leeway::daemon {

AvailabilityCache::AvailabilityCache(store::Store& store, const Clock& clock,
                                     AvailabilityCacheOptions options)
    : store_(store), clock_(clock), options_(options) {
  if (options_.refresh_interval_us > 0) {
    worker_ = std::thread([this] {
      pthread_setname_np(pthread_self(), "leeway-avail");
      run();
    });
  }
}

AvailabilityCache::~AvailabilityCache() {
  stop();
}

void AvailabilityCache::set_checks(const std::vector<std::string>& ids) {
  std::lock_guard lock(mutex_);
  std::map<std::string, CachedAvailability, std::less<>> next;
  for (const auto& id : ids) {
    auto it = entries_.find(id);
    if (it == entries_.end()) dirty_ = true;
    next.emplace(id, it == entries_.end() ? CachedAvailability{} : it->second);
  }
  entries_ = std::move(next);
  if (dirty_) wake_.notify_one();
}

std::optional<CachedAvailability> AvailabilityCache::get(std::string_view id) const {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void AvailabilityCache::refresh() {
  struct Todo {
    std::string id;
    bool month_due;
  };
  DurationUs start = clock_.monotonic_us();
  std::vector<Todo> todo;
  {
    std::lock_guard lock(mutex_);
    TimeUs now = clock_.now_us();
    for (const auto& [id, e] : entries_)
      todo.push_back({id, !e.month || now - e.month_as_of_us >= options_.month_max_age_us});
    dirty_ = false;
  }
  // The store is queried without the lock, so get() never waits on I/O.
  for (const auto& [id, month_due] : todo) {
    TimeUs now = clock_.now_us();
    auto day = store_.availability(id, std::nullopt, now - kDayUs, now);
    std::optional<Result<store::Availability>> month;
    if (month_due) month = store_.availability(id, std::nullopt, now - 30 * kDayUs, now);

    std::lock_guard lock(mutex_);
    if (stopping_) return;
    auto it = entries_.find(id);
    if (it == entries_.end()) continue;  // removed by a reload meanwhile
    if (day) {
      it->second.day = *day;
      it->second.day_as_of_us = now;
    }
    if (month && *month) {
      it->second.month = **month;
      it->second.month_as_of_us = now;
    }
  }
  last_refresh_us_ = clock_.monotonic_us() - start;
}

void AvailabilityCache::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (!entries_.empty()) {
      lock.unlock();
      refresh();
      lock.lock();
    }
    wake_.wait_for(lock, std::chrono::microseconds(options_.refresh_interval_us),
                   [this] { return stopping_ || dirty_; });
  }
}

void AvailabilityCache::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (worker_.joinable()) worker_.join();
}

}  // namespace leeway::daemon
