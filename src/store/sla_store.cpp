// What both SLA stores share: opening by URI, validation, the services column, and which config
// windows a sync keeps, adds and removes.
#include "store/sla_store.h"

#include <algorithm>

#include "store/detail.h"

namespace leeway::store {

std::string_view to_string(MaintenanceWindow::Source source) {
  return source == MaintenanceWindow::Source::kConfig ? "config" : "api";
}

namespace {

Error invalid(std::string_view field, std::string_view what) {
  return fail_as(ErrorKind::kInvalidArgument, std::string(field), ": ", std::string(what));
}

Status validate_range(TimeUs start_us, TimeUs end_us, const std::vector<std::string>& services) {
  if (end_us <= start_us) return invalid("end", "must be after start");
  if (services.empty()) return invalid("services", "expected at least one service");
  for (const auto& service : services)
    if (service.empty() || service.find(',') != std::string::npos)
      return invalid("services", "expected service ids");
  return {};
}

}  // namespace

Status validate(const MaintenanceWindow& window) {
  return validate_range(window.start_us, window.end_us, window.services);
}

Status validate(const Reclassification& r) {
  if (r.incident_id.empty()) return invalid("incident", "required");
  if (std::find(std::begin(kReclassifiableFields), std::end(kReclassifiableFields), r.field) ==
      std::end(kReclassifiableFields))
    return invalid("field", "expected grade, attribution or exclusion, got \"" + r.field + "\"");
  if (r.value.empty()) return invalid("value", "must not be empty");
  if (r.field == "exclusion" && r.value != "excluded" && r.value != "counted")
    return invalid("value",
                   "expected excluded or counted for an exclusion, got \"" + r.value + "\"");
  if (r.reason.empty()) return invalid("reason", "required: say why");
  return {};
}

Status validate(const ManualExclusion& exclusion) {
  if (Status s = validate_range(exclusion.start_us, exclusion.end_us, exclusion.services); !s)
    return s;
  if (exclusion.reason.empty()) return invalid("reason", "required: say why");
  return {};
}

std::vector<Reclassification> in_force(const std::vector<Reclassification>& trail) {
  std::vector<Reclassification> out;
  for (std::string_view field : kReclassifiableFields) {
    auto latest = std::find_if(trail.rbegin(), trail.rend(),
                               [&](const Reclassification& r) { return r.field == field; });
    if (latest != trail.rend()) out.push_back(*latest);
  }
  return out;
}

Result<std::unique_ptr<SlaStore>> open_sla_store(std::string_view uri) {
  auto parsed = detail::parse_store_uri(uri);
  if (!parsed) return parsed.error();
  if (parsed->postgres) return detail::open_postgres_sla(parsed->target);
  return detail::open_sqlite_sla(parsed->target);
}

namespace detail {

std::string join_services(const std::vector<std::string>& services) {
  std::string out;
  for (const auto& s : services) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::vector<std::string> split_services(std::string_view text) {
  std::vector<std::string> out;
  while (!text.empty()) {
    auto comma = text.find(',');
    out.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

WindowSync plan_sync(const std::vector<MaintenanceWindow>& stored,
                     std::span<const MaintenanceWindow> wanted) {
  // Equal but for the id (and the source, which is config on both sides).
  auto same = [](MaintenanceWindow a, MaintenanceWindow b) {
    a.id = b.id = 0;
    return a == b;
  };
  WindowSync sync;
  std::vector<bool> kept(stored.size(), false);
  for (const auto& w : wanted) {
    bool found = false;
    for (std::size_t i = 0; i < stored.size() && !found; ++i) {
      if (!kept[i] && same(stored[i], w)) kept[i] = found = true;
    }
    if (!found) sync.add.push_back(w);
  }
  for (std::size_t i = 0; i < stored.size(); ++i)
    if (!kept[i]) sync.remove.push_back(stored[i].id);
  return sync;
}

}  // namespace detail

}  // namespace leeway::store
