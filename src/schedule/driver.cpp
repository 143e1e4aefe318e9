// Driver: runs a Schedule on an Asio loop with a single timer of the injected clock armed for the
// next due time.
#include <atomic>
#include <boost/asio/post.hpp>
#include <chrono>
#include <mutex>

#include "schedule/schedule.h"

namespace leeway::schedule {

struct Driver::Impl : std::enable_shared_from_this<Impl> {
  Impl(boost::asio::io_context& io, const Clock& clock, StartFn start, Options options)
      : io(io),
        clock(clock),
        start(std::move(start)),
        schedule(std::move(options)),
        timer(clock.make_timer(io)) {}

  boost::asio::io_context& io;
  const Clock& clock;
  StartFn start;
  mutable std::mutex mu;
  Schedule schedule;             // guarded by mu
  std::unique_ptr<Timer> timer;  // touched only on the loop's thread
  std::atomic<bool> stopped{false};

  // Runs fire() on the loop soon: after a change to the schedule or a freed host slot.
  void poke() {
    boost::asio::post(io, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->fire();
    });
  }

  // On the loop: starts every due run, then sleeps until the next due time.
  void fire() {
    if (stopped) return;
    std::vector<Run> runs;
    std::optional<TimeUs> next;
    {
      std::lock_guard lock(mu);
      runs = schedule.due(clock.now_us());
      next = schedule.next_due_us();
    }
    for (Run& run : runs) start(run.entry, run.scheduled_us, make_done(run.run_id));
    // The timer measures its wait when armed, after the batch started: measuring it from before
    // would make every next start late by the time the batch took.
    arm(next);
  }

  std::function<void()> make_done(std::uint64_t run_id) {
    return [weak = weak_from_this(), run_id] {
      auto self = weak.lock();
      if (!self) return;
      bool waiting;
      {
        std::lock_guard lock(self->mu);
        waiting = self->schedule.finish(run_id);
      }
      if (waiting) self->poke();
    };
  }

  void arm(std::optional<TimeUs> next) {
    if (stopped || !next) {
      timer->cancel();
      return;
    }
    timer->arm_at(*next, [weak = weak_from_this()] {
      if (auto self = weak.lock()) self->fire();
    });
  }
};

Driver::Driver(boost::asio::io_context& io, const Clock& clock, StartFn start, Options options)
    : impl_(std::make_shared<Impl>(io, clock, std::move(start), std::move(options))) {}

Driver::~Driver() {
  impl_->stopped = true;
  impl_->timer->cancel();
}

Status Driver::add(Entry entry) {
  Status status;
  {
    std::lock_guard lock(impl_->mu);
    status = impl_->schedule.add(std::move(entry), impl_->clock.now_us());
  }
  if (status) impl_->poke();
  return status;
}

bool Driver::remove(std::string_view id) {
  std::lock_guard lock(impl_->mu);
  return impl_->schedule.remove(id);
}

Status Driver::replace(std::vector<Entry> entries) {
  Status status;
  {
    std::lock_guard lock(impl_->mu);
    status = impl_->schedule.replace(std::move(entries), impl_->clock.now_us());
  }
  if (status) impl_->poke();
  return status;
}

void Driver::stop() {
  impl_->stopped = true;
  boost::asio::post(impl_->io, [weak = std::weak_ptr<Impl>(impl_)] {
    if (auto self = weak.lock()) self->timer->cancel();
  });
}

Metrics Driver::metrics() const {
  std::lock_guard lock(impl_->mu);
  return impl_->schedule.metrics();
}

std::uint64_t Driver::skipped(std::string_view id) const {
  std::lock_guard lock(impl_->mu);
  return impl_->schedule.skipped(id);
}

}  // namespace leeway::schedule
