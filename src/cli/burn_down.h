// The burn-down `leeway slo show` draws: an SLO's budget remaining over its window as a few
// lines of ASCII, one column per point of the daemon's `burn_down`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace leeway::cli {

// The chart, 5 rows from 100% down to 20% of the budget remaining, then the time axis and the
// times of its first and last point; a column past its budget is marked `!` on the axis, an
// unknown one `?`. Empty when there are fewer than 2 points.
std::string draw_burn_down(const nlohmann::json& points);

}  // namespace leeway::cli
