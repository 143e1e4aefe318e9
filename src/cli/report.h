// How a probe result is shown: to a person, as JSON, and in the Nagios plugin format.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "probe/types.h"

namespace leeway::cli {

// A one-line verdict, then the stage timings as a small waterfall. `color` adds ANSI colours.
std::string format_human(const probe::CheckSpec& spec, const probe::ProbeResult& result,
                         bool color);

// The result as one JSON object: target, kind, outcome, stage, started, timings_us, status, ...
// Its strings are valid UTF-8 (ProbeEngine's results are; the target is made so).
nlohmann::json to_json(const probe::CheckSpec& spec, const probe::ProbeResult& result);

// "LEEWAY HTTP OK - ... | time=0.012s;warn;crit;0 dns=...": the Nagios plugin output line.
std::string format_nagios(const probe::CheckSpec& spec, const probe::ProbeResult& result);

}  // namespace leeway::cli
