// `leeway simulate SCENARIO.yaml [--contract C] [--contracts FILE]`: replays a scenario through the
// daemon's detector and attribution, without probing, and prints the incidents it would have
// opened, with their verdicts, the changes before them, their timelines and the maintenance windows
// they overlap; with a contract of the scenario's config or of a contracts file (a draft), its
// report for each month the scenario touches, from the same SLA engine and the same evidence
// conversion as the daemon's.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/http.h"
#include "cli/incident_view.h"
#include "core/text.h"
#include "incident/document.h"
#include "report/evidence.h"
#include "simulate/replay.h"
#include "sla/engine.h"
#include "sla/render.h"

namespace leeway::cli {

namespace {

using nlohmann::json;

// Exit codes; 2 matches `leeway config check` with a bad file.
constexpr int kExitSimulated = 0;
constexpr int kExitBadScenario = 2;

// How long before the window started it was announced; negative: after.
json window_json(const config::Maintenance& w) {
  return {{"services", w.services},
          {"from", format_rfc3339(w.start_us)},
          {"to", format_rfc3339(w.end_us)},
          {"announced", format_rfc3339(w.announced_us)},
          {"notice_s", (w.start_us - w.announced_us) / kSecondUs},
          {"description", w.description}};
}

json simulation_json(const simulate::Scenario& s, const simulate::Replay& replay) {
  json changes = json::array();
  for (const auto& c : s.changes) {
    changes.push_back({{"service", c.service},
                       {"at", format_rfc3339(c.change.at_us)},
                       {"kind", c.change.kind},
                       {"description", c.change.description},
                       {"improvement", c.change.improvement}});
  }
  json maintenance = json::array();
  for (const auto& w : s.maintenance) maintenance.push_back(window_json(w));
  json incidents = json::array();
  for (const auto& i : replay.incidents) {
    json j = incident::to_json(i);
    j["maintenance"] = json::array();
    for (const auto& w : simulate::maintenance_during(s, i))
      j["maintenance"].push_back(window_json(w));
    incidents.push_back(std::move(j));
  }
  return {{"scenario", s.file},
          {"from", format_rfc3339(s.from_us)},
          {"to", format_rfc3339(s.to_us)},
          {"results", replay.results},
          {"changes", changes},
          {"maintenance", maintenance},
          {"incidents", incidents}};
}

std::string notice(std::int64_t notice_s) {
  if (notice_s >= 0) return format_duration(notice_s * kSecondUs) + " before it started";
  return format_duration(-notice_s * kSecondUs) + " after it started";
}

void print_text(const json& j) {
  const json& incidents = j.at("incidents");
  std::cout << fmt::format("scenario {}: {} to {}, {} results, {} incident{}\n",
                           field(j, "scenario"), field(j, "from"), field(j, "to"),
                           j.at("results").get<std::size_t>(), incidents.size(),
                           incidents.size() == 1 ? "" : "s");
  const bool any_windows = !j.at("maintenance").empty();
  for (const json& i : incidents) {
    std::cout << "\n";
    print_incident(i);
    if (!any_windows) continue;
    if (i.at("maintenance").empty()) std::cout << "maintenance: none during it\n";
    for (const json& w : i.at("maintenance")) {
      std::cout << fmt::format(
          "maintenance: {} to {}, announced {} ({}){}\n", field(w, "from"), field(w, "to"),
          field(w, "announced"), notice(w.at("notice_s").get<std::int64_t>()),
          w.at("description").get<std::string>().empty() ? "" : ": " + field(w, "description"));
    }
  }
}

// The contract's report for each month (in its zone) that the scenario's time range touches,
// each month taken as over: the minutes after the scenario's end count as available. The
// evidence is what a daemon fed the same results would store: the incidents, the config's
// windows then the scenario's (ids in that order, as a fresh store gives them), and the
// services' first minutes.
std::vector<sla::Report> reports_of(const simulate::Scenario& s,
                                    const std::vector<store::Committed>& results,
                                    const std::vector<incident::Incident>& incidents,
                                    const sla::Contract& contract) {
  report::StoredEvidence stored;
  for (const auto& i : incidents) stored.incidents.push_back(incident::to_stored(i));
  for (const auto* windows : {&s.config.maintenance, &s.maintenance})
    for (const auto& w : *windows) {
      stored.windows.push_back(report::stored_window(w));
      stored.windows.back().id = static_cast<std::int64_t>(stored.windows.size());
    }
  std::vector<sla::Report> out;
  const YearMonth last = month_at(contract.time_zone, std::max(s.from_us, s.to_us - 1));
  for (YearMonth m = month_at(contract.time_zone, s.from_us);;) {
    const sla::ReportMonth month = *sla::report_month(contract.time_zone, m);
    stored.first_minute_us = report::first_minutes(results, s.config, month);
    out.push_back(sla::compute_report(contract, month, report::sla_evidence(stored, s.config)));
    if (m == last) break;
    m = next_month(m);
  }
  return out;
}

struct SimulateOptions {
  std::string path;
  std::string format = "text";
  std::string contract_id;
  std::string contracts_file;  // a draft's contracts, in place of the config's
};

// The contract to report on: the one named, of the contracts file when one is given (its only
// one when none is named), else of the scenario's config; nullptr and a message when none fits.
const sla::Contract* pick_contract(const SimulateOptions& o, const config::Config& config,
                                   const std::string& scenario_file) {
  const std::string& from = o.contracts_file.empty() ? scenario_file : o.contracts_file;
  if (o.contract_id.empty() && config.contracts.size() == 1) return &config.contracts[0];
  std::string ids;
  for (const auto& c : config.contracts) ids += (ids.empty() ? "" : ", ") + c.id;
  if (o.contract_id.empty()) {
    std::cerr << "leeway simulate: " << terminal_safe(from)
              << ": name one of its contracts with --contract: " << terminal_safe(ids) << "\n";
    return nullptr;
  }
  if (const sla::Contract* c = config.find_contract(o.contract_id)) return c;
  std::cerr << "leeway simulate: " << terminal_safe(from) << ": "
            << (o.contracts_file.empty() ? "the config has" : "the file has") << " no contract \""
            << terminal_safe(o.contract_id) << "\""
            << (ids.empty() ? "" : " (it has " + terminal_safe(ids) + ")") << "\n";
  return nullptr;
}

int run_simulate(const SimulateOptions& o) {
  const std::string& format = o.format;
  simulate::LoadResult loaded = simulate::load_scenario(o.path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) std::cerr << error.to_string() << "\n";
    return kExitBadScenario;
  }
  simulate::Scenario& s = *loaded.scenario;
  if (!o.contracts_file.empty()) {
    config::LoadResult drafts = config::load_contracts(o.contracts_file, s.config);
    if (!drafts.ok()) {
      for (const auto& error : drafts.errors) std::cerr << error.to_string() << "\n";
      return kExitBadScenario;
    }
    s.config.contracts = std::move(drafts.config->contracts);
  }
  const bool report_only = format != "text" && format != "json";
  if (report_only && o.contract_id.empty() && o.contracts_file.empty()) {
    std::cerr << "leeway simulate: --format " << format << " is a report's: name a contract with "
              << "--contract\n";
    return kExitUnknown;
  }
  const sla::Contract* contract = nullptr;
  if (!o.contract_id.empty() || !o.contracts_file.empty()) {
    contract = pick_contract(o, s.config, s.file);
    if (contract == nullptr) return kExitBadScenario;
  }
  const std::vector<store::Committed> results = simulate::results_of(s);
  const simulate::Replay replay{results.size(), simulate::detect(s, results)};
  std::vector<sla::Report> reports;
  if (contract) reports = reports_of(s, results, replay.incidents, *contract);
  if (report_only) {
    const sla::Format f = *sla::parse_format(format);
    for (const auto& r : reports) std::cout << sla::render(r, f);
    return kExitSimulated;
  }
  json j = simulation_json(s, replay);
  if (format == "json") {
    if (contract) {
      j["reports"] = json::array();
      for (const auto& r : reports) j["reports"].push_back(json::parse(sla::render_json(r)));
    }
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    print_text(j);
    for (const auto& r : reports) std::cout << "\n" << sla::render_markdown(r);
  }
  return kExitSimulated;
}

}  // namespace

Runner setup_simulate(CLI::App& sub) {
  auto o = std::make_shared<SimulateOptions>();
  sub.add_option("scenario", o->path, "the scenario's YAML file (see examples/scenarios/)")
      ->required();
  sub.add_option("--contract", o->contract_id,
                 "a contract of the scenario's config (`contracts:`), or of --contracts: add its "
                 "monthly report");
  sub.add_option("--contracts", o->contracts_file,
                 "a file of contracts (`contracts:`) to use instead of the config's, e.g. a "
                 "draft; its only contract unless --contract names one");
  sub.add_option("--format", o->format,
                 "text or json (the incidents, and the reports with --contract), or md, html or "
                 "csv (the reports only)")
      ->check(CLI::IsMember({"text", "json", "md", "html", "csv"}))
      ->capture_default_str();
  sub.footer(
      "Replays the scenario's timeline through the same detector and attribution as `leeway\n"
      "serve`, without probing, and prints each incident: times, checks, locations, verdict,\n"
      "summary, changes before it, timeline, and the maintenance windows it overlaps.\n"
      "With --contract, the contract's report for each month the scenario touches, through the\n"
      "same SLA engine as `leeway report`, each month taken as over (the minutes after the\n"
      "scenario's end count as available). The contract comes from the scenario's config\n"
      "(inline, or the file its `config:` names), or from --contracts FILE: \"what does this\n"
      "draft contract charge for the outages we had?\"\n"
      "Exit codes: 0 simulated; 2 the scenario, its config or the contracts file has errors,\n"
      "printed to stderr as file:line:column: message, or no such contract; 3 bad usage.");
  return [o] { return run_simulate(*o); };
}

}  // namespace leeway::cli
