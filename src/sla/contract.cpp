// Contract descriptions for reports, and the checks on a contract.
#include "sla/contract.h"

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "core/calendar.h"
#include "sla/report.h"

namespace leeway::sla {

std::string_view outcome_name(Outcome outcome) {
  return outcome == Outcome::kDown ? "down" : "degraded";
}

std::string GradeRule::describe() const {
  std::vector<std::string> parts;
  auto list = [](const std::vector<std::string>& items) {
    std::string out;
    for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
    return out;
  };
  if (min_duration_us) parts.push_back("duration >= " + duration_text(*min_duration_us));
  if (max_duration_us) parts.push_back("duration < " + duration_text(*max_duration_us));
  if (outcome) parts.push_back(std::string(outcome_name(*outcome)));
  if (min_location_share) parts.push_back("locations >= " + format_percentage(*min_location_share));
  if (min_check_share) parts.push_back("checks >= " + format_percentage(*min_check_share));
  if (!services.empty()) parts.push_back("service in [" + list(services) + "]");
  if (!checks.empty()) parts.push_back("check in [" + list(checks) + "]");
  if (!tags.empty()) parts.push_back("tag in [" + list(tags) + "]");
  if (business_hours)
    parts.push_back(*business_hours ? "opened in business hours" : "opened outside business hours");
  if (parts.empty()) return "any incident";
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : " and ") + part;
  return out;
}

std::string CreditTier::describe() const {
  if (at_least.millionths == 0)
    return fmt::format("less than {}: {} of the fee", format_percentage(below),
                       format_percentage(credit));
  return fmt::format("less than {} but at least {}: {} of the fee", format_percentage(below),
                     format_percentage(at_least), format_percentage(credit));
}

bool attribution_matches(std::string_view pattern, std::string_view attribution) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return attribution.substr(0, pattern.size()) == pattern;
  }
  return pattern == attribution;
}

Result<void> validate(const Contract& c) {
  if (auto currency = find_currency(c.fee.currency); !currency)
    return fail("currency: ", currency.error().message);
  if (c.fee.minor_units < 0) return fail("fee: expected an amount of at least 0");
  if (!known_time_zone(c.time_zone))
    return fail("time_zone: unknown time zone \"", c.time_zone,
                "\"; expected an IANA name like Asia/Seoul or UTC");
  if (c.services.empty()) return fail("services: expected at least one service");
  std::set<std::string> names;
  for (const auto& s : c.services)
    if (!names.insert(s).second) return fail("services: \"", s, "\" listed twice");
  names.clear();
  for (const auto& g : c.grades) {
    if (!names.insert(g.name).second) return fail("grades: \"", g.name, "\" named twice");
    for (const auto& r : g.rules)
      if (r.min_duration_us && r.max_duration_us && *r.min_duration_us >= *r.max_duration_us)
        return fail("grades: ", g.name, ": min_duration must be shorter than max_duration");
  }
  std::vector<CreditTier> tiers = c.credits;
  std::sort(tiers.begin(), tiers.end(),
            [](const auto& a, const auto& b) { return a.at_least < b.at_least; });
  for (std::size_t i = 0; i < tiers.size(); ++i) {
    if (tiers[i].at_least >= tiers[i].below)
      return fail("credits: ", tiers[i].describe(), ": at_least must be below `below`");
    if (i > 0 && tiers[i].at_least < tiers[i - 1].below)
      return fail("credits: ", tiers[i].describe(), " overlaps ", tiers[i - 1].describe());
  }
  const BusinessHours& h = c.business_hours;
  if (h.start_minute < 0 || h.end_minute > 24 * 60 || h.start_minute >= h.end_minute)
    return fail("business_hours: expected a start before the end within one day");
  return {};
}

}  // namespace leeway::sla
