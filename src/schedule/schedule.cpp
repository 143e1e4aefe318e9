// The clock-free scheduling core: a min-heap of due times with lazy deletion, per-host FIFO
// queues for runs waiting on the concurrency limit, and the lateness histogram.
#include "schedule/schedule.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <deque>
#include <limits>
#include <queue>
#include <unordered_map>
#include <unordered_set>
#include <utility>

namespace leeway::schedule {

namespace {

constexpr TimeUs kNever = std::numeric_limits<TimeUs>::min();

// A wall clock that moves back by more than this (an NTP step, a VM restore) makes the schedule
// recompute every check's next slot from the new time, rather than pause until the clock
// catches up with the old slots.
constexpr DurationUs kClockStepBackUs = kSecondUs;

constexpr std::array<DurationUs, kLatenessBucketsSeconds.size()> kLatenessBucketsUs = {
    1'000,   5'000,   10'000,    25'000,    50'000,    100'000,
    250'000, 500'000, 1'000'000, 2'500'000, 5'000'000, 10'000'000};

// FNV-1a over the id, then murmur3's fmix64 finaliser so ids that differ only in their last
// characters ("check-1", "check-2") still land far apart. Written by hand because std::hash is
// implementation-defined (it may differ between standard libraries, versions and builds) while
// a check's phase must survive upgrades and restarts; five lines do not justify a dependency.
std::uint64_t stable_hash(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) h = (h ^ c) * 0x100000001b3ULL;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

// Floor division, so slots before the epoch (and ManualClock at 0) compute like any other.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

Status validate(const Entry& entry) {
  if (entry.id.empty()) return fail("a scheduled check needs an id");
  if (entry.interval_us <= 0)
    return fail("check \"", entry.id, "\": interval must be positive, got ",
                std::to_string(entry.interval_us), "us");
  return {};
}

}  // namespace

DurationUs phase_us(std::string_view id, DurationUs interval_us) {
  return static_cast<DurationUs>(stable_hash(id) % static_cast<std::uint64_t>(interval_us));
}

TimeUs next_slot_us(std::string_view id, DurationUs interval_us, TimeUs t) {
  const DurationUs phase = phase_us(id, interval_us);
  TimeUs slot = floor_div(t - phase, interval_us) * interval_us + phase;
  if (slot < t) slot += interval_us;
  return slot;
}

struct Schedule::Impl {
  struct Check {
    Entry entry;
    bool live = false;
    std::uint64_t heap_token = 0;  // the token of this check's one valid heap item
    TimeUs next_due_us = kNever;   // the due time of that item
    TimeUs last_scheduled_us = kNever;
    std::uint64_t run_id = 0;      // the run in flight; 0 when none
    std::uint64_t wait_token = 0;  // the token of its run waiting for a host slot; 0 when none
    TimeUs wait_scheduled_us = 0;
    std::uint64_t skipped = 0;
  };

  // Removing or rescheduling a check leaves its old items in the heap and the host queues; a
  // token that no longer matches the check's marks them stale, to be dropped when reached.
  struct HeapItem {
    TimeUs due_us;
    std::uint64_t token;  // also orders checks due at the same instant
    std::uint32_t slot;
  };
  struct Later {
    bool operator()(const HeapItem& a, const HeapItem& b) const {
      return a.due_us != b.due_us ? a.due_us > b.due_us : a.token > b.token;
    }
  };
  struct Waiter {
    std::uint32_t slot;
    std::uint64_t token;
  };
  struct Host {
    std::size_t in_flight = 0;
    std::deque<Waiter> waiters;
  };
  struct InFlight {
    std::uint32_t slot;
    std::string host;
  };

  explicit Impl(Options options) : options(std::move(options)) {
    if (this->options.max_in_flight_per_host == 0) this->options.max_in_flight_per_host = 1;
  }

  Options options;
  std::vector<Check> checks;
  std::vector<std::uint32_t> free_slots;
  std::unordered_map<std::string, std::uint32_t> by_id;
  std::priority_queue<HeapItem, std::vector<HeapItem>, Later> heap;
  std::unordered_map<std::string, Host> hosts;
  std::unordered_map<std::uint64_t, InFlight> in_flight;
  std::vector<std::string> hosts_to_drain;  // hosts that freed a slot while runs wait for them
  std::uint64_t last_token = 0;
  std::uint64_t last_run_id = 0;
  TimeUs last_now_us = kNever;
  std::size_t waiting = 0;

  std::array<std::uint64_t, kLatenessBucketsUs.size() + 1> lateness_buckets{};
  std::uint64_t lateness_count = 0;
  DurationUs lateness_sum_us = 0;
  std::uint64_t started_total = 0;
  std::uint64_t skipped_still_running_total = 0;
  std::uint64_t skipped_behind_total = 0;

  void log(const std::string& line) const {
    if (options.log)
      options.log(line);
    else
      fmt::print(stderr, "{}\n", line);
  }

  void push(std::uint32_t slot, TimeUs due_us) {
    checks[slot].heap_token = ++last_token;
    checks[slot].next_due_us = due_us;
    heap.push(HeapItem{due_us, last_token, slot});
  }

  bool stale(const HeapItem& item) const {
    const Check& c = checks[item.slot];
    return !c.live || c.heap_token != item.token;
  }

  // Keeps the heap's top valid so next_due_us() can read it without a scan.
  void prune() {
    while (!heap.empty() && stale(heap.top())) heap.pop();
  }

  void add(Entry entry, TimeUs now_us) {
    std::uint32_t slot;
    if (!free_slots.empty()) {
      slot = free_slots.back();
      free_slots.pop_back();
    } else {
      slot = static_cast<std::uint32_t>(checks.size());
      checks.emplace_back();
    }
    Check& c = checks[slot];
    c = Check{};
    c.entry = std::move(entry);
    c.live = true;
    by_id.emplace(c.entry.id, slot);
    push(slot, next_slot_us(c.entry.id, c.entry.interval_us, now_us));
  }

  void cancel_wait(Check& c) {
    if (c.wait_token == 0) return;
    c.wait_token = 0;
    --waiting;
  }

  void enqueue(std::uint32_t slot, TimeUs scheduled_us) {
    Check& c = checks[slot];
    c.wait_token = ++last_token;
    c.wait_scheduled_us = scheduled_us;
    hosts[c.entry.host].waiters.push_back(Waiter{slot, c.wait_token});
    ++waiting;
  }

  void remove(std::uint32_t slot) {
    Check& c = checks[slot];
    cancel_wait(c);
    c.live = false;
    by_id.erase(c.entry.id);
    free_slots.push_back(slot);
  }

  // Updates a kept check on reload: same id, maybe a new interval, host or payload.
  void update(std::uint32_t slot, Entry entry, TimeUs now_us) {
    Check& c = checks[slot];
    const bool new_interval = entry.interval_us != c.entry.interval_us;
    const bool new_host = entry.host != c.entry.host;
    c.entry = std::move(entry);
    // A slot already due under the old interval keeps its place: it runs (late), as any due
    // slot does, and the slots after it follow the new interval's phase (see due()).
    if (new_interval && c.next_due_us > now_us) {
      // Never earlier than just after the last slot, so a reload cannot run the check twice.
      TimeUs from = now_us;
      if (c.last_scheduled_us != kNever) from = std::max(from, c.last_scheduled_us + 1);
      push(slot, next_slot_us(c.entry.id, c.entry.interval_us, from));
    }
    if (new_host && c.wait_token != 0) {
      const TimeUs scheduled_us = c.wait_scheduled_us;
      cancel_wait(c);
      enqueue(slot, scheduled_us);
      hosts_to_drain.push_back(c.entry.host);
    }
  }

  void record_lateness(DurationUs lateness_us) {
    const auto bucket =
        std::lower_bound(kLatenessBucketsUs.begin(), kLatenessBucketsUs.end(), lateness_us) -
        kLatenessBucketsUs.begin();
    ++lateness_buckets[bucket];
    ++lateness_count;
    lateness_sum_us += lateness_us;
  }

  void start(std::uint32_t slot, TimeUs scheduled_us, TimeUs now_us, std::vector<Run>& out) {
    Check& c = checks[slot];
    c.run_id = ++last_run_id;
    ++hosts[c.entry.host].in_flight;
    in_flight.emplace(c.run_id, InFlight{slot, c.entry.host});
    // A run that waited for its host through a clock step back can start "before" its slot:
    // count it as on time, so the histogram's sum never decreases.
    record_lateness(std::max<DurationUs>(0, now_us - scheduled_us));
    ++started_total;
    out.push_back(Run{c.run_id, c.entry, scheduled_us, now_us});
  }

  // Drops the waiters of removed or moved checks from the head of the queue, so a non-empty
  // queue has a live waiter first and finish() reports a waiting run only when there is one.
  void drop_stale_front(Host& host) {
    while (!host.waiters.empty()) {
      const Waiter& w = host.waiters.front();
      const Check& c = checks[w.slot];
      if (c.live && c.wait_token == w.token) return;
      host.waiters.pop_front();
    }
  }

  void drain(const std::string& name, TimeUs now_us, std::vector<Run>& out) {
    auto it = hosts.find(name);
    if (it == hosts.end()) return;
    Host& host = it->second;
    while (host.in_flight < options.max_in_flight_per_host && !host.waiters.empty()) {
      const Waiter w = host.waiters.front();
      host.waiters.pop_front();
      Check& c = checks[w.slot];
      if (!c.live || c.wait_token != w.token) continue;
      const TimeUs scheduled_us = c.wait_scheduled_us;
      cancel_wait(c);
      start(w.slot, scheduled_us, now_us, out);
    }
    if (host.in_flight == 0 && host.waiters.empty()) hosts.erase(it);
  }

  void skip(Check& c, TimeUs scheduled_us, std::uint64_t slots, const char* why) {
    c.skipped += slots;
    log(fmt::format("schedule: check \"{}\" skipped {} slot(s) up to {}: {}", c.entry.id, slots,
                    format_rfc3339(scheduled_us), why));
  }

  // The wall clock stepped back: recompute every check's next slot from the new time.
  void rebase(TimeUs now_us) {
    log(fmt::format("schedule: the clock moved back from {} to {}; rescheduling from now",
                    format_rfc3339(last_now_us), format_rfc3339(now_us)));
    heap = {};
    for (std::uint32_t slot = 0; slot < checks.size(); ++slot) {
      Check& c = checks[slot];
      if (!c.live) continue;
      c.last_scheduled_us = kNever;
      push(slot, next_slot_us(c.entry.id, c.entry.interval_us, now_us));
    }
  }

  std::vector<Run> due(TimeUs now_us) {
    std::vector<Run> out;
    if (last_now_us != kNever && now_us < last_now_us - kClockStepBackUs) rebase(now_us);
    last_now_us = now_us;

    // Runs that waited for a host slot go first: they were due before anything in the heap.
    std::vector<std::string> drain_now;
    drain_now.swap(hosts_to_drain);
    for (const std::string& host : drain_now) drain(host, now_us, out);

    while (!heap.empty() && heap.top().due_us <= now_us) {
      const HeapItem item = heap.top();
      heap.pop();
      if (stale(item)) continue;
      Check& c = checks[item.slot];
      const DurationUs interval_us = c.entry.interval_us;
      TimeUs scheduled_us = item.due_us;
      if (now_us - scheduled_us >= interval_us) {
        // More than a whole interval behind: run only the latest slot, count the rest.
        const auto missed = static_cast<std::uint64_t>((now_us - scheduled_us) / interval_us);
        scheduled_us += static_cast<DurationUs>(missed) * interval_us;
        skipped_behind_total += missed;
        skip(c, scheduled_us - interval_us, missed, "the scheduler fell behind");
      }
      c.last_scheduled_us = scheduled_us;
      // The next slot on the check's phase: scheduled_us + interval_us, unless the interval
      // changed since this slot was due.
      push(item.slot, next_slot_us(c.entry.id, interval_us, scheduled_us + 1));
      if (c.run_id != 0 || c.wait_token != 0) {
        ++skipped_still_running_total;
        skip(c, scheduled_us, 1,
             c.run_id != 0 ? "its previous run is still in flight"
                           : "its previous run is still waiting for a slot on its host");
        continue;
      }
      Host& host = hosts[c.entry.host];
      if (host.in_flight < options.max_in_flight_per_host)
        start(item.slot, scheduled_us, now_us, out);
      else
        enqueue(item.slot, scheduled_us);
    }
    prune();
    return out;
  }

  bool finish(std::uint64_t run_id) {
    auto it = in_flight.find(run_id);
    if (it == in_flight.end()) return false;
    const InFlight run = std::move(it->second);
    in_flight.erase(it);
    Check& c = checks[run.slot];
    if (c.run_id == run_id) c.run_id = 0;
    auto host = hosts.find(run.host);
    --host->second.in_flight;
    drop_stale_front(host->second);
    if (!host->second.waiters.empty()) {
      hosts_to_drain.push_back(run.host);
      return true;
    }
    if (host->second.in_flight == 0) hosts.erase(host);
    return false;
  }
};

Schedule::Schedule(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Schedule::~Schedule() = default;

Status Schedule::add(Entry entry, TimeUs now_us) {
  if (Status ok = validate(entry); !ok) return ok;
  if (impl_->by_id.count(entry.id) != 0)
    return fail("check \"", entry.id, "\" is already scheduled");
  impl_->add(std::move(entry), now_us);
  return {};
}

bool Schedule::remove(std::string_view id) {
  auto it = impl_->by_id.find(std::string(id));
  if (it == impl_->by_id.end()) return false;
  impl_->remove(it->second);
  impl_->prune();
  return true;
}

Status Schedule::replace(std::vector<Entry> entries, TimeUs now_us) {
  std::unordered_set<std::string_view> wanted;
  for (const Entry& entry : entries) {
    if (Status ok = validate(entry); !ok) return ok;
    if (!wanted.insert(entry.id).second)
      return fail("check \"", entry.id, "\" appears twice in the new set");
  }
  std::vector<std::uint32_t> gone;
  for (const auto& [id, slot] : impl_->by_id)
    if (wanted.count(id) == 0) gone.push_back(slot);
  for (std::uint32_t slot : gone) impl_->remove(slot);
  for (Entry& entry : entries) {
    auto it = impl_->by_id.find(entry.id);
    if (it == impl_->by_id.end())
      impl_->add(std::move(entry), now_us);
    else
      impl_->update(it->second, std::move(entry), now_us);
  }
  impl_->prune();
  return {};
}

std::vector<Run> Schedule::due(TimeUs now_us) {
  return impl_->due(now_us);
}

bool Schedule::finish(std::uint64_t run_id) {
  return impl_->finish(run_id);
}

std::optional<TimeUs> Schedule::next_due_us() const {
  std::optional<TimeUs> next;
  if (!impl_->heap.empty()) next = impl_->heap.top().due_us;
  if (!impl_->hosts_to_drain.empty() && (!next || impl_->last_now_us < *next))
    next = impl_->last_now_us;
  return next;
}

std::uint64_t Schedule::skipped(std::string_view id) const {
  auto it = impl_->by_id.find(std::string(id));
  return it == impl_->by_id.end() ? 0 : impl_->checks[it->second].skipped;
}

std::size_t Schedule::size() const {
  return impl_->by_id.size();
}

Metrics Schedule::metrics() const {
  Metrics m;
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < impl_->lateness_buckets.size(); ++i) {
    cumulative += impl_->lateness_buckets[i];
    m.lateness_buckets[i] = cumulative;
  }
  m.lateness_count = impl_->lateness_count;
  m.lateness_sum_seconds = static_cast<double>(impl_->lateness_sum_us) / kSecondUs;
  m.runs_started_total = impl_->started_total;
  m.runs_skipped_still_running_total = impl_->skipped_still_running_total;
  m.runs_skipped_behind_total = impl_->skipped_behind_total;
  m.runs_waiting_for_host = impl_->waiting;
  m.runs_in_flight = impl_->in_flight.size();
  m.checks = impl_->by_id.size();
  return m;
}

std::string format_prometheus(const Metrics& m) {
  std::string out;
  auto add = [&out](std::string_view line) {
    out.append(line);
    out.push_back('\n');
  };
  add("# HELP leeway_schedule_lateness_seconds How late each run started after its scheduled "
      "time.");
  add("# TYPE leeway_schedule_lateness_seconds histogram");
  for (std::size_t i = 0; i < kLatenessBucketsSeconds.size(); ++i)
    add(fmt::format("leeway_schedule_lateness_seconds_bucket{{le=\"{}\"}} {}",
                    kLatenessBucketsSeconds[i], m.lateness_buckets[i]));
  add(fmt::format("leeway_schedule_lateness_seconds_bucket{{le=\"+Inf\"}} {}",
                  m.lateness_buckets.back()));
  add(fmt::format("leeway_schedule_lateness_seconds_sum {}", m.lateness_sum_seconds));
  add(fmt::format("leeway_schedule_lateness_seconds_count {}", m.lateness_count));
  add("# HELP leeway_schedule_runs_started_total Runs started by the scheduler.");
  add("# TYPE leeway_schedule_runs_started_total counter");
  add(fmt::format("leeway_schedule_runs_started_total {}", m.runs_started_total));
  add("# HELP leeway_schedule_runs_skipped_total Scheduled slots not run, by reason.");
  add("# TYPE leeway_schedule_runs_skipped_total counter");
  add(fmt::format("leeway_schedule_runs_skipped_total{{reason=\"still_running\"}} {}",
                  m.runs_skipped_still_running_total));
  add(fmt::format("leeway_schedule_runs_skipped_total{{reason=\"behind\"}} {}",
                  m.runs_skipped_behind_total));
  add("# HELP leeway_schedule_runs_waiting_for_host Due runs waiting for a free slot on their "
      "host.");
  add("# TYPE leeway_schedule_runs_waiting_for_host gauge");
  add(fmt::format("leeway_schedule_runs_waiting_for_host {}", m.runs_waiting_for_host));
  add("# HELP leeway_schedule_runs_in_flight Runs started and not yet finished.");
  add("# TYPE leeway_schedule_runs_in_flight gauge");
  add(fmt::format("leeway_schedule_runs_in_flight {}", m.runs_in_flight));
  add("# HELP leeway_schedule_checks Checks on the schedule.");
  add("# TYPE leeway_schedule_checks gauge");
  add(fmt::format("leeway_schedule_checks {}", m.checks));
  return out;
}

}  // namespace leeway::schedule
