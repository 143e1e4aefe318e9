// The SLA engine's monthly report at scale: one contract over SERVICES services with
// CHECKS_PER_SERVICE checks each, INCIDENTS incidents in the month (some crossing into the next),
// maintenance windows (half announced too late), manual exclusions and reclassifications.
// Prints the median time of compute_report and of each renderer. No peer exists: no monitoring
// product computes SLA penalties per incident grade (issue 11), so there is nothing to run
// beside it; the goal is an absolute one, well under a second for 100 services, 10,000 checks
// and 1,000 incidents.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "bench/common.h"
#include "sla/engine.h"
#include "sla/render.h"

namespace {

using namespace leeway;
using namespace leeway::sla;

struct Scale {
  int services = 100;
  int checks_per_service = 100;
  int incidents = 1000;
};

Contract make_contract(const Scale& s) {
  Contract c;
  c.id = "bench";
  c.customer = "Bench Co.";
  for (int i = 0; i < s.services; ++i) c.services.push_back(fmt::format("svc{}", i));
  c.fee = Money{150'000'000, "KRW"};
  c.rounding = Rounding::kDown;
  c.time_zone = "Asia/Seoul";
  c.measurement.target = parse_percentage("99.9").value();
  c.measurement.min_location_share = parse_percentage("50").value();
  GradeRule critical;
  for (int i = 0; i < s.services; i += 5) critical.checks.push_back(fmt::format("svc{}/c0", i));
  critical.outcome = Outcome::kDown;
  Grade g1{"1",
           {GradeRule{.min_duration_us = 30 * kMinuteUs,
                      .min_location_share = parse_percentage("100").value()},
            critical},
           3'000'000,
           10 * kMinuteUs,
           500'000,
           2 * kHourUs,
           1'000'000};
  Grade g2{"2",
           {GradeRule{.outcome = Outcome::kDown, .business_hours = true},
            GradeRule{.min_duration_us = 10 * kMinuteUs,
                      .min_location_share = parse_percentage("50").value()}},
           1'000'000,
           30 * kMinuteUs,
           200'000};
  Grade g3{"3", {GradeRule{.min_duration_us = kMinuteUs}}, 300'000};
  c.grades = {g1, g2, g3};
  c.credits = {{parse_percentage("99.9").value(), parse_percentage("99").value(),
                parse_percentage("5").value()},
               {parse_percentage("99").value(), {}, parse_percentage("15").value()}};
  c.cap = parse_percentage("30").value();
  c.exclusions.maintenance_notice_us = 3 * kDayUs;
  c.exclusions.network = true;
  c.exclusions.customer_attributions = {"dependency:customer-*"};
  return c;
}

Evidence make_evidence(const Scale& s, const ReportMonth& month) {
  std::mt19937_64 rng(42);
  auto uniform = [&](std::int64_t lo, std::int64_t hi) {
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
  };
  Evidence e;
  for (int i = 0; i < s.incidents; ++i) {
    Incident in;
    in.id = fmt::format("inc{}", i);
    int service = static_cast<int>(uniform(0, s.services - 1));
    in.service = fmt::format("svc{}", service);
    in.opened_us = uniform(month.start_us - kDayUs, month.end_us - kMinuteUs);
    in.resolved_us = in.opened_us + uniform(20, 4 * 3600) * kSecondUs;
    if (uniform(0, 3) > 0) in.acknowledged_us = in.opened_us + uniform(60, 3600) * kSecondUs;
    in.locations = {uniform(1, 6), 6};
    in.checks = {uniform(1, 20), s.checks_per_service};
    for (std::int64_t k = 0; k < in.checks.part; ++k)
      in.checks_hit.push_back(
          fmt::format("{}/c{}", in.service, uniform(0, s.checks_per_service - 1)));
    in.worst = uniform(0, 4) == 0 ? Outcome::kDegraded : Outcome::kDown;
    std::int64_t cause = uniform(0, 99);
    in.attribution = cause < 80   ? "service"
                     : cause < 95 ? fmt::format("network:isp{}", cause % 3)
                                  : "dependency:customer-db";
    e.incidents.push_back(std::move(in));
  }
  for (int i = 0; i < 100; ++i) {
    TimeUs start = uniform(month.start_us, month.end_us - kHourUs) / kMinuteUs * kMinuteUs;
    std::vector<std::string> services;
    for (int k = 0; k < 5; ++k)
      services.push_back(fmt::format("svc{}", uniform(0, s.services - 1)));
    e.maintenance.push_back(MaintenanceWindow{fmt::format("mw{}", i), start,
                                              start + uniform(1, 4) * kHourUs, services,
                                              start - uniform(1, 6) * kDayUs});
  }
  for (int i = 0; i < 20; ++i) {
    TimeUs start = uniform(month.start_us, month.end_us - kHourUs);
    e.manual_exclusions.push_back(ManualExclusion{fmt::format("ex{}", i),
                                                  start,
                                                  start + uniform(10, 120) * kMinuteUs,
                                                  {fmt::format("svc{}", i)},
                                                  "customer asked",
                                                  "ops"});
  }
  for (int i = 0; i < 100; ++i) {
    auto field = static_cast<ReclassifiedField>(uniform(0, 2));
    std::string value = field == ReclassifiedField::kGrade         ? "2"
                        : field == ReclassifiedField::kAttribution ? "service"
                                                                   : "excluded";
    e.reclassifications.push_back(
        Reclassification{fmt::format("inc{}", uniform(0, s.incidents - 1)), field, value, "lee",
                         "reviewed", month.end_us + kDayUs});
  }
  return e;
}

template <typename F>
std::pair<double, double> median_ms(int passes, F&& run) {
  std::vector<double> wall;
  double cpu0 = bench::cpu_seconds();
  for (int i = 0; i < passes; ++i) {
    auto t0 = std::chrono::steady_clock::now();
    run();
    wall.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  double cpu_ms = (bench::cpu_seconds() - cpu0) * 1000 / passes;
  std::sort(wall.begin(), wall.end());
  return {wall[wall.size() / 2], cpu_ms};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"SLA engine benchmark: a month's report"};
  Scale scale;
  int passes = 20;
  app.add_option("--services", scale.services, "services the contract covers");
  app.add_option("--checks-per-service", scale.checks_per_service, "checks of each service");
  app.add_option("--incidents", scale.incidents, "incidents in the month");
  app.add_option("--passes", passes, "passes to time");
  CLI11_PARSE(app, argc, argv);

  Contract contract = make_contract(scale);
  if (auto valid = validate(contract); !valid) {
    std::fprintf(stderr, "bad contract: %s\n", valid.error().message.c_str());
    return 1;
  }
  ReportMonth month = report_month(contract.time_zone, YearMonth{2026, 10}).value();
  Evidence evidence = make_evidence(scale, month);

  Report report;
  auto [wall, cpu] = median_ms(passes, [&] { report = compute_report(contract, month, evidence); });
  fmt::print(
      "{} services x {} checks, {} incidents, {} windows, {} manual exclusions, {} "
      "reclassifications; month {} in {}\n",
      scale.services, scale.checks_per_service, scale.incidents, evidence.maintenance.size(),
      evidence.manual_exclusions.size(), evidence.reclassifications.size(), month.label(),
      month.time_zone);
  fmt::print("report: median {:.2f} ms, cpu {:.2f} ms per report ({} passes)\n", wall, cpu, passes);
  fmt::print(
      "  {} incidents listed, {} unavailable and {} excluded ranges, availability {}%, "
      "total {}\n",
      report.incidents.size(), report.unavailable.size(), report.excluded.size(),
      report.availability.text(), format_money(report.money(report.total_minor_units)));
  for (auto [name, format] : {std::pair{"md", Format::kMarkdown},
                              {"html", Format::kHtml},
                              {"csv", Format::kCsv},
                              {"json", Format::kJson}}) {
    std::size_t bytes = 0;
    auto [w, c] = median_ms(passes, [&] { bytes = render(report, format).size(); });
    fmt::print("render {}: median {:.2f} ms, cpu {:.2f} ms, {} KiB\n", name, w, c, bytes / 1024);
  }
  return 0;
}
