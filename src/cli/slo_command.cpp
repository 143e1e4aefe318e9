// `leeway slo rules [-c FILE]`: the Prometheus recording and alerting rules for every SLO in
// the config, so that Prometheus can alert as leeway does. `leeway slo import|export`: OpenSLO
// (openslo_command.cpp). `leeway slo list` and `leeway slo show
// ID`: the SLOs' budgets, burn rates and alerts from a running daemon's API.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/burn_down.h"
#include "cli/commands.h"
#include "cli/http.h"
#include "config/config.h"
#include "slo/rules.h"

namespace leeway::cli {

namespace {

// As `leeway config check`: 2 for a config with errors.
constexpr int kExitConfigInvalid = 2;

int run_slo_rules(const std::string& path) {
  config::LoadResult result = config::load_config(path);
  if (!result.ok()) {
    for (const auto& error : result.errors) std::cerr << error.to_string() << "\n";
    return kExitConfigInvalid;
  }
  std::cout << slo::prometheus_rules(result.config->slos(), path);
  return 0;
}

using nlohmann::json;

// A fraction as a percentage, "-" when unknown.
std::string percent(const json& v) {
  if (!v.is_number()) return "-";
  return fmt::format("{:.2f}%", v.get<double>() * 100);
}

// The alerts firing, "none" when none is.
std::string firing(const json& slo) {
  std::string out;
  for (const json& a : slo.at("alerts"))
    if (a.at("firing").get<bool>()) out += (out.empty() ? "" : ",") + field(a, "severity");
  return out.empty() ? "none" : out;
}

// A number as people read it: "3", "0.5".
std::string number(const json& v) {
  return v.is_number() ? fmt::format("{:g}", v.get<double>()) : "-";
}

void print_list(const json& j) {
  const json& slos = j.at("slos");
  if (slos.empty()) {
    std::cout << "no SLOs in the daemon's config\n";
    return;
  }
  std::cout << fmt::format("{:<24} {:<16} {:<9} {:<10} {:<12} {}\n", "ID", "SERVICE", "OBJECTIVE",
                           "REMAINING", "FIRING", "WINDOW");
  for (const json& s : slos)
    std::cout << fmt::format("{:<24} {:<16} {:<9} {:<10} {:<12} {}\n", field(s, "id"),
                             field(s, "service"), field(s, "objective") + "%",
                             percent(s.at("budget").at("remaining_ratio")), firing(s),
                             field(s, "window"));
}

// Where the budget went: by incident (a network's apart) and by change.
void print_causes(const json& c, const std::string& unit) {
  std::cout << fmt::format(
      "spent in incidents: {} {} (blamed on a network: {}), outside incidents: {}\n",
      number(c.at("in_incidents")), unit, number(c.at("by_network")),
      number(c.at("outside_incidents")));
  if (auto minutes = c.at("network_minutes").get<std::int64_t>(); minutes > 0)
    std::cout << fmt::format("  {} minutes of incidents blamed on a network\n", minutes);
  for (const json& i : c.at("incidents"))
    std::cout << fmt::format("  incident {} ({}): {} {}{}\n", field(i, "id"), field(i, "verdict"),
                             number(i.at("spent")), unit,
                             i.at("spends_budget").get<bool>() ? "" : ", not spending the budget");
  for (const json& ch : c.at("changes"))
    std::cout << fmt::format("  change {} at {} ({}{}): {} {} in the window after it\n",
                             field(ch, "id"), field(ch, "at"), field(ch, "description"),
                             ch.at("improvement").get<bool>() ? ", an improvement" : "",
                             number(ch.at("spent")), unit);
}

void print_one(const json& s) {
  const json& b = s.at("budget");
  std::cout << fmt::format(
      "SLO {} of {}: {} {}% over {} ({})\nevaluated at {}\n"
      "budget: {} {} in total, {} spent, {} remaining ({})\n"
      "minutes: {} in the window so far, {} without data (left out)\n"
      "budget runs out: {}\nburn rates:",
      field(s, "id"), field(s, "service"), field(s, "sli"), field(s, "objective"),
      field(s, "window"), field(s, "method"), field(s, "evaluated_at"), number(b.at("total")),
      field(s, "unit"), number(b.at("spent")), number(b.at("remaining")),
      percent(b.at("remaining_ratio")), b.at("minutes").dump(), b.at("minutes_without_data").dump(),
      s.at("exhausted_at").is_null() ? "not at the current rate" : field(s, "exhausted_at"));
  for (const json& r : s.at("burn_rates"))
    std::cout << fmt::format(
        " {}={}", field(r, "window"),
        r.at("rate").is_null() ? "unknown" : fmt::format("{:.3g}", r.at("rate").get<double>()));
  std::cout << "\nalerts firing: " << firing(s) << "\n";
  for (const json& e : s.at("alert_events"))
    std::cout << fmt::format("  {} {} {}\n", field(e, "at"), field(e, "severity"),
                             field(e, "state"));
  if (const json& c = s.at("causes"); c.is_object()) print_causes(c, field(s, "unit"));
  if (std::string chart = draw_burn_down(s.at("burn_down")); !chart.empty())
    std::cout << "budget remaining over the window:\n" << chart;
}

}  // namespace

Runner setup_slo(CLI::App& sub) {
  sub.require_subcommand(1);
  auto* rules = sub.add_subcommand(
      "rules", "Print Prometheus recording and alerting rules for every SLO in the config");
  auto path = std::make_shared<std::string>("leeway.yaml");
  rules->add_option("-c,--config", *path, "the YAML config file")->capture_default_str();
  rules->footer(
      "The rules read the counters of leeway's /metrics and fire the alerts leeway's engine\n"
      "fires, at the same evaluations (see the file's header for where they differ).\n"
      "Exit codes: 0 printed; 2 the config has errors (printed to stderr); 3 bad usage.");
  auto* import = sub.add_subcommand(
      "import", "Print the leeway config of OpenSLO v1 documents (SLO, SLI, AlertPolicy, ...)");
  auto file = std::make_shared<std::string>();
  auto check = std::make_shared<std::string>();
  import->add_option("file", *file, "a YAML file of OpenSLO v1 documents")->required();
  import->add_option("--check", *check,
                     "bind SLIs whose metricSource is not leeway's to this check: NAME (of the "
                     "SLO's service) or SERVICE/NAME");
  import->footer(
      "Warnings (a 1m window where 1M was likely meant, what is not kept) go to stderr.\n"
      "Exit codes: 0 printed; 2 the file has errors (file:line, on stderr); 3 bad usage.");
  auto* export_ = sub.add_subcommand("export", "Print every SLO of the config as OpenSLO v1");
  export_->add_option("-c,--config", *path, "the YAML config file")->capture_default_str();
  export_->footer("Exit codes: 0 printed; 2 the config has errors (on stderr); 3 bad usage.");
  auto server = std::make_shared<std::string>("http://127.0.0.1:8080");
  auto as_json = std::make_shared<bool>(false);
  auto* list = sub.add_subcommand("list", "List the SLOs of a running daemon with their budgets");
  auto* show_one = sub.add_subcommand(
      "show", "Show one SLO: budget, minutes without data, burn rates, alerts, exhaustion time");
  auto id = std::make_shared<std::string>();
  show_one->add_option("id", *id, "the SLO's id, as `leeway slo list` lists it")->required();
  for (auto* c : {list, show_one}) {
    c->add_option("--server", *server, "the daemon's base URL")->capture_default_str();
    c->add_flag("--json", *as_json, "print the daemon's JSON answer");
  }
  return [=]() -> int {
    if (rules->parsed()) return run_slo_rules(*path);
    if (import->parsed()) return run_slo_import(*file, *check);
    if (export_->parsed()) return run_slo_export(*path);
    if (list->parsed()) return show("slo list", *server, "/api/v1/slos", *as_json, print_list);
    if (show_one->parsed())
      return show("slo show", *server, "/api/v1/slos/" + path_segment(*id), *as_json, print_one);
    return kExitUnknown;
  };
}

}  // namespace leeway::cli
