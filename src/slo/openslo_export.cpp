// leeway SLOs written as OpenSLO v1 documents: a Service per service, an SLO per SLO with its SLI
// (a leeway metric source naming the checks) and one alert policy per burn-rate condition.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

#include "slo/openslo.h"
#include "slo/openslo_read.h"

namespace leeway::slo {

namespace {

// A ratio as OpenSLO writes targets: a fraction, "0.999", "1".
std::string fraction_text(const Ratio& r) {
  constexpr std::int64_t kBillion = 1'000'000'000;
  if (r.billionths == kBillion) return "1";
  std::string digits = fmt::format("{:09}", r.billionths);
  while (digits.back() == '0') digits.pop_back();
  return "0." + digits;
}

std::string_view method_name(Method method) {
  switch (method) {
    case Method::kOccurrences:
      return "Occurrences";
    case Method::kTimeslices:
      return "Timeslices";
    case Method::kRatioTimeslices:
      return "RatioTimeslices";
  }
  return "";
}

// The metric source of every part of the SLI: leeway's, naming the checks.
std::string metric_source(const SloSpec& s, int indent) {
  std::string checks = s.checks.size() == 1
                           ? fmt::format("check: {}", s.checks.front())
                           : fmt::format("checks: [{}]", fmt::join(s.checks, ", "));
  std::string pad(indent, ' ');
  return fmt::format("{0}metricSource:\n{0}  type: {1}\n{0}  spec: {{{2}, sli: {3}}}\n", pad,
                     kLeewayMetricSource, checks, to_string(s.sli));
}

std::string indicator(const SloSpec& s) {
  std::string out =
      fmt::format("  indicator:\n    metadata:\n      name: {}-sli\n    spec:\n", s.id);
  if (s.sli == Sli::kLatency) return out + "      thresholdMetric:\n" + metric_source(s, 8);
  out += "      ratioMetric:\n        counter: true\n";
  for (const char* part : {"good", "total"})
    out += fmt::format("        {}:\n", part) + metric_source(s, 10);
  return out;
}

std::string time_window(const Window& w) {
  if (!w.calendar())
    return fmt::format("  timeWindow:\n    - duration: {}\n      isRolling: true\n",
                       window_name(w.rolling_us));
  // Any month's first midnight: leeway's months start there in the zone.
  return fmt::format(
      "  timeWindow:\n    - duration: 1M\n      isRolling: false\n      calendar:\n"
      "        startTime: \"2020-01-01 00:00:00\"\n        timeZone: {}\n",
      w.time_zone);
}

std::string objective(const SloSpec& s) {
  std::string out = fmt::format("  objectives:\n    - displayName: {}\n", s.id);
  if (s.sli == Sli::kLatency) {
    // Every latency bound is whole milliseconds (5ms ... 10s).
    out += fmt::format("      op: lte\n      value: {}\n", s.threshold_us / kMillisecondUs);
  }
  out += fmt::format("      target: {}\n", fraction_text(s.objective));
  if (s.method == Method::kTimeslices)
    out += fmt::format("      timeSliceTarget: {}\n",
                       s.sli == Sli::kAvailabilityMinutes ? "1" : fraction_text(s.slice_target));
  if (s.method != Method::kOccurrences) out += "      timeSliceWindow: 1m\n";
  return out;
}

std::string alert_policies(const SloSpec& s) {
  std::string out = "  alertPolicies:\n";
  for (const auto& c : s.alerts) {
    std::string name = fmt::format("{}-{}-{}", s.id, to_string(c.severity), window_name(c.long_us));
    std::string annotation =
        c.short_us == openslo::paired_short_window(c.long_us)
            ? ""
            : fmt::format("              annotations:\n                {}: {}\n",
                          kShortWindowAnnotation, window_name(c.short_us));
    out += fmt::format(
        "    - kind: AlertPolicy\n      metadata:\n        name: {0}\n      spec:\n"
        "        alertWhenBreaching: true\n        alertWhenResolved: true\n"
        "        alertWhenNoData: false\n        conditions:\n"
        "          - kind: AlertCondition\n            metadata:\n              name: {0}\n{1}"
        "            spec:\n              severity: {2}\n              condition:\n"
        "                kind: burnrate\n                op: gt\n                threshold: {3}\n"
        "                lookbackWindow: {4}\n                alertAfter: 0m\n",
        name, annotation, to_string(c.severity), c.burn_rate, window_name(c.long_us));
  }
  return out;
}

}  // namespace

std::string export_openslo(const std::vector<SloSpec>& slos) {
  std::string out;
  std::vector<std::string> services;
  for (const auto& s : slos)
    if (std::find(services.begin(), services.end(), s.service) == services.end())
      services.push_back(s.service);
  for (const auto& service : services)
    out += fmt::format(
        "---\napiVersion: openslo/v1\nkind: Service\nmetadata:\n  name: {}\n"
        "spec:\n  description: the leeway service {}\n",
        service, service);
  for (const auto& s : slos) {
    out += fmt::format(
        "---\napiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: {}\nspec:\n  service: {}\n",
        s.id, s.service);
    out += indicator(s) + time_window(s.window);
    out += fmt::format("  budgetingMethod: {}\n", method_name(s.method));
    out += objective(s) + alert_policies(s);
  }
  return out;
}

}  // namespace leeway::slo
