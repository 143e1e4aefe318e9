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

namespace {

std::optional<probe::Outcome> outcome_from_string(std::string_view text) {
  for (auto o : {probe::Outcome::kUp, probe::Outcome::kDegraded, probe::Outcome::kDown,
                 probe::Outcome::kUnknown})
    if (probe::to_string(o) == text) return o;
  return std::nullopt;
}

// A duration field: absent is -1 (not reached); else a whole number from -1 up.
Status duration_field(const json& j, const char* key, DurationUs& out) {
  const json* v = member(j, key);
  if (!v) return {};
  if (!v->is_number_integer() || v->get<std::int64_t>() < -1)
    return fail(key, ": expected a whole number of microseconds");
  out = *v;
  return {};
}

}  // namespace

Result<store::StoredResult> result_from_json(const json& j, const std::string& location) {
  if (!j.is_object()) return fail("expected an object");
  store::StoredResult r;
  r.location = location;
  const json* check = member(j, "check");
  if (!check || !check->is_string() || check->get_ref<const std::string&>().empty())
    return fail("check: expected a check id");
  r.check = *check;
  const json* started = member(j, "started_us");
  if (!started || !started->is_number_integer() || started->get<std::int64_t>() <= 0)
    return fail("started_us: expected a time in whole microseconds since the epoch");
  r.started_us = *started;
  const json* total = member(j, "total_us");
  if (!total || !total->is_number_integer() || total->get<std::int64_t>() < 0)
    return fail("total_us: expected a whole number of microseconds");
  r.total_us = *total;
  const json* outcome = member(j, "outcome");
  auto parsed = outcome && outcome->is_string()
                    ? outcome_from_string(outcome->get_ref<const std::string&>())
                    : std::nullopt;
  if (!parsed) return fail("outcome: expected up, degraded, down or unknown");
  r.outcome = *parsed;
  if (const json* stage = member(j, "stage")) {
    auto s = stage->is_string() ? probe::stage_from_string(stage->get_ref<const std::string&>())
                                : std::nullopt;
    if (!s) return fail("stage: expected dns, connect, tls, send, status, body or timeout");
    r.stage = *s;
  }
  if (const json* cause = member(j, "cause")) {
    auto c = cause->is_string() ? probe::cause_from_string(cause->get_ref<const std::string&>())
                                : std::nullopt;
    if (!c)
      return fail(
          "cause: expected refused, unreachable, reset, timeout, nxdomain, servfail or tls");
    r.cause = *c;
  }
  if (const json* status = member(j, "http_status")) {
    if (!status->is_number_integer() || status->get<std::int64_t>() < 0 ||
        status->get<std::int64_t>() > 999)
      return fail("http_status: expected an HTTP status code");
    r.http_status = *status;
  }
  if (const json* error = member(j, "error")) {
    if (!error->is_string()) return fail("error: expected text");
    r.error = *error;
  }
  for (auto [key, field] :
       {std::pair{"dns_us", &r.dns_us}, std::pair{"connect_us", &r.connect_us},
        std::pair{"tls_us", &r.tls_us}, std::pair{"first_byte_us", &r.first_byte_us}})
    if (Status s = duration_field(j, key, *field); !s) return s.error();
  return r;
}

}  // namespace leeway::agent
