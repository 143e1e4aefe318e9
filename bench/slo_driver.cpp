// The SLO engine's pass: budget and every burn window for SLOS SLOs over DAYS days of minutes,
// evaluated every 10 s as the daemon will. Optionally writes the same data as OpenMetrics
// counters and the SLOs' Prometheus rules, for bench/slo.sh to backfill into Prometheus.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "bench/common.h"
#include "slo/engine.h"
#include "slo/rules.h"

namespace {

using namespace leeway;
using namespace leeway::slo;

// One SLO's minute: 6 runs (six locations a minute), a failing run now and then (about one hour
// in ten holds one) and an outage of 20 minutes every few days.
MinuteCounts synthetic_minute(std::mt19937_64& rng, std::int64_t minute, std::size_t slo) {
  std::uint32_t bad = 0;
  if (std::uniform_int_distribution<int>(0, 499)(rng) == 0) bad = 1;
  if ((minute + std::int64_t(slo) * 997) % (3 * 1440) < 20) bad = 3;
  return MinuteCounts{6 - bad, 6};
}

double elapsed_ms(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - since)
      .count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SLO engine benchmark"};
  std::size_t slos = 1000;
  int days = 30;
  int passes = 60;
  std::int64_t end_s = 1'796'083'200;  // 2026-12-01T00:00:00Z; bench/slo.sh passes "now"
  std::string openmetrics, rules;
  app.add_option("--slos", slos, "how many SLOs");
  app.add_option("--days", days, "days of minutes before the first pass");
  app.add_option("--passes", passes, "passes to time, 10 s of simulated time apart");
  app.add_option("--end", end_s, "Unix seconds of the last minute's end (a whole minute)");
  app.add_option("--openmetrics", openmetrics, "write the data as OpenMetrics counters here");
  app.add_option("--rules", rules, "write the SLOs' Prometheus rules here");
  CLI11_PARSE(app, argc, argv);
  end_s -= end_s % 60;

  std::vector<SloSpec> specs;
  for (std::size_t i = 0; i < slos; ++i) {
    SloSpec s;
    s.id = fmt::format("svc{}-availability", i);
    s.service = fmt::format("svc{}", i);
    s.sli = Sli::kAvailabilityRuns;
    s.objective = parse_percent("99.9").value();
    s.window = Window{30 * kDayUs, ""};
    s.method = Method::kOccurrences;
    s.checks = {fmt::format("svc{}/home", i)};
    s.alerts = default_burn_conditions();
    specs.push_back(std::move(s));
  }
  if (!rules.empty()) std::ofstream(rules) << prometheus_rules(specs, "bench/slo_driver");

  const TimeUs end_us = end_s * kSecondUs;
  const std::int64_t minutes = std::int64_t(days) * 1440;
  const TimeUs start_us = end_us - minutes * kMinuteUs;
  std::mt19937_64 rng(42);

  if (!openmetrics.empty()) {
    // Two counters per SLO (runs up and down at one location), a sample at every minute's end,
    // series after series as the backfill wants them.
    std::FILE* out = std::fopen(openmetrics.c_str(), "w");
    if (out == nullptr) return 1;
    std::fputs("# TYPE leeway_check_runs counter\n", out);
    for (std::size_t i = 0; i < slos; ++i) {
      for (int down = 0; down < 2; ++down) {
        std::mt19937_64 series_rng(42 + i);
        std::int64_t sum = 0;
        std::fprintf(out,
                     "leeway_check_runs_total{check=\"%s\",location=\"l\",outcome=\"%s\"} 0 %lld\n",
                     specs[i].checks[0].c_str(), down ? "down" : "up",
                     static_cast<long long>(start_us / kSecondUs));
        for (std::int64_t m = 0; m < minutes; ++m) {
          MinuteCounts c = synthetic_minute(series_rng, (start_us / kMinuteUs) + m, i);
          sum += down ? c.total - c.good : c.good;
          std::fprintf(
              out,
              "leeway_check_runs_total{check=\"%s\",location=\"l\",outcome=\"%s\"} %lld %lld\n",
              specs[i].checks[0].c_str(), down ? "down" : "up", static_cast<long long>(sum),
              static_cast<long long>((start_us + (m + 1) * kMinuteUs) / kSecondUs));
        }
      }
    }
    std::fputs("# EOF\n", out);
    std::fclose(out);
    fmt::print("wrote {} SLOs x {} minutes to {}\n", slos, minutes, openmetrics);
    return 0;
  }

  Engine engine(specs);
  auto load_start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < slos; ++i) {
    std::mt19937_64 series_rng(42 + i);
    for (std::int64_t m = 0; m < minutes; ++m)
      engine.set_minute(i, start_us + m * kMinuteUs,
                        synthetic_minute(series_rng, (start_us / kMinuteUs) + m, i));
  }
  double load_ms = elapsed_ms(load_start);
  // The first pass settles every hour loaded (sums, one value for steady hours).
  auto first_start = std::chrono::steady_clock::now();
  engine.evaluate(end_us);
  double first_ms = elapsed_ms(first_start);

  // Passes 10 s apart; at each minute's end every SLO gets its new minute, and a late minute
  // (an agent's spool) lands two hours back for one SLO in ten.
  std::vector<double> pass_ms;
  double cpu_before = bench::cpu_seconds();
  std::size_t alerts = 0;
  for (int p = 1; p <= passes; ++p) {
    TimeUs now = end_us + p * 10 * kSecondUs;
    if (p % 6 == 0) {
      TimeUs minute = now - kMinuteUs;
      for (std::size_t i = 0; i < slos; ++i) {
        engine.set_minute(i, minute, synthetic_minute(rng, minute / kMinuteUs, i));
        if (i % 10 == 0) engine.set_minute(i, minute - 2 * kHourUs, MinuteCounts{4, 6});
      }
    }
    auto t = std::chrono::steady_clock::now();
    alerts += engine.evaluate(now).size();
    pass_ms.push_back(elapsed_ms(t));
  }
  double cpu_ms = (bench::cpu_seconds() - cpu_before) * 1000 / passes;
  std::sort(pass_ms.begin(), pass_ms.end());
  std::size_t firing = 0;
  for (std::size_t i = 0; i < slos; ++i)
    firing += engine.status(i).firing[0] + engine.status(i).firing[1];
  fmt::print(
      "slos {} days {}: load {:.0f} ms, first pass {:.1f} ms, pass median {:.2f} ms, max {:.2f} "
      "ms, cpu {:.2f} ms per pass (with the minute's writes), {:.1f} MB of minutes, {} alerts "
      "firing\n",
      slos, days, load_ms, first_ms, pass_ms[pass_ms.size() / 2], pass_ms.back(), cpu_ms,
      double(engine.memory_bytes()) / 1e6, firing);
  fmt::print("alert events in the timed passes: {}\n", alerts);
  return 0;
}
