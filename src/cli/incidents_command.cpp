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
  sub.add_option("id", *id, "the incident's id, as `leeway incidents` lists it")->required();
  sub.add_option("--server", *server, "the daemon's base URL")->capture_default_str();
  sub.add_flag("--json", *as_json, "print the daemon's answer as JSON");
  return [server, id, as_json] {
    return show("incident", *server, "/api/v1/incidents/" + path_segment(*id), *as_json,
                print_incident);
  };
}

}  // namespace leeway::cli
