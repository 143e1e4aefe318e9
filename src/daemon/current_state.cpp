// CurrentState: the last result per (check, location) and the run-duration histograms.
#include "daemon/current_state.h"

#include <fmt/format.h>

namespace leeway::daemon {

std::string label_escape(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

SeriesState& CurrentState::at(const store::StoredResult& r) {
  auto [it, inserted] = series_.try_emplace({r.check, r.location});
  if (inserted) {
    it->second.labels = fmt::format("check=\"{}\",location=\"{}\"", label_escape(r.check),
                                    label_escape(r.location));
    it->second.last = r;
  }
  return it->second;
}

void CurrentState::seed(const store::StoredResult& r) {
  SeriesState& s = at(r);
  if (r.started_us >= s.last.started_us) s.last = r;
}

void CurrentState::record(const store::StoredResult& r) {
  SeriesState& s = at(r);
  if (r.started_us >= s.last.started_us) s.last = r;
  if (r.outcome == probe::Outcome::kUnknown) {
    s.unknown++;
    return;
  }
  s.buckets[store::latency_bucket(r.total_us)]++;
  s.count++;
  s.sum_seconds += r.total_us / 1e6;
  s.runs[static_cast<std::size_t>(r.outcome)]++;
}

std::vector<store::StoredResult> CurrentState::last_of(std::string_view check) const {
  std::vector<store::StoredResult> out;
  for (auto it = series_.lower_bound({std::string(check), std::string()});
       it != series_.end() && it->first.first == check; ++it)
    out.push_back(it->second.last);
  return out;
}

}  // namespace leeway::daemon
