// A sweep over span boundaries: O(n log n) in the spans, whatever the month's length.
#include "sla/minutes.h"

#include <algorithm>

namespace leeway::sla::detail {

namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return -floor_div(-a, b);
}

}  // namespace

MinuteIndices to_minutes(TimeUs month_start_us, TimeUs start_us, TimeUs end_us,
                         bool partial_minutes_count) {
  std::int64_t from = start_us - month_start_us;
  std::int64_t to = end_us - month_start_us;
  if (partial_minutes_count) return {floor_div(from, kMinuteUs), ceil_div(to, kMinuteUs)};
  return {ceil_div(from, kMinuteUs), floor_div(to, kMinuteUs)};
}

Sweep sweep_minutes(std::int64_t month_minutes, std::int64_t measured_first,
                    std::int64_t measured_last, const std::vector<Span>& spans) {
  Sweep out;
  out.counts.month = month_minutes;
  measured_last = std::max(measured_first, measured_last);
  out.counts.measured = measured_last - measured_first;
  out.counts.not_measured = month_minutes - out.counts.measured;

  // (minute, span index, starts) for every span clipped to the measured minutes.
  struct Edge {
    std::int64_t at;
    std::size_t span;
    bool starts;
  };
  std::vector<Edge> edges;
  edges.reserve(spans.size() * 2);
  for (std::size_t i = 0; i < spans.size(); ++i) {
    std::int64_t first = std::max(spans[i].first, measured_first);
    std::int64_t last = std::min(spans[i].last, measured_last);
    if (first >= last) continue;
    edges.push_back({first, i, true});
    edges.push_back({last, i, false});
  }
  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.at < b.at; });

  std::vector<std::size_t> active;
  for (std::size_t e = 0; e < edges.size();) {
    std::int64_t at = edges[e].at;
    for (; e < edges.size() && edges[e].at == at; ++e) {
      if (edges[e].starts)
        active.push_back(edges[e].span);
      else
        active.erase(std::find(active.begin(), active.end(), edges[e].span));
    }
    if (active.empty() || e == edges.size()) continue;
    std::int64_t until = edges[e].at;

    SweptRange range{at, until};
    bool any_exclusion = false;
    for (std::size_t i : active) {
      if (!spans[i].exclusion) continue;
      if (!any_exclusion || spans[i].reason < range.reason) range.reason = spans[i].reason;
      any_exclusion = true;
    }
    range.excluded = any_exclusion;
    for (std::size_t i : active)
      if (spans[i].exclusion == any_exclusion) range.sources.push_back(spans[i].source);
    std::sort(range.sources.begin(), range.sources.end());
    range.sources.erase(std::unique(range.sources.begin(), range.sources.end()),
                        range.sources.end());

    (range.excluded ? out.counts.excluded : out.counts.unavailable) += until - at;
    if (!out.ranges.empty()) {
      SweptRange& last = out.ranges.back();
      if (last.last == at && last.excluded == range.excluded && last.reason == range.reason &&
          last.sources == range.sources) {
        last.last = until;
        continue;
      }
    }
    out.ranges.push_back(std::move(range));
  }
  return out;
}

}  // namespace leeway::sla::detail
