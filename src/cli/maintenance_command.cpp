// `leeway maintenance add|list` and `leeway exclusion add|list`: the planned and the manual
// exclusions of SLA accounting, recorded with and read from a running daemon.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/http.h"
#include "core/text.h"

namespace leeway::cli {

namespace {

using nlohmann::json;

// What `add` and `list` of both commands share.
struct Options {
  std::string server = "http://127.0.0.1:8080";
  std::string token_file, start, end, announced, description, reason, service, from, to;
  std::vector<std::string> services;
  bool as_json = false;
};

void add_server_options(CLI::App* app, Options& o) {
  app->add_option("--server", o.server, "the daemon's base URL")->capture_default_str();
}

void add_range_options(CLI::App* add, Options& o, const char* what) {
  add->add_option("--start", o.start, fmt::format("when {} starts (RFC 3339 with an offset)", what))
      ->required();
  add->add_option("--end", o.end, fmt::format("when {} ends (RFC 3339 with an offset)", what))
      ->required();
  add->add_option("--service", o.services, "a service it covers (repeat for several)")->required();
  add->add_option("--token-file", o.token_file,
                  "a file holding an API token; default: the LEEWAY_TOKEN variable");
  add_server_options(add, o);
}

CLI::App* add_list(CLI::App& sub, Options& o, const char* help) {
  CLI::App* list = sub.add_subcommand("list", help);
  list->add_option("--service", o.service, "only this service's");
  list->add_option("--from", o.from, "only those still going at or after this time");
  list->add_option("--to", o.to, "only those starting before this time");
  list->add_flag("--json", o.as_json, "print the daemon's answer as JSON");
  add_server_options(list, o);
  return list;
}

std::string list_query(const Options& o) {
  std::string query;
  for (auto [name, value] :
       {std::pair{"service", &o.service}, std::pair{"from", &o.from}, std::pair{"to", &o.to}}) {
    if (!value->empty())
      query += (query.empty() ? "?" : "&") + std::string(name) + "=" + path_segment(*value);
  }
  return query;
}

std::string services_text(const json& record) {
  std::string out;
  for (const json& s : record.at("services"))
    out += (out.empty() ? "" : ",") + terminal_safe(s.get<std::string>());
  return out;
}

void print_windows(const json& j) {
  const json& windows = j.at("maintenance");
  if (windows.empty()) {
    std::cout << "no maintenance windows\n";
    return;
  }
  std::cout << fmt::format("{:<5} {:<28} {:<28} {:<28} {:<7} {}\n", "ID", "START", "END",
                           "ANNOUNCED", "SOURCE", "SERVICES");
  for (const json& w : windows) {
    std::cout << fmt::format("{:<5} {:<28} {:<28} {:<28} {:<7} {}\n  {}\n", field(w, "id"),
                             field(w, "start"), field(w, "end"), field(w, "announced"),
                             field(w, "source"), services_text(w), field(w, "description"));
  }
}

void print_exclusions(const json& j) {
  const json& exclusions = j.at("exclusions");
  if (exclusions.empty()) {
    std::cout << "no manual exclusions\n";
    return;
  }
  std::cout << fmt::format("{:<5} {:<28} {:<28} {:<12} {}\n", "ID", "START", "END", "AUTHOR",
                           "SERVICES");
  for (const json& e : exclusions) {
    std::cout << fmt::format("{:<5} {:<28} {:<28} {:<12} {}\n  {}\n", field(e, "id"),
                             field(e, "start"), field(e, "end"), field(e, "author"),
                             services_text(e), field(e, "reason"));
  }
}

}  // namespace

Runner setup_maintenance(CLI::App& sub) {
  auto o = std::make_shared<Options>();
  sub.require_subcommand(1);
  CLI::App* add = sub.add_subcommand("add", "Record a planned maintenance window");
  add_range_options(add, *o, "the work");
  add->add_option("--announced", o->announced,
                  "when it was announced to the customers; default: now");
  add->add_option("--description", o->description, "what is done, for people");
  CLI::App* list = add_list(sub, *o, "List maintenance windows");
  return [o, list] {
    if (list->parsed())
      return show("maintenance list", o->server, "/api/v1/maintenance" + list_query(*o), o->as_json,
                  print_windows);
    json body = {{"start", o->start}, {"end", o->end}, {"services", o->services}};
    if (!o->announced.empty()) body["announced"] = o->announced;
    if (!o->description.empty()) body["description"] = o->description;
    return post("maintenance add", o->server, "/api/v1/maintenance", body, o->token_file,
                [](const json& w) {
                  std::cout << fmt::format(
                      "recorded maintenance window {} for {}: {} to {}, "
                      "announced {}\n",
                      field(w, "id"), services_text(w), field(w, "start"), field(w, "end"),
                      field(w, "announced"));
                });
  };
}

Runner setup_exclusion(CLI::App& sub) {
  auto o = std::make_shared<Options>();
  sub.require_subcommand(1);
  CLI::App* add = sub.add_subcommand("add", "Exclude minutes from SLA accounting, with a reason");
  add_range_options(add, *o, "the exclusion");
  add->add_option("--reason", o->reason, "why these minutes do not count")->required();
  CLI::App* list = add_list(sub, *o, "List manual exclusions");
  return [o, list] {
    if (list->parsed())
      return show("exclusion list", o->server, "/api/v1/exclusions" + list_query(*o), o->as_json,
                  print_exclusions);
    json body = {
        {"start", o->start}, {"end", o->end}, {"services", o->services}, {"reason", o->reason}};
    return post(
        "exclusion add", o->server, "/api/v1/exclusions", body, o->token_file, [](const json& e) {
          std::cout << fmt::format("recorded exclusion {} for {}: {} to {}\n", field(e, "id"),
                                   services_text(e), field(e, "start"), field(e, "end"));
        });
  };
}

}  // namespace leeway::cli
