// A scenario for `leeway simulate`: a leeway config (a file it names, or the config's sections
// inline), a time range, and what happened in it: checks failing from given locations at a given
// stage, locations falling silent, reference targets failing, changes, and maintenance windows
// with the time each was announced. Parsed from YAML with every error's file:line:column.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/time.h"
#include "incident/attribution.h"
#include "probe/types.h"

namespace leeway::simulate {

// Checks failing from some locations during [from_us, to_us): their results there are `outcome`
// at `stage` (with `cause` when given), instead of up. Reference failures are faults too.
struct Fault {
  std::set<std::string> checks;     // check ids (reference checks are "reference:<name>")
  std::set<std::string> locations;  // empty: every location that runs them
  TimeUs from_us = 0;
  TimeUs to_us = 0;
  probe::Outcome outcome = probe::Outcome::kDown;
  probe::Stage stage = probe::Stage::kNone;
  probe::Cause cause = probe::Cause::kNone;
};

// Locations that send no result at all during [from_us, to_us): cut off, or their agent stopped.
struct Silence {
  std::set<std::string> locations;
  TimeUs from_us = 0;
  TimeUs to_us = 0;
};

// A change recorded for a service (a deploy), as `leeway change record` would.
struct ScenarioChange {
  std::string service;
  incident::Change change;
};

struct Scenario {
  std::string file;  // as named to the loader
  config::Config config;
  TimeUs from_us = 0;  // results are made for [from_us, to_us)
  TimeUs to_us = 0;
  std::vector<Fault> faults;  // service checks and references alike; a later one wins
  std::vector<Silence> silences;
  std::vector<ScenarioChange> changes;
  // Planned downtime and when it was announced, as the config's `maintenance:` has it (the
  // config's own windows stay in config.maintenance). Carried through to the output; the SLA
  // engine decides what a window excludes (one announced too late excludes nothing).
  std::vector<config::Maintenance> maintenance;
};

// A loaded scenario, or every error found. scenario is set exactly when errors is empty.
struct LoadResult {
  std::optional<Scenario> scenario;
  std::vector<config::ConfigError> errors;

  bool ok() const { return errors.empty(); }
};

// The most results a scenario may make (checks x locations x runs in its time range): beyond
// it the scenario is refused rather than held in memory.
inline constexpr std::size_t kMaxResults = 5'000'000;

// Loads the scenario at `path`. `config: FILE` is read relative to it; so are includes of an
// inline config.
LoadResult load_scenario(const std::string& path,
                         const config::FileReader& read = config::read_file);

// Same, from text already in memory named `file_name`.
LoadResult load_scenario_text(std::string_view text, const std::string& file_name,
                              const config::FileReader& read = config::read_file);

}  // namespace leeway::simulate
