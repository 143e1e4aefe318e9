// The SLO engine: budgets, burn rates and alert states from minute series.
#include "slo/engine.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace leeway::slo {

namespace {

// A calendar month reaches back at most this far from any time in it (31 days and a day for
// the time zone's offset).
constexpr DurationUs kLongestMonthUs = 32 * kDayUs;
// How far after the last evaluation a minute may be: further is a clock gone wrong.
constexpr DurationUs kFutureSlackUs = kDayUs;

DurationUs longest(const std::vector<DurationUs>& windows) {
  return windows.empty() ? 0 : windows.back();
}

// What the series must hold: the budget's reach and the longest burn window before it.
DurationUs span_of(const SloSpec& spec, const std::vector<DurationUs>& windows) {
  DurationUs budget = spec.window.calendar() ? kLongestMonthUs : spec.window.rolling_us;
  return std::max(budget, longest(windows)) + kFutureSlackUs + kHourUs;
}

}  // namespace

const BurnRate* SloStatus::burn(DurationUs window_us) const {
  for (const auto& b : burn_rates)
    if (b.window_us == window_us) return &b;
  return nullptr;
}

std::string_view budget_unit(const SloSpec& spec) {
  return spec.method == Method::kOccurrences ? "events" : "minutes";
}

Engine::Engine(std::vector<SloSpec> specs) : specs_(std::move(specs)) {
  slos_.reserve(specs_.size());
  for (const auto& spec : specs_) {
    std::vector<DurationUs> windows = burn_windows(spec);
    Ratio target = spec.sli == Sli::kAvailabilityMinutes ? Ratio{1'000'000'000} : spec.slice_target;
    slos_.push_back(Slo{MinuteSeries(Counting(spec.method, target), span_of(spec, windows)),
                        windows,
                        {},
                        {},
                        {},
                        {}});
  }
}

std::optional<std::size_t> Engine::find(std::string_view id) const {
  for (std::size_t i = 0; i < specs_.size(); ++i)
    if (specs_[i].id == id) return i;
  return std::nullopt;
}

bool Engine::set_minute(std::size_t slo, TimeUs minute_us, MinuteCounts counts) {
  Slo& s = slos_[slo];
  if (last_now_us_) {
    TimeUs m = evaluation_minute(*last_now_us_);
    TimeUs keep_from = std::min(s.period.start_us, m - longest(s.windows));
    if (minute_us < keep_from || minute_us >= m + kFutureSlackUs) return false;
  }
  return s.series.set(minute_us, counts);
}

std::vector<AlertEvent> Engine::evaluate(TimeUs now_us) {
  std::vector<AlertEvent> events;
  if (last_now_us_ && now_us < *last_now_us_) return events;
  last_now_us_ = now_us;
  for (std::size_t i = 0; i < specs_.size(); ++i) evaluate_one(specs_[i], slos_[i], now_us, events);
  return events;
}

void Engine::evaluate_one(const SloSpec& spec, Slo& slo, TimeUs now_us,
                          std::vector<AlertEvent>& events) {
  slo.series.settle();
  TimeUs m = evaluation_minute(now_us);
  if (!spec.window.calendar())
    slo.period = budget_period(spec.window, now_us);
  else if (now_us < slo.period.start_us || now_us >= slo.period.end_us)
    slo.period = budget_period(spec.window, now_us);  // time zone work only once a month

  SloStatus& status = slo.status;
  status.at_us = now_us;
  if (slo.closed_until_us && *slo.closed_until_us < m)
    status.closed.add(slo.series.sum(*slo.closed_until_us, m));
  if (!slo.closed_until_us || *slo.closed_until_us < m) slo.closed_until_us = m;
  const double budget = spec.objective.complement();

  Budget& b = status.budget;
  b.period = slo.period;
  b.counted = slo.series.sum(slo.period.start_us, std::min(m, slo.period.end_us));
  b.minutes_to_come = spec.window.calendar() ? (slo.period.end_us - m) / kMinuteUs : 0;
  double expected = b.counted.weight;
  if (spec.method != Method::kOccurrences) expected += double(b.minutes_to_come);
  b.total = budget * expected;
  b.spent = b.counted.bad;
  b.remaining_ratio = std::nullopt;
  if (b.total > 0) b.remaining_ratio = (b.total - b.spent) / b.total;

  status.burn_rates.clear();
  for (DurationUs window : slo.windows) {
    BurnRate rate{window, slo.series.sum(m - window, m), std::nullopt};
    if (rate.sums.weight > 0) rate.rate = rate.sums.bad / rate.sums.weight / budget;
    status.burn_rates.push_back(rate);
  }

  status.exhausted_at_us = std::nullopt;
  const BurnRate* current = status.burn(kCurrentRateWindowUs);
  if (b.remaining_ratio && *b.remaining_ratio <= 0) {
    status.exhausted_at_us = now_us;
  } else if (b.remaining_ratio && current && current->rate && *current->rate > 0) {
    double length = double(slo.period.end_us - slo.period.start_us);
    double lasts = *b.remaining_ratio * length / *current->rate;
    double limit = double(std::numeric_limits<TimeUs>::max() - now_us);
    if (lasts < limit) status.exhausted_at_us = now_us + TimeUs(lasts);
  }

  ErrorRatioOf error_ratio = [&](DurationUs window) -> std::optional<double> {
    const BurnRate* r = status.burn(window);
    if (r == nullptr || !(r->sums.weight > 0)) return std::nullopt;
    return r->sums.bad / r->sums.weight;
  };
  for (Severity severity : {Severity::kPage, Severity::kTicket}) {
    Verdict verdict = judge(spec.alerts, severity, budget, error_ratio);
    AlertState& state = slo.alerts[std::size_t(severity)];
    if (state.step(verdict, now_us))
      events.push_back(AlertEvent{spec.id, severity, state.firing(), now_us, verdict.condition});
    status.firing[std::size_t(severity)] = state.firing();
  }

  slo.series.drop_before(std::min(slo.period.start_us, m - longest(slo.windows)));
}

void Engine::restore_alert(std::size_t slo, Severity severity, bool firing, TimeUs since_us) {
  slos_[slo].alerts[std::size_t(severity)].restore(firing, since_us);
  slos_[slo].status.firing[std::size_t(severity)] = firing;
}

MinuteCounts Engine::minute(std::size_t slo, TimeUs minute_us) const {
  return slos_[slo].series.at(minute_us);
}

WindowSums Engine::sum(std::size_t slo, TimeUs from_us, TimeUs to_us) const {
  return slos_[slo].series.sum(from_us, to_us);
}

std::size_t Engine::memory_bytes() const {
  std::size_t bytes = 0;
  for (const auto& slo : slos_) bytes += slo.series.memory_bytes();
  return bytes;
}

}  // namespace leeway::slo
