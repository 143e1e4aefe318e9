// Report months over core/calendar.h's month spans.
#include "sla/month.h"

#include <charconv>

#include <fmt/format.h>

namespace leeway::sla {

std::string ReportMonth::label() const {
  return fmt::format("{:04}-{:02}", month.year, month.month);
}

Result<YearMonth> parse_year_month(std::string_view text) {
  auto bad = [&] { return fail(fmt::format("expected a month like 2026-10, got \"{}\"", text)); };
  if (text.size() != 7 || text[4] != '-') return bad();
  YearMonth m;
  auto y = std::from_chars(text.data(), text.data() + 4, m.year);
  auto mo = std::from_chars(text.data() + 5, text.data() + 7, m.month);
  if (y.ptr != text.data() + 4 || mo.ptr != text.data() + 7) return bad();
  if (m.year < 1970 || m.month < 1 || m.month > 12) return bad();
  return m;
}

Result<ReportMonth> report_month(std::string_view time_zone, YearMonth m) {
  if (!known_time_zone(time_zone))
    return fail(fmt::format(
        "unknown time zone \"{}\"; expected an IANA name like Asia/Seoul or UTC", time_zone));
  MonthSpan span = month_span(time_zone, m);
  return ReportMonth{m, std::string(time_zone), span.start_us, span.end_us};
}

}  // namespace leeway::sla
