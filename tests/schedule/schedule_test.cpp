// The clock-free Schedule driven with a ManualClock: phases, slots, per-host limits, skips,
// lateness metrics and reloads, each with exact expectations.
#include "schedule/schedule.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/clock.h"

namespace leeway::schedule {
namespace {

// Inside a TEST body a bare `Run` names testing::Test::Run, hence schedule::Run below.

// 2026-01-01T00:00:00Z: a multiple of every interval below that divides the day.
constexpr TimeUs kBase = 1'767'225'600 * kSecondUs;

Entry entry(std::string id, DurationUs interval_us, std::string host = "host") {
  return Entry{std::move(id), interval_us, std::move(host), 0};
}

// Drives a Schedule the way the Driver does, in simulated time: jump the clock to the next
// event (a due time or a run's end), finish the runs that are over, then start what is due.
// Each run lasts `run_us`.
struct Simulation {
  explicit Simulation(Options options = {}, TimeUs start_us = kBase)
      : clock(start_us), schedule(std::move(options)) {}

  // Runs every event before end_us and calls on_start for each run started.
  void run_until(TimeUs end_us, DurationUs run_us,
                 const std::function<void(const schedule::Run&)>& on_start = {}) {
    for (;;) {
      std::optional<TimeUs> next = schedule.next_due_us();
      if (!finishing.empty() && (!next || finishing.begin()->first < *next))
        next = finishing.begin()->first;
      if (!next || *next >= end_us) break;
      clock.set(std::max(*next, clock.now_us()));
      const TimeUs now_us = clock.now_us();
      while (!finishing.empty() && finishing.begin()->first <= now_us) {
        schedule.finish(finishing.begin()->second);
        finishing.erase(finishing.begin());
      }
      for (const schedule::Run& run : schedule.due(now_us)) {
        finishing.emplace(now_us + run_us, run.run_id);
        if (on_start) on_start(run);
      }
    }
    clock.set(std::max(end_us, clock.now_us()));
  }

  // Every run started before end_us, by check id.
  std::map<std::string, std::vector<schedule::Run>> runs_until(TimeUs end_us, DurationUs run_us) {
    std::map<std::string, std::vector<schedule::Run>> runs;
    run_until(end_us, run_us, [&](const schedule::Run& run) { runs[run.entry.id].push_back(run); });
    return runs;
  }

  ManualClock clock;
  Schedule schedule;
  std::multimap<TimeUs, std::uint64_t> finishing;  // end time -> run id
};

std::vector<TimeUs> scheduled_times(const std::vector<schedule::Run>& runs) {
  std::vector<TimeUs> out;
  for (const schedule::Run& run : runs) out.push_back(run.scheduled_us);
  return out;
}

// The slots k * interval + phase in [from_us, to_us).
std::vector<TimeUs> slots(const std::string& id, DurationUs interval_us, TimeUs from_us,
                          TimeUs to_us) {
  std::vector<TimeUs> out;
  for (TimeUs t = next_slot_us(id, interval_us, from_us); t < to_us; t += interval_us)
    out.push_back(t);
  return out;
}

TEST(Phase, IsPinnedAcrossBuildsAndMachines) {
  // Golden values: a change here moves every check's slots after an upgrade.
  EXPECT_EQ(phase_us("web/home", 60 * kSecondUs), 3'399'765);
  EXPECT_EQ(phase_us("web/home", 10 * kSecondUs), 3'399'765);
  EXPECT_EQ(phase_us("api/health", 60 * kSecondUs), 13'632'378);
  EXPECT_EQ(phase_us("check-1", kHourUs), 1'457'122'904);
  EXPECT_EQ(phase_us("check-2", kHourUs), 743'053'991);
  EXPECT_EQ(phase_us("web/home", kSecondUs), 399'765);
}

TEST(Phase, LiesInsideTheIntervalAndDependsOnlyOnIdAndInterval) {
  for (DurationUs interval_us :
       {DurationUs{1}, DurationUs{7}, kSecondUs, 7 * kSecondUs, 60 * kSecondUs, kHourUs, kDayUs}) {
    for (int i = 0; i < 1000; ++i) {
      const std::string id = "svc/check-" + std::to_string(i);
      const DurationUs phase = phase_us(id, interval_us);
      ASSERT_GE(phase, 0);
      ASSERT_LT(phase, interval_us);
      ASSERT_EQ(phase, phase_us(std::string(id), interval_us));  // a fresh copy of the id
    }
  }
  EXPECT_EQ(phase_us("anything", 1), 0);
}

TEST(NextSlot, IsTheFirstEpochAlignedSlotAtOrAfterT) {
  const std::string id = "web/home";
  for (DurationUs interval_us : {kSecondUs, 7 * kSecondUs, 60 * kSecondUs, kHourUs}) {
    const DurationUs phase = phase_us(id, interval_us);
    const TimeUs on_slot = kBase + phase;
    EXPECT_EQ(next_slot_us(id, interval_us, on_slot), on_slot);
    EXPECT_EQ(next_slot_us(id, interval_us, on_slot - 1), on_slot);
    EXPECT_EQ(next_slot_us(id, interval_us, on_slot + 1), on_slot + interval_us);
    EXPECT_EQ(next_slot_us(id, interval_us, on_slot - interval_us + 1), on_slot);
    // Before the epoch and at 0 (ManualClock's default) the slots line up just the same.
    EXPECT_EQ(next_slot_us(id, interval_us, 0), phase);
    EXPECT_EQ(next_slot_us(id, interval_us, -1), phase);  // phase - interval_us < -1 here
    EXPECT_EQ(next_slot_us(id, interval_us, -interval_us), phase - interval_us);
    for (TimeUs t = kBase - 3 * interval_us; t < kBase + 3 * interval_us; t += interval_us / 7) {
      const TimeUs slot = next_slot_us(id, interval_us, t);
      ASSERT_GE(slot, t);
      ASSERT_LT(slot - interval_us, t);
      ASSERT_EQ((slot - phase) % interval_us, 0);
    }
  }
}

TEST(Schedule, RefusesBadEntries) {
  Schedule schedule;
  Status empty = schedule.add(entry("", kSecondUs), kBase);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message, "a scheduled check needs an id");
  Status zero = schedule.add(entry("a", 0), kBase);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "check \"a\": interval must be positive, got 0us");
  Status negative = schedule.add(entry("a", -5), kBase);
  ASSERT_FALSE(negative);
  EXPECT_EQ(negative.error().message, "check \"a\": interval must be positive, got -5us");
  ASSERT_TRUE(schedule.add(entry("a", kSecondUs), kBase));
  Status twice = schedule.add(entry("a", kSecondUs), kBase);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message, "check \"a\" is already scheduled");
  EXPECT_EQ(schedule.size(), 1u);
  EXPECT_FALSE(schedule.remove("b"));
  EXPECT_EQ(schedule.skipped("b"), 0u);
}

TEST(Schedule, SpreadsTenThousandChecksEvenlyOverTheInterval) {
  constexpr int kChecks = 10'000;
  constexpr DurationUs kInterval = 60 * kSecondUs;
  Simulation sim;
  for (int i = 0; i < kChecks; ++i)
    ASSERT_TRUE(
        sim.schedule.add(entry("svc-" + std::to_string(i / 10) + "/check-" + std::to_string(i),
                               kInterval, "host-" + std::to_string(i)),
                         kBase));

  std::vector<TimeUs> starts;
  sim.run_until(kBase + kInterval, kSecondUs, [&](const schedule::Run& run) {
    ASSERT_EQ(run.started_us, run.scheduled_us);
    starts.push_back(run.started_us - kBase);
  });
  ASSERT_EQ(starts.size(), static_cast<std::size_t>(kChecks));

  // Fair share: 166.7 starts per second, 16.7 per 100 ms.
  std::vector<int> per_second(60);
  for (TimeUs t : starts) ++per_second[t / kSecondUs];
  const int max_per_second = *std::max_element(per_second.begin(), per_second.end());
  const int min_per_second = *std::min_element(per_second.begin(), per_second.end());
  EXPECT_LE(max_per_second, 2 * kChecks / 60);
  EXPECT_GE(min_per_second, kChecks / 60 / 2);

  // Any 100 ms window, sliding, wrapping around the interval's end.
  std::sort(starts.begin(), starts.end());
  const std::size_t n = starts.size();
  std::size_t max_in_window = 0;
  for (std::size_t first = 0, last = 0; first < n; ++first) {
    // `last` counts the starts in [starts[first], starts[first] + 100 ms), wrapping.
    while (last < first + n &&
           (last < n ? starts[last] : starts[last - n] + kInterval) < starts[first] + 100'000)
      ++last;
    max_in_window = std::max(max_in_window, last - first);
  }
  EXPECT_LE(max_in_window, 3u * kChecks / 600);  // three times the fair share
  RecordProperty("max_starts_per_second", max_per_second);
  RecordProperty("max_starts_per_100ms", static_cast<int>(max_in_window));
}

TEST(Schedule, PhasesAreTheSameInEveryInstance) {
  // A restart: a second Schedule, started 17 days and 13.5 s later, uses the same slots.
  std::vector<Entry> entries;
  for (int i = 0; i < 50; ++i)
    entries.push_back(entry("check-" + std::to_string(i), 60 * kSecondUs));
  Simulation first;
  Simulation second({}, kBase + 17 * kDayUs + 13'500'000);
  for (const Entry& e : entries) {
    ASSERT_TRUE(first.schedule.add(e, first.clock.now_us()));
    ASSERT_TRUE(second.schedule.add(e, second.clock.now_us()));
  }
  auto runs_first = first.runs_until(kBase + 3 * kMinuteUs, kSecondUs);
  auto runs_second = second.runs_until(second.clock.now_us() + 3 * kMinuteUs, kSecondUs);
  for (const Entry& e : entries) {
    const DurationUs phase = phase_us(e.id, e.interval_us);
    for (const auto* runs : {&runs_first[e.id], &runs_second[e.id]}) {
      ASSERT_EQ(runs->size(), 3u) << e.id;
      for (const schedule::Run& run : *runs)
        ASSERT_EQ((run.scheduled_us - phase) % e.interval_us, 0);
    }
    EXPECT_EQ(runs_second[e.id][0].scheduled_us,
              next_slot_us(e.id, e.interval_us, kBase + 17 * kDayUs + 13'500'000));
  }
}

TEST(Schedule, NeverDriftsOverThirtyDays) {
  // Start off any round time; each run ends just before the next slot.
  constexpr DurationUs kInterval = 10 * kSecondUs;
  const TimeUs start_us = kBase + 123'457;
  const TimeUs end_us = start_us + 30 * kDayUs;
  Simulation sim({}, start_us);
  const std::vector<std::string> ids = {"web/home", "api/health", "db/primary"};
  for (const std::string& id : ids) ASSERT_TRUE(sim.schedule.add(entry(id, kInterval), start_us));

  std::map<std::string, std::int64_t> count;
  sim.run_until(end_us, kInterval - 1, [&](const schedule::Run& run) {
    const TimeUs expected =
        next_slot_us(run.entry.id, kInterval, start_us) + count[run.entry.id]++ * kInterval;
    ASSERT_EQ(run.scheduled_us, expected);
    ASSERT_EQ(run.started_us, expected);
  });
  for (const std::string& id : ids) EXPECT_EQ(count[id], 259'200) << id;  // 30 d / 10 s

  const Metrics m = sim.schedule.metrics();
  EXPECT_EQ(m.runs_started_total, 3u * 259'200);
  EXPECT_EQ(m.lateness_count, 3u * 259'200);
  EXPECT_EQ(m.lateness_buckets[0], 3u * 259'200);  // all on time: le="0.001"
  EXPECT_EQ(m.lateness_sum_seconds, 0.0);
  EXPECT_EQ(m.runs_skipped_still_running_total, 0u);
  EXPECT_EQ(m.runs_skipped_behind_total, 0u);
}

TEST(Schedule, LimitsRunsPerHostAndStartsWaitingRunsFirstInFirstOut) {
  constexpr DurationUs kInterval = 60 * kSecondUs;
  std::vector<std::string> log;
  Schedule schedule(Options{2, [&](std::string_view line) { log.emplace_back(line); }});
  std::vector<std::string> on_a = {"a/1", "a/2", "a/3", "a/4", "a/5"};
  for (const std::string& id : on_a) ASSERT_TRUE(schedule.add(entry(id, kInterval, "a"), kBase));
  ASSERT_TRUE(schedule.add(entry("b/1", kInterval, "b"), kBase));

  // Due order is phase order.
  std::sort(on_a.begin(), on_a.end(), [](const std::string& x, const std::string& y) {
    return phase_us(x, kInterval) < phase_us(y, kInterval);
  });
  auto slot = [&](const std::string& id) { return kBase + phase_us(id, kInterval); };
  TimeUs now_us = kBase;
  for (const std::string& id : on_a) now_us = std::max(now_us, slot(id));
  now_us = std::max(now_us, slot("b/1"));
  ASSERT_LT(now_us + 3 * kMillisecondUs, kBase + kInterval);  // no second slot in this test

  // All six are due at once: two start on host a, host b is not held up, three wait.
  std::vector<schedule::Run> runs = schedule.due(now_us);
  ASSERT_EQ(runs.size(), 3u);
  std::map<std::string, schedule::Run> started;
  for (const schedule::Run& run : runs) started[run.entry.id] = run;
  ASSERT_EQ(started.count(on_a[0]), 1u);
  ASSERT_EQ(started.count(on_a[1]), 1u);
  ASSERT_EQ(started.count("b/1"), 1u);
  for (const schedule::Run& run : runs) {
    EXPECT_EQ(run.scheduled_us, slot(run.entry.id));
    EXPECT_EQ(run.started_us, now_us);
  }
  Metrics m = schedule.metrics();
  EXPECT_EQ(m.runs_waiting_for_host, 3u);
  EXPECT_EQ(m.runs_in_flight, 3u);
  EXPECT_EQ(m.runs_started_total, 3u);
  EXPECT_TRUE(schedule.due(now_us).empty());

  // Host b's run ending frees nothing for host a.
  EXPECT_FALSE(schedule.finish(started["b/1"].run_id));
  EXPECT_TRUE(schedule.due(now_us).empty());

  // Each run ending on host a lets the longest-waiting run start, with its lateness.
  DurationUs lateness_sum_us = 3 * now_us - slot(on_a[0]) - slot(on_a[1]) - slot("b/1");
  std::uint64_t previous = started[on_a[0]].run_id;
  for (int i = 2; i < 5; ++i) {
    EXPECT_TRUE(schedule.finish(previous));
    EXPECT_FALSE(schedule.finish(previous));  // already finished: ignored
    const TimeUs later_us = now_us + (i - 1) * kMillisecondUs;
    EXPECT_LE(schedule.next_due_us().value(), later_us);  // a waiting run wants due() now
    runs = schedule.due(later_us);
    ASSERT_EQ(runs.size(), 1u);
    EXPECT_EQ(runs[0].entry.id, on_a[i]);
    EXPECT_EQ(runs[0].scheduled_us, slot(on_a[i]));
    EXPECT_EQ(runs[0].started_us, later_us);
    EXPECT_EQ(schedule.metrics().runs_waiting_for_host, static_cast<std::size_t>(4 - i));
    lateness_sum_us += later_us - slot(on_a[i]);
    previous = runs[0].run_id;
  }
  m = schedule.metrics();
  EXPECT_EQ(m.runs_started_total, 6u);
  EXPECT_EQ(m.lateness_count, 6u);
  EXPECT_EQ(m.lateness_sum_seconds, static_cast<double>(lateness_sum_us) / kSecondUs);
  EXPECT_EQ(m.runs_in_flight, 2u);
  EXPECT_EQ(m.runs_waiting_for_host, 0u);
  EXPECT_EQ(m.runs_skipped_still_running_total, 0u);
  EXPECT_TRUE(log.empty());
}

TEST(Schedule, DropsTheWaitingRunOfARemovedCheck) {
  constexpr DurationUs kInterval = 60 * kSecondUs;
  Schedule schedule(Options{1, [](std::string_view) {}});
  for (const char* id : {"x", "y", "z"}) ASSERT_TRUE(schedule.add(entry(id, kInterval), kBase));
  std::vector<schedule::Run> runs = schedule.due(kBase + kInterval - 1);
  ASSERT_EQ(runs.size(), 1u);
  std::vector<std::string> waiting = {"x", "y", "z"};
  waiting.erase(std::find(waiting.begin(), waiting.end(), runs[0].entry.id));
  std::sort(waiting.begin(), waiting.end(), [&](const std::string& a, const std::string& b) {
    return phase_us(a, kInterval) < phase_us(b, kInterval);
  });
  EXPECT_TRUE(schedule.remove(waiting[0]));  // first in line
  EXPECT_EQ(schedule.metrics().runs_waiting_for_host, 1u);
  EXPECT_TRUE(schedule.finish(runs[0].run_id));
  runs = schedule.due(kBase + kInterval - 1);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].entry.id, waiting[1]);
  EXPECT_EQ(schedule.metrics().runs_waiting_for_host, 0u);
}

TEST(Schedule, CountsAndLogsEverySlotSkippedBecauseThePreviousRunIsStillInFlight) {
  // A 10 s check whose runs take 25 s: of every three slots, one runs and two are skipped.
  constexpr DurationUs kInterval = 10 * kSecondUs;
  std::vector<std::string> log;
  Simulation sim(Options{4, [&](std::string_view line) { log.emplace_back(line); }});
  ASSERT_TRUE(sim.schedule.add(entry("web/slow", kInterval), kBase));
  const TimeUs s0 = next_slot_us("web/slow", kInterval, kBase);
  auto runs = sim.runs_until(s0 + 10 * kInterval, 25 * kSecondUs);

  EXPECT_EQ(scheduled_times(runs["web/slow"]),
            (std::vector<TimeUs>{s0, s0 + 3 * kInterval, s0 + 6 * kInterval, s0 + 9 * kInterval}));
  EXPECT_EQ(sim.schedule.skipped("web/slow"), 6u);
  const Metrics m = sim.schedule.metrics();
  EXPECT_EQ(m.runs_started_total, 4u);
  EXPECT_EQ(m.runs_skipped_still_running_total, 6u);
  EXPECT_EQ(m.runs_skipped_behind_total, 0u);
  EXPECT_EQ(m.lateness_buckets[0], 4u);
  std::vector<std::string> expected_log;
  for (int k : {1, 2, 4, 5, 7, 8})
    expected_log.push_back("schedule: check \"web/slow\" skipped 1 slot(s) up to " +
                           format_rfc3339(s0 + k * kInterval) +
                           ": its previous run is still in flight");
  EXPECT_EQ(log, expected_log);
  EXPECT_EQ(log[0],
            "schedule: check \"web/slow\" skipped 1 slot(s) up to 2026-01-01T00:00:12.187535Z: "
            "its previous run is still in flight");
}

TEST(Schedule, CountsSlotsSkippedWhileWaitingForTheHost) {
  // Host limit 1: the first check holds the host past both checks' next slots.
  constexpr DurationUs kInterval = 60 * kSecondUs;
  std::vector<std::string> log;
  Schedule schedule(Options{1, [&](std::string_view line) { log.emplace_back(line); }});
  ASSERT_TRUE(schedule.add(entry("web/home", kInterval), kBase));
  ASSERT_TRUE(schedule.add(entry("api/health", kInterval), kBase));
  const TimeUs home_s0 = kBase + 3'399'765;
  const TimeUs health_s0 = kBase + 13'632'378;

  std::vector<schedule::Run> runs = schedule.due(home_s0);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].entry.id, "web/home");
  EXPECT_TRUE(schedule.due(health_s0).empty());
  EXPECT_EQ(schedule.metrics().runs_waiting_for_host, 1u);
  EXPECT_TRUE(schedule.due(home_s0 + kInterval).empty());
  EXPECT_TRUE(schedule.due(health_s0 + kInterval).empty());
  EXPECT_EQ(schedule.skipped("web/home"), 1u);
  EXPECT_EQ(schedule.skipped("api/health"), 1u);
  EXPECT_EQ(log, (std::vector<std::string>{
                     "schedule: check \"web/home\" skipped 1 slot(s) up to "
                     "2026-01-01T00:01:03.399765Z: its previous run is still in flight",
                     "schedule: check \"api/health\" skipped 1 slot(s) up to "
                     "2026-01-01T00:01:13.632378Z: its previous run is still waiting for a slot "
                     "on its host"}));

  // The waiting run starts for its original slot, 70 s late.
  const TimeUs finish_us = health_s0 + kInterval + 10 * kSecondUs;
  EXPECT_TRUE(schedule.finish(runs[0].run_id));
  runs = schedule.due(finish_us);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].entry.id, "api/health");
  EXPECT_EQ(runs[0].scheduled_us, health_s0);
  const Metrics m = schedule.metrics();
  EXPECT_EQ(m.runs_skipped_still_running_total, 2u);
  EXPECT_EQ(m.runs_started_total, 2u);
  EXPECT_EQ(m.lateness_sum_seconds, 70.0);
  EXPECT_EQ(m.lateness_buckets[11], 1u);  // le="10": only the on-time run
  EXPECT_EQ(m.lateness_buckets[12], 2u);
}

TEST(Schedule, RunsOnlyTheLatestSlotWhenFallenBehind) {
  constexpr DurationUs kInterval = 10 * kSecondUs;
  std::vector<std::string> log;
  Schedule schedule(Options{4, [&](std::string_view line) { log.emplace_back(line); }});
  ASSERT_TRUE(schedule.add(entry("web/home", kInterval), kBase));
  const TimeUs s0 = next_slot_us("web/home", kInterval, kBase);
  std::vector<schedule::Run> runs = schedule.due(s0);
  ASSERT_EQ(runs.size(), 1u);
  schedule.finish(runs[0].run_id);

  // The loop was stalled 35 s: slots 1 and 2 are skipped, slot 3 runs 5 s late.
  runs = schedule.due(s0 + 35 * kSecondUs);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].scheduled_us, s0 + 3 * kInterval);
  EXPECT_EQ(runs[0].started_us, s0 + 35 * kSecondUs);
  EXPECT_EQ(schedule.skipped("web/home"), 2u);
  const Metrics m = schedule.metrics();
  EXPECT_EQ(m.runs_skipped_behind_total, 2u);
  EXPECT_EQ(m.runs_skipped_still_running_total, 0u);
  EXPECT_EQ(m.lateness_sum_seconds, 5.0);
  EXPECT_EQ(log, std::vector<std::string>{"schedule: check \"web/home\" skipped 2 slot(s) up to " +
                                          format_rfc3339(s0 + 2 * kInterval) +
                                          ": the scheduler fell behind"});
  EXPECT_EQ(schedule.next_due_us(), s0 + 4 * kInterval);
}

TEST(Schedule, RecordsLatenessInTheHistogram) {
  constexpr DurationUs kInterval = 60 * kSecondUs;
  Schedule schedule;
  ASSERT_TRUE(schedule.add(entry("web/home", kInterval), kBase));
  const TimeUs s0 = next_slot_us("web/home", kInterval, kBase);
  // Bounds are inclusive (Prometheus `le`): 1 ms is in le="0.001", 1.001 ms is not.
  const std::vector<DurationUs> lateness = {0, 1'000, 1'001, 7'000, 5 * kSecondUs, 12 * kSecondUs};
  for (std::size_t k = 0; k < lateness.size(); ++k) {
    std::vector<schedule::Run> runs = schedule.due(s0 + k * kInterval + lateness[k]);
    ASSERT_EQ(runs.size(), 1u);
    schedule.finish(runs[0].run_id);
  }
  const Metrics m = schedule.metrics();
  EXPECT_EQ(m.lateness_buckets,
            (std::array<std::uint64_t, 13>{2, 3, 4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 6}));
  EXPECT_EQ(m.lateness_count, 6u);
  EXPECT_EQ(m.lateness_sum_seconds, 17.009001);
  EXPECT_EQ(m.runs_started_total, 6u);
  EXPECT_EQ(m.checks, 1u);

  EXPECT_EQ(format_prometheus(m),
            "# HELP leeway_schedule_lateness_seconds How late each run started after its "
            "scheduled time.\n"
            "# TYPE leeway_schedule_lateness_seconds histogram\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"0.001\"} 2\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"0.005\"} 3\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"0.01\"} 4\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"0.025\"} 4\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"0.05\"} 4\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"0.1\"} 4\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"0.25\"} 4\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"0.5\"} 4\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"1\"} 4\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"2.5\"} 4\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"5\"} 5\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"10\"} 5\n"
            "leeway_schedule_lateness_seconds_bucket{le=\"+Inf\"} 6\n"
            "leeway_schedule_lateness_seconds_sum 17.009001\n"
            "leeway_schedule_lateness_seconds_count 6\n"
            "# HELP leeway_schedule_runs_started_total Runs started by the scheduler.\n"
            "# TYPE leeway_schedule_runs_started_total counter\n"
            "leeway_schedule_runs_started_total 6\n"
            "# HELP leeway_schedule_runs_skipped_total Scheduled slots not run, by reason.\n"
            "# TYPE leeway_schedule_runs_skipped_total counter\n"
            "leeway_schedule_runs_skipped_total{reason=\"still_running\"} 0\n"
            "leeway_schedule_runs_skipped_total{reason=\"behind\"} 0\n"
            "# HELP leeway_schedule_runs_waiting_for_host Due runs waiting for a free slot on "
            "their host.\n"
            "# TYPE leeway_schedule_runs_waiting_for_host gauge\n"
            "leeway_schedule_runs_waiting_for_host 0\n"
            "# HELP leeway_schedule_runs_in_flight Runs started and not yet finished.\n"
            "# TYPE leeway_schedule_runs_in_flight gauge\n"
            "leeway_schedule_runs_in_flight 0\n"
            "# HELP leeway_schedule_checks Checks on the schedule.\n"
            "# TYPE leeway_schedule_checks gauge\n"
            "leeway_schedule_checks 1\n");
}

TEST(Schedule, ExposesSkipsInThePrometheusText) {
  Metrics m;
  m.runs_started_total = 4;
  m.runs_skipped_still_running_total = 6;
  m.runs_skipped_behind_total = 2;
  m.runs_waiting_for_host = 3;
  m.runs_in_flight = 5;
  m.checks = 7;
  const std::string text = format_prometheus(m);
  for (const char* line :
       {"leeway_schedule_runs_started_total 4\n",
        "leeway_schedule_runs_skipped_total{reason=\"still_running\"} 6\n",
        "leeway_schedule_runs_skipped_total{reason=\"behind\"} 2\n",
        "leeway_schedule_runs_waiting_for_host 3\n", "leeway_schedule_runs_in_flight 5\n",
        "leeway_schedule_checks 7\n", "leeway_schedule_lateness_seconds_sum 0\n"})
    EXPECT_NE(text.find(line), std::string::npos) << line;
}

TEST(Replace, KeepsUnchangedChecksStopsRemovedStartsAddedAndAppliesNewIntervals) {
  constexpr DurationUs kMinute = 60 * kSecondUs;
  std::vector<std::string> log;
  Simulation sim(Options{4, [&](std::string_view line) { log.emplace_back(line); }});
  ASSERT_TRUE(sim.schedule.replace(
      {entry("web/home", kMinute), entry("api/health", kMinute), entry("old/gone", kMinute)},
      kBase));
  auto before = sim.runs_until(kBase + kMinute, kSecondUs);
  EXPECT_EQ(before["web/home"].size(), 1u);
  EXPECT_EQ(before["api/health"].size(), 1u);
  EXPECT_EQ(before["old/gone"].size(), 1u);

  // The reload, half a minute into the second interval.
  const TimeUs reload_us = kBase + kMinute + 30 * kSecondUs;
  auto mid = sim.runs_until(reload_us, kSecondUs);
  Entry home = entry("web/home", kMinute);
  home.payload = 42;
  ASSERT_TRUE(sim.schedule.replace(
      {home, entry("api/health", 10 * kSecondUs), entry("new/added", kMinute)}, reload_us));
  EXPECT_EQ(sim.schedule.size(), 3u);
  // Next: api/health on its new 10 s phase (3.632378 s), before web/home and new/added.
  EXPECT_EQ(sim.schedule.next_due_us(), kBase + 93'632'378);

  const TimeUs end_us = kBase + 5 * kMinute;
  auto after = sim.runs_until(end_us, kSecondUs);
  // Unchanged: the same slots as if there had been no reload, the new payload.
  std::vector<TimeUs> home_slots = scheduled_times(mid["web/home"]);
  for (TimeUs t : scheduled_times(after["web/home"])) home_slots.push_back(t);
  EXPECT_EQ(home_slots, slots("web/home", kMinute, kBase + kMinute, end_us));
  for (const schedule::Run& run : after["web/home"]) EXPECT_EQ(run.entry.payload, 42u);
  // Removed: never again.
  EXPECT_EQ(after.count("old/gone"), 0u);
  // Added: from its first slot after the reload.
  EXPECT_EQ(scheduled_times(after["new/added"]), slots("new/added", kMinute, reload_us, end_us));
  // Changed interval: the new phase, from the reload on (its last slot was before the reload).
  EXPECT_EQ(scheduled_times(after["api/health"]),
            slots("api/health", 10 * kSecondUs, reload_us, end_us));
  for (const auto& [id, runs] : after)
    for (const schedule::Run& run : runs) EXPECT_EQ(run.started_us, run.scheduled_us) << id;
  EXPECT_EQ(sim.schedule.metrics().runs_skipped_still_running_total, 0u);
  EXPECT_TRUE(log.empty());
}

TEST(Replace, KeepsAnInFlightUnchangedCheckOnItsSlots) {
  constexpr DurationUs kInterval = 10 * kSecondUs;
  Schedule schedule(Options{4, [](std::string_view) {}});
  ASSERT_TRUE(schedule.add(entry("web/home", kInterval), kBase));
  const TimeUs s0 = next_slot_us("web/home", kInterval, kBase);
  std::vector<schedule::Run> runs = schedule.due(s0);
  ASSERT_EQ(runs.size(), 1u);
  // Reloaded at its own slot, while its run is in flight.
  ASSERT_TRUE(schedule.replace({entry("web/home", kInterval)}, s0));
  EXPECT_TRUE(schedule.due(s0).empty());
  EXPECT_EQ(schedule.next_due_us(), s0 + kInterval);
  EXPECT_FALSE(schedule.finish(runs[0].run_id));
  runs = schedule.due(s0 + kInterval);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].scheduled_us, s0 + kInterval);
  EXPECT_EQ(schedule.skipped("web/home"), 0u);
}

TEST(Replace, ANewIntervalNeverRunsTheCheckTwiceForOneInstant) {
  // Run at slot s, then reloaded at s with a shorter interval: the next run is after s.
  const std::string id = "web/home";
  Schedule schedule;
  ASSERT_TRUE(schedule.add(entry(id, kMinuteUs), kBase));
  const TimeUs s0 = next_slot_us(id, kMinuteUs, kBase);
  std::vector<schedule::Run> runs = schedule.due(s0);
  ASSERT_EQ(runs.size(), 1u);
  schedule.finish(runs[0].run_id);
  ASSERT_TRUE(schedule.replace({entry(id, 10 * kSecondUs)}, s0));
  EXPECT_TRUE(schedule.due(s0).empty());
  EXPECT_EQ(schedule.next_due_us(), next_slot_us(id, 10 * kSecondUs, s0 + 1));
  // And the old minute slot is gone.
  const TimeUs next = *schedule.next_due_us();
  runs = schedule.due(next);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].scheduled_us, next);
  EXPECT_EQ(runs[0].entry.interval_us, 10 * kSecondUs);
  schedule.finish(runs[0].run_id);
  EXPECT_EQ(schedule.next_due_us(), next + 10 * kSecondUs);
}

TEST(Replace, ASlotDueBeforeANewIntervalStillRuns) {
  // The slot came due, and a reload changed the interval before due() was called: that slot
  // runs (it is never silently dropped), then the check follows its new phase.
  const std::string id = "web/home";
  Schedule schedule;
  ASSERT_TRUE(schedule.add(entry(id, kMinuteUs), kBase));
  const TimeUs s0 = next_slot_us(id, kMinuteUs, kBase);
  ASSERT_TRUE(schedule.replace({entry(id, 10 * kSecondUs)}, s0 + 5));
  std::vector<schedule::Run> runs = schedule.due(s0 + 5);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].scheduled_us, s0);
  EXPECT_EQ(runs[0].entry.interval_us, 10 * kSecondUs);
  schedule.finish(runs[0].run_id);
  const TimeUs next = next_slot_us(id, 10 * kSecondUs, s0 + 1);
  EXPECT_EQ(schedule.next_due_us(), next);
  runs = schedule.due(next);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].scheduled_us, next);
  schedule.finish(runs[0].run_id);
  EXPECT_EQ(schedule.next_due_us(), next + 10 * kSecondUs);
  EXPECT_EQ(schedule.skipped(id), 0u);
}

TEST(Replace, RemovedCheckInFlightStillFreesItsHost) {
  Schedule schedule(Options{1, [](std::string_view) {}});
  ASSERT_TRUE(schedule.add(entry("one", kMinuteUs, "h"), kBase));
  ASSERT_TRUE(schedule.add(entry("two", kMinuteUs, "h"), kBase));
  std::vector<schedule::Run> runs = schedule.due(kBase + kMinuteUs - 1);
  ASSERT_EQ(runs.size(), 1u);
  const std::string other = runs[0].entry.id == "one" ? "two" : "one";
  ASSERT_TRUE(schedule.replace({entry(other, kMinuteUs, "h")}, kBase + kMinuteUs - 1));
  EXPECT_EQ(schedule.metrics().runs_in_flight, 1u);
  EXPECT_TRUE(schedule.finish(runs[0].run_id));
  runs = schedule.due(kBase + kMinuteUs - 1);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].entry.id, other);
  EXPECT_EQ(schedule.metrics().runs_in_flight, 1u);
}

TEST(Replace, AWaitingRunMovedToAnotherHostStartsThere) {
  // Host limit 1: api/health waits behind web/home on "shared", then a reload moves it.
  Schedule schedule(Options{1, [](std::string_view) {}});
  ASSERT_TRUE(schedule.add(entry("web/home", kMinuteUs, "shared"), kBase));
  ASSERT_TRUE(schedule.add(entry("api/health", kMinuteUs, "shared"), kBase));
  const TimeUs now_us = kBase + 20 * kSecondUs;
  std::vector<schedule::Run> runs = schedule.due(now_us);
  ASSERT_EQ(runs.size(), 1u);
  ASSERT_EQ(schedule.metrics().runs_waiting_for_host, 1u);
  ASSERT_TRUE(schedule.replace(
      {entry("web/home", kMinuteUs, "shared"), entry("api/health", kMinuteUs, "own")}, now_us));
  EXPECT_EQ(schedule.next_due_us(), now_us);  // the moved run wants due() now
  std::vector<schedule::Run> moved = schedule.due(now_us);
  ASSERT_EQ(moved.size(), 1u);
  EXPECT_EQ(moved[0].entry.id, "api/health");
  EXPECT_EQ(moved[0].entry.host, "own");
  EXPECT_EQ(moved[0].scheduled_us, kBase + 13'632'378);
  // web/home's run still frees "shared", where nothing waits any more.
  EXPECT_FALSE(schedule.finish(runs[0].run_id));
  EXPECT_FALSE(schedule.finish(moved[0].run_id));
  const Metrics m = schedule.metrics();
  EXPECT_EQ(m.runs_in_flight, 0u);
  EXPECT_EQ(m.runs_waiting_for_host, 0u);
}

TEST(Replace, ChangesNothingWhenTheNewSetIsBad) {
  Schedule schedule;
  ASSERT_TRUE(schedule.add(entry("a", kMinuteUs), kBase));
  const auto next = schedule.next_due_us();
  Status twice = schedule.replace({entry("b", kMinuteUs), entry("b", kSecondUs)}, kBase);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message, "check \"b\" appears twice in the new set");
  Status zero = schedule.replace({entry("b", 0)}, kBase);
  ASSERT_FALSE(zero);
  EXPECT_EQ(zero.error().message, "check \"b\": interval must be positive, got 0us");
  EXPECT_EQ(schedule.size(), 1u);
  EXPECT_EQ(schedule.next_due_us(), next);
  ASSERT_TRUE(schedule.replace({}, kBase));
  EXPECT_EQ(schedule.size(), 0u);
  EXPECT_EQ(schedule.next_due_us(), std::nullopt);
}

TEST(EdgeCases, AnIntervalThatDoesNotDivideTheDayKeepsItsSpacingAcrossMidnight) {
  // 7 s: 86400 is not a multiple, so the slots fall at a different second each day.
  constexpr DurationUs kInterval = 7 * kSecondUs;
  Simulation sim;
  ASSERT_TRUE(sim.schedule.add(entry("web/home", kInterval), kBase));
  auto runs = sim.runs_until(kBase + 3 * kDayUs, kSecondUs);
  const std::vector<TimeUs> times = scheduled_times(runs["web/home"]);
  EXPECT_EQ(times, slots("web/home", kInterval, kBase, kBase + 3 * kDayUs));
  EXPECT_EQ(times.size(),
            3u * 86'400 / 7 + (phase_us("web/home", kInterval) < 3 * kDayUs % kInterval ? 1 : 0));
  for (std::size_t i = 1; i < times.size(); ++i) ASSERT_EQ(times[i] - times[i - 1], kInterval);
}

TEST(EdgeCases, OneSecondIntervalRunsEverySecond) {
  Simulation sim;
  ASSERT_TRUE(sim.schedule.add(entry("fast", kSecondUs), kBase));
  auto runs = sim.runs_until(kBase + kHourUs, kSecondUs - 1);
  ASSERT_EQ(runs["fast"].size(), 3600u);
  const DurationUs phase = phase_us("fast", kSecondUs);
  for (std::size_t k = 0; k < 3600; ++k)
    ASSERT_EQ(runs["fast"][k].scheduled_us, kBase + phase + static_cast<TimeUs>(k) * kSecondUs);
  EXPECT_EQ(sim.schedule.skipped("fast"), 0u);
}

TEST(EdgeCases, HourIntervalPhasesSpreadOverTheHour) {
  std::vector<int> per_minute(60);
  for (int i = 0; i < 6000; ++i) {
    const std::string id = "hourly-" + std::to_string(i);
    const DurationUs phase = phase_us(id, kHourUs);
    ASSERT_LT(phase, kHourUs);
    ASSERT_EQ(next_slot_us(id, kHourUs, kBase), kBase + phase);
    ++per_minute[phase / kMinuteUs];
  }
  EXPECT_LE(*std::max_element(per_minute.begin(), per_minute.end()), 200);
  EXPECT_GE(*std::min_element(per_minute.begin(), per_minute.end()), 50);
}

TEST(ClockSteps, ABigStepBackReschedulesFromTheNewTime) {
  constexpr DurationUs kInterval = 10 * kSecondUs;
  std::vector<std::string> log;
  Schedule schedule(Options{4, [&](std::string_view line) { log.emplace_back(line); }});
  ASSERT_TRUE(schedule.add(entry("web/home", kInterval), kBase));
  const TimeUs s0 = next_slot_us("web/home", kInterval, kBase);
  std::vector<schedule::Run> runs = schedule.due(s0);
  ASSERT_EQ(runs.size(), 1u);
  schedule.finish(runs[0].run_id);

  // Back one hour: no burst, the next run is the first slot after the new time.
  const TimeUs back_us = s0 - kHourUs + 1;
  EXPECT_TRUE(schedule.due(back_us).empty());
  EXPECT_EQ(log.size(), 1u);
  EXPECT_EQ(schedule.next_due_us(), next_slot_us("web/home", kInterval, back_us));
  // A small step back (under a second) changes nothing: the slot that ran does not run again.
  const TimeUs next = *schedule.next_due_us();
  runs = schedule.due(next);
  ASSERT_EQ(runs.size(), 1u);
  schedule.finish(runs[0].run_id);
  EXPECT_TRUE(schedule.due(next - 500'000).empty());
  EXPECT_TRUE(schedule.due(next).empty());
  EXPECT_EQ(schedule.next_due_us(), next + kInterval);
  EXPECT_EQ(log.size(), 1u);
  EXPECT_EQ(schedule.skipped("web/home"), 0u);
}

TEST(ClockSteps, ARunThatWaitedThroughAStepBackIsNotCountedNegativelyLate) {
  // Host limit 1: api/health waits for web/home's run, then the clock steps back an hour.
  constexpr DurationUs kInterval = 60 * kSecondUs;
  Schedule schedule(Options{1, [](std::string_view) {}});
  ASSERT_TRUE(schedule.add(entry("web/home", kInterval), kBase));
  ASSERT_TRUE(schedule.add(entry("api/health", kInterval), kBase));
  std::vector<schedule::Run> runs = schedule.due(kBase + 20 * kSecondUs);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(schedule.finish(runs[0].run_id));
  runs = schedule.due(kBase + 20 * kSecondUs - kHourUs);
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].entry.id, "api/health");
  EXPECT_EQ(runs[0].scheduled_us, kBase + 13'632'378);
  // web/home was 16.600235 s late; api/health's start counts as on time, not -3586 s.
  const Metrics m = schedule.metrics();
  EXPECT_EQ(m.lateness_sum_seconds, 16.600235);
  EXPECT_EQ(m.lateness_buckets[0], 1u);
  EXPECT_EQ(m.lateness_count, 2u);
}

}  // namespace
}  // namespace leeway::schedule
