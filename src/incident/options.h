// The detector's options from a config: its checks and their services, its locations' labels and
// reference checks, and the `incidents:` rules. The daemon and `leeway simulate` both build them
// here, so a simulation decides exactly as the daemon would.
#pragma once

#include "config/config.h"
#include "incident/detector.h"

namespace leeway::incident {

DetectorOptions detector_options(const config::Config& config);

}  // namespace leeway::incident
