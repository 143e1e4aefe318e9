// Prometheus rules for SLOs: the text of a rule file, written by hand (block scalars for the
// expressions, so PromQL's quotes need no YAML escaping).
#include "slo/rules.h"

#include <algorithm>

#include <fmt/format.h>

namespace leeway::slo {

namespace {

constexpr std::string_view kRatioRecord = "leeway_slo:sli_error:ratio_rate";

// A label matcher for the SLO's checks: equality for one, an anchored alternation for several
// (ids hold letters, digits, '-', '_', '.' and the one '/': only '.' means something in a regex;
// its backslash is doubled for the PromQL string).
std::string check_matcher(const SloSpec& spec) {
  if (spec.checks.size() == 1) return fmt::format("check=\"{}\"", spec.checks[0]);
  std::string alternation;
  for (const auto& check : spec.checks) {
    if (!alternation.empty()) alternation += '|';
    for (char c : check) {
      if (c == '.') alternation += "\\\\";
      alternation += c;
    }
  }
  return fmt::format("check=~\"{}\"", alternation);
}

// The error and total expressions of the SLI over `[window]`.
std::pair<std::string, std::string> sli_exprs(const SloSpec& spec, std::string_view window) {
  if (spec.method != Method::kOccurrences) {
    std::string slo = fmt::format("slo=\"{}\"", spec.id);
    return {fmt::format("sum(rate({}{{{}}}[{}]))", kBadSlicesMetric, slo, window),
            fmt::format("sum(rate({}{{{}}}[{}]))", kSlicesMetric, slo, window)};
  }
  std::string checks = check_matcher(spec);
  if (spec.sli == Sli::kLatency) {
    std::string total =
        fmt::format("sum(rate({}_count{{{}}}[{}]))", kDurationMetric, checks, window);
    std::string fast = fmt::format("sum(rate({}_bucket{{{},le=\"{}\"}}[{}]))", kDurationMetric,
                                   checks, le_label(spec.threshold_us), window);
    return {fmt::format("{} - {}", total, fast), total};
  }
  return {fmt::format("sum(rate({}{{{},outcome=\"down\"}}[{}]))", kRunsMetric, checks, window),
          fmt::format("sum(rate({}{{{}}}[{}]))", kRunsMetric, checks, window)};
}

void append_labels(std::string& out, const SloSpec& spec, std::string_view extra = {}) {
  out += fmt::format("        labels:\n          slo: {}\n          service: {}\n", spec.id,
                     spec.service);
  if (!extra.empty()) out += extra;
}

void append_record(std::string& out, const SloSpec& spec, std::string_view record,
                   std::string_view expr, std::string_view extra = {}) {
  out += fmt::format("      - record: {}\n        expr: {}\n", record, expr);
  append_labels(out, spec, extra);
}

void append_slo(std::string& out, const SloSpec& spec) {
  const std::string budget = spec.objective.complement_text();
  const std::string selector = fmt::format("{{slo=\"{}\"}}", spec.id);
  out += fmt::format("  # {}: {} of {}, objective {}%, window {}, method {}.\n", spec.id,
                     to_string(spec.sli), spec.service, spec.objective.percent_text(),
                     spec.window.to_string(), to_string(spec.method));
  out += fmt::format("  - name: leeway-slo-{}\n    rules:\n", spec.id);

  std::vector<DurationUs> windows = burn_windows(spec);
  if (!spec.window.calendar() &&
      std::find(windows.begin(), windows.end(), spec.window.rolling_us) == windows.end())
    windows.push_back(spec.window.rolling_us);
  for (DurationUs window : windows) {
    std::string name = window_name(window);
    auto [errors, total] = sli_exprs(spec, name);
    out += fmt::format(
        "      - record: {}{}\n        expr: |\n          ({})\n          /\n          ({})\n",
        kRatioRecord, name, errors, total);
    append_labels(out, spec, fmt::format("          window: {}\n", name));
  }

  append_record(out, spec, "leeway_slo:objective:ratio",
                fmt::format("vector({})", spec.objective.value()));
  append_record(out, spec, "leeway_slo:error_budget:ratio", fmt::format("vector({})", budget));
  append_record(out, spec, "leeway_slo:current_burn_rate:ratio",
                fmt::format("{}{}{} / {}", kRatioRecord, window_name(kHourUs), selector, budget));
  if (!spec.window.calendar()) {
    append_record(out, spec, "leeway_slo:period_burn_rate:ratio",
                  fmt::format("{}{}{} / {}", kRatioRecord, window_name(spec.window.rolling_us),
                              selector, budget));
    append_record(out, spec, "leeway_slo:period_error_budget_remaining:ratio",
                  fmt::format("1 - leeway_slo:period_burn_rate:ratio{}", selector));
  } else {
    out +=
        "      # A calendar month is no range PromQL can select: its budget is leeway's "
        "alone.\n";
  }

  for (Severity severity : {Severity::kPage, Severity::kTicket}) {
    std::vector<std::string> pairs;
    for (const auto& c : spec.alerts) {
      if (c.severity != severity) continue;
      std::string threshold = fmt::format("({} * {})", c.burn_rate, budget);
      auto side = [&](DurationUs window) {
        return fmt::format("max without (window) ({}{}{} > {})", kRatioRecord, window_name(window),
                           selector, threshold);
      };
      pairs.push_back(
          fmt::format("          (\n            {}\n            and\n            {}\n          )",
                      side(c.long_us), side(c.short_us)));
    }
    if (pairs.empty()) continue;
    std::string expr;
    for (const auto& pair : pairs) expr += (expr.empty() ? "" : "\n          or\n") + pair;
    out += fmt::format("      - alert: LeewaySloErrorBudgetBurn\n        expr: |\n{}\n", expr);
    append_labels(out, spec, fmt::format("          severity: {}\n", to_string(severity)));
    out += fmt::format(
        "        annotations:\n"
        "          summary: \"SLO {} of {} is burning its error budget too fast ({})\"\n",
        spec.id, spec.service, to_string(severity));
  }
}

}  // namespace

std::string le_label(DurationUs bound_us) {
  return fmt::format("{}", double(bound_us) / 1e6);
}

std::string prometheus_rules(std::span<const SloSpec> slos, std::string_view source) {
  std::string out = fmt::format(
      "# Prometheus rules for the SLOs of {}, written by `leeway slo rules`.\n"
      "# They read leeway's /metrics: {} (by check, location and outcome),\n"
      "# {} (by check and location), and the SLO engine's {} and\n"
      "# {} (by slo). An error ratio per window, then one alert per SLO and severity:\n"
      "# the same alerts at the same evaluations as leeway's engine, except where a window has\n"
      "# no data: PromQL's 0/0 is NaN and the alert resolves, while leeway holds its state.\n"
      "groups:\n",
      source, kRunsMetric, kDurationMetric, kSlicesMetric, kBadSlicesMetric);
  if (slos.empty()) return out + "  []\n";
  for (const auto& spec : slos) append_slo(out, spec);
  return out;
}

}  // namespace leeway::slo
