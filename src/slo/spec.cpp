// SLO definitions: names, exact percentages, windows and the checks a spec must pass.
#include "slo/spec.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

// Only the histogram's bucket bounds (a constexpr table) are used: the SLO module reads no store.
#include "store/store.h"

namespace leeway::slo {

namespace {

constexpr std::int64_t kBillion = 1'000'000'000;
// Percent digits after the point that a Ratio holds exactly (a billionth of one).
constexpr int kPercentDecimals = 7;

template <typename E, std::size_t N>
std::optional<E> lookup(const std::array<std::pair<E, std::string_view>, N>& names,
                        std::string_view text) {
  for (const auto& [value, name] : names)
    if (name == text) return value;
  return std::nullopt;
}

template <typename E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& names, E value) {
  for (const auto& [v, name] : names)
    if (v == value) return name;
  return "";
}

constexpr std::array<std::pair<Sli, std::string_view>, 3> kSliNames = {{
    {Sli::kAvailabilityMinutes, "availability_minutes"},
    {Sli::kAvailabilityRuns, "availability_runs"},
    {Sli::kLatency, "latency"},
}};
constexpr std::array<std::pair<Method, std::string_view>, 3> kMethodNames = {{
    {Method::kOccurrences, "occurrences"},
    {Method::kTimeslices, "timeslices"},
    {Method::kRatioTimeslices, "ratio_timeslices"},
}};
constexpr std::array<std::pair<Severity, std::string_view>, 2> kSeverityNames = {{
    {Severity::kPage, "page"},
    {Severity::kTicket, "ticket"},
}};

bool whole_minutes(DurationUs us) {
  return us > 0 && us % kMinuteUs == 0;
}

}  // namespace

std::string_view to_string(Sli sli) {
  return name_of(kSliNames, sli);
}
std::string_view to_string(Method method) {
  return name_of(kMethodNames, method);
}
std::string_view to_string(Severity severity) {
  return name_of(kSeverityNames, severity);
}
std::optional<Sli> sli_from_string(std::string_view text) {
  return lookup(kSliNames, text);
}
std::optional<Method> method_from_string(std::string_view text) {
  return lookup(kMethodNames, text);
}
std::optional<Severity> severity_from_string(std::string_view text) {
  return lookup(kSeverityNames, text);
}

double Ratio::value() const {
  return double(billionths) / double(kBillion);
}

double Ratio::complement() const {
  // Both integers are exact in a double, and IEEE division rounds once: the nearest double.
  return double(kBillion - billionths) / double(kBillion);
}

std::string Ratio::percent_text() const {
  constexpr std::int64_t kUnit = kBillion / 100;  // billionths in one percent
  std::string text = fmt::format("{}", billionths / kUnit);
  std::int64_t fraction = billionths % kUnit;
  if (fraction == 0) return text;
  std::string digits = fmt::format("{:0{}}", fraction, kPercentDecimals);
  while (digits.back() == '0') digits.pop_back();
  return text + "." + digits;
}

std::string Ratio::complement_text() const {
  // The shortest text that reads back as the same double, as PromQL will read it.
  return fmt::format("{}", complement());
}

Result<Ratio> parse_percent(std::string_view text, bool allow_100) {
  auto bad = [&] {
    return fail(
        fmt::format("expected a percentage above 0 and {} 100 with at most {} "
                    "decimals, like 99.9",
                    allow_100 ? "at most" : "below", kPercentDecimals));
  };
  auto dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : text.substr(dot + 1);
  if (allow_100 && text == "100") return Ratio{kBillion};
  if (whole.empty() || whole.size() > 2 || fraction.size() > kPercentDecimals ||
      (dot != std::string_view::npos && fraction.empty()))
    return bad();
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (!digits(whole) || !digits(fraction)) return bad();
  std::int64_t percent = 0;
  std::from_chars(whole.data(), whole.data() + whole.size(), percent);
  std::int64_t frac = 0;
  std::string padded(fraction);
  padded.resize(kPercentDecimals, '0');
  std::from_chars(padded.data(), padded.data() + padded.size(), frac);
  Ratio ratio{percent * (kBillion / 100) + frac};
  if (ratio.billionths <= 0 || ratio.billionths >= kBillion) return bad();
  return ratio;
}

std::string Window::to_string() const {
  if (calendar()) return fmt::format("month in {}", time_zone);
  return window_name(rolling_us);
}

Result<Window> parse_window(std::string_view text, std::string_view time_zone) {
  if (text == "month") {
    if (!known_time_zone(time_zone))
      return fail(
          fmt::format("unknown time zone \"{}\"; expected an IANA name like Asia/Seoul "
                      "or UTC",
                      time_zone));
    return Window{0, std::string(time_zone)};
  }
  auto rolling = parse_duration(text);
  if (!rolling || !whole_minutes(*rolling) || *rolling < kMinRollingWindowUs ||
      *rolling > kMaxRollingWindowUs)
    return fail(
        fmt::format("expected a rolling window of whole minutes from {} to {}, like "
                    "30d, or month (a calendar month)",
                    window_name(kMinRollingWindowUs), window_name(kMaxRollingWindowUs)));
  return Window{*rolling, ""};
}

Period budget_period(const Window& window, TimeUs now_us) {
  TimeUs minute = evaluation_minute(now_us);
  if (!window.calendar()) return Period{minute - window.rolling_us, minute};
  MonthSpan month = month_span(window.time_zone, month_at(window.time_zone, now_us));
  return Period{month.start_us, month.end_us};
}

std::vector<BurnCondition> default_burn_conditions() {
  return {
      {Severity::kPage, 14.4, kHourUs, 5 * kMinuteUs},
      {Severity::kPage, 6, 6 * kHourUs, 30 * kMinuteUs},
      {Severity::kTicket, 3, kDayUs, 2 * kHourUs},
      {Severity::kTicket, 1, 3 * kDayUs, 6 * kHourUs},
  };
}

std::vector<DurationUs> burn_windows(const SloSpec& spec) {
  std::vector<DurationUs> windows(kBurnWindowsUs.begin(), kBurnWindowsUs.end());
  for (const auto& condition : spec.alerts) {
    windows.push_back(condition.long_us);
    windows.push_back(condition.short_us);
  }
  std::sort(windows.begin(), windows.end());
  windows.erase(std::unique(windows.begin(), windows.end()), windows.end());
  return windows;
}

std::vector<DurationUs> latency_thresholds_us() {
  return {store::kLatencyBucketBoundsUs.begin(), store::kLatencyBucketBoundsUs.end()};
}

std::string check_method(Sli sli, Method method) {
  if (sli == Sli::kAvailabilityMinutes && method != Method::kTimeslices)
    return "availability_minutes counts minutes, each good or bad: its method is timeslices";
  return "";
}

std::string check_threshold(DurationUs threshold_us) {
  auto allowed = latency_thresholds_us();
  if (std::find(allowed.begin(), allowed.end(), threshold_us) != allowed.end()) return "";
  std::string list;
  for (DurationUs us : allowed) list += (list.empty() ? "" : ", ") + format_duration(us);
  return fmt::format(
      "{} is not a bound of the latency histogram that runs are counted in; one of {}",
      format_duration(threshold_us), list);
}

std::string check_condition(const BurnCondition& c) {
  if (!(c.burn_rate > 0) || !std::isfinite(c.burn_rate))
    return "burn_rate: expected a number above 0, like 14.4";
  if (!whole_minutes(c.long_us) || !whole_minutes(c.short_us))
    return "the long and short windows must be whole minutes";
  if (c.short_us >= c.long_us)
    return fmt::format("the short window {} must be shorter than the long window {}",
                       window_name(c.short_us), window_name(c.long_us));
  if (c.long_us > kMaxAlertWindowUs)
    return fmt::format("the long window {} is over the longest allowed, {}", window_name(c.long_us),
                       window_name(kMaxAlertWindowUs));
  return "";
}

std::string check_spec(const SloSpec& spec) {
  if (spec.id.empty() || spec.service.empty()) return "an SLO needs an id and a service";
  if (spec.objective.billionths <= 0 || spec.objective.billionths >= kBillion)
    return "the objective must be above 0% and below 100%";
  if (auto m = check_method(spec.sli, spec.method); !m.empty()) return m;
  bool sliced = spec.method == Method::kTimeslices && spec.sli != Sli::kAvailabilityMinutes;
  if (sliced && (spec.slice_target.billionths <= 0 || spec.slice_target.billionths > kBillion))
    return "timeslices over runs need a slice target above 0% and at most 100%";
  if (spec.sli == Sli::kLatency)
    if (auto m = check_threshold(spec.threshold_us); !m.empty()) return m;
  if (spec.window.calendar() ? !known_time_zone(spec.window.time_zone)
                             : spec.window.rolling_us < kMinRollingWindowUs ||
                                   spec.window.rolling_us > kMaxRollingWindowUs ||
                                   !whole_minutes(spec.window.rolling_us))
    return fmt::format("the window {} cannot be counted", spec.window.to_string());
  for (const auto& condition : spec.alerts)
    if (auto m = check_condition(condition); !m.empty()) return m;
  return "";
}

std::string window_name(DurationUs us) {
  if (us > 0 && us % kDayUs == 0) return fmt::format("{}d", us / kDayUs);
  if (us > 0 && us % kHourUs == 0) return fmt::format("{}h", us / kHourUs);
  if (us > 0 && us % kMinuteUs == 0) return fmt::format("{}m", us / kMinuteUs);
  return format_duration(us);
}

}  // namespace leeway::slo
