// The report's figures as text: local times in the contract's zone, money with its currency,
// each figure beside what it came from.
#include "sla/document.h"

#include <fmt/format.h>

#include "core/calendar.h"

namespace leeway::sla::detail {

namespace {

std::string local(const Report& r, TimeUs t) {
  LocalTime l = local_time(r.month.time_zone, t);
  std::string text = fmt::format("{:04}-{:02}-{:02} {:02}:{:02}", l.year, l.month, l.day,
                                 l.minute_of_day / 60, l.minute_of_day % 60);
  std::int64_t seconds = ((t % kMinuteUs) + kMinuteUs) % kMinuteUs / kSecondUs;
  if (seconds != 0) text += fmt::format(":{:02}", seconds);
  return text;
}

std::string optional_local(const Report& r, const std::optional<TimeUs>& t, std::string none) {
  return t ? local(r, *t) : none;
}

std::string count(std::int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out = n < 0 ? "-" : "";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string join(const std::vector<std::string>& items, std::string_view none = "") {
  if (items.empty()) return std::string(none);
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

std::string target_text(const Report& r, const TargetCheck& t) {
  if (t.result == TargetResult::kNone)
    return t.actual_us ? duration_text(*t.actual_us) : std::string("-");
  std::string actual = t.actual_us ? duration_text(*t.actual_us) : std::string("none");
  std::string text =
      fmt::format("{} / {} {}", actual, duration_text(*t.target_us), target_result_name(t.result));
  if (t.extra_minor_units != 0) text += " +" + format_money(r.money(t.extra_minor_units));
  return text;
}

std::string grade_text(const IncidentLine& line) {
  std::string automatic =
      line.grade_auto.empty() ? "none" : fmt::format("{} ({})", line.grade_auto, line.rule_text);
  if (!line.grade_reclassified) return automatic;
  return fmt::format("{}; automatic: {}", *line.grade_reclassified, automatic);
}

std::string attribution_text(const IncidentLine& line) {
  if (!line.attribution_reclassified) return line.incident.attribution;
  return fmt::format("{}; automatic: {}", line.attribution, line.incident.attribution);
}

Table incidents_table(const Report& r) {
  Table t{
      "Incidents",
      {"id", "service", "opened", "resolved", "duration", "worst", "grade (rule)", "attribution",
       "excluded", "unavailable min", "response", "recovery", "penalty", "total", "charged"}};
  for (const auto& line : r.incidents) {
    const Incident& in = line.incident;
    std::string excluded =
        line.excluded ? fmt::format("{}: {}", reason_name(*line.excluded), line.exclusion_note)
        : line.exclusion_note.empty() ? "no"
                                      : line.exclusion_note;
    t.rows.push_back(
        {in.id, in.service, local(r, in.opened_us), optional_local(r, in.resolved_us, "open"),
         duration_text(line.duration_us), std::string(outcome_name(in.worst)), grade_text(line),
         attribution_text(line), excluded, count(line.unavailable_minutes),
         target_text(r, line.response), target_text(r, line.recovery),
         format_money(r.money(line.penalty_minor_units)),
         format_money(r.money(line.total_minor_units)), line.charged ? "yes" : line.charge_note});
  }
  return t;
}

std::vector<Table> evidence_tables(const Report& r) {
  Table unavailable{"Unavailable minutes", {"service", "from", "to", "minutes", "incidents"}};
  for (const auto& u : r.unavailable)
    unavailable.rows.push_back({u.service, local(r, u.range.start_us), local(r, u.range.end_us),
                                count(u.range.minutes()), join(u.incidents)});
  Table excluded{"Excluded minutes", {"service", "from", "to", "minutes", "reason", "sources"}};
  for (const auto& e : r.excluded)
    excluded.rows.push_back({e.service, local(r, e.range.start_us), local(r, e.range.end_us),
                             count(e.range.minutes()), std::string(reason_name(e.reason)),
                             join(e.sources)});
  Table maintenance{"Maintenance windows",
                    {"id", "from", "to", "announced", "services", "minutes excluded", "decision"}};
  for (const auto& m : r.maintenance)
    maintenance.rows.push_back({m.window.id, local(r, m.window.start_us), local(r, m.window.end_us),
                                local(r, m.window.announced_us), join(m.window.services, "all"),
                                count(m.excluded_minutes), m.note});
  Table manual{"Manual exclusions", {"id", "from", "to", "services", "reason", "by"}};
  for (const auto& m : r.manual_exclusions)
    manual.rows.push_back(
        {m.id, local(r, m.start_us), local(r, m.end_us), join(m.services, "all"), m.reason, m.by});
  Table trail{"Reclassifications", {"incident", "field", "new value", "by", "reason", "at"}};
  for (const auto& line : r.incidents)
    for (const auto& c : line.trail)
      trail.rows.push_back({c.incident_id, std::string(field_name(c.field)), c.value, c.by,
                            c.reason, local(r, c.at_us)});
  Table services{"Services", {"service", "measured", "excluded", "unavailable", "availability"}};
  for (const auto& s : r.services)
    services.rows.push_back({s.service, count(s.minutes.measured), count(s.minutes.excluded),
                             count(s.minutes.unavailable),
                             Availability{s.minutes.available(), s.minutes.counted()}.text()});
  return {services, unavailable, excluded, maintenance, manual, trail};
}

// The revision in the summary, and what changed since the previous one as a table.
void add_revision(const Report& r, const Revision& v, Document& d) {
  d.summary.emplace_back("Revision", fmt::format("{}, frozen {} (inputs SHA-256 {})", v.number,
                                                 local(r, v.frozen_us), v.inputs_sha256));
  if (v.number <= 1) return;
  d.summary.emplace_back(
      fmt::format("Changed since revision {}", v.number - 1),
      fmt::format("total {} -> {}; availability {}% -> {}%; unavailable {} -> {}; excluded {} -> "
                  "{}",
                  v.previous_total_minor_units
                      ? format_money(r.money(*v.previous_total_minor_units))
                      : std::string("unknown"),
                  format_money(r.money(r.total_minor_units)), v.previous_availability,
                  r.availability.text(), count(v.previous_unavailable_minutes),
                  count(r.minutes.unavailable), count(v.previous_excluded_minutes),
                  count(r.minutes.excluded)));
  Table changes{fmt::format("Inputs changed since revision {}", v.number - 1), {"change"}};
  for (const auto& c : v.changes) changes.rows.push_back({c});
  d.tables.push_back(std::move(changes));
}

}  // namespace

Document build_document(const Report& r) {
  Document d;
  d.title = fmt::format("SLA report {}: {} for {}", r.month.label(), r.contract_id, r.customer);
  d.subtitle = fmt::format("{} to {}, local time in {} (UTC {} to {})", local(r, r.month.start_us),
                           local(r, r.month.end_us), r.month.time_zone,
                           format_rfc3339(r.month.start_us), format_rfc3339(r.month.end_us));
  auto add = [&](std::string label, std::string value) {
    d.summary.emplace_back(std::move(label), std::move(value));
  };
  if (r.as_of_us)
    add("Provisional",
        fmt::format("as of {}; later minutes are not measured yet", local(r, *r.as_of_us)));
  add("Monthly fee", format_money(r.money(r.fee_minor_units)));
  add("Minutes in the month", fmt::format("{} ({} services x {} minutes)", count(r.minutes.month),
                                          r.services.size(), count(r.month.minutes())));
  add("Not measured", fmt::format("{} (before a service existed, or after the as-of time)",
                                  count(r.minutes.not_measured)));
  add("Measured", count(r.minutes.measured));
  std::vector<std::string> reasons;
  for (const auto& [reason, n] : r.excluded_by_reason)
    reasons.push_back(fmt::format("{} {}", reason_name(reason), count(n)));
  add("Excluded", fmt::format("{}{}", count(r.minutes.excluded),
                              reasons.empty() ? "" : " (" + join(reasons) + ")"));
  add("Counted", fmt::format("{} (measured - excluded)", count(r.minutes.counted())));
  add("Unavailable", count(r.minutes.unavailable));
  add("Availability", r.availability.known()
                          ? fmt::format("{}% ({} of {} counted minutes available; four "
                                        "decimals, rounded down)",
                                        r.availability.text(), count(r.availability.available),
                                        count(r.availability.counted))
                          : "unknown: no minute was counted");
  add("Target",
      fmt::format("{} ({})", format_percentage(r.target), r.target_met ? "met" : "missed"));
  add("Credit tier", r.credit.tier ? fmt::format("{} -> {} (rounded {})", r.credit.text,
                                                 format_money(r.money(r.credit.amount_minor_units)),
                                                 rounding_name(r.rounding))
                                   : r.credit.text);
  add("Penalties", fmt::format("{} (graded incidents charged this month)",
                               format_money(r.money(r.penalties_minor_units))));
  add("Missed response and recovery targets", format_money(r.money(r.missed_targets_minor_units)));
  add("Total before the cap", format_money(r.money(r.total_before_cap_minor_units)));
  if (r.cap_minor_units)
    add("Cap", fmt::format("{}{}", format_money(r.money(*r.cap_minor_units)),
                           r.cap_binds ? " (binds)" : ""));
  add("Total", format_money(r.money(r.total_minor_units)));
  if (r.revision) add_revision(r, *r.revision, d);

  d.tables.push_back(incidents_table(r));
  for (auto& table : evidence_tables(r)) d.tables.push_back(std::move(table));
  std::erase_if(d.tables, [](const Table& t) { return t.rows.empty(); });
  d.notes = r.notes;
  return d;
}

}  // namespace leeway::sla::detail
