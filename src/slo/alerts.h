// Multiwindow, multi-burn-rate alerts as a state machine. An alert is one (SLO, severity): it
// fires when any of its conditions holds (long and short window both over the burn rate) and
// stays firing while any holds, so when the slow pair takes over from the fast one nothing
// resolves and fires again.
//
// Leeway's rule for windows without data (zero traffic): such a window has no burn rate. A
// condition is met when both its windows are known and over the threshold, unmet when either is
// known and not over it, and undecided otherwise (a window without data, the other over). The
// alert fires when a condition is met, resolves only when every condition is unmet, and
// otherwise keeps its state: a silence is no evidence of recovery, nor of burning. (Prometheus
// divides 0 by 0 there; NaN compares false, so its alert resolves.)
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>

#include "core/time.h"
#include "slo/spec.h"

namespace leeway::slo {

// An alert that fired or resolved.
struct AlertEvent {
  std::string slo;
  Severity severity = Severity::kPage;
  bool firing = false;  // true: fired; false: resolved
  TimeUs at_us = 0;     // the evaluation time
  // Fired: the first condition found met, for the reason shown.
  std::optional<BurnCondition> condition;
  bool operator==(const AlertEvent&) const = default;
};

// The error ratio (bad / weight) over a window ending at the evaluation, or none without data.
using ErrorRatioOf = std::function<std::optional<double>(DurationUs window_us)>;

// The verdict on one severity's conditions: the first one met; or none met, known when every
// one is unmet; or unknown.
struct Verdict {
  bool met = false;
  bool known = false;  // met, or every condition judged
  std::optional<BurnCondition> condition;
};

// Judges the conditions of `severity` among `conditions`. A condition holds when the error
// ratio over both windows is above burn_rate x budget, compared as PromQL compares
// `ratio > (burn_rate * budget)`, so that both decide alike on the same numbers.
Verdict judge(std::span<const BurnCondition> conditions, Severity severity, double budget,
              const ErrorRatioOf& error_ratio);

// One alert's state. Feed it a verdict per evaluation; it says when it changes.
class AlertState {
 public:
  bool firing() const { return firing_; }
  TimeUs since_us() const { return since_us_; }
  // Applies a verdict at `at_us`; true when the state changed (fired or resolved).
  bool step(const Verdict& verdict, TimeUs at_us);
  // Sets the state a stored event says it had (after a restart), without an event.
  void restore(bool firing, TimeUs since_us) {
    firing_ = firing;
    since_us_ = since_us;
  }

 private:
  bool firing_ = false;
  TimeUs since_us_ = 0;
};

}  // namespace leeway::slo
