// The daemon's SLOs: the SLO engine fed from the results stream, restored from the store's
// minute rollups at start, evaluated every 10 s of the injected clock; its alert events and the
// gate's decisions kept in memory for the API. Internal to the daemon module. Thread-safe: the
// stream's thread feeds it, the clock's timer evaluates it, the API and /metrics read it.
#pragma once

#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "slo/engine.h"
#include "store/store.h"

namespace leeway::daemon {

// How often the SLOs are evaluated, on the injected clock.
inline constexpr DurationUs kEvaluateEveryUs = 10 * kSecondUs;

// One SLO as the API and /metrics show it, copied out under the lock.
struct SloView {
  slo::SloSpec spec;
  slo::SloStatus status;
  bool evaluated = false;  // false before the first evaluation: nothing is known yet
};

// One answer of the deploy gate.
struct GateDecision {
  std::string service;
  std::string kind;      // deploy, fix or rollback
  std::string decision;  // go, hold or unknown
  std::vector<std::string> reasons;
  TimeUs at_us = 0;
};

class SloState {
 public:
  SloState(const config::Config& cfg, store::Store& store);

  // Reads the window's history from the store's minute rollups, then evaluates at `now_us`.
  Status restore(TimeUs now_us);
  // Recomputes the minutes the batch's results fall in (a late result: only its minute).
  void add(std::span<const store::Committed> batch);
  // Evaluates every SLO at `now_us`; logs and keeps the alerts that fired or resolved.
  void evaluate(TimeUs now_us);

  std::vector<SloView> views() const;
  std::optional<SloView> view(std::string_view id) const;
  // The alert events kept (the latest kMaxKept), oldest first; of one SLO when `id` is set.
  std::vector<slo::AlertEvent> events(std::string_view id = {}) const;

  void record(GateDecision decision);
  std::vector<GateDecision> decisions(std::string_view service) const;

  static constexpr std::size_t kMaxKept = 1000;

 private:
  // One minute of an SLO from the store's rollups of that minute.
  Result<slo::MinuteCounts> read_minute(const slo::SloSpec& spec, TimeUs minute_us);
  slo::MinuteCounts counts(const slo::SloSpec& spec,
                           std::span<const store::MinuteRollup> rollups) const;

  store::Store& store_;
  config::DownWhen down_when_;  // the incident quorum, for time-based SLIs
  mutable std::mutex mutex_;
  slo::Engine engine_;  // under mutex_
  bool evaluated_ = false;
  std::deque<slo::AlertEvent> events_;
  std::deque<GateDecision> decisions_;
};

// The SLO families of /metrics: budget remaining, burn rates, alerts firing, and the slice
// counters `leeway slo rules` reads (slo/rules.h).
std::string render_slo_metrics(const std::vector<SloView>& slos);

// One SLO as the API shows it (`events`: its alert events kept).
nlohmann::json slo_json(const SloView& view, const std::vector<slo::AlertEvent>& events);

}  // namespace leeway::daemon
