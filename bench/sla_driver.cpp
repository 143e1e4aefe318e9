// The SLA engine's monthly report at scale: one contract over SERVICES services with
// CHECKS_PER_SERVICE checks each, INCIDENTS incidents in the month (some crossing into the next),
// maintenance windows (half announced too late), manual exclusions and reclassifications.
// Prints the median time of compute_report and of each renderer; with --store, the same month
// written into a SQLite file (incidents with their documents and acks, windows, exclusions,
// reclassifications, the checks' first results) and the report as the API builds it from there
// (report::monthly_report), provisional in each format, then closed: frozen once, served frozen
// after. No peer exists: no monitoring product computes SLA penalties per incident grade (issue
// 11), so there is nothing to run beside it; the goal is an absolute one, well under a second for
// 100 services, 10,000 checks and 1,000 incidents.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "bench/common.h"
#include "report/monthly.h"
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

constexpr int kLocations = 6;

// The config the stored incidents are read against: each service's checks, run from every
// location.
std::shared_ptr<const config::Config> make_config(const Scale& s) {
  auto config = std::make_shared<config::Config>();
  for (int i = 0; i < s.services; ++i) {
    config::Service service;
    service.id = fmt::format("svc{}", i);
    for (int k = 0; k < s.checks_per_service; ++k) {
      config::Check check;
      check.id = fmt::format("{}/c{}", service.id, k);
      check.service_id = service.id;
      check.name = fmt::format("c{}", k);
      check.interval_us = kMinuteUs;
      for (int l = 0; l < kLocations; ++l) check.locations.push_back(fmt::format("loc{}", l));
      service.checks.push_back(std::move(check));
    }
    config->services.push_back(std::move(service));
  }
  return config;
}

// An incident as the tracker stores it: its indexed fields and a document of the incident
// module's shape (the fields the report reads, a verdict and a timeline of the same size).
store::StoredIncident stored_incident(const Incident& in) {
  using nlohmann::json;
  json locations = json::array();
  for (std::int64_t l = 0; l < in.locations.part; ++l)
    locations.push_back({{"location", fmt::format("loc{}", l)}, {"stages", {"connect"}}});
  json timeline = json::array();
  for (int e = 0; e < 6; ++e)
    timeline.push_back({{"at", format_rfc3339(in.opened_us + e * kMinuteUs)},
                        {"at_us", in.opened_us + e * kMinuteUs},
                        {"kind", "location down"},
                        {"text", fmt::format("loc{} saw {} down at connect", e, in.service)}});
  const std::string state = in.resolved_us ? "resolved" : "open";
  const std::string summary = fmt::format("{} failed from {} of {} locations", in.service,
                                          in.locations.part, in.locations.whole);
  json document = {
      {"id", in.id},
      {"service", in.service},
      {"state", state},
      {"opened", format_rfc3339(in.opened_us)},
      {"opened_us", in.opened_us},
      {"resolved_us", in.resolved_us ? json(*in.resolved_us) : json()},
      {"checks", in.checks_hit},
      {"locations", locations},
      {"worst", in.worst == Outcome::kDown ? "down" : "degraded"},
      {"verdict", {{"name", in.attribution}, {"confidence", "high"}, {"reason", summary}}},
      {"summary", summary},
      {"timeline", timeline}};
  return {in.id, in.service,     in.opened_us, in.resolved_us,
          state, in.attribution, summary,      document.dump()};
}

template <typename T>
T must(Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "%s: %s\n", what, r.error().message.c_str());
    std::exit(1);
  }
  return std::move(*r);
}

void must(Status s, const char* what) {
  if (!s) {
    std::fprintf(stderr, "%s: %s\n", what, s.error().message.c_str());
    std::exit(1);
  }
}

// The month's evidence written into the stores; returns the results written.
std::size_t write_month(const ReportMonth& month, const Evidence& e, const config::Config& config,
                        report::Stores& stores) {
  std::vector<store::StoredIncident> incidents;
  for (const auto& in : e.incidents) incidents.push_back(stored_incident(in));
  must(stores.incidents.write_incidents(incidents), "write incidents");
  for (const auto& in : e.incidents)
    if (in.acknowledged_us)
      must(stores.incidents.add_note(
               in.id, {store::IncidentNote::Kind::kAck, *in.acknowledged_us, "ops", ""}),
           "ack");
  for (const auto& w : e.maintenance)
    must(stores.sla.add_window({0, w.start_us, w.end_us, w.services, w.announced_us, "ops",
                                "planned work", store::MaintenanceWindow::Source::kApi}),
         "window");
  for (const auto& x : e.manual_exclusions)
    must(stores.sla.add_exclusion(
             {0, x.start_us, x.end_us, x.services, x.reason, x.by, month.end_us + kDayUs}),
         "exclusion");
  for (const auto& r : e.reclassifications)
    must(stores.sla.reclassify({0, r.incident_id, std::string(field_name(r.field)), r.value, r.by,
                                r.reason, r.at_us}),
         "reclassification");
  // Each check's results at every location, a minute apart, for the first minutes of the day
  // before the month: what tells the report that every service existed all month.
  std::size_t written = 0;
  std::vector<store::StoredResult> batch;
  for (const auto& service : config.services)
    for (const auto& check : service.checks) {
      for (int m = 0; m < 5; ++m)
        for (int l = 0; l < kLocations; ++l) {
          store::StoredResult r;
          r.check = check.id;
          r.location = fmt::format("loc{}", l);
          r.started_us = month.start_us - report::kFirstMinuteLookbackUs + m * kMinuteUs + l;
          r.total_us = 20 * kMillisecondUs;
          r.outcome = probe::Outcome::kUp;
          batch.push_back(std::move(r));
        }
      if (batch.size() >= 10'000) {
        written += must(stores.results.write(batch), "results").size();
        batch.clear();
      }
    }
  if (!batch.empty()) written += must(stores.results.write(batch), "results").size();
  return written;
}

int run_through_stores(const Scale& s, Contract contract, const ReportMonth& month,
                       const Evidence& e, const std::string& path, int passes) {
  if (std::filesystem::exists(path)) {
    std::fprintf(stderr, "--store %s: exists; give a new file\n", path.c_str());
    return 1;
  }
  // Every service measured from its first minute: the report reads the checks' results too.
  contract.measurement.only_existing_minutes = true;
  auto config = make_config(s);
  const std::string uri = "sqlite:" + path;
  auto results = must(store::open_store(uri), "open store");
  auto incidents = must(store::open_incident_store(uri), "open incident store");
  auto sla = must(store::open_sla_store(uri), "open sla store");
  report::Stores stores{*results, *incidents, *sla};
  auto t0 = std::chrono::steady_clock::now();
  std::size_t written = write_month(month, e, *config, stores);
  fmt::print(
      "stores: {} incidents, {} windows, {} exclusions, {} reclassifications and {} "
      "results written in {:.1f} s ({})\n",
      e.incidents.size(), e.maintenance.size(), e.manual_exclusions.size(),
      e.reclassifications.size(), written,
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), path);

  report::MonthlyRequest q{config,        contract,     month,
                           Format::kJson, std::nullopt, month.end_us - kHourUs};
  report::StoredEvidence stored;
  auto [rw, rc] =
      median_ms(passes, [&] { stored = must(report::read_evidence(q, stores), "read"); });
  fmt::print("read evidence: median {:.2f} ms, cpu {:.2f} ms ({} incidents, {} services begun)\n",
             rw, rc, stored.incidents.size(), stored.first_minute_us.size());
  Report report;
  auto [cw, cc] = median_ms(passes, [&] {
    report = compute_report(contract, month, report::sla_evidence(stored, *config));
  });
  fmt::print("convert and compute: median {:.2f} ms, cpu {:.2f} ms ({} incidents listed)\n", cw, cc,
             report.incidents.size());
  for (auto [name, format] : {std::pair{"md", Format::kMarkdown},
                              {"html", Format::kHtml},
                              {"csv", Format::kCsv},
                              {"json", Format::kJson}}) {
    q.format = format;
    std::size_t bytes = 0;
    auto [w, c] = median_ms(
        passes, [&] { bytes = must(report::monthly_report(q, stores), "report").body.size(); });
    fmt::print("monthly_report {} (provisional): median {:.2f} ms, cpu {:.2f} ms, {} KiB\n", name,
               w, c, bytes / 1024);
  }
  q.now_us = month.end_us + kDayUs;
  q.format = Format::kJson;
  auto [fw, fc] = median_ms(1, [&] { must(report::monthly_report(q, stores), "freeze"); });
  fmt::print("monthly_report (closed, first: frozen in 4 formats): {:.2f} ms, cpu {:.2f} ms\n", fw,
             fc);
  auto [sw, sc] = median_ms(passes, [&] { must(report::monthly_report(q, stores), "frozen"); });
  fmt::print(
      "monthly_report (closed, inputs unchanged: served frozen): median {:.2f} ms, cpu "
      "{:.2f} ms\n",
      sw, sc);
  return 0;
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
  std::string store_path;
  app.add_option("--store", store_path,
                 "also write the month into this new SQLite file and time the report from it");
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
  if (!store_path.empty())
    return run_through_stores(scale, contract, month, evidence, store_path, passes);
  return 0;
}
