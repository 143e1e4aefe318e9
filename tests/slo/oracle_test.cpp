// Prometheus as the oracle: each scenario (steady, a sudden outage, a slow burn, history shorter
// than the windows, and each SLI and budgeting method) is fed minute by minute to leeway's
// engine, and as the /metrics counters it implies to `promtool test rules` with the rules of
// `leeway slo rules`. promtool asserts that the alerts leeway fired are firing at every
// evaluation minute and no others, and that burn rates and the remaining budget agree within
// 1e-9 (compared in PromQL: promtool compares floats exactly).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "slo/engine.h"
#include "slo/rules.h"
#include "support/fixtures.h"
#include "support/process.h"

namespace leeway::slo {
namespace {

namespace fs = std::filesystem;

// One scenario: an SLO and its SLI's minutes from t = 0 (minute k is [k, k+1) minutes), and
// the counters /metrics would show, as cumulative samples at each whole minute.
struct Scenario {
  SloSpec spec;
  std::vector<MinuteCounts> minutes;
  // First minute with data: the counters exist from then on (earlier samples are missing).
  std::size_t first = 0;
};

using CounterFn = std::function<double(const MinuteCounts&)>;

// A counter as promtool input: 0 at minute `first`, then the running sum of `per_minute`.
std::string counter_values(const Scenario& s, const CounterFn& per_minute) {
  std::string out;
  double sum = 0;
  for (std::size_t k = 0; k <= s.minutes.size(); ++k) {
    if (k < s.first) {
      out += "_ ";
      continue;
    }
    if (k > s.first) sum += per_minute(s.minutes[k - 1]);
    out += fmt::format("{} ", sum);
  }
  return out;
}

// The /metrics series a scenario implies, as (series, values) pairs.
std::vector<std::pair<std::string, std::string>> input_series(const Scenario& s) {
  const SloSpec& spec = s.spec;
  std::vector<std::pair<std::string, std::string>> out;
  if (spec.method != Method::kOccurrences) {
    // The engine's slice counters, judged here apart from the engine: a minute with data is a
    // slice; it is bad below the slice target, or by its bad share for ratio_timeslices.
    double target = spec.sli == Sli::kAvailabilityMinutes ? 1.0 : spec.slice_target.value();
    out.emplace_back(
        fmt::format("{}{{slo=\"{}\"}}", kSlicesMetric, spec.id),
        counter_values(s, [](const MinuteCounts& m) { return m.total > 0 ? 1.0 : 0.0; }));
    out.emplace_back(fmt::format("{}{{slo=\"{}\"}}", kBadSlicesMetric, spec.id),
                     counter_values(s, [&](const MinuteCounts& m) {
                       if (m.total == 0) return 0.0;
                       double good = double(m.good) / double(m.total);
                       if (spec.method == Method::kRatioTimeslices) return 1.0 - good;
                       return good < target ? 1.0 : 0.0;
                     }));
    return out;
  }
  // Two locations share the runs: the rules must sum across them.
  for (int location = 0; location < 2; ++location) {
    auto half = [location](std::uint32_t n) { return double(location == 0 ? n - n / 2 : n / 2); };
    std::string labels = fmt::format("check=\"{}\",location=\"l{}\"", spec.checks[0], location);
    if (spec.sli == Sli::kLatency) {
      out.emplace_back(fmt::format("{}_count{{{}}}", kDurationMetric, labels),
                       counter_values(s, [&](const MinuteCounts& m) { return half(m.total); }));
      out.emplace_back(fmt::format("{}_bucket{{{},le=\"{}\"}}", kDurationMetric, labels,
                                   le_label(spec.threshold_us)),
                       counter_values(s, [&](const MinuteCounts& m) { return half(m.good); }));
    } else {
      out.emplace_back(fmt::format("{}{{{},outcome=\"up\"}}", kRunsMetric, labels),
                       counter_values(s, [&](const MinuteCounts& m) { return half(m.good); }));
      out.emplace_back(
          fmt::format("{}{{{},outcome=\"down\"}}", kRunsMetric, labels),
          counter_values(s, [&](const MinuteCounts& m) { return half(m.total) - half(m.good); }));
    }
  }
  return out;
}

// A PromQL check that `expr` is `value` within 1e-9 (relative above 1): 1 when it holds.
std::string close_to(std::string_view expr, double value) {
  return fmt::format("abs({} - ({})) <= bool {}", expr, value, 1e-9 * (std::abs(value) + 1));
}

// Runs the engine over the scenario and writes its expectations as one promtool test group.
// Returns how many alert transitions leeway saw, so a scenario can say what it exercises.
int append_test_group(std::string& out, const Scenario& s) {
  const SloSpec& spec = s.spec;
  Engine engine({spec});
  std::string labels = fmt::format("{{service=\"{}\",slo=\"{}\"", spec.service, spec.id);
  std::string alerts, samples;
  int transitions = 0;
  for (std::size_t k = 0; k <= s.minutes.size(); ++k) {
    if (k > 0) {
      EXPECT_TRUE(engine.set_minute(0, TimeUs(k - 1) * kMinuteUs, s.minutes[k - 1]));
    }
    auto events = engine.evaluate(TimeUs(k) * kMinuteUs);
    transitions += int(events.size());
    if (k == 0) continue;
    const SloStatus& status = engine.status(0);
    alerts +=
        fmt::format("      - eval_time: {}m\n        alertname: LeewaySloErrorBudgetBurn\n", k);
    std::string firing;
    for (Severity severity : {Severity::kPage, Severity::kTicket})
      if (status.firing[std::size_t(severity)])
        firing += fmt::format(
            "          - exp_labels: {{severity: {0}, slo: {1}, service: {2}}}\n"
            "            exp_annotations:\n"
            "              summary: \"SLO {1} of {2} is burning its error budget too fast "
            "({0})\"\n",
            to_string(severity), spec.id, spec.service);
    alerts += firing.empty() ? "        exp_alerts: []\n" : "        exp_alerts:\n" + firing;

    // Values every half hour and at each transition.
    if (k % 30 != 0 && events.empty()) continue;
    for (const BurnRate& burn : status.burn_rates) {
      if (!burn.rate) continue;  // no data: NaN in PromQL, leeway's unknown (tested apart)
      std::string expr =
          fmt::format("leeway_slo:sli_error:ratio_rate{}{{slo=\"{}\"}} / {}",
                      window_name(burn.window_us), spec.id, spec.objective.complement_text());
      samples += fmt::format(
          "      - expr: '{}'\n        eval_time: {}m\n        exp_samples:\n"
          "          - labels: '{},window=\"{}\"}}'\n            value: 1\n",
          close_to(expr, *burn.rate), k, labels, window_name(burn.window_us));
    }
    if (!spec.window.calendar() && status.budget.remaining_ratio) {
      std::string expr =
          fmt::format("leeway_slo:period_error_budget_remaining:ratio{{slo=\"{}\"}}", spec.id);
      samples += fmt::format(
          "      - expr: '{}'\n        eval_time: {}m\n        exp_samples:\n"
          "          - labels: '{},window=\"{}\"}}'\n            value: 1\n",
          close_to(expr, *status.budget.remaining_ratio), k, labels,
          window_name(spec.window.rolling_us));
    }
  }
  // The engine's own counters for /metrics end where the test's independent ones do.
  if (spec.method != Method::kOccurrences) {
    double slices = 0, bad = 0;
    for (const auto& m : s.minutes) {
      if (m.total == 0) continue;
      double good = double(m.good) / double(m.total);
      slices += 1;
      if (spec.method == Method::kRatioTimeslices)
        bad += 1 - good;
      else
        bad += good < (spec.sli == Sli::kAvailabilityMinutes ? 1.0 : spec.slice_target.value());
    }
    EXPECT_EQ(engine.status(0).closed.data_minutes, std::int64_t(slices)) << spec.id;
    EXPECT_NEAR(engine.status(0).closed.bad, bad, 1e-9) << spec.id;
  }
  out += fmt::format("  # {}\n  - interval: 1m\n    input_series:\n", spec.id);
  for (const auto& [series, values] : input_series(s))
    out += fmt::format("      - series: '{}'\n        values: '{}'\n", series, values);
  out += "    alert_rule_test:\n" + alerts + "    promql_expr_test:\n" + samples;
  return transitions;
}

SloSpec make_spec(std::string id, Sli sli, const char* objective, Method method) {
  SloSpec s;
  s.id = std::move(id);
  s.service = "shop";
  s.sli = sli;
  s.objective = parse_percent(objective).value();
  s.window = Window{30 * kDayUs, ""};
  s.method = method;
  s.checks = {"shop/home"};
  s.alerts = default_burn_conditions();
  if (method == Method::kTimeslices && sli != Sli::kAvailabilityMinutes)
    s.slice_target = parse_percent("95").value();
  if (sli == Sli::kLatency) s.threshold_us = 250 * kMillisecondUs;
  EXPECT_EQ(check_spec(s), "") << s.id;
  return s;
}

// `n` minutes of `counts` from `f(k)` for minute k.
std::vector<MinuteCounts> minutes(std::size_t n,
                                  const std::function<MinuteCounts(std::size_t)>& f) {
  std::vector<MinuteCounts> out;
  for (std::size_t k = 0; k < n; ++k) out.push_back(f(k));
  return out;
}

std::string find_promtool() {
  std::istringstream path(std::getenv("PATH") ? std::getenv("PATH") : "");
  for (std::string dir; std::getline(path, dir, ':');)
    if (fs::exists(fs::path(dir) / "promtool")) return (fs::path(dir) / "promtool").string();
  return "";
}

TEST(PrometheusOracle, SameAlertsAtTheSameEvaluationsAndTheSameValues) {
  std::string promtool = find_promtool();
  ASSERT_FALSE(promtool.empty())
      << "promtool (Debian's prometheus package) is needed: bash scripts/deps.sh installs it";

  std::vector<Scenario> scenarios;
  // Steady: 100 runs a minute, one failure at the end of every 20 minutes (burning half the
  // budget's pace): never an alert in 8 hours.
  scenarios.push_back({make_spec("steady", Sli::kAvailabilityRuns, "99.9", Method::kOccurrences),
                       minutes(480, [](std::size_t k) {
                         return MinuteCounts{k % 20 == 19 ? 99u : 100u, 100};
                       })});
  // A sudden outage after an hour: 20% failing for 30 minutes.
  scenarios.push_back({make_spec("outage", Sli::kAvailabilityRuns, "99.9", Method::kOccurrences),
                       minutes(240, [](std::size_t k) {
                         return MinuteCounts{k >= 60 && k < 90 ? 80u : 100u, 100};
                       })});
  // A slow burn: 1000 runs a minute, 0.4% failing from 6h to 14h: a ticket, never a page; it
  // resolves when the 6h window is clear again.
  scenarios.push_back({make_spec("slow-burn", Sli::kAvailabilityRuns, "99.9", Method::kOccurrences),
                       minutes(1260, [](std::size_t k) {
                         return MinuteCounts{k >= 360 && k < 840 ? 996u : 1000u, 1000};
                       })});
  // History shorter than every window: no data for two hours (the counters do not exist yet),
  // then 10 minutes at 50% failing.
  Scenario young{make_spec("young", Sli::kAvailabilityRuns, "99.9", Method::kOccurrences),
                 minutes(300,
                         [](std::size_t k) {
                           if (k < 120) return MinuteCounts{0, 0};
                           return MinuteCounts{k >= 130 && k < 140 ? 50u : 100u, 100};
                         }),
                 120};
  scenarios.push_back(young);
  // Latency: 200 runs a minute, 1 over 250ms; for 20 minutes 40% are.
  scenarios.push_back({make_spec("latency", Sli::kLatency, "99", Method::kOccurrences),
                       minutes(360, [](std::size_t k) {
                         return MinuteCounts{k >= 100 && k < 120 ? 120u : 199u, 200};
                       })});
  // Timeslices at 95% per minute: 20 runs a minute; a bad minute (2 failing) now and then,
  // then 15 minutes of 5 failing.
  auto sliced = [](std::size_t k) {
    if (k >= 150 && k < 165) return MinuteCounts{15, 20};
    return MinuteCounts{k % 37 == 0 ? 18u : 20u, 20};
  };
  scenarios.push_back({make_spec("slices", Sli::kAvailabilityRuns, "99", Method::kTimeslices),
                       minutes(300, sliced)});
  scenarios.push_back(
      {make_spec("ratio-slices", Sli::kAvailabilityRuns, "99", Method::kRatioTimeslices),
       minutes(300, sliced)});
  // Time-based: a minute down by the quorum is bad; 25 bad minutes after two hours.
  scenarios.push_back({make_spec("minutes", Sli::kAvailabilityMinutes, "99.5", Method::kTimeslices),
                       minutes(360, [](std::size_t k) {
                         return MinuteCounts{k >= 120 && k < 145 ? 0u : 1u, 1};
                       })});

  // A rule file and a test file per scenario: promtool evaluates every rule of its file at
  // every minute, so one file for all would cost each scenario every other's rules.
  fs::path dir = testing::fresh_test_dir("slo-oracle");
  std::vector<std::string> command = {promtool, "test", "rules"};
  std::map<std::string, int> transitions;
  for (const auto& s : scenarios) {
    std::string test =
        fmt::format("rule_files: [{}.rules.yml]\nevaluation_interval: 1m\ntests:\n", s.spec.id);
    transitions[s.spec.id] = append_test_group(test, s);
    std::ofstream(dir / (s.spec.id + ".rules.yml"))
        << prometheus_rules(std::span(&s.spec, 1), "the oracle test");
    std::ofstream(dir / (s.spec.id + ".test.yml")) << test;
    command.push_back((dir / (s.spec.id + ".test.yml")).string());
  }

  // What each scenario exercises, so that a change of data cannot make the test vacuous.
  EXPECT_EQ(transitions["steady"], 0);
  EXPECT_EQ(transitions["outage"], 3);     // ticket and page fire, the page resolves
  EXPECT_EQ(transitions["slow-burn"], 2);  // a ticket fires and resolves
  for (const char* id : {"young", "latency", "slices", "ratio-slices", "minutes"})
    EXPECT_GE(transitions[id], 2) << id;

  auto result = testing::run_process(command);
  EXPECT_EQ(result.exit_code, 0) << "promtool disagrees (files in " << dir << "):\n"
                                 << result.out.substr(0, 20000) << result.err.substr(0, 4000);
}

}  // namespace
}  // namespace leeway::slo
