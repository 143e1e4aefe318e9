// The agent protocol's JSON (see wire.h).
#include "agent/wire.h"

#include <fmt/format.h>

#include "probe/options.h"

namespace leeway::agent {

using nlohmann::json;

json check_to_json(const AgentCheck& check) {
  json options = json::object();
  for (const auto& option : probe::check_options()) {
    if (!probe::applies_to(option, check.spec.kind)) continue;
    auto values = option.format(check.spec);
    if (!values.empty()) options[std::string(option.key)] = values;
  }
  return {{"id", check.id},
          {"interval_us", check.interval_us},
          {"target", check.spec.target},
          {"options", options}};
}

namespace {

const json* member(const json& j, const char* key) {
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

}  // namespace

Result<AgentCheck> check_from_json(const json& j) {
  if (!j.is_object()) return fail("expected an object");
  AgentCheck check;
  const json* id = member(j, "id");
  if (!id || !id->is_string() || id->get_ref<const std::string&>().empty())
    return fail("id: expected the check's id");
  check.id = *id;
  const json* interval = member(j, "interval_us");
  if (!interval || !interval->is_number_integer() || interval->get<std::int64_t>() <= 0)
    return fail("interval_us: expected a whole number of microseconds above zero");
  check.interval_us = *interval;
  const json* target = member(j, "target");
  if (!target || !target->is_string()) return fail("target: expected a target URL");
  auto spec = probe::parse_target(target->get_ref<const std::string&>());
  if (!spec) return fail("target: ", spec.error().message);
  check.spec = std::move(*spec);
  const json* options = member(j, "options");
  if (options && !options->is_object()) return fail("options: expected an object");
  // In the table's order, as the config applies them: a later option may refine an earlier one.
  for (const auto& option : probe::check_options()) {
    const json* values = options ? member(*options, std::string(option.key).c_str()) : nullptr;
    if (!values) continue;
    if (!values->is_array()) return fail("options.", option.key, ": expected a list of values");
    for (const auto& value : *values) {
      if (!value.is_string()) return fail("options.", option.key, ": expected text values");
      if (Status s = probe::apply_option(check.spec, option, value.get_ref<const std::string&>());
          !s)
        return fail("options.", s.error().message);
    }
  }
  if (options) {
    for (const auto& [key, value] : options->items())
      if (!probe::find_check_option(key)) return fail("options.", key, ": unknown check option");
  }
  return check;
}

json check_list_to_json(const std::string& location, const std::vector<AgentCheck>& checks) {
  json list = json::array();
  for (const auto& check : checks) list.push_back(check_to_json(check));
  return {{"location", location}, {"checks", list}};
}

Result<std::vector<AgentCheck>> check_list_from_json(const json& j) {
  const json* checks = j.is_object() ? member(j, "checks") : nullptr;
  if (!checks || !checks->is_array()) return fail("checks: expected a list");
  std::vector<AgentCheck> out;
  for (std::size_t i = 0; i < checks->size(); ++i) {
    auto check = check_from_json((*checks)[i]);
    if (!check) return fail(fmt::format("checks[{}].", i), check.error().message);
    out.push_back(std::move(*check));
  }
  return out;
}

json result_to_json(const store::StoredResult& r) {
  json j = {{"check", r.check},
            {"started_us", r.started_us},
            {"total_us", r.total_us},
            {"outcome", probe::to_string(r.outcome)}};
  if (r.stage != probe::Stage::kNone) j["stage"] = probe::to_string(r.stage);
  if (r.cause != probe::Cause::kNone) j["cause"] = probe::to_string(r.cause);
  if (r.http_status != 0) j["http_status"] = r.http_status;
  if (!r.error.empty()) j["error"] = r.error;
  if (r.dns_us >= 0) j["dns_us"] = r.dns_us;
  if (r.connect_us >= 0) j["connect_us"] = r.connect_us;
  if (r.tls_us >= 0) j["tls_us"] = r.tls_us;
  if (r.first_byte_us >= 0) j["first_byte_us"] = r.first_byte_us;
  return j;
}

}  // namespace leeway::agent
