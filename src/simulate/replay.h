// A scenario replayed: the results its checks would have given, fed to the daemon's own
// Detector (with the daemon's options, from incident/options.h) and the scenario's changes,
// without probing and without a network. What comes out is what the daemon would have opened.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "incident/detector.h"
#include "simulate/scenario.h"
#include "store/store.h"

namespace leeway::simulate {

// Every result the scenario makes, in time order (seq 1, 2, ...): each check, service or
// reference, runs every interval from `from` on at each of its locations, up unless a fault says
// otherwise there and then (the last fault listed wins), and none while the location is silent.
std::vector<store::Committed> results_of(const Scenario& scenario);

// The incidents from feeding `results` to a Detector in the order given, `batch` at a time,
// with the scenario's changes recorded first. The same whatever the order.
std::vector<incident::Incident> detect(const Scenario& scenario,
                                       std::span<const store::Committed> results,
                                       std::size_t batch = 1000);

struct Replay {
  std::size_t results = 0;                    // how many results were made
  std::vector<incident::Incident> incidents;  // by service, then opening time
};

// results_of() fed to detect().
Replay replay(const Scenario& scenario);

// The maintenance windows for the incident's service that overlap it, in scenario order.
std::vector<config::Maintenance> maintenance_during(const Scenario& scenario,
                                                    const incident::Incident& incident);

}  // namespace leeway::simulate
