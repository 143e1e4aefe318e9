// The Driver on a real io_context. Its timer comes from the injected clock: with a ManualClock,
// moving the clock runs the runs that fall due, each at its exact time, so these tests need no
// real waiting; the io_context runs what the driver posts (after add, replace or a freed slot).
#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "schedule/schedule.h"

namespace leeway::schedule {
namespace {

constexpr TimeUs kBase = 1'767'225'600 * kSecondUs;  // 2026-01-01T00:00:00Z

struct Started {
  Entry entry;
  TimeUs scheduled_us;
  TimeUs clock_us;  // the clock when the run was started
  std::function<void()> done;
};

// Records every run it is asked to start; finishes each at once unless told to hold them.
struct Recorder {
  explicit Recorder(const Clock& clock) : clock(clock) {}

  Driver::StartFn start_fn() {
    return [this](const Entry& entry, TimeUs scheduled_us, std::function<void()> done) {
      std::lock_guard lock(mu);
      started.push_back(Started{entry, scheduled_us, clock.now_us(), done});
      if (!hold) done();
    };
  }

  std::size_t count() {
    std::lock_guard lock(mu);
    return started.size();
  }

  const Clock& clock;
  bool hold = false;
  std::mutex mu;
  std::vector<Started> started;
};

// Runs loop handlers until `count` runs have started; false if that takes over 10 s of real
// time, which no correct outcome needs (each wait is at most one interval of a few ms).
bool run_until_started(boost::asio::io_context& io, Recorder& recorder, std::size_t count) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (recorder.count() < count) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    if (io.stopped()) io.restart();
    io.run_one_for(std::chrono::milliseconds(100));
  }
  return true;
}

Entry entry(std::string id, DurationUs interval_us, std::string host = "host") {
  return Entry{std::move(id), interval_us, std::move(host), 0};
}

TEST(DriverManualClock, StartsEverySlotOnceWhenTheClockReachesIt) {
  constexpr DurationUs kInterval = 20 * kMillisecondUs;
  const TimeUs s0 = next_slot_us("web/home", kInterval, kBase);
  boost::asio::io_context io;
  ManualClock clock(s0);
  Recorder recorder(clock);
  Driver driver(io, clock, recorder.start_fn(), Options{4, [](std::string_view) {}});
  ASSERT_TRUE(driver.add(entry("web/home", kInterval)));
  ASSERT_TRUE(run_until_started(io, recorder, 1));

  constexpr int kSlots = 40;
  for (int k = 1; k <= kSlots; ++k) {
    clock.set(s0 + k * kInterval);
    ASSERT_TRUE(run_until_started(io, recorder, k + 1)) << "slot " << k;
  }
  // The clock stands still: nothing more is due.
  io.restart();
  io.poll();

  ASSERT_EQ(recorder.started.size(), static_cast<std::size_t>(kSlots + 1));
  for (int k = 0; k <= kSlots; ++k) {
    EXPECT_EQ(recorder.started[k].scheduled_us, s0 + k * kInterval);
    EXPECT_EQ(recorder.started[k].clock_us, s0 + k * kInterval);
  }
  const Metrics m = driver.metrics();
  EXPECT_EQ(m.runs_started_total, static_cast<std::uint64_t>(kSlots + 1));
  EXPECT_EQ(m.lateness_sum_seconds, 0.0);
  EXPECT_EQ(m.runs_in_flight, 0u);
  EXPECT_EQ(driver.skipped("web/home"), 0u);
}

TEST(DriverManualClock, AJumpPastSeveralSlotsRunsEachOnItsTime) {
  constexpr DurationUs kInterval = 20 * kMillisecondUs;
  const TimeUs s0 = next_slot_us("web/home", kInterval, kBase);
  boost::asio::io_context io;
  ManualClock clock(s0);
  Recorder recorder(clock);
  Driver driver(io, clock, recorder.start_fn(), Options{4, [](std::string_view) {}});
  ASSERT_TRUE(driver.add(entry("web/home", kInterval)));
  ASSERT_TRUE(run_until_started(io, recorder, 1));
  clock.set(s0 + 5 * kInterval + kMillisecondUs);
  ASSERT_EQ(recorder.count(), 6u);
  for (int k = 0; k <= 5; ++k) EXPECT_EQ(recorder.started[k].clock_us, s0 + k * kInterval);
  EXPECT_EQ(driver.skipped("web/home"), 0u);
}

TEST(DriverManualClock, ALoopLateBySeveralSlotsRunsOnlyTheLatest) {
  constexpr DurationUs kInterval = 20 * kMillisecondUs;
  const TimeUs s0 = next_slot_us("web/home", kInterval, kBase);
  boost::asio::io_context io;
  ManualClock clock(s0);
  Recorder recorder(clock);
  // Starting the first run holds the loop for five intervals and a bit.
  auto start = recorder.start_fn();
  Driver driver(
      io, clock,
      [&](const Entry& e, TimeUs scheduled_us, std::function<void()> done) {
        bool first = recorder.count() == 0;
        start(e, scheduled_us, std::move(done));
        if (first) clock.set(s0 + 5 * kInterval + kMillisecondUs);
      },
      Options{4, [](std::string_view) {}});
  ASSERT_TRUE(driver.add(entry("web/home", kInterval)));
  ASSERT_TRUE(run_until_started(io, recorder, 1));
  clock.advance(0);  // the timer armed after the long start is already due
  ASSERT_EQ(recorder.count(), 2u);
  EXPECT_EQ(recorder.started[1].scheduled_us, s0 + 5 * kInterval);
  EXPECT_EQ(driver.skipped("web/home"), 4u);
  EXPECT_EQ(driver.metrics().runs_skipped_behind_total, 4u);
}

TEST(DriverManualClock, AFinishedRunOnAnotherThreadReleasesTheWaitingRun) {
  constexpr DurationUs kInterval = 50 * kMillisecondUs;
  boost::asio::io_context io;
  ManualClock clock(kBase);
  Recorder recorder(clock);
  recorder.hold = true;
  Driver driver(io, clock, recorder.start_fn(), Options{1, [](std::string_view) {}});
  ASSERT_TRUE(driver.add(entry("web/home", kInterval, "shared")));
  ASSERT_TRUE(driver.add(entry("api/health", kInterval, "shared")));
  ASSERT_TRUE(driver.add(entry("db/primary", kInterval, "elsewhere")));
  clock.set(kBase + kInterval - 1);  // every first slot is due, no second one
  ASSERT_TRUE(run_until_started(io, recorder, 2));
  // api/health's phase (32.4 ms of 50) comes before web/home's (49.8 ms): web/home waits.
  std::map<std::string, std::size_t> index;
  for (std::size_t i = 0; i < recorder.started.size(); ++i) index[recorder.started[i].entry.id] = i;
  ASSERT_EQ(index.count("api/health"), 1u);
  ASSERT_EQ(index.count("db/primary"), 1u);
  EXPECT_EQ(driver.metrics().runs_waiting_for_host, 1u);

  std::thread([done = recorder.started[index["api/health"]].done] { done(); }).join();
  ASSERT_TRUE(run_until_started(io, recorder, 3));
  EXPECT_EQ(recorder.started[2].entry.id, "web/home");
  EXPECT_EQ(recorder.started[2].scheduled_us, kBase + 49'765);
  EXPECT_EQ(recorder.started[2].clock_us, kBase + kInterval - 1);
  const Metrics m = driver.metrics();
  EXPECT_EQ(m.runs_waiting_for_host, 0u);
  EXPECT_EQ(m.runs_in_flight, 2u);
  for (Started& s : recorder.started)
    if (s.entry.id != "api/health") s.done();
  EXPECT_EQ(driver.metrics().runs_in_flight, 0u);
}

TEST(DriverManualClock, ReplaceTakesEffectOnTheLoop) {
  constexpr DurationUs kInterval = 20 * kMillisecondUs;
  boost::asio::io_context io;
  const TimeUs s0 = next_slot_us("web/home", kInterval, kBase);
  ManualClock clock(s0);
  Recorder recorder(clock);
  Driver driver(io, clock, recorder.start_fn(), Options{4, [](std::string_view) {}});
  ASSERT_TRUE(driver.add(entry("web/home", kInterval)));
  ASSERT_TRUE(run_until_started(io, recorder, 1));

  // Replaced by another check: web/home stops, the new one starts at its own slot.
  const TimeUs added_slot = next_slot_us("api/health", kInterval, s0);
  ASSERT_TRUE(driver.replace({entry("api/health", kInterval)}));
  EXPECT_FALSE(driver.remove("web/home"));
  clock.set(added_slot);
  ASSERT_TRUE(run_until_started(io, recorder, 2));
  clock.set(added_slot + kInterval);
  ASSERT_TRUE(run_until_started(io, recorder, 3));
  EXPECT_EQ(recorder.started[1].entry.id, "api/health");
  EXPECT_EQ(recorder.started[1].scheduled_us, added_slot);
  EXPECT_EQ(recorder.started[2].entry.id, "api/health");
  EXPECT_EQ(recorder.started[2].scheduled_us, added_slot + kInterval);
  EXPECT_FALSE(driver.replace({entry("x", 0)}));
  EXPECT_EQ(driver.metrics().checks, 1u);
}

TEST(DriverManualClock, StopLetsTheLoopRunOutOfWork) {
  constexpr DurationUs kInterval = 20 * kMillisecondUs;
  boost::asio::io_context io;
  const TimeUs s0 = next_slot_us("web/home", kInterval, kBase);
  ManualClock clock(s0);
  Recorder recorder(clock);
  recorder.hold = true;
  Driver driver(io, clock, recorder.start_fn(), Options{4, [](std::string_view) {}});
  ASSERT_TRUE(driver.add(entry("web/home", kInterval)));
  ASSERT_TRUE(run_until_started(io, recorder, 1));
  driver.stop();
  driver.stop();  // idempotent
  clock.set(s0 + 10 * kInterval);
  io.restart();
  io.run();  // returns: the timer is cancelled and nothing re-arms it
  EXPECT_EQ(recorder.count(), 1u);
  recorder.started[0].done();  // a run ending after stop() is still accounted
  EXPECT_EQ(driver.metrics().runs_in_flight, 0u);
}

TEST(DriverManualClock, ARunMayEndAfterTheDriverIsGone) {
  boost::asio::io_context io;
  const TimeUs s0 = next_slot_us("web/home", kSecondUs, kBase);
  ManualClock clock(s0);
  Recorder recorder(clock);
  recorder.hold = true;
  {
    Driver driver(io, clock, recorder.start_fn(), Options{4, [](std::string_view) {}});
    ASSERT_TRUE(driver.add(entry("web/home", kSecondUs)));
    ASSERT_TRUE(run_until_started(io, recorder, 1));
  }
  recorder.started[0].done();  // must not touch the destroyed Driver
  io.restart();
  io.run();
  EXPECT_EQ(recorder.count(), 1u);
}

TEST(DriverSystemClock, RunsChecksOnTheirSlotsWithTheLoopOnAnotherThread) {
  // Real time, short intervals, no timing asserts: only which slots ran and in what order.
  constexpr DurationUs kInterval = 30 * kMillisecondUs;
  const std::vector<std::string> ids = {"web/home", "api/health", "db/primary"};
  boost::asio::io_context io;
  const SystemClock& clock = SystemClock::instance();
  Recorder recorder(clock);
  Driver driver(io, clock, recorder.start_fn(), Options{1, [](std::string_view) {}});
  ASSERT_TRUE(driver.add(entry(ids[0], kInterval, ids[0])));
  auto work = boost::asio::make_work_guard(io);
  std::thread loop([&io] { io.run(); });
  // The others are added while the loop runs.
  for (std::size_t i = 1; i < ids.size(); ++i)
    EXPECT_TRUE(driver.add(entry(ids[i], kInterval, ids[i])));

  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto enough = [&] {
    std::lock_guard lock(recorder.mu);
    std::map<std::string, int> per_check;
    for (const Started& s : recorder.started) ++per_check[s.entry.id];
    for (const std::string& id : ids)
      if (per_check[id] < 5) return false;
    return true;
  };
  while (!enough() && std::chrono::steady_clock::now() < give_up)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  driver.stop();
  work.reset();
  loop.join();

  std::map<std::string, std::vector<const Started*>> per_check;
  for (const Started& s : recorder.started) per_check[s.entry.id].push_back(&s);
  for (const std::string& id : ids) {
    const std::vector<const Started*>& runs = per_check[id];
    ASSERT_GE(runs.size(), 5u) << id;
    for (std::size_t i = 0; i < runs.size(); ++i) {
      EXPECT_EQ((runs[i]->scheduled_us - phase_us(id, kInterval)) % kInterval, 0) << id;
      EXPECT_GE(runs[i]->clock_us, runs[i]->scheduled_us) << id;
      if (i > 0) {
        EXPECT_GT(runs[i]->scheduled_us, runs[i - 1]->scheduled_us) << id;
      }
    }
  }
  const Metrics m = driver.metrics();
  EXPECT_EQ(m.runs_started_total, recorder.started.size());
  EXPECT_EQ(m.runs_in_flight, 0u);
}

}  // namespace
}  // namespace leeway::schedule
