// The incident detector's load for bench/detector.sh: CHECKS checks (SERVICE_CHECKS to a
// service) at LOCATIONS locations, one run each every INTERVAL_S seconds for MINUTES simulated
// minutes, fed to incident::Detector one second of results at a time (as the stream hands the
// tracker each commit), with forget() every simulated minute as the tracker calls it. Faults:
// one service in a hundred down everywhere for two minutes at minute 3, every check failing
// behind one ISP (its two vantages) for a minute at minute 6, and that ISP's vantages silent for
// a minute at minute 13 (past the 5 minute reopen window: new incidents), so incidents open,
// attribute and resolve. For each fault and each service it hit: the time from the fault's first
// failing result (for the silence, the first result that did not come) to the verdict's event,
// in result time, and the wall time from feeding the batch that held the deciding result to the
// verdict being out (add() and incidents(), as the tracker's sync() reads it). Then late
// results: one result 30 simulated minutes back for each of REPLAYS services, each a rewind and
// a replay of that service's kept history. Prints results per CPU-second fed (without the
// incidents() reads that watch for verdicts), the resident memory it holds, the fault-to-verdict
// times and the replay times.
#include <fmt/core.h>
#include <malloc.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bench/common.h"
#include "incident/detector.h"
#include "incident/tracker.h"

using namespace leeway;

namespace {

// Resident memory now, from /proc (kB).
long rss_kb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

// Bytes the allocator has handed out and not had back: what is held now, where RSS keeps the
// peak (freed memory stays in the process's heap).
double heap_mb() {
  return double(mallinfo2().uordblks) / (1024.0 * 1024.0);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()      ? 0
         : v.size() % 2 ? v[v.size() / 2]
                        : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

double max_of(const std::vector<double>& v) {
  return v.empty() ? 0 : *std::max_element(v.begin(), v.end());
}

// One injected fault, and what became of it in each service it hit.
struct Fault {
  std::string name;     // in the output's keys
  std::string verdict;  // the one expected
  struct Hit {
    TimeUs first_us = 0;        // its first failing (or missing) result
    std::string first_verdict;  // the first verdict taken after it, whichever
    std::optional<TimeUs> first_us_verdict;
    std::optional<TimeUs> verdict_us;  // the expected verdict's
    double out_ms = 0;  // wall: the deciding batch's add() to the expected verdict read
    double add_ms = 0;  // of which add()
  };
  std::map<std::string, Hit> hits;  // by service
  std::size_t pending = 0;          // hits without a verdict yet

  void hit(const std::string& service, TimeUs at_us) {
    auto [it, added] = hits.try_emplace(service, Hit{at_us});
    if (added) {
      ++pending;
    } else {
      it->second.first_us = std::min(it->second.first_us, at_us);
    }
  }

  // Notes the verdicts now out: attribution events at or after a hit's first result.
  void look(const std::vector<incident::Incident>& incidents, double out_ms, double add_ms) {
    for (const incident::Incident& i : incidents) {
      const auto found = hits.find(i.service);
      if (found == hits.end() || found->second.verdict_us) continue;
      Hit& h = found->second;
      for (const incident::TimelineEvent& e : i.timeline) {
        if (e.kind != incident::TimelineEvent::Kind::kAttributionChanged || e.at_us < h.first_us)
          continue;
        const std::string name = e.text.substr(e.text.find(": ") + 2);
        if (!h.first_us_verdict) {
          h.first_us_verdict = e.at_us;
          h.first_verdict = name;
        }
        if (name != verdict) continue;
        h.verdict_us = e.at_us;
        h.out_ms = out_ms;
        h.add_ms = add_ms;
        --pending;
        break;
      }
    }
  }

  // "<name>_services=.. <name>_expected=.. <name>_verdict_s=.. ...": how many services reached
  // the expected verdict, the first verdicts that were another, and medians and maxima of the
  // times to the expected verdict (and to the first, whichever it was).
  std::string figures(DurationUs interval_us) const {
    std::vector<double> result_s, first_s, out_ms, add_ms;
    std::map<std::string, int> first_other;
    for (const auto& [service, h] : hits) {
      if (h.first_us_verdict) {
        first_s.push_back(double(*h.first_us_verdict - h.first_us) / kSecondUs);
        if (h.first_verdict != verdict) ++first_other[h.first_verdict];
      }
      if (!h.verdict_us) continue;
      result_s.push_back(double(*h.verdict_us - h.first_us) / kSecondUs);
      out_ms.push_back(h.out_ms);
      add_ms.push_back(h.add_ms);
    }
    std::string others;
    for (const auto& [v, n] : first_other) {
      others += fmt::format("{}{}:{}", others.empty() ? "" : ",", v, n);
    }
    const double interval_s = double(interval_us) / kSecondUs;
    return fmt::format(
        "{0}_services={1} {0}_expected={2} {0}_none={3} {0}_first_other={4} {0}_first_s={5:.1f} "
        "{0}_verdict_s={6:.1f} {0}_verdict_max_s={7:.1f} {0}_verdict_intervals={8:.2f} "
        "{0}_verdict_max_intervals={9:.2f} {0}_out_ms={10:.2f} {0}_out_max_ms={11:.2f} "
        "{0}_add_ms={12:.2f}",
        name, hits.size(), result_s.size(), pending, others.empty() ? "-" : others, median(first_s),
        median(result_s), max_of(result_s), median(result_s) / interval_s,
        max_of(result_s) / interval_s, median(out_ms), max_of(out_ms), median(add_ms));
  }
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"the incident detector fed a stream of results"};
  int checks = 10'000, locations = 5, service_checks = 10, interval_s = 10, minutes = 15,
      replays = 20;
  app.add_option("--checks", checks);
  app.add_option("--locations", locations);
  app.add_option("--service-checks", service_checks, "checks per service");
  app.add_option("--interval-s", interval_s);
  app.add_option("--minutes", minutes, "simulated minutes fed");
  app.add_option("--replays", replays, "late results, each replaying one service");
  CLI11_PARSE(app, argc, argv);
  if (locations < 3) {
    fmt::print(stderr, "--locations: at least 3 (two behind the failing ISP, one elsewhere)\n");
    return 2;
  }

  // Locations: the first two behind ISP "kt", the others one ISP each.
  incident::DetectorOptions options;
  std::vector<std::string> location_ids;
  for (int l = 0; l < locations; ++l) {
    location_ids.push_back(fmt::format("vantage-{}", l));
    options.locations[location_ids.back()].labels = {l < 2 ? "kt" : fmt::format("isp{}", l),
                                                     "region"};
  }
  std::vector<std::string> check_ids, service_of;
  for (int c = 0; c < checks; ++c) {
    check_ids.push_back(fmt::format("svc{}/check{}", c / service_checks, c));
    service_of.push_back(fmt::format("svc{}", c / service_checks));
    options.checks[check_ids.back()] = {service_of.back(), interval_s * kSecondUs};
  }
  const int services = (checks + service_checks - 1) / service_checks;
  const TimeUs start_us = 1'767'225'600'000'000;  // 2026-01-01T00:00:00Z
  const DurationUs interval_us = interval_s * kSecondUs;

  Fault service_fault{"service", "service"}, isp_fault{"isp", "network:kt"},
      silent_fault{"silent", "network:kt"};
  // One result of check c at location l in round `round`, at its phase within the interval;
  // none when its vantage is silent. The faults it is part of note it.
  std::int64_t seq = 0;
  auto result = [&](int c, int l, std::int64_t round) -> std::optional<store::Committed> {
    const TimeUs at_us = start_us + round * interval_us + (std::int64_t(c) * 7919 % interval_us);
    const TimeUs minute = (at_us - start_us) / kMinuteUs;
    const std::string& service = service_of[std::size_t(c)];
    if (l < 2 && minute == 13) {
      silent_fault.hit(service, at_us);
      return std::nullopt;
    }
    const bool service_out = c / service_checks % 100 == 0 && minute >= 3 && minute < 5;
    const bool isp_out = l < 2 && minute == 6;
    if (service_out) service_fault.hit(service, at_us);
    if (isp_out) isp_fault.hit(service, at_us);
    store::Committed out;
    out.seq = ++seq;
    store::StoredResult& r = out.result;
    r.check = check_ids[std::size_t(c)];
    r.location = location_ids[std::size_t(l)];
    r.started_us = at_us;
    r.total_us = 40'000 + c % 1000;
    r.outcome = service_out || isp_out ? probe::Outcome::kDown : probe::Outcome::kUp;
    r.stage = isp_out       ? probe::Stage::kConnect
              : service_out ? probe::Stage::kStatus
                            : probe::Stage::kNone;
    return out;
  };

  incident::Detector detector(options);
  const long rss_before = rss_kb();
  const double heap_before = heap_mb();
  const double cpu_before = bench::cpu_seconds();
  const auto wall_before = std::chrono::steady_clock::now();
  std::int64_t fed = 0;
  std::vector<store::Committed> batch;
  // Each second's batch holds the runs whose phase falls in it.
  std::vector<std::vector<int>> checks_at(static_cast<std::size_t>(interval_s));
  for (int c = 0; c < checks; ++c)
    checks_at[std::size_t(std::int64_t(c) * 7919 % interval_us / kSecondUs)].push_back(c);
  const std::int64_t seconds = std::int64_t(minutes) * 60;
  TimeUs forgot_us = start_us;
  double watch_cpu_s = 0, watch_wall_s = 0;  // reading incidents() for the verdicts
  for (std::int64_t s = 0; s < seconds; ++s) {
    batch.clear();
    for (int c : checks_at[std::size_t(s % interval_s)]) {
      for (int l = 0; l < locations; ++l) {
        if (auto r = result(c, l, s / interval_s)) batch.push_back(std::move(*r));
      }
    }
    const auto added = std::chrono::steady_clock::now();
    detector.add(batch);
    fed += std::int64_t(batch.size());
    if (service_fault.pending + isp_fault.pending + silent_fault.pending > 0) {
      const double cpu = bench::cpu_seconds();
      const auto read = std::chrono::steady_clock::now();
      const std::vector<incident::Incident> now_out = detector.incidents();
      const auto out = std::chrono::steady_clock::now();
      const double out_ms = std::chrono::duration<double, std::milli>(out - added).count();
      const double add_ms = std::chrono::duration<double, std::milli>(read - added).count();
      for (Fault* f : {&service_fault, &isp_fault, &silent_fault}) f->look(now_out, out_ms, add_ms);
      watch_cpu_s += bench::cpu_seconds() - cpu;
      watch_wall_s += std::chrono::duration<double>(out - read).count();
    }
    const TimeUs now = start_us + (s + 1) * kSecondUs;
    if (now - forgot_us >= kMinuteUs) {
      detector.forget(now - incident::TrackerOptions{}.keep_us);  // what the tracker keeps
      forgot_us = now;
    }
  }
  const double feed_cpu_s = bench::cpu_seconds() - cpu_before - watch_cpu_s;
  const double feed_wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count() -
      watch_wall_s;
  const long rss_after = rss_kb();
  const double heap_after = heap_mb();
  const std::size_t incidents = detector.incidents().size();

  // Late results: each lands 30 minutes (or half the run) back in one service's history.
  std::vector<double> replay_ms;
  const std::int64_t late_round = std::min<std::int64_t>(30 * 60, seconds / 2) / interval_s;
  for (int i = 0; i < replays && i < services; ++i) {
    const int c = int(std::int64_t(i) * services / replays) * service_checks;
    store::Committed late = *result(c, 2, late_round);
    late.result.started_us += 1;  // a time not seen yet: a new result, not a duplicate
    const auto began = std::chrono::steady_clock::now();
    detector.add(std::span(&late, 1));
    replay_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - began)
            .count());
  }

  fmt::print(
      "checks={} locations={} services={} interval_s={} minutes={} results={} incidents={} "
      "feed_cpu_s={:.3f} feed_wall_s={:.3f} results_per_cpu_s={:.0f} results_per_s={:.0f} "
      "needed_per_s={:.0f} rss_mb={:.1f} heap_mb={:.1f} replay_ms={:.2f} replay_max_ms={:.2f} {} "
      "{} {}\n",
      checks, locations, services, interval_s, minutes, fed, incidents, feed_cpu_s, feed_wall_s,
      double(fed) / feed_cpu_s, double(fed) / feed_wall_s, double(checks) * locations / interval_s,
      (rss_after - rss_before) / 1024.0, heap_after - heap_before, median(replay_ms),
      max_of(replay_ms), service_fault.figures(interval_us), isp_fault.figures(interval_us),
      silent_fault.figures(interval_us));
  return 0;
}
