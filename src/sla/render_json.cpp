// The report as JSON: the model whole, times as RFC 3339 UTC and microseconds, money as minor
// units with its text, so a client can recompute every figure from the ranges and incidents.
// Written as a stream (json_writer.h), each object's keys in sorted order: the layout of the
// nlohmann tree this replaced, byte for byte (tests/sla/data/render.json pins it).
#include <map>

#include "core/text.h"
#include "sla/json_writer.h"
#include "sla/render.h"

namespace leeway::sla {

namespace {

using detail::JsonWriter;

void time_value(JsonWriter& w, TimeUs t) {
  w.value(format_rfc3339(t));
}

void optional_time(JsonWriter& w, const std::optional<TimeUs>& t) {
  if (t)
    time_value(w, *t);
  else
    w.null();
}

void optional_text(JsonWriter& w, const std::optional<std::string>& text) {
  if (text)
    w.value(utf8_safe(*text));
  else
    w.null();
}

void money(JsonWriter& w, const Report& r, std::int64_t minor_units) {
  w.begin_object();
  w.key("minor_units").value(minor_units);
  w.key("text").value(format_money(r.money(minor_units)));
  w.end_object();
}

// The members of a MinuteCounts, in an object the caller opened; `by_reason` when given.
void minute_members(JsonWriter& w, const MinuteCounts& m,
                    const std::vector<std::pair<ExclusionReason, std::int64_t>>* by_reason) {
  w.key("available").value(m.available());
  w.key("counted").value(m.counted());
  w.key("excluded").value(m.excluded);
  if (by_reason) {
    std::map<std::string_view, std::int64_t> sorted;  // the last of a reason given twice
    for (const auto& [reason, n] : *by_reason) sorted[reason_name(reason)] = n;
    w.key("excluded_by_reason").begin_object();
    for (const auto& [name, n] : sorted) w.key(name).value(n);
    w.end_object();
  }
  w.key("measured").value(m.measured);
  w.key("month").value(m.month);
  w.key("not_measured").value(m.not_measured);
  w.key("unavailable").value(m.unavailable);
}

void strings(JsonWriter& w, const std::vector<std::string>& items) {
  w.begin_array();
  for (const auto& s : items) w.value(utf8_safe(s));
  w.end_array();
}

void target(JsonWriter& w, const Report& r, const TargetCheck& t) {
  w.begin_object();
  w.key("actual");
  if (t.actual_us)
    w.value(duration_text(*t.actual_us));
  else
    w.null();
  w.key("extra");
  money(w, r, t.extra_minor_units);
  w.key("result").value(target_result_name(t.result));
  w.key("target");
  if (t.target_us)
    w.value(duration_text(*t.target_us));
  else
    w.null();
  w.end_object();
}

void scope(JsonWriter& w, const Share& s) {
  w.begin_object();
  w.key("hit").value(s.part);
  w.key("of").value(s.whole);
  w.end_object();
}

void incident(JsonWriter& w, const Report& r, const IncidentLine& line) {
  const Incident& in = line.incident;
  w.begin_object();
  w.key("acknowledged");
  optional_time(w, in.acknowledged_us);
  w.key("attribution").begin_object();
  w.key("automatic").value(utf8_safe(in.attribution));
  w.key("effective").value(utf8_safe(line.attribution));
  w.key("reclassified");
  if (line.attribution_reclassified)
    w.value(utf8_safe(line.attribution));
  else
    w.null();
  w.end_object();
  w.key("charge_note").value(line.charge_note);
  w.key("charged").value(line.charged);
  w.key("checks");
  scope(w, in.checks);
  w.key("counts_as_downtime").value(line.counts_as_downtime);
  w.key("duration").value(duration_text(line.duration_us));
  w.key("duration_us").value(line.duration_us);
  w.key("excluded");
  if (line.excluded)
    w.value(reason_name(*line.excluded));
  else
    w.null();
  w.key("exclusion_note").value(utf8_safe(line.exclusion_note));
  w.key("grade").begin_object();
  w.key("automatic");
  optional_text(w, line.grade_auto.empty() ? std::nullopt : std::optional(line.grade_auto));
  w.key("effective");
  optional_text(w, line.grade.empty() ? std::nullopt : std::optional(line.grade));
  w.key("reclassified");
  optional_text(w, line.grade_reclassified);
  w.key("rule");
  if (line.rule_index >= 0)
    w.value(line.rule_index);
  else
    w.null();
  w.key("rule_text").value(line.rule_text);
  w.end_object();
  w.key("id").value(utf8_safe(in.id));
  w.key("locations");
  scope(w, in.locations);
  w.key("open").value(line.open);
  w.key("opened");
  time_value(w, in.opened_us);
  w.key("penalty");
  money(w, r, line.penalty_minor_units);
  w.key("reclassifications").begin_array();
  for (const auto& c : line.trail) {
    w.begin_object();
    w.key("at");
    time_value(w, c.at_us);
    w.key("by").value(utf8_safe(c.by));
    w.key("field").value(field_name(c.field));
    w.key("reason").value(utf8_safe(c.reason));
    w.key("value").value(utf8_safe(c.value));
    w.end_object();
  }
  w.end_array();
  w.key("recovery");
  target(w, r, line.recovery);
  w.key("resolved");
  optional_time(w, in.resolved_us);
  w.key("response");
  target(w, r, line.response);
  w.key("service").value(utf8_safe(in.service));
  w.key("total");
  money(w, r, line.total_minor_units);
  w.key("unavailable_minutes").value(line.unavailable_minutes);
  w.key("worst").value(outcome_name(in.worst));
  w.end_object();
}

void revision(JsonWriter& w, const Report& r) {
  if (!r.revision) return w.null();
  const Revision& v = *r.revision;
  w.begin_object();
  w.key("changes");
  strings(w, v.changes);
  w.key("frozen");
  time_value(w, v.frozen_us);
  w.key("inputs_sha256").value(v.inputs_sha256);
  w.key("number").value(v.number);
  w.key("previous");
  if (v.number > 1) {
    w.begin_object();
    w.key("availability").value(v.previous_availability);
    w.key("excluded_minutes").value(v.previous_excluded_minutes);
    w.key("total");
    if (v.previous_total_minor_units)
      money(w, r, *v.previous_total_minor_units);
    else
      w.null();
    w.key("unavailable_minutes").value(v.previous_unavailable_minutes);
    w.end_object();
  } else {
    w.null();
  }
  w.end_object();
}

}  // namespace

std::string render_json(const Report& r) {
  JsonWriter w;
  w.begin_object();
  w.key("as_of");
  optional_time(w, r.as_of_us);
  w.key("availability").begin_object();
  w.key("available").value(r.availability.available);
  w.key("counted").value(r.availability.counted);
  w.key("percent").value(r.availability.text());
  w.key("percent_rounding").value("down");
  w.key("target").value(format_percentage(r.target));
  w.key("target_met").value(r.target_met);
  w.end_object();
  w.key("cap");
  if (r.cap_minor_units)
    money(w, r, *r.cap_minor_units);
  else
    w.null();
  w.key("cap_binds").value(r.cap_binds);
  w.key("contract").value(utf8_safe(r.contract_id));
  w.key("credit").begin_object();
  w.key("amount");
  money(w, r, r.credit.amount_minor_units);
  w.key("percent");
  if (r.credit.tier)
    w.value(format_percentage(r.credit.credit));
  else
    w.null();
  w.key("text").value(r.credit.text);
  w.key("tier");
  if (r.credit.tier)
    w.value(static_cast<std::uint64_t>(*r.credit.tier));
  else
    w.null();
  w.end_object();
  w.key("currency").value(r.currency);
  w.key("customer").value(utf8_safe(r.customer));
  w.key("end");
  time_value(w, r.month.end_us);

  w.key("excluded").begin_array();
  for (const auto& e : r.excluded) {
    w.begin_object();
    w.key("end");
    time_value(w, e.range.end_us);
    w.key("minutes").value(e.range.minutes());
    w.key("reason").value(reason_name(e.reason));
    w.key("service").value(utf8_safe(e.service));
    w.key("sources");
    strings(w, e.sources);
    w.key("start");
    time_value(w, e.range.start_us);
    w.end_object();
  }
  w.end_array();
  w.key("fee");
  money(w, r, r.fee_minor_units);
  w.key("incidents").begin_array();
  for (const auto& line : r.incidents) incident(w, r, line);
  w.end_array();
  w.key("maintenance").begin_array();
  for (const auto& m : r.maintenance) {
    w.begin_object();
    w.key("announced");
    time_value(w, m.window.announced_us);
    w.key("end");
    time_value(w, m.window.end_us);
    w.key("excluded").value(m.honoured);
    w.key("excluded_minutes").value(m.excluded_minutes);
    w.key("id").value(utf8_safe(m.window.id));
    w.key("note").value(m.note);
    w.key("services");
    strings(w, m.window.services);
    w.key("start");
    time_value(w, m.window.start_us);
    w.end_object();
  }
  w.end_array();
  w.key("manual_exclusions").begin_array();
  for (const auto& m : r.manual_exclusions) {
    w.begin_object();
    w.key("by").value(utf8_safe(m.by));
    w.key("end");
    time_value(w, m.end_us);
    w.key("id").value(utf8_safe(m.id));
    w.key("reason").value(utf8_safe(m.reason));
    w.key("services");
    strings(w, m.services);
    w.key("start");
    time_value(w, m.start_us);
    w.end_object();
  }
  w.end_array();
  w.key("minutes").begin_object();
  minute_members(w, r.minutes, &r.excluded_by_reason);
  w.end_object();
  w.key("missed_targets");
  money(w, r, r.missed_targets_minor_units);
  w.key("month").value(r.month.label());
  w.key("notes");
  strings(w, r.notes);
  w.key("penalties");
  money(w, r, r.penalties_minor_units);
  w.key("provisional").value(r.as_of_us.has_value());
  w.key("revision");
  revision(w, r);
  w.key("rounding").value(rounding_name(r.rounding));
  w.key("services").begin_array();
  for (const auto& s : r.services) {
    w.begin_object();
    w.key("minutes").begin_object();
    minute_members(w, s.minutes, nullptr);
    w.end_object();
    w.key("service").value(utf8_safe(s.service));
    w.end_object();
  }
  w.end_array();
  w.key("start");
  time_value(w, r.month.start_us);
  w.key("time_zone").value(r.month.time_zone);
  w.key("total");
  money(w, r, r.total_minor_units);
  w.key("total_before_cap");
  money(w, r, r.total_before_cap_minor_units);
  w.key("unavailable").begin_array();
  for (const auto& u : r.unavailable) {
    w.begin_object();
    w.key("end");
    time_value(w, u.range.end_us);
    w.key("incidents");
    strings(w, u.incidents);
    w.key("minutes").value(u.range.minutes());
    w.key("service").value(utf8_safe(u.service));
    w.key("start");
    time_value(w, u.range.start_us);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.finish();
}

}  // namespace leeway::sla
