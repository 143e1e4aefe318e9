// The incident detector's load for bench/detector.sh: CHECKS checks (SERVICE_CHECKS to a
// service) at LOCATIONS locations, one run each every INTERVAL_S seconds for MINUTES simulated
// minutes, fed to incident::Detector one second of results at a time (as the stream hands the
// tracker each commit), with forget() every simulated minute as the tracker calls it. Faults:
// one service in a hundred down everywhere for two minutes at minute 3, and every check failing
// behind one ISP (its two vantages) for a minute at minute 6, so incidents open, attribute and
// resolve. Then late results: one result 30 simulated minutes back for each of REPLAYS services,
// each a rewind and a replay of that service's kept history. Prints results per CPU-second fed,
// the resident memory it holds, and the replay times.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <string>
#include <vector>

#include "bench/common.h"
#include "incident/detector.h"

using namespace leeway;

namespace {

// Resident memory now, from /proc (kB).
long rss_kb() {
  std::ifstream status("/proc/self/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return 0;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty()      ? 0
         : v.size() % 2 ? v[v.size() / 2]
                        : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"the incident detector fed a stream of results"};
  int checks = 10'000, locations = 5, service_checks = 10, interval_s = 10, minutes = 10,
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

  // One result of check c at location l in round `round`, at its phase within the interval.
  std::int64_t seq = 0;
  auto result = [&](int c, int l, std::int64_t round) {
    store::Committed out;
    out.seq = ++seq;
    store::StoredResult& r = out.result;
    r.check = check_ids[std::size_t(c)];
    r.location = location_ids[std::size_t(l)];
    r.started_us = start_us + round * interval_us + (std::int64_t(c) * 7919 % interval_us);
    const TimeUs minute = (r.started_us - start_us) / kMinuteUs;
    const bool service_out = c / service_checks % 100 == 0 && minute >= 3 && minute < 5;
    const bool isp_out = l < 2 && minute == 6;
    r.total_us = 40'000 + c % 1000;
    r.outcome = service_out || isp_out ? probe::Outcome::kDown : probe::Outcome::kUp;
    r.stage = isp_out       ? probe::Stage::kConnect
              : service_out ? probe::Stage::kStatus
                            : probe::Stage::kNone;
    return out;
  };

  incident::Detector detector(options);
  const long rss_before = rss_kb();
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
  for (std::int64_t s = 0; s < seconds; ++s) {
    batch.clear();
    for (int c : checks_at[std::size_t(s % interval_s)])
      for (int l = 0; l < locations; ++l) batch.push_back(result(c, l, s / interval_s));
    detector.add(batch);
    fed += std::int64_t(batch.size());
    const TimeUs now = start_us + (s + 1) * kSecondUs;
    if (now - forgot_us >= kMinuteUs) {
      detector.forget(now - kHourUs);  // as the tracker does, keeping an hour
      forgot_us = now;
    }
  }
  const double feed_cpu_s = bench::cpu_seconds() - cpu_before;
  const double feed_wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  const long rss_after = rss_kb();
  const std::size_t incidents = detector.incidents().size();

  // Late results: each lands 30 minutes (or half the run) back in one service's history.
  std::vector<double> replay_ms;
  const std::int64_t late_round = std::min<std::int64_t>(30 * 60, seconds / 2) / interval_s;
  for (int i = 0; i < replays && i < services; ++i) {
    const int c = int(std::int64_t(i) * services / replays) * service_checks;
    store::Committed late = result(c, 2, late_round);
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
      "needed_per_s={:.0f} rss_mb={:.1f} replay_ms={:.2f} replay_max_ms={:.2f}\n",
      checks, locations, services, interval_s, minutes, fed, incidents, feed_cpu_s, feed_wall_s,
      double(fed) / feed_cpu_s, double(fed) / feed_wall_s, double(checks) * locations / interval_s,
      (rss_after - rss_before) / 1024.0, median(replay_ms),
      replay_ms.empty() ? 0.0 : *std::max_element(replay_ms.begin(), replay_ms.end()));
  return 0;
}
