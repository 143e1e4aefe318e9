// `leeway simulate SCENARIO.yaml`: replays a scenario through the daemon's detector and
// attribution, without probing, and prints the incidents it would have opened, with their
// verdicts, the changes before them, their timelines and the maintenance windows they overlap.
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
#include "simulate/replay.h"

namespace leeway::cli {

namespace {

using nlohmann::json;

// Exit codes; 2 matches `leeway config check` with a bad file.
constexpr int kExitSimulated = 0;
constexpr int kExitBadScenario = 2;

// How long before the window started it was announced; negative: after.
json window_json(const simulate::MaintenanceWindow& w) {
  return {{"services", w.services},
          {"from", format_rfc3339(w.from_us)},
          {"to", format_rfc3339(w.to_us)},
          {"announced", format_rfc3339(w.announced_us)},
          {"notice_s", (w.from_us - w.announced_us) / kSecondUs},
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

int run_simulate(const std::string& path, const std::string& format) {
  simulate::LoadResult loaded = simulate::load_scenario(path);
  if (!loaded.ok()) {
    for (const auto& error : loaded.errors) std::cerr << error.to_string() << "\n";
    return kExitBadScenario;
  }
  const simulate::Replay replay = simulate::replay(*loaded.scenario);
  const json j = simulation_json(*loaded.scenario, replay);
  if (format == "json") {
    std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n";
  } else {
    print_text(j);
  }
  return kExitSimulated;
}

}  // namespace

Runner setup_simulate(CLI::App& sub) {
  auto path = std::make_shared<std::string>();
  auto format = std::make_shared<std::string>("text");
  sub.add_option("scenario", *path, "the scenario's YAML file (see examples/scenarios/)")
      ->required();
  sub.add_option("--format", *format, "text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  sub.footer(
      "Replays the scenario's timeline through the same detector and attribution as `leeway\n"
      "serve`, without probing, and prints each incident: times, checks, locations, verdict,\n"
      "summary, changes before it, timeline, and the maintenance windows it overlaps.\n"
      "Exit codes: 0 simulated; 2 the scenario (or its config) has errors, printed to stderr\n"
      "as file:line:column: message; 3 bad usage.");
  return [path, format] { return run_simulate(*path, *format); };
}

}  // namespace leeway::cli
