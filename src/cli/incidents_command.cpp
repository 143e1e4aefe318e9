// `leeway incidents` and `leeway incident ID`: incidents from a running daemon's API, with the
// verdict, its evidence, the changes before it and the timeline.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/http.h"
#include "cli/incident_view.h"
#include "core/text.h"

namespace leeway::cli {

namespace {

using nlohmann::json;

void print_list(const json& j) {
  const json& incidents = j.at("incidents");
  if (incidents.empty()) {
    std::cout << "no incidents\n";
    return;
  }
  std::cout << fmt::format("{:<9} {:<28} {:<28} {:<4} {}\n", "STATE", "OPENED", "VERDICT", "ACK",
                           "ID");
  for (const json& i : incidents) {
    std::cout << fmt::format("{:<9} {:<28} {:<28} {:<4} {}\n  {}\n", field(i, "state"),
                             field(i, "opened"), field(i, "verdict"),
                             i.at("acknowledged").get<bool>() ? "yes" : "no", field(i, "id"),
                             field(i, "summary"));
  }
}

// An incident as the daemon keeps it: as any incident, then the maintenance windows it
// overlaps and the corrections in force beside the automatic values.
void print_one(const json& i) {
  print_incident(i);
  for (const json& w : i.at("maintenance")) {
    std::cout << fmt::format("maintenance {}: {} to {}, announced {}: {}\n", field(w, "id"),
                             field(w, "start"), field(w, "end"), field(w, "announced"),
                             field(w, "description"));
  }
  for (const auto& [name, values] : i.at("reclassified").items()) {
    const json& manual = values.at("manual");
    if (manual.is_null()) continue;
    std::cout << fmt::format("{}: {} (automatic: {}), set by {} at {}: {}\n", name,
                             field(manual, "value"), field(values, "automatic"),
                             field(manual, "author"), field(manual, "at"), field(manual, "reason"));
  }
}

}  // namespace

Runner setup_incidents(CLI::App& sub) {
  struct Options {
    std::string server = "http://127.0.0.1:8080";
    std::string service, state, from, to;
    bool as_json = false;
  };
  auto o = std::make_shared<Options>();
  sub.add_option("--server", o->server, "the daemon's base URL")->capture_default_str();
  sub.add_option("--service", o->service, "only this service's incidents");
  sub.add_option("--state", o->state, "only open or only resolved ones")
      ->check(CLI::IsMember({"open", "resolved"}));
  sub.add_option("--from", o->from, "only those still open at or after this time (RFC 3339)");
  sub.add_option("--to", o->to, "only those opened before this time (RFC 3339)");
  sub.add_flag("--json", o->as_json, "print the daemon's answer as JSON");
  return [o] {
    std::string query;
    for (auto [name, value] : {std::pair{"service", &o->service}, std::pair{"state", &o->state},
                               std::pair{"from", &o->from}, std::pair{"to", &o->to}}) {
      if (!value->empty())
        query += (query.empty() ? "?" : "&") + std::string(name) + "=" + path_segment(*value);
    }
    return show("incidents", o->server, "/api/v1/incidents" + query, o->as_json, print_list);
  };
}

Runner setup_incident(CLI::App& sub) {
  auto server = std::make_shared<std::string>("http://127.0.0.1:8080");
  auto id = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  // Not required by CLI11: `leeway incident reclassify ID` has an id of its own.
  sub.add_option("id", *id, "the incident's id, as `leeway incidents` lists it");
  sub.add_option("--server", *server, "the daemon's base URL")->capture_default_str();
  sub.add_flag("--json", *as_json, "print the daemon's answer as JSON");
  struct Reclassify {
    std::string id, field, value, reason, token_file;
  };
  auto r = std::make_shared<Reclassify>();
  CLI::App* reclassify = sub.add_subcommand(
      "reclassify", "Correct an incident's grade, attribution or exclusion, with a reason");
  reclassify->add_option("id", r->id, "the incident's id")->required();
  reclassify->add_option("--field", r->field, "what to correct")
      ->required()
      ->check(CLI::IsMember({"grade", "attribution", "exclusion"}));
  reclassify
      ->add_option("--value", r->value,
                   "the grade's name, the attribution (e.g. network:kt), or "
                   "excluded|counted")
      ->required();
  reclassify->add_option("--reason", r->reason, "why; kept in the audit trail")->required();
  reclassify->add_option("--server", *server, "the daemon's base URL")->capture_default_str();
  reclassify->add_option("--token-file", r->token_file,
                         "a file holding an API token; default: the LEEWAY_TOKEN variable");
  return [server, id, as_json, r, reclassify] {
    if (reclassify->parsed()) {
      nlohmann::json body = {{"field", r->field}, {"value", r->value}, {"reason", r->reason}};
      return post("incident reclassify", *server,
                  "/api/v1/incidents/" + path_segment(r->id) + "/reclassify", body, r->token_file,
                  [](const nlohmann::json& c) {
                    std::cout << fmt::format("reclassified {}: {} is {} ({}, by {})\n",
                                             field(c, "incident"), field(c, "field"),
                                             field(c, "value"), field(c, "reason"),
                                             field(c, "author"));
                  });
    }
    if (id->empty()) {
      std::cerr << "leeway incident: the incident's id is required; see leeway incident --help\n";
      return int(kExitUnknown);
    }
    return show("incident", *server, "/api/v1/incidents/" + path_segment(*id), *as_json, print_one);
  };
}

}  // namespace leeway::cli
