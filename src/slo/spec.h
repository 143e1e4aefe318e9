// What an SLO is: its SLI, objective, window, budgeting method and burn-rate alert conditions,
// and the parsers that turn config text into them. Pure: no I/O beyond the time zone database.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/calendar.h"
#include "core/result.h"
#include "core/time.h"

namespace leeway::slo {

// What counts as good.
enum class Sli {
  kAvailabilityMinutes,  // time-based: a minute is bad when the service was down in it (quorum)
  kAvailabilityRuns,     // event-based: runs up or degraded over all judged runs
  kLatency,              // event-based: runs faster than a threshold over all judged runs
};

// How good and bad add up to a budget, as OpenSLO names them. A slice is one minute.
enum class Method {
  kOccurrences,      // good events over all events
  kTimeslices,       // good minutes over minutes with data; a minute is good at the slice target
  kRatioTimeslices,  // the mean of the minutes' good ratios
};

enum class Severity { kPage, kTicket };

std::string_view to_string(Sli sli);
std::string_view to_string(Method method);
std::string_view to_string(Severity severity);
std::optional<Sli> sli_from_string(std::string_view text);
std::optional<Method> method_from_string(std::string_view text);
std::optional<Severity> severity_from_string(std::string_view text);

// A percentage as written ("99.9"), kept exactly in billionths of one, so that the budget
// 1 - objective is the double nearest its decimal: the same double PromQL reads from the rules.
struct Ratio {
  std::int64_t billionths = 0;  // 999'000'000 for 99.9%

  double value() const;                 // 0.999
  double complement() const;            // 1 - value(), nearest to the decimal: 0.001 for 99.9%
  std::string percent_text() const;     // "99.9"
  std::string complement_text() const;  // "0.001": what the rules print for the budget
  bool operator==(const Ratio&) const = default;
};

// Parses a percentage above 0 and below 100 (or up to 100 with `allow_100`: a slice target may
// ask for every run) with at most 7 decimals: "99.9", "95", "99.95".
Result<Ratio> parse_percent(std::string_view text, bool allow_100 = false);

// The window a budget is counted over: rolling (the last N whole minutes) or the calendar month
// that holds the evaluation time, in a named IANA time zone.
struct Window {
  DurationUs rolling_us = 0;  // > 0: rolling; 0: calendar month
  std::string time_zone;      // calendar month only: "Asia/Seoul", "UTC"

  bool calendar() const { return rolling_us == 0; }
  std::string to_string() const;  // "30d" or "month in Asia/Seoul"
  bool operator==(const Window&) const = default;
};

// The shortest and longest rolling window.
inline constexpr DurationUs kMinRollingWindowUs = kHourUs;
inline constexpr DurationUs kMaxRollingWindowUs = 400 * kDayUs;

// "30d" (a rolling window of whole minutes, 1h to 400d) or "month" (a calendar month in
// `time_zone`, an IANA name). Errors say what was expected.
Result<Window> parse_window(std::string_view text, std::string_view time_zone);

// [start, end) in UTC microseconds.
struct Period {
  TimeUs start_us = 0;
  TimeUs end_us = 0;
  bool operator==(const Period&) const = default;
};

// The period a budget counts at `now_us`: rolling, the window's whole minutes before the minute
// that holds now ([m - window, m)); calendar, the whole month that holds now, from its first
// local midnight to the next month's (minutes before now are counted, the rest is still to
// come). REQUIRES: a window from parse_window.
Period budget_period(const Window& window, TimeUs now_us);

// The start of the minute that holds `now_us`. An evaluation at now counts the whole minutes
// before it: the minute in progress is not over, so it is in no window yet.
inline TimeUs evaluation_minute(TimeUs now_us) {
  TimeUs m = now_us / kMinuteUs * kMinuteUs;
  return m > now_us ? m - kMinuteUs : m;
}

// One multiwindow condition of a burn-rate alert: the burn rate is over `burn_rate` in both the
// long and the short window.
struct BurnCondition {
  Severity severity = Severity::kPage;
  double burn_rate = 0;
  DurationUs long_us = 0;
  DurationUs short_us = 0;
  bool operator==(const BurnCondition&) const = default;
};

// The SRE workbook's defaults: page at 14.4 over 1h and 5m, or 6 over 6h and 30m; ticket at 3
// over 1d and 2h, or 1 over 3d and 6h.
std::vector<BurnCondition> default_burn_conditions();

// The windows leeway always reports burn rates for: 5m, 30m, 1h, 2h, 6h, 1d and 3d.
inline constexpr std::array<DurationUs, 7> kBurnWindowsUs = {
    5 * kMinuteUs, 30 * kMinuteUs, kHourUs, 2 * kHourUs, 6 * kHourUs, kDayUs, 3 * kDayUs};

// The longest window an alert condition may use.
inline constexpr DurationUs kMaxAlertWindowUs = 30 * kDayUs;

// One SLO of a service.
struct SloSpec {
  std::string id;       // unique in the config; the `slo` label in /metrics and the rules
  std::string service;  // the owning service's id
  Sli sli = Sli::kAvailabilityMinutes;
  Ratio objective;
  Window window;
  Method method = Method::kTimeslices;
  // kTimeslices over runs: the share of good runs that makes a minute good.
  Ratio slice_target;
  DurationUs threshold_us = 0;        // kLatency: a run at most this long is good
  std::vector<std::string> checks;    // the check ids it reads (every one of the service's)
  std::vector<BurnCondition> alerts;  // default_burn_conditions() unless the config says
  // Whether minutes of incidents attributed to a network (`network:*`) spend the budget: yes by
  // default, since users felt them; when not, they leave the window as minutes without data.
  bool network_spends_budget = true;
  bool operator==(const SloSpec&) const = default;
};

// The rolling windows an SLO's burn rates are kept for: kBurnWindowsUs and every window its
// alert conditions name, shortest first, each once.
std::vector<DurationUs> burn_windows(const SloSpec& spec);

// What is wrong with a spec as a whole, or "" when nothing is: the checks below, and an id,
// service and objective that are set. The config reports each part where it was written.
std::string check_spec(const SloSpec& spec);

// "" when `method` fits `sli`: a time-based SLI counts minutes, so its method is timeslices.
std::string check_method(Sli sli, Method method);

// "" when `threshold_us` is one of latency_thresholds_us(), else what is allowed.
std::string check_threshold(DurationUs threshold_us);

// "" when the condition can be evaluated: a burn rate above 0, whole-minute windows, the short
// one shorter than the long one, the long one at most kMaxAlertWindowUs.
std::string check_condition(const BurnCondition& condition);

// The latency thresholds an SLO may use: the bounds of the per-minute latency histogram
// (store::kLatencyBucketBoundsUs), so that "faster than" is counted, never interpolated.
std::vector<DurationUs> latency_thresholds_us();

// Formats a window as the rules and the API name it: "5m", "1h", "3d", "90m".
std::string window_name(DurationUs window_us);

}  // namespace leeway::slo
