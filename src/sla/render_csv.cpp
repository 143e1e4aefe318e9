// The report as CSV (RFC 4180): one row per incident, then one summary row, under one header.
// Money is in minor units of the `currency` column, times are RFC 3339 UTC, so a spreadsheet
// can sum them without parsing text.
#include <fmt/format.h>

#include "sla/render.h"

namespace leeway::sla {

namespace {

constexpr std::string_view kHeader =
    "kind,contract,month,incident,service,opened,acknowledged,resolved,duration_s,worst,"
    "grade_automatic,rule,grade_reclassified,grade,attribution_automatic,attribution,excluded,"
    "unavailable_minutes,response,recovery,penalty,missed_targets,total,charged,minutes_month,"
    "minutes_measured,minutes_excluded,minutes_counted,minutes_unavailable,availability,"
    "credit_tier,credit,total_before_cap,cap,currency,revision,previous_total";

// A field, quoted when it must be; a leading = + @ is defused so a spreadsheet shows text
// rather than running a formula.
std::string field(std::string_view text) {
  std::string value(text);
  if (!value.empty() && (value[0] == '=' || value[0] == '+' || value[0] == '@'))
    value = "'" + value;
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string out = "\"";
  for (char c : value) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string time_field(const std::optional<TimeUs>& t) {
  return t ? format_rfc3339(*t) : "";
}

void add_row(std::string& out, const std::vector<std::string>& fields) {
  for (std::size_t i = 0; i < fields.size(); ++i) out += (i ? "," : "") + field(fields[i]);
  out += "\r\n";
}

}  // namespace

std::string render_csv(const Report& r) {
  std::string out = std::string(kHeader) + "\r\n";
  std::string month = r.month.label();
  // A frozen report's revision on every row; the summary row adds the previous total, so a
  // revision never changes the figures silently (the other formats list what changed).
  const std::string revision = r.revision ? std::to_string(r.revision->number) : "";
  std::string previous_total;
  if (r.revision && r.revision->previous_total_minor_units)
    previous_total = std::to_string(*r.revision->previous_total_minor_units);
  for (const auto& line : r.incidents) {
    const Incident& in = line.incident;
    add_row(out, {"incident",
                  r.contract_id,
                  month,
                  in.id,
                  in.service,
                  format_rfc3339(in.opened_us),
                  time_field(in.acknowledged_us),
                  time_field(in.resolved_us),
                  std::to_string(line.duration_us / kSecondUs),
                  std::string(outcome_name(in.worst)),
                  line.grade_auto,
                  line.rule_index >= 0 ? std::to_string(line.rule_index) : "",
                  line.grade_reclassified.value_or(""),
                  line.grade,
                  in.attribution,
                  line.attribution,
                  line.excluded ? std::string(reason_name(*line.excluded)) : "",
                  std::to_string(line.unavailable_minutes),
                  std::string(target_result_name(line.response.result)),
                  std::string(target_result_name(line.recovery.result)),
                  std::to_string(line.penalty_minor_units),
                  std::to_string(line.response.extra_minor_units + line.recovery.extra_minor_units),
                  std::to_string(line.total_minor_units),
                  line.charged ? "yes" : "no",
                  "",
                  "",
                  "",
                  "",
                  "",
                  "",
                  "",
                  "",
                  "",
                  "",
                  r.currency,
                  revision,
                  ""});
  }
  const MinuteCounts& m = r.minutes;
  add_row(out, {"summary",
                r.contract_id,
                month,
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                "",
                std::to_string(r.penalties_minor_units),
                std::to_string(r.missed_targets_minor_units),
                std::to_string(r.total_minor_units),
                "",
                std::to_string(m.month),
                std::to_string(m.measured),
                std::to_string(m.excluded),
                std::to_string(m.counted()),
                std::to_string(m.unavailable),
                r.availability.text(),
                r.credit.tier ? std::to_string(*r.credit.tier) : "",
                std::to_string(r.credit.amount_minor_units),
                std::to_string(r.total_before_cap_minor_units),
                r.cap_minor_units ? std::to_string(*r.cap_minor_units) : "",
                r.currency,
                revision,
                previous_total});
  return out;
}

}  // namespace leeway::sla
