// The SLO engine: fed each SLO's SLI minute by minute, it gives at any evaluation time the
// error budget (total, spent, remaining), the burn rates over 5m to 3d and when the budget runs
// out, and it steps the multiwindow burn-rate alerts, yielding fire and resolve events at the
// evaluation times. Pure computation: no I/O, no clock, not thread-safe (one owner).
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "slo/alerts.h"
#include "slo/series.h"
#include "slo/spec.h"

namespace leeway::slo {

// The burn rate over one window ending at the evaluation minute.
struct BurnRate {
  DurationUs window_us = 0;
  WindowSums sums;
  // (bad / weight) / (1 - objective): 1 spends the budget in exactly the SLO's window. None when
  // the window holds no data: unknown, never 0.
  std::optional<double> rate;
};

// The error budget over the SLO's window at the evaluation time, in its unit: events (runs) for
// occurrences, minutes for timeslices and ratio timeslices. Minutes without data leave the
// window: they count in neither total nor spent, and are shown in counted.no_data_minutes().
struct Budget {
  Period period;
  WindowSums counted;  // the period's minutes before the evaluation minute
  // A calendar month's minutes from the evaluation minute to its end. For timeslices they are
  // expected to come with data, so the month's budget is known from its first minute (44.64
  // minutes at 99.9% in a 31-day month); for occurrences events to come cannot be known, and the
  // budget is that of the events counted so far.
  std::int64_t minutes_to_come = 0;
  double total = 0;  // (1 - objective) x (weight counted + minutes to come for timeslices)
  double spent = 0;  // counted.bad
  double remaining() const { return total - spent; }
  // remaining / total; none when the total is 0 (no data at all): unknown.
  std::optional<double> remaining_ratio;
};

// Everything an evaluation found for one SLO.
struct SloStatus {
  TimeUs at_us = 0;
  Budget budget;
  std::vector<BurnRate> burn_rates;  // burn_windows(spec), shortest first
  // When the budget runs out if it keeps burning at the 1h rate: the remaining share of the
  // budget lasts remaining_ratio x window / rate. The evaluation time when it is already spent;
  // none when nothing burns in the last hour or nothing is known.
  std::optional<TimeUs> exhausted_at_us;
  std::array<bool, 2> firing{};  // by Severity
  // Every minute closed (passed by an evaluation) since the first evaluation, as each stood
  // then: what /metrics counts as leeway_slo_slices_total (data_minutes) and, for the sliced
  // methods, leeway_slo_bad_slices_total (bad), the counters the Prometheus rules read. A late
  // minute changes the budget and burn rates, not these: a counter only goes up.
  WindowSums closed;

  // The burn rate over `window_us`, or nullptr when it is not one of burn_windows(spec).
  const BurnRate* burn(DurationUs window_us) const;
};

// The window whose burn rate the exhaustion time assumes.
inline constexpr DurationUs kCurrentRateWindowUs = kHourUs;

// The unit a budget is counted in: "events" or "minutes".
std::string_view budget_unit(const SloSpec& spec);

class Engine {
 public:
  // REQUIRES: every spec passes check_spec, ids unique.
  explicit Engine(std::vector<SloSpec> specs);

  const std::vector<SloSpec>& specs() const { return specs_; }
  // The index of the SLO with this id.
  std::optional<std::size_t> find(std::string_view id) const;

  // Sets one minute of an SLO's SLI, replacing what was there, so that a late result is one
  // more call for the minute it falls in. False (and ignored) when the minute is older than
  // the SLO needs, or more than a day after the last evaluation (a clock gone wrong).
  // REQUIRES: slo < specs().size(), minute_us a multiple of kMinuteUs.
  bool set_minute(std::size_t slo, TimeUs minute_us, MinuteCounts counts);

  // Evaluates every SLO at `now_us` over the whole minutes before it and steps the alerts.
  // Returns the alerts that fired or resolved, at now_us, in SLO order then page before ticket.
  // Evaluation times must not go backwards (an earlier one is ignored and returns nothing).
  std::vector<AlertEvent> evaluate(TimeUs now_us);

  // Sets an alert's state as a stored event left it, before the first evaluate after a
  // restart, so that an alert already firing does not fire again.
  void restore_alert(std::size_t slo, Severity severity, bool firing, TimeUs since_us);

  // One minute of an SLO as set (zero when unknown), and the sums of its minutes in
  // [from_us, to_us): for breakdowns by cause. REQUIRES: multiples of kMinuteUs.
  MinuteCounts minute(std::size_t slo, TimeUs minute_us) const;
  WindowSums sum(std::size_t slo, TimeUs from_us, TimeUs to_us) const;

  // An SLO's status as of the last evaluate (default-constructed before the first).
  const SloStatus& status(std::size_t slo) const { return slos_[slo].status; }

  // Bytes held by the minute series, roughly.
  std::size_t memory_bytes() const;

 private:
  struct Slo {
    MinuteSeries series;
    std::vector<DurationUs> windows;
    Period period;  // the last calendar period computed; recomputed when now leaves it
    std::optional<TimeUs> closed_until_us;  // status.closed holds the minutes before this
    SloStatus status;
    std::array<AlertState, 2> alerts;  // by Severity
  };

  void evaluate_one(const SloSpec& spec, Slo& slo, TimeUs now_us, std::vector<AlertEvent>& events);

  std::vector<SloSpec> specs_;
  std::vector<Slo> slos_;
  std::optional<TimeUs> last_now_us_;
};

}  // namespace leeway::slo
