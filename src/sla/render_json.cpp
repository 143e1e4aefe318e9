// The report as JSON: the model whole, times as RFC 3339 UTC and microseconds, money as minor
// units with its text, so a client can recompute every figure from the ranges and incidents.
#include <nlohmann/json.hpp>

#include "core/text.h"
#include "sla/render.h"

namespace leeway::sla {

namespace {

using nlohmann::json;

json time_json(TimeUs t) {
  return format_rfc3339(t);
}

json optional_time(const std::optional<TimeUs>& t) {
  return t ? time_json(*t) : json(nullptr);
}

json money_json(const Report& r, std::int64_t minor_units) {
  return {{"minor_units", minor_units}, {"text", format_money(r.money(minor_units))}};
}

json minutes_json(const MinuteCounts& m) {
  return {{"month", m.month},          {"not_measured", m.not_measured},
          {"measured", m.measured},    {"excluded", m.excluded},
          {"counted", m.counted()},    {"unavailable", m.unavailable},
          {"available", m.available()}};
}

json range_json(const std::string& service, const MinuteRange& range) {
  return {{"service", service},
          {"start", time_json(range.start_us)},
          {"end", time_json(range.end_us)},
          {"minutes", range.minutes()}};
}

json target_json(const Report& r, const TargetCheck& t) {
  json out = {{"result", target_result_name(t.result)},
              {"target", t.target_us ? json(duration_text(*t.target_us)) : json(nullptr)},
              {"actual", t.actual_us ? json(duration_text(*t.actual_us)) : json(nullptr)},
              {"extra", money_json(r, t.extra_minor_units)}};
  return out;
}

json incident_json(const Report& r, const IncidentLine& line) {
  const Incident& in = line.incident;
  json trail = json::array();
  for (const auto& c : line.trail)
    trail.push_back({{"field", field_name(c.field)},
                     {"value", utf8_safe(c.value)},
                     {"by", utf8_safe(c.by)},
                     {"reason", utf8_safe(c.reason)},
                     {"at", time_json(c.at_us)}});
  return {
      {"id", utf8_safe(in.id)},
      {"service", utf8_safe(in.service)},
      {"opened", time_json(in.opened_us)},
      {"acknowledged", optional_time(in.acknowledged_us)},
      {"resolved", optional_time(in.resolved_us)},
      {"open", line.open},
      {"duration", duration_text(line.duration_us)},
      {"duration_us", line.duration_us},
      {"worst", outcome_name(in.worst)},
      {"locations", {{"hit", in.locations.part}, {"of", in.locations.whole}}},
      {"checks", {{"hit", in.checks.part}, {"of", in.checks.whole}}},
      {"grade",
       {{"automatic", line.grade_auto.empty() ? json(nullptr) : json(utf8_safe(line.grade_auto))},
        {"rule", line.rule_index >= 0 ? json(line.rule_index) : json(nullptr)},
        {"rule_text", line.rule_text},
        {"reclassified",
         line.grade_reclassified ? json(utf8_safe(*line.grade_reclassified)) : json(nullptr)},
        {"effective", line.grade.empty() ? json(nullptr) : json(utf8_safe(line.grade))}}},
      {"attribution",
       {{"automatic", utf8_safe(in.attribution)},
        {"reclassified",
         line.attribution_reclassified ? json(utf8_safe(line.attribution)) : json(nullptr)},
        {"effective", utf8_safe(line.attribution)}}},
      {"excluded", line.excluded ? json(reason_name(*line.excluded)) : json(nullptr)},
      {"exclusion_note", utf8_safe(line.exclusion_note)},
      {"counts_as_downtime", line.counts_as_downtime},
      {"unavailable_minutes", line.unavailable_minutes},
      {"charged", line.charged},
      {"charge_note", line.charge_note},
      {"penalty", money_json(r, line.penalty_minor_units)},
      {"response", target_json(r, line.response)},
      {"recovery", target_json(r, line.recovery)},
      {"total", money_json(r, line.total_minor_units)},
      {"reclassifications", trail},
  };
}

json services_json(const std::vector<std::string>& services) {
  json out = json::array();
  for (const auto& s : services) out.push_back(utf8_safe(s));
  return out;
}

json revision_json(const Report& r) {
  if (!r.revision) return nullptr;
  const Revision& v = *r.revision;
  json previous = nullptr;
  if (v.number > 1)
    previous = {
        {"total", v.previous_total_minor_units ? money_json(r, *v.previous_total_minor_units)
                                               : json(nullptr)},
        {"availability", v.previous_availability},
        {"unavailable_minutes", v.previous_unavailable_minutes},
        {"excluded_minutes", v.previous_excluded_minutes}};
  json changes = json::array();
  for (const auto& c : v.changes) changes.push_back(utf8_safe(c));
  return {{"number", v.number},
          {"inputs_sha256", v.inputs_sha256},
          {"frozen", time_json(v.frozen_us)},
          {"changes", changes},
          {"previous", previous}};
}

}  // namespace

std::string render_json(const Report& r) {
  json minutes = minutes_json(r.minutes);
  json by_reason = json::object();
  for (const auto& [reason, n] : r.excluded_by_reason)
    by_reason[std::string(reason_name(reason))] = n;
  minutes["excluded_by_reason"] = by_reason;

  json services = json::array();
  for (const auto& s : r.services)
    services.push_back({{"service", utf8_safe(s.service)}, {"minutes", minutes_json(s.minutes)}});
  json unavailable = json::array();
  for (const auto& u : r.unavailable) {
    json j = range_json(utf8_safe(u.service), u.range);
    j["incidents"] = services_json(u.incidents);
    unavailable.push_back(j);
  }
  json excluded = json::array();
  for (const auto& e : r.excluded) {
    json j = range_json(utf8_safe(e.service), e.range);
    j["reason"] = reason_name(e.reason);
    j["sources"] = services_json(e.sources);
    excluded.push_back(j);
  }
  json incidents = json::array();
  for (const auto& line : r.incidents) incidents.push_back(incident_json(r, line));
  json maintenance = json::array();
  for (const auto& m : r.maintenance)
    maintenance.push_back({{"id", utf8_safe(m.window.id)},
                           {"start", time_json(m.window.start_us)},
                           {"end", time_json(m.window.end_us)},
                           {"announced", time_json(m.window.announced_us)},
                           {"services", services_json(m.window.services)},
                           {"excluded", m.honoured},
                           {"note", m.note},
                           {"excluded_minutes", m.excluded_minutes}});
  json manual = json::array();
  for (const auto& m : r.manual_exclusions)
    manual.push_back({{"id", utf8_safe(m.id)},
                      {"start", time_json(m.start_us)},
                      {"end", time_json(m.end_us)},
                      {"services", services_json(m.services)},
                      {"reason", utf8_safe(m.reason)},
                      {"by", utf8_safe(m.by)}});
  json notes = json::array();
  for (const auto& n : r.notes) notes.push_back(utf8_safe(n));

  json out = {
      {"contract", utf8_safe(r.contract_id)},
      {"customer", utf8_safe(r.customer)},
      {"month", r.month.label()},
      {"time_zone", r.month.time_zone},
      {"start", time_json(r.month.start_us)},
      {"end", time_json(r.month.end_us)},
      {"as_of", optional_time(r.as_of_us)},
      {"provisional", r.as_of_us.has_value()},
      {"currency", r.currency},
      {"rounding", rounding_name(r.rounding)},
      {"fee", money_json(r, r.fee_minor_units)},
      {"minutes", minutes},
      {"availability",
       {{"available", r.availability.available},
        {"counted", r.availability.counted},
        {"percent", r.availability.text()},
        {"percent_rounding", "down"},
        {"target", format_percentage(r.target)},
        {"target_met", r.target_met}}},
      {"credit",
       {{"tier", r.credit.tier ? json(*r.credit.tier) : json(nullptr)},
        {"text", r.credit.text},
        {"percent", r.credit.tier ? json(format_percentage(r.credit.credit)) : json(nullptr)},
        {"amount", money_json(r, r.credit.amount_minor_units)}}},
      {"penalties", money_json(r, r.penalties_minor_units)},
      {"missed_targets", money_json(r, r.missed_targets_minor_units)},
      {"total_before_cap", money_json(r, r.total_before_cap_minor_units)},
      {"cap", r.cap_minor_units ? money_json(r, *r.cap_minor_units) : json(nullptr)},
      {"cap_binds", r.cap_binds},
      {"total", money_json(r, r.total_minor_units)},
      {"services", services},
      {"unavailable", unavailable},
      {"excluded", excluded},
      {"incidents", incidents},
      {"maintenance", maintenance},
      {"manual_exclusions", manual},
      {"notes", notes},
      {"revision", revision_json(r)},
  };
  return out.dump(2) + "\n";
}

}  // namespace leeway::sla
