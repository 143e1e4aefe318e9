// SLOs printed as leeway config (`services:` with their `slos:`), every key written, so that what
// `leeway slo import` prints reads back, merged into a config, as the same specs.
#include <fmt/format.h>

#include <algorithm>

#include "slo/openslo.h"

namespace leeway::slo {

namespace {

std::string slo_text(const SloSpec& s) {
  std::string out = fmt::format("      - id: {}\n        sli: {}\n        objective: {}\n", s.id,
                                to_string(s.sli), s.objective.percent_text());
  if (s.window.calendar())
    out += fmt::format("        window: month\n        time_zone: {}\n", s.window.time_zone);
  else
    out += fmt::format("        window: {}\n", window_name(s.window.rolling_us));
  out += fmt::format("        method: {}\n", to_string(s.method));
  if (s.method == Method::kTimeslices && s.sli != Sli::kAvailabilityMinutes)
    out += fmt::format("        slice_target: {}\n", s.slice_target.billionths == 1'000'000'000
                                                         ? "100"
                                                         : s.slice_target.percent_text());
  // Every latency bound is whole milliseconds (5ms ... 10s).
  if (s.sli == Sli::kLatency)
    out += fmt::format("        threshold: {}ms\n", s.threshold_us / kMillisecondUs);
  std::string names;
  for (const auto& id : s.checks)
    names += (names.empty() ? "" : ", ") + id.substr(id.find('/') + 1);
  out += fmt::format("        checks: [{}]\n", names);
  if (s.alerts == default_burn_conditions()) return out;
  out += "        alerts:\n";
  for (const auto& c : s.alerts)
    out += fmt::format("          - {{severity: {}, burn_rate: {}, long: {}, short: {}}}\n",
                       to_string(c.severity), c.burn_rate, window_name(c.long_us),
                       window_name(c.short_us));
  return out;
}

}  // namespace

std::string slos_config_yaml(const std::vector<SloSpec>& slos, std::string_view source) {
  std::string out = fmt::format(
      "# leeway config of the SLOs in {} (leeway slo import).\n"
      "# Merge each service's slos into the service of that id in your config, which defines\n"
      "# the checks they read.\nservices:\n",
      source);
  std::vector<std::string> services;
  for (const auto& s : slos)
    if (std::find(services.begin(), services.end(), s.service) == services.end())
      services.push_back(s.service);
  for (const auto& service : services) {
    out += fmt::format("  - id: {}\n    slos:\n", service);
    for (const auto& s : slos)
      if (s.service == service) out += slo_text(s);
  }
  return out;
}

}  // namespace leeway::slo
