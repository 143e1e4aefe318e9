// The budget remaining over an SLO's window, drawn in the terminal.
#include "cli/burn_down.h"

#include <fmt/format.h>

#include "cli/http.h"

namespace leeway::cli {

std::string draw_burn_down(const nlohmann::json& points) {
  if (!points.is_array() || points.size() < 2) return "";
  constexpr int kRows = 5;  // a row is 20% of the budget
  std::string out;
  for (int row = kRows; row >= 1; --row) {
    out += fmt::format("{:>5}% |", row * 100 / kRows);
    for (const auto& p : points) {
      const auto& r = p.at("remaining_ratio");
      // Filled when the budget reaches at least half-way into the row.
      bool filled = r.is_number() && r.get<double>() * kRows >= row - 0.5;
      out += filled ? '#' : ' ';
    }
    while (out.back() == ' ') out.pop_back();
    out += '\n';
  }
  out += "       +";
  for (const auto& p : points) {
    const auto& r = p.at("remaining_ratio");
    out += !r.is_number() ? '?' : r.get<double>() < 0 ? '!' : '-';
  }
  out +=
      fmt::format("\n        {} to {}\n", field(points.front(), "at"), field(points.back(), "at"));
  return out;
}

}  // namespace leeway::cli
