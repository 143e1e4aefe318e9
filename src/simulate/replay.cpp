// The replay: results made from the scenario's timeline, then the daemon's Detector.
#include "simulate/replay.h"

#include <algorithm>
#include <limits>
#include <tuple>

#include "incident/options.h"

namespace leeway::simulate {

namespace {

bool silent(const Scenario& scenario, const std::string& location, TimeUs at_us) {
  return std::any_of(scenario.silences.begin(), scenario.silences.end(), [&](const Silence& s) {
    return s.locations.count(location) && at_us >= s.from_us && at_us < s.to_us;
  });
}

// The last fault that covers this check at this location and time, or nullptr.
const Fault* fault_at(const Scenario& scenario, const std::string& check,
                      const std::string& location, TimeUs at_us) {
  for (auto it = scenario.faults.rbegin(); it != scenario.faults.rend(); ++it) {
    if (it->checks.count(check) && (it->locations.empty() || it->locations.count(location)) &&
        at_us >= it->from_us && at_us < it->to_us)
      return &*it;
  }
  return nullptr;
}

void run(const Scenario& scenario, const config::Check& check, std::vector<store::Committed>& out) {
  for (const std::string& location : check.locations) {
    for (TimeUs t = scenario.from_us; t < scenario.to_us; t += check.interval_us) {
      if (silent(scenario, location, t)) continue;
      store::StoredResult r;
      r.check = check.id;
      r.location = location;
      r.started_us = t;
      r.outcome = probe::Outcome::kUp;
      if (const Fault* f = fault_at(scenario, check.id, location, t)) {
        r.outcome = f->outcome;
        r.stage = f->stage;
        r.cause = f->cause;
      }
      out.push_back({0, std::move(r)});
    }
  }
}

}  // namespace

std::vector<store::Committed> results_of(const Scenario& scenario) {
  std::vector<store::Committed> out;
  for (const auto& service : scenario.config.services)
    for (const auto& check : service.checks) run(scenario, check, out);
  for (const auto& reference : scenario.config.references) run(scenario, reference, out);
  // In the detector's step order (time, check, location): fed so, it only ever extends its
  // replay and never starts one again.
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.result.started_us, a.result.check, a.result.location) <
           std::tie(b.result.started_us, b.result.check, b.result.location);
  });
  for (std::size_t i = 0; i < out.size(); ++i) out[i].seq = static_cast<std::int64_t>(i + 1);
  return out;
}

std::vector<incident::Incident> detect(const Scenario& scenario,
                                       std::span<const store::Committed> results,
                                       std::size_t batch) {
  incident::Detector detector(incident::detector_options(scenario.config));
  for (const ScenarioChange& c : scenario.changes) detector.record_change(c.service, c.change);
  batch = std::max<std::size_t>(batch, 1);
  for (std::size_t i = 0, end = 0; i < results.size(); i = end) {
    // A batch ends where time moves on: an instant split between two batches would have the
    // detector replay everything again for the rest of it (which gives the same, only slower).
    end = std::min(i + batch, results.size());
    while (end < results.size() &&
           results[end].result.started_us == results[end - 1].result.started_us)
      ++end;
    detector.add(results.subspan(i, end - i));
  }
  return detector.incidents();
}

Replay replay(const Scenario& scenario) {
  const std::vector<store::Committed> results = results_of(scenario);
  return {results.size(), detect(scenario, results)};
}

std::vector<config::Maintenance> maintenance_during(const Scenario& scenario,
                                                    const incident::Incident& incident) {
  const TimeUs end = incident.resolved_us.value_or(std::numeric_limits<TimeUs>::max());
  std::vector<config::Maintenance> out;
  for (const config::Maintenance& w : scenario.maintenance) {
    const bool covers = std::count(w.services.begin(), w.services.end(), incident.service) > 0;
    if (covers && w.start_us < end && incident.opened_us < w.end_us) out.push_back(w);
  }
  return out;
}

}  // namespace leeway::simulate
