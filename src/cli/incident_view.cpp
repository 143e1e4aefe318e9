// One incident as text, for `leeway incident ID` and `leeway simulate`.
#include "cli/incident_view.h"

#include <fmt/format.h>

#include <iostream>

#include "cli/http.h"
#include "core/text.h"

namespace leeway::cli {

using nlohmann::json;

void print_incident(const json& i) {
  std::cout << fmt::format("{}  {}  opened {}  resolved {}\n", field(i, "id"), field(i, "state"),
                           field(i, "opened"), field(i, "resolved"));
  std::string checks, locations;
  for (const json& c : i.at("checks"))
    checks += (checks.empty() ? "" : ", ") + c.get<std::string>();
  for (const json& l : i.at("locations")) {
    std::string stages;
    for (const json& s : l.at("stages"))
      stages += (stages.empty() ? "" : ", ") + s.get<std::string>();
    locations += fmt::format("{}{} ({})", locations.empty() ? "" : ", ",
                             l.at("location").get<std::string>(), stages);
  }
  std::cout << fmt::format("checks: {}  worst: {}\nlocations: {}\n", terminal_safe(checks),
                           field(i, "worst"), terminal_safe(locations.empty() ? "-" : locations));
  const json& v = i.at("verdict");
  std::cout << fmt::format("verdict: {} (confidence {:.2f})\n  {}\n", field(v, "name"),
                           v.at("confidence").get<double>(), field(i, "summary"));
  if (!v.at("reason").is_null()) std::cout << "reason: " << field(v, "reason") << "\n";
  for (const json& e : v.at("evidence"))
    std::cout << "  - " << terminal_safe(e.get<std::string>()) << "\n";
  const json& c = i.at("changes");
  std::cout << "changes: " << field(c, "text") << "\n";
  for (const json& change : c.at("before")) {
    std::cout << fmt::format("  - {} {} \"{}\"{}\n", field(change, "at"), field(change, "kind"),
                             field(change, "description"),
                             change.at("improvement").get<bool>() ? " (improvement)" : "");
  }
  std::cout << "timeline:\n";
  for (const json& e : i.at("timeline")) {
    std::cout << fmt::format("  {}  {:<20} {}\n", field(e, "at"), field(e, "kind"),
                             field(e, "text"));
  }
}

}  // namespace leeway::cli
