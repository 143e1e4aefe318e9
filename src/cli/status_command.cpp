// `leeway status`: the current state of every check, from a running daemon's API.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/http.h"
#include "core/result.h"
#include "core/text.h"
#include "core/time.h"

namespace leeway::cli {

namespace {

// The table of checks. Throws nlohmann::json::exception when the answer is not shaped like
// the daemon's; every text from it is escaped for the terminal.
int print_table(const nlohmann::json& j) {
  int worst = kExitUp;
  std::cout << fmt::format("{:<9} {:<32} {:<10} {:>9} {:>9}  {}\n", "STATE", "CHECK", "LOCATION",
                           "LAST", "24H", "DETAIL");
  for (const auto& c : j.at("checks")) {
    std::string id = terminal_safe(c.at("id").get<std::string>());
    std::string avail =
        c["availability_24h"].is_object() && c["availability_24h"]["total"].get<long>() > 0
            ? fmt::format("{:.3f}%", c["availability_24h"]["ratio"].get<double>() * 100)
            : "-";
    if (c["last"].empty()) {
      std::cout << fmt::format("{:<9} {:<32} {:<10} {:>9} {:>9}  {}\n", "PENDING", id, "-", "-",
                               avail, "no result yet");
      continue;
    }
    for (const auto& r : c["last"]) {
      std::string outcome = r.at("outcome");
      if (outcome == "down")
        worst = kExitDown;
      else if (outcome == "degraded" && worst == kExitUp)
        worst = kExitDegraded;
      std::string detail = r.at("error").get<std::string>();
      // "connect: connection refused"; not "status: status 503 is not ...".
      if (std::string stage = r["stage"].is_null() ? "" : r["stage"].get<std::string>();
          !stage.empty() && !detail.starts_with(stage))
        detail = stage + ": " + detail;
      std::string upper = outcome;
      for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      std::cout << fmt::format("{:<9} {:<32} {:<10} {:>9} {:>9}  {}\n", terminal_safe(upper), id,
                               terminal_safe(r.at("location").get<std::string>()),
                               format_duration(r.at("timings_us").at("total").get<DurationUs>()),
                               avail, terminal_safe(detail));
    }
  }
  return worst;
}

// The incidents open now, each with its verdict.
Result<nlohmann::json> open_incidents(const std::string& server) {
  auto body = http_get(server + "/api/v1/incidents?state=open");
  if (!body) return body.error();
  auto j = nlohmann::json::parse(*body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("incidents") || !j["incidents"].is_array())
    return fail("the daemon's incidents are not shaped as expected");
  return j["incidents"];
}

// Below the table: each open incident's verdict and its sentence, or why they are not known.
void print_incidents(const Result<nlohmann::json>& incidents) {
  if (!incidents) {
    std::cout << "\nincidents: unknown (" << incidents.error().message << ")\n";
    return;
  }
  if (incidents->empty()) {
    std::cout << "\nno incident open\n";
    return;
  }
  std::cout << "\n";
  for (const auto& i : *incidents) {
    std::cout << fmt::format("INCIDENT {}  verdict {}\n  {}\n",
                             terminal_safe(i.at("id").get<std::string>()),
                             terminal_safe(i.at("verdict").get<std::string>()),
                             terminal_safe(i.at("summary").get<std::string>()));
  }
}

// The table of locations: up, silent since, clock offset (flagged past 2 s). Throws
// nlohmann::json::exception when the answer is not shaped like the daemon's.
void print_locations(const nlohmann::json& j) {
  std::cout << fmt::format("\n{:<20} {:<6} {:<5} {:<28} {}\n", "LOCATION", "KIND", "UP",
                           "SILENT SINCE", "CLOCK OFFSET");
  for (const auto& l : j.at("locations")) {
    bool up = l.at("up").get<bool>();
    std::string silent = up ? "-"
                         : l["silent_since"].is_string()
                             ? terminal_safe(l["silent_since"].get<std::string>())
                             : "never";
    std::string offset = "-";
    if (l["clock_offset_s"].is_number())
      offset = fmt::format("{:.1f}s{}", l["clock_offset_s"].get<double>(),
                           l.value("clock_offset_flagged", false) ? " (!)" : "");
    std::cout << fmt::format(
        "{:<20} {:<6} {:<5} {:<28} {}\n", terminal_safe(l.at("id").get<std::string>()),
        terminal_safe(l.at("kind").get<std::string>()), up ? "UP" : "DOWN", silent, offset);
  }
}

int run_status(const std::string& server, bool as_json) {
  auto body = http_get(server + "/api/v1/checks");
  if (!body) {
    std::cerr << "leeway status: " << body.error().message << "\n";
    return kExitUnknown;
  }
  auto j = nlohmann::json::parse(*body, nullptr, false);
  auto not_leeway = [&server] {
    std::cerr << "leeway status: " << terminal_safe(server)
              << " did not answer like a leeway daemon\n";
    return kExitUnknown;
  };
  if (j.is_discarded() || !j.is_object() || !j.contains("checks")) return not_leeway();
  auto incidents = open_incidents(server);
  if (as_json) {
    j["incidents"] = incidents ? *incidents : nlohmann::json();
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  int worst = kExitUp;
  try {
    worst = print_table(j);
  } catch (const nlohmann::json::exception&) {
    return not_leeway();
  }
  // A daemon from before location health answers 404 here: the checks are all it can show.
  if (auto locations = http_get(server + "/api/v1/locations"); locations) {
    auto l = nlohmann::json::parse(*locations, nullptr, false);
    try {
      if (!l.is_discarded()) print_locations(l);
    } catch (const nlohmann::json::exception&) {
      return not_leeway();
    }
  }
  try {
    print_incidents(incidents);
  } catch (const nlohmann::json::exception&) {
    return not_leeway();
  }
  return worst;
}

}  // namespace

Runner setup_status(CLI::App& sub) {
  auto server = std::make_shared<std::string>("http://127.0.0.1:8080");
  auto as_json = std::make_shared<bool>(false);
  sub.add_option("--server", *server, "the daemon's base URL")->capture_default_str();
  sub.add_flag("--json", *as_json, "print the daemon's answer as JSON");
  sub.footer("Exit codes: 0 all up, 1 something degraded, 2 something down, 3 daemon unreachable.");
  return [server, as_json] { return run_status(*server, *as_json); };
}

}  // namespace leeway::cli
