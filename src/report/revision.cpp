// Canonical inputs, their hash and their differences: plain JSON, so a stored revision can be
// compared with a recompute without knowing which version of leeway stored it.
#include "report/revision.h"

#include <openssl/sha.h>

#include <fmt/format.h>
#include <algorithm>
#include <map>

#include "core/time.h"

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

}  // namespace

json canonical_inputs(const sla::Evidence& e) {
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
  return {{"incidents", by_key(std::move(incidents))},
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
      std::string text;
      for (const auto& f : fields) text += (text.empty() ? "" : "; ") + f;
      out.push_back(fmt::format("{} {}: {}", noun, key, text));
    }
  }
  return out;
}

}  // namespace leeway::report
