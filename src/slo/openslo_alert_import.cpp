// OpenSLO alert policies and their burn-rate conditions read as leeway's multiwindow conditions:
// the lookbackWindow is the long window, and the short one is the window leeway pairs with it.
#include <cctype>
#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "slo/openslo.h"
#include "slo/openslo_read.h"

namespace leeway::slo::openslo {

namespace {

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// A window written as a duration shorthand of fixed length ("1h", "5m"), or an error at `at`.
std::optional<DurationUs> fixed_window(const YAML::Node& at, std::string_view key,
                                       const std::string& text, Messages& messages) {
  auto shorthand = parse_shorthand(text);
  auto us = shorthand ? shorthand->fixed_us() : std::nullopt;
  if (!us || *us <= 0) {
    messages.error(at,
                   fmt::format("{}: expected a duration like 1h or 30m, got \"{}\"", key, text));
    return std::nullopt;
  }
  return us;
}

// One AlertCondition document (or inline condition): its severity and burn-rate condition.
std::optional<BurnCondition> read_condition(const YAML::Node& document, Messages& messages) {
  Field spec = field(document, "spec");
  Field severity = field(spec.value, "severity");
  Field condition = field(spec.value, "condition");
  if (!condition) {
    messages.error(spec ? spec.key : document, "condition: required: a burn-rate condition");
    return std::nullopt;
  }
  BurnCondition out;
  bool ok = true;
  auto wrong = [&](const YAML::Node& at, const std::string& message) {
    messages.error(at, message);
    ok = false;
  };
  if (auto s = severity_from_string(lower(severity.text())))
    out.severity = *s;
  else
    wrong(
        severity ? severity.key : spec.key,
        fmt::format("severity: leeway raises page or ticket alerts, got \"{}\"", severity.text()));
  const YAML::Node& c = condition.value;
  Field kind = field(c, "kind"), op = field(c, "op"), threshold = field(c, "threshold");
  Field lookback = field(c, "lookbackWindow"), after = field(c, "alertAfter");
  if (kind.text() != "burnrate") {
    wrong(kind ? kind.key : condition.key,
          fmt::format("kind: leeway alerts on burn rates only (kind: burnrate), got \"{}\"",
                      kind.text()));
    return std::nullopt;
  }
  if (!op)
    wrong(condition.key,
          "condition: a burn-rate condition needs op: gt (the alert fires while the burn rate "
          "is over the threshold)");
  else if (op.text() != "gt")
    wrong(op.key, fmt::format("op: leeway fires while the burn rate is over the threshold (gt), "
                              "got \"{}\"",
                              op.text()));
  const std::string rate = threshold.text();
  auto [end, ec] = std::from_chars(rate.data(), rate.data() + rate.size(), out.burn_rate);
  if (ec != std::errc() || end != rate.data() + rate.size() || !(out.burn_rate > 0) ||
      !std::isfinite(out.burn_rate))
    wrong(threshold ? threshold.key : condition.key,
          fmt::format("threshold: expected a burn rate above 0, like 14.4, got \"{}\"", rate));
  if (auto long_us = fixed_window(lookback ? lookback.key : condition.key, "lookbackWindow",
                                  lookback.text(), messages))
    out.long_us = *long_us;
  else
    return std::nullopt;
  Field annotations = field(field(document, "metadata").value, "annotations");
  if (Field named = field(annotations.value, kShortWindowAnnotation)) {
    auto short_us = fixed_window(named.key, kShortWindowAnnotation, named.text(), messages);
    if (!short_us) return std::nullopt;
    out.short_us = *short_us;
  } else if (DurationUs paired = paired_short_window(out.long_us)) {
    out.short_us = paired;
  } else {
    wrong(lookback.key,
          fmt::format("lookbackWindow: leeway pairs each long window with a short one (1h/5m, "
                      "6h/30m, 1d/2h, 3d/6h); {} is none of them: name its short window in the "
                      "annotation {}",
                      lookback.text(), kShortWindowAnnotation));
  }
  if (!ok) return std::nullopt;
  if (std::string bad = check_condition(out); !bad.empty()) {
    messages.error(condition.key, fmt::format("condition: {}", bad));
    return std::nullopt;
  }
  auto after_us = after ? parse_shorthand(after.text()) : std::nullopt;
  if (after && (!after_us || after_us->fixed_us().value_or(1) != 0))
    messages.warning(
        after.key,
        fmt::format("alertAfter {} is not kept: leeway fires as soon as the burn rate "
                    "is over {} in both {} and {}",
                    after.text(), rate, window_name(out.long_us), window_name(out.short_us)));
  return out;
}

// The name an item refers to by `ref_key` or as a bare string; "" when it is neither.
std::string reference(const YAML::Node& item, std::string_view ref_key) {
  return item.IsScalar() ? item.Scalar() : field(item, ref_key).text();
}

// An AlertPolicy document or inline policy: its conditions, inline or by conditionRef.
std::optional<std::vector<BurnCondition>> read_policy(const YAML::Node& policy,
                                                      const Alerts& alerts, Messages& messages) {
  std::size_t errors = messages.errors.size();
  Field spec = field(policy, "spec");
  if (Field no_data = field(spec.value, "alertWhenNoData"); no_data.text() == "true")
    messages.error(no_data.key,
                   "alertWhenNoData: leeway never alerts on missing data: a window without "
                   "data has no burn rate, and the alert keeps its state");
  if (Field breaching = field(spec.value, "alertWhenBreaching"); breaching.text() == "false")
    messages.error(breaching.key, "alertWhenBreaching: leeway alerts when the budget burns");
  Field conditions = field(spec.value, "conditions");
  if (!conditions.value.IsSequence() || conditions.value.size() == 0) {
    messages.error(conditions ? conditions.key : policy,
                   "conditions: expected a list of burn-rate conditions");
    return std::nullopt;
  }
  std::vector<BurnCondition> out;
  for (const auto& c : conditions.value) {
    if (field(c, "kind").text() == "AlertCondition") {
      if (auto condition = read_condition(c, messages)) out.push_back(*condition);
      continue;
    }
    std::string name = reference(c, "conditionRef");
    auto it = alerts.conditions.find(name);
    if (it == alerts.conditions.end())
      messages.error(c,
                     fmt::format("conditions: no AlertCondition named \"{}\" in the file", name));
    else if (it->second)
      out.push_back(*it->second);
    else
      return std::nullopt;  // its errors are reported where it is defined
  }
  if (messages.errors.size() != errors) return std::nullopt;
  return out;
}

}  // namespace

Alerts read_alerts(const Documents& documents, Messages& messages) {
  Alerts out;
  for (const auto& [name, document] : documents.alert_conditions)
    out.conditions.emplace(name, read_condition(document, messages));
  for (const auto& [name, document] : documents.alert_policies)
    out.policies.emplace(name, read_policy(document, out, messages));
  return out;
}

std::optional<std::vector<BurnCondition>> read_alert_policies(const Field& policies,
                                                              const Alerts& alerts,
                                                              Messages& messages) {
  if (!policies || policies.value.IsNull() ||
      (policies.value.IsSequence() && policies.value.size() == 0))
    return default_burn_conditions();
  if (!policies.value.IsSequence()) {
    messages.error(policies.key, "alertPolicies: expected a list");
    return std::nullopt;
  }
  std::vector<BurnCondition> out;
  bool ok = true;
  for (const auto& item : policies.value) {
    std::optional<std::vector<BurnCondition>> conditions;
    if (field(item, "kind").text() == "AlertPolicy") {
      conditions = read_policy(item, alerts, messages);
    } else if (auto it = alerts.policies.find(reference(item, "alertPolicyRef"));
               it != alerts.policies.end()) {
      conditions = it->second;
    } else {
      messages.error(item, fmt::format("alertPolicies: no AlertPolicy named \"{}\" in the file",
                                       reference(item, "alertPolicyRef")));
    }
    if (!conditions)
      ok = false;
    else
      out.insert(out.end(), conditions->begin(), conditions->end());
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace leeway::slo::openslo
