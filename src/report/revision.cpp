// Canonical inputs, their hash and their differences: plain JSON, so a stored revision can be
// compared with a recompute without knowing which version of leeway stored it.
#include "report/revision.h"

#include <openssl/sha.h>

#include <fmt/format.h>
#include <algorithm>
#include <map>

#include "core/time.h"
#include "sla/report.h"

namespace leeway::report {

namespace {

using nlohmann::json;

json optional_time(const std::optional<TimeUs>& t) {
  return t ? json(*t) : json(nullptr);
}

json sorted(std::vector<std::string> items) {
  std::sort(items.begin(), items.end());
  return items;
}

json incident_json(const sla::Incident& in) {
  return {{"id", in.id},
          {"service", in.service},
          {"opened_us", in.opened_us},
          {"resolved_us", optional_time(in.resolved_us)},
          {"acknowledged_us", optional_time(in.acknowledged_us)},
          {"locations", {in.locations.part, in.locations.whole}},
          {"checks", {in.checks.part, in.checks.whole}},
          {"checks_hit", sorted(in.checks_hit)},
          {"tags", sorted(in.tags)},
          {"worst", sla::outcome_name(in.worst)},
          {"attribution", in.attribution}};
}

// The key a reclassification is known by in the lists and in the changes.
std::string reclassification_key(const sla::Reclassification& r) {
  return fmt::format("{} ({} at {})", r.incident_id, sla::field_name(r.field),
                     format_rfc3339(r.at_us));
}

// Each list as an object by key, so that the dump sorts it and the diff finds items by key.
json by_key(std::vector<std::pair<std::string, json>> items) {
  json out = json::object();
  for (auto& [key, item] : items) out[key] = std::move(item);
  return out;
}

std::string value_text(const json& v) {
  return v.is_string() ? v.get<std::string>() : v.dump();
}

json optional_percentage(const std::optional<sla::Percentage>& p) {
  return p ? json(sla::format_percentage(*p)) : json(nullptr);
}

json optional_duration(const std::optional<DurationUs>& d) {
  return d ? json(sla::duration_text(*d)) : json(nullptr);
}

std::string clock_time(int minute) {
  return fmt::format("{:02}:{:02}", minute / 60, minute % 60);
}

// The contract's terms, one readable name per term ("penalty of grade 1"), so that a change
// line says which term changed and how.
json contract_json(const sla::Contract& c) {
  const auto money = [&c](std::int64_t minor_units) {
    return sla::format_money(sla::Money{minor_units, c.fee.currency});
  };
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  std::vector<std::string> days, grades, tiers;
  for (std::size_t d = 0; d < 7; ++d)
    if (c.business_hours.days[d]) days.emplace_back(kDays[d]);
  json out = {{"customer", c.customer},
              {"services", c.services},
              {"fee", money(c.fee.minor_units)},
              {"rounding", sla::rounding_name(c.rounding)},
              {"time zone", c.time_zone},
              {"target", sla::format_percentage(c.measurement.target)},
              {"degraded minutes count", c.measurement.degraded_counts},
              {"partial minutes count", c.measurement.partial_minutes_count},
              {"only existing minutes", c.measurement.only_existing_minutes},
              {"minimum location share", optional_percentage(c.measurement.min_location_share)},
              {"business days", days},
              {"business hours", clock_time(c.business_hours.start_minute) + "-" +
                                     clock_time(c.business_hours.end_minute)},
              {"holidays", c.business_hours.holidays},
              {"cap", optional_percentage(c.cap)},
              {"maintenance excluded", c.exclusions.maintenance},
              {"maintenance notice", sla::duration_text(c.exclusions.maintenance_notice_us)},
              {"network faults excluded", c.exclusions.network},
              {"customer's attributions", c.exclusions.customer_attributions},
              {"charged in", c.charge_in == sla::ChargeIn::kOpenedMonth ? "the month it opened"
                                                                        : "the month it resolved"}};
  for (const auto& g : c.grades) {
    grades.push_back(g.name);
    std::vector<std::string> rules;
    for (const auto& r : g.rules) rules.push_back(r.describe());
    const std::string of = " of grade " + g.name;
    out["rules" + of] = rules;
    out["penalty" + of] = money(g.penalty_minor_units);
    out["response target" + of] = optional_duration(g.respond_within_us);
    out["missed response" + of] = money(g.missed_response_minor_units);
    out["recovery target" + of] = optional_duration(g.recover_within_us);
    out["missed recovery" + of] = money(g.missed_recovery_minor_units);
  }
  out["grades in order"] = grades;
  for (const auto& t : c.credits) tiers.push_back(t.describe());
  out["credit tiers"] = tiers;
  return out;
}

}  // namespace

json canonical_inputs(const sla::Contract& contract, const sla::Evidence& e) {
  std::vector<std::pair<std::string, json>> incidents, maintenance, exclusions, reclassifications;
  for (const auto& in : e.incidents) incidents.emplace_back(in.id, incident_json(in));
  for (const auto& w : e.maintenance)
    maintenance.emplace_back(w.id, json{{"start_us", w.start_us},
                                        {"end_us", w.end_us},
                                        {"services", sorted(w.services)},
                                        {"announced_us", w.announced_us}});
  for (const auto& x : e.manual_exclusions)
    exclusions.emplace_back(x.id, json{{"start_us", x.start_us},
                                       {"end_us", x.end_us},
                                       {"services", sorted(x.services)},
                                       {"reason", x.reason},
                                       {"by", x.by}});
  for (const auto& r : e.reclassifications)
    reclassifications.emplace_back(reclassification_key(r),
                                   json{{"incident", r.incident_id},
                                        {"field", sla::field_name(r.field)},
                                        {"value", r.value},
                                        {"by", r.by},
                                        {"reason", r.reason},
                                        {"at_us", r.at_us}});
  json started = json::object();
  for (const auto& [service, at] : e.service_started_us) started[service] = at;
  return {{"contract", {{contract.id, contract_json(contract)}}},
          {"incidents", by_key(std::move(incidents))},
          {"maintenance", by_key(std::move(maintenance))},
          {"manual_exclusions", by_key(std::move(exclusions))},
          {"reclassifications", by_key(std::move(reclassifications))},
          {"service_started_us", started}};
}

std::string canonical_text(const json& inputs) {
  return inputs.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string sha256_hex(std::string_view text) {
  unsigned char hash[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), hash);
  std::string out;
  for (unsigned char b : hash) out += fmt::format("{:02x}", b);
  return out;
}

std::vector<std::string> input_changes(const json& before, const json& after) {
  // List name in the inputs, and the words for one of its items.
  static constexpr std::pair<const char*, const char*> kLists[] = {
      {"contract", "contract"},
      {"incidents", "incident"},
      {"maintenance", "maintenance window"},
      {"manual_exclusions", "manual exclusion"},
      {"reclassifications", "reclassification of"},
      {"service_started_us", "start of service"}};
  std::vector<std::string> out;
  const json empty = json::object();
  for (const auto& [list, noun] : kLists) {
    const json& a = before.contains(list) ? before[list] : empty;
    const json& b = after.contains(list) ? after[list] : empty;
    for (const auto& [key, item] : a.items())
      if (!b.contains(key)) out.push_back(fmt::format("{} {}: removed", noun, key));
    for (const auto& [key, item] : b.items()) {
      if (list == std::string_view("contract") && !before.contains(list)) {
        out.push_back(fmt::format(
            "contract {}: its terms are among the inputs from this revision on (the revisions "
            "before did not record them)",
            key));
        continue;
      }
      if (!a.contains(key)) {
        out.push_back(fmt::format("{} {}: added", noun, key));
        continue;
      }
      const json& old = a[key];
      if (old == item) continue;
      if (!item.is_object() || !old.is_object()) {
        out.push_back(fmt::format("{} {}: {} -> {}", noun, key, value_text(old), value_text(item)));
        continue;
      }
      std::vector<std::string> fields;
      for (const auto& [field, value] : item.items()) {
        const json was = old.value(field, json(nullptr));
        if (was != value)
          fields.push_back(fmt::format("{} {} -> {}", field, value_text(was), value_text(value)));
      }
      for (const auto& [field, was] : old.items())  // a contract's removed grade
        if (!item.contains(field))
          fields.push_back(was.is_null() ? field + " removed"
                                         : fmt::format("{} {} -> removed", field, value_text(was)));
      std::string text;
      for (const auto& f : fields) text += (text.empty() ? "" : "; ") + f;
      out.push_back(fmt::format("{} {}: {}", noun, key, text));
    }
  }
  return out;
}

}  // namespace leeway::report
