// The daemon's SLOs: the SLO engine fed from the results stream and the detector's incidents,
// restored from the stores at start, evaluated every 10 s of the injected clock; its alert events
// written to the SLO store. Internal to the daemon module. Thread-safe: the stream's thread feeds
// it, the SLO worker evaluates it, the API and /metrics read it.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.h"
#include "daemon/slo_causes.h"
#include "incident/labels.h"
#include "slo/engine.h"
#include "store/incident_store.h"
#include "store/slo_store.h"
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

// The stores an SloState reads and writes; they must outlive it.
struct SloStores {
  store::Store& results;
  store::IncidentStore& incidents;
  store::SloStore& slos;
};

class SloState {
 public:
  SloState(const config::Config& cfg, SloStores stores);

  // Reads the alert states, the incidents and the window's minutes from the stores, then
  // evaluates at `now_us`: an alert that was firing before a restart does not fire again.
  Status restore(TimeUs now_us);
  // Recomputes the minutes the batch's results fall in (a late result: only its minute).
  void add(std::span<const store::Committed> batch);
  // Reads the SLOs' services' incidents again (the minutes they cover change), evaluates every
  // SLO at `now_us`, logs the alerts that fired or resolved and writes them to the SLO store.
  void evaluate(TimeUs now_us);

  std::vector<SloView> views() const;
  std::optional<SloView> view(std::string_view id) const;
  // An SLO's budget spent by cause as of the last evaluation, given the service's changes that
  // may fall in its window; none when there is no SLO with this id.
  std::optional<Causes> causes(std::string_view id,
                               std::span<const store::StoredChange> changes) const;
  // An SLO's budget remaining over its window as of the last evaluation, at `points` times.
  std::vector<BurnDownPoint> burn_down(std::string_view id, int points) const;

  // How long after its change window a change's window may start before the budget period and
  // still overlap it: changes to read for causes() start this long before the period.
  DurationUs change_window_us() const { return change_window_us_; }

 private:
  // The minutes covered by a service's incidents, each marked whether a network is to blame.
  using Cover = std::map<TimeUs, bool>;

  // One minute of an SLO from the store's rollups of that minute and the incidents' cover.
  slo::MinuteCounts counts(const slo::SloSpec& spec, std::span<const store::MinuteRollup> rollups,
                           const bool* network) const;
  // Sets the minutes of an SLO in [from_us, to_us) again from the store's rollups.
  // REQUIRES: update_mutex_.
  Status read_minutes(std::size_t slo, TimeUs from_us, TimeUs to_us);
  // Reads the incidents of the SLOs' services from `now_us` - the history on, and the minutes
  // they cover. REQUIRES: update_mutex_.
  Result<std::map<std::string, std::vector<store::StoredIncident>>> read_incidents(TimeUs now_us);
  // Reads the incidents again and sets again the minutes whose cover changed.
  // REQUIRES: update_mutex_.
  Status refresh_incidents(TimeUs now_us);
  // evaluate(). REQUIRES: update_mutex_.
  void evaluate_locked(TimeUs now_us);
  // Writes the alert events not yet stored, oldest first; keeps them when the store fails.
  void store_events();

  SloStores stores_;
  DurationUs change_window_us_;
  DurationUs history_us_ = 0;                       // the longest history any SLO reads
  std::map<std::string, incident::Labels> labels_;  // by location: the networks of the quorum
  // Held by whoever sets minutes (the stream's thread, the evaluations), so that a minute read
  // from the store is set with the cover it was read with; never while waiting for mutex_'s
  // readers.
  std::mutex update_mutex_;
  std::map<std::string, Cover> cover_;           // by service; under update_mutex_
  std::deque<store::StoredAlertEvent> unsaved_;  // under update_mutex_
  mutable std::mutex mutex_;                     // what the API reads
  slo::Engine engine_;                           // under mutex_
  bool evaluated_ = false;                       // under mutex_
  std::map<std::string, std::vector<store::StoredIncident>> incidents_;  // by service; mutex_
};

// The SLO families of /metrics: budget remaining, burn rates, alerts firing, and the slice
// counters `leeway slo rules` reads (slo/rules.h).
std::string render_slo_metrics(const std::vector<SloView>& slos);

// One decision of the deploy gate as the API shows it (gate.cpp).
nlohmann::json decision_json(const store::StoredDecision& d);

// One SLO as the API shows it (`events`: its latest alert events from the store).
nlohmann::json slo_json(const SloView& view, const std::vector<store::StoredAlertEvent>& events);

}  // namespace leeway::daemon
