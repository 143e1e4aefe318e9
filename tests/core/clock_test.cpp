// ManualClock's timers: moving the clock runs what falls due, in order, each at its own time.
#include "core/clock.h"

#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <vector>

namespace leeway {
namespace {

TEST(ManualClockTimers, RunInDueOrderEachAtItsOwnTime) {
  boost::asio::io_context io;
  ManualClock clock(1'000);
  std::vector<std::pair<int, TimeUs>> ran;
  auto a = clock.make_timer(io), b = clock.make_timer(io), c = clock.make_timer(io);
  a->arm_at(5'000, [&] { ran.push_back({1, clock.now_us()}); });
  b->arm_at(3'000, [&] { ran.push_back({2, clock.now_us()}); });
  c->arm_at(9'000, [&] { ran.push_back({3, clock.now_us()}); });
  clock.advance(6'000);  // to 7,000: b then a; c is not due
  EXPECT_EQ(ran, (std::vector<std::pair<int, TimeUs>>{{2, 3'000}, {1, 5'000}}));
  EXPECT_EQ(clock.now_us(), 7'000);
  EXPECT_EQ(clock.pending_timers(), 1u);
}

TEST(ManualClockTimers, ACallbackMayRearmAndRunsAgainWithinTheSameMove) {
  boost::asio::io_context io;
  ManualClock clock(0);
  std::vector<TimeUs> ticks;
  auto t = clock.make_timer(io);
  std::function<void()> tick = [&] {
    ticks.push_back(clock.now_us());
    t->arm_at(clock.now_us() + kMinuteUs, tick);
  };
  t->arm_at(kMinuteUs, tick);
  clock.set(3 * kMinuteUs + 5);
  EXPECT_EQ(ticks, (std::vector<TimeUs>{kMinuteUs, 2 * kMinuteUs, 3 * kMinuteUs}));
  // A simulated month of minutes takes no real time.
  clock.advance(30 * kDayUs);
  EXPECT_EQ(ticks.size(), 3u + 30 * 24 * 60);
}

TEST(ManualClockTimers, CancelAndDestroyForgetTheArm) {
  boost::asio::io_context io;
  ManualClock clock(0);
  int ran = 0;
  auto a = clock.make_timer(io);
  a->arm_at(10, [&] { ++ran; });
  a->cancel();
  {
    auto b = clock.make_timer(io);
    b->arm_at(10, [&] { ++ran; });
  }
  auto c = clock.make_timer(io);
  c->arm_at(10, [&] { ran += 10; });
  c->arm_at(20, [&] { ran += 100; });  // replaces the first arm
  clock.advance(100);
  EXPECT_EQ(ran, 100);
  EXPECT_EQ(clock.pending_timers(), 0u);
}

TEST(ManualClockTimers, ATimerAlreadyDueRunsOnTheNextMove) {
  boost::asio::io_context io;
  ManualClock clock(50);
  int ran = 0;
  auto a = clock.make_timer(io);
  a->arm_at(10, [&] { ++ran; });
  EXPECT_EQ(ran, 0);
  clock.advance(0);
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(clock.now_us(), 50);  // a past due time does not move the clock back
}

TEST(SystemClockTimers, RunOnTheLoop) {
  boost::asio::io_context io;
  const SystemClock& clock = SystemClock::instance();
  bool ran = false;
  auto t = clock.make_timer(io);
  t->arm_at(clock.now_us() + 1'000, [&] { ran = true; });
  io.run();
  EXPECT_TRUE(ran);
}

}  // namespace
}  // namespace leeway
