// Burn-rate alert verdicts and the firing/resolved state.
#include "slo/alerts.h"

namespace leeway::slo {

Verdict judge(std::span<const BurnCondition> conditions, Severity severity, double budget,
              const ErrorRatioOf& error_ratio) {
  Verdict verdict{false, true, std::nullopt};
  for (const auto& condition : conditions) {
    if (condition.severity != severity) continue;
    double threshold = condition.burn_rate * budget;
    auto long_ratio = error_ratio(condition.long_us);
    auto short_ratio = error_ratio(condition.short_us);
    // A window known to be under the threshold settles the condition even if the other is not.
    bool long_under = long_ratio && !(*long_ratio > threshold);
    bool short_under = short_ratio && !(*short_ratio > threshold);
    if (long_ratio && short_ratio && !long_under && !short_under)
      return Verdict{true, true, condition};
    if (!long_under && !short_under) verdict.known = false;
  }
  return verdict;
}

bool AlertState::step(const Verdict& verdict, TimeUs at_us) {
  if (!verdict.known || verdict.met == firing_) return false;
  firing_ = verdict.met;
  since_us_ = at_us;
  return true;
}

}  // namespace leeway::slo
