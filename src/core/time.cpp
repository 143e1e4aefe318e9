#include "core/time.h"

#include <date/date.h>
#include <fmt/format.h>

#include <charconv>
#include <ctime>
#include <sstream>

namespace leeway {

Result<DurationUs> parse_duration(std::string_view text) {
  auto bad = [&] {
    return fail("expected a duration like 30s, 250ms or 1m30s, got \"", std::string(text), "\"");
  };
  if (text.empty()) return bad();
  DurationUs total = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    // A number, possibly with a fraction ("1.5s").
    std::size_t n = 0;
    while (n < rest.size() && ((rest[n] >= '0' && rest[n] <= '9') || rest[n] == '.')) ++n;
    if (n == 0) return bad();
    double value = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + n, value);
    if (ec != std::errc() || ptr != rest.data() + n) return bad();
    rest.remove_prefix(n);
    std::size_t u = 0;
    while (u < rest.size() && rest[u] >= 'a' && rest[u] <= 'z') ++u;
    std::string_view unit = rest.substr(0, u);
    rest.remove_prefix(u);
    double scale = 0;
    if (unit == "us")
      scale = 1;
    else if (unit == "ms")
      scale = kMillisecondUs;
    else if (unit == "s")
      scale = kSecondUs;
    else if (unit == "m")
      scale = kMinuteUs;
    else if (unit == "h")
      scale = kHourUs;
    else if (unit == "d")
      scale = kDayUs;
    else
      return bad();
    // Past ~292,000 years the microseconds no longer fit in 64 bits: refuse, never wrap.
    double us = value * scale + 0.5;
    if (us >= 9.2e18 || static_cast<double>(total) + us >= 9.2e18) return bad();
    total += static_cast<DurationUs>(us);
  }
  return total;
}

std::string format_duration(DurationUs us) {
  if (us < 0) return "-" + format_duration(-us);
  if (us < kMillisecondUs) return fmt::format("{}us", us);
  if (us < kSecondUs) return fmt::format("{:.3g}ms", us / 1e3);
  if (us < kMinuteUs) return fmt::format("{:.3g}s", us / 1e6);
  if (us < kHourUs) return fmt::format("{}m{}s", us / kMinuteUs, us % kMinuteUs / kSecondUs);
  if (us < kDayUs) return fmt::format("{}h{}m", us / kHourUs, us % kHourUs / kMinuteUs);
  return fmt::format("{}d{}h", us / kDayUs, us % kDayUs / kHourUs);
}

std::string format_rfc3339(TimeUs t) {
  std::int64_t secs = t / kSecondUs;
  std::int64_t frac = t % kSecondUs;
  if (frac < 0) {
    frac += kSecondUs;
    secs -= 1;
  }
  std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

// GCC 12 sees a variable of date.h's parser as maybe uninitialized once inlined here (a false
// positive inside the library); the warning is silenced for this function only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
std::optional<TimeUs> parse_rfc3339(std::string_view text) {
  std::istringstream in{std::string(text)};
  date::sys_time<std::chrono::microseconds> t;
  in >> date::parse("%FT%TZ", t);
  if (in.fail() || in.peek() != EOF) return std::nullopt;
  return t.time_since_epoch().count();
}

std::optional<TimeUs> parse_rfc3339_offset(std::string_view text) {
  if (auto utc = parse_rfc3339(text)) return utc;
  std::istringstream in{std::string(text)};
  date::sys_time<std::chrono::microseconds> t;
  in >> date::parse("%FT%T%Ez", t);  // the offset is subtracted: t is UTC
  if (in.fail() || in.peek() != EOF) return std::nullopt;
  return t.time_since_epoch().count();
}
#pragma GCC diagnostic pop

}  // namespace leeway
