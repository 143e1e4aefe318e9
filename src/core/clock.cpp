// SystemClock's timers on Asio's steady_timer; ManualClock's in a table that set() walks.
#include "core/clock.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

namespace leeway {

namespace {

class SystemTimer final : public Timer {
 public:
  SystemTimer(boost::asio::io_context& io, const Clock& clock) : timer_(io), clock_(clock) {}

  void arm_at(TimeUs at_us, std::function<void()> fn) override {
    const TimeUs now = clock_.now_us();
    timer_.expires_after(std::chrono::microseconds(at_us > now ? at_us - now : 0));
    timer_.async_wait([fn = std::move(fn)](boost::system::error_code ec) {
      if (!ec) fn();
    });
  }
  void cancel() override { timer_.cancel(); }

 private:
  boost::asio::steady_timer timer_;
  const Clock& clock_;
};

}  // namespace

TimeUs SystemClock::now_us() const {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}

DurationUs SystemClock::monotonic_us() const {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

std::unique_ptr<Timer> SystemClock::make_timer(boost::asio::io_context& io) const {
  return std::make_unique<SystemTimer>(io, *this);
}

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

class ManualClock::ManualTimer final : public Timer {
 public:
  explicit ManualTimer(const ManualClock& clock) : clock_(clock) {}
  ~ManualTimer() override { clock_.cancel(this); }
  void arm_at(TimeUs at_us, std::function<void()> fn) override {
    clock_.arm(this, at_us, std::move(fn));
  }
  void cancel() override { clock_.cancel(this); }

 private:
  const ManualClock& clock_;
};

std::unique_ptr<Timer> ManualClock::make_timer(boost::asio::io_context&) const {
  return std::make_unique<ManualTimer>(*this);
}

void ManualClock::arm(const ManualTimer* timer, TimeUs at_us, std::function<void()> fn) const {
  std::lock_guard lock(mutex_);
  armed_[timer] = Armed{at_us, next_order_++, std::move(fn)};
}

void ManualClock::cancel(const ManualTimer* timer) const {
  std::lock_guard lock(mutex_);
  armed_.erase(timer);
}

std::size_t ManualClock::pending_timers() const {
  std::lock_guard lock(mutex_);
  return armed_.size();
}

void ManualClock::set(TimeUs t) {
  while (true) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mutex_);
      auto due = armed_.end();
      for (auto it = armed_.begin(); it != armed_.end(); ++it) {
        if (it->second.at_us > t) continue;
        if (due == armed_.end() || std::pair(it->second.at_us, it->second.order) <
                                       std::pair(due->second.at_us, due->second.order))
          due = it;
      }
      if (due == armed_.end()) break;
      if (due->second.at_us > now_.load()) now_.store(due->second.at_us);
      fn = std::move(due->second.fn);
      armed_.erase(due);
    }
    fn();  // unlocked: it may arm or cancel timers
  }
  now_.store(t);
}

}  // namespace leeway
