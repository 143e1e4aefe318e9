// Per-minute SLI storage in hours: whole-hour sums for long windows, minutes at the edges.
#include "slo/series.h"

#include <algorithm>

namespace leeway::slo {

namespace {

constexpr int kMinutesPerHour = 60;

std::int64_t hour_of(TimeUs t) {
  std::int64_t h = t / kHourUs;
  return h * kHourUs > t ? h - 1 : h;
}

WindowSums times(const WindowSums& one, std::int64_t n) {
  return WindowSums{one.minutes * n, one.data_minutes * n, one.weight * double(n),
                    one.bad * double(n)};
}

}  // namespace

void WindowSums::add(const WindowSums& other) {
  minutes += other.minutes;
  data_minutes += other.data_minutes;
  weight += other.weight;
  bad += other.bad;
}

void WindowSums::subtract(const WindowSums& other) {
  minutes -= other.minutes;
  data_minutes -= other.data_minutes;
  weight -= other.weight;
  bad -= other.bad;
}

WindowSums Counting::of(MinuteCounts m) const {
  if (m.total == 0) return WindowSums{1, 0, 0, 0};
  std::uint32_t good = std::min(m.good, m.total);
  switch (method_) {
    case Method::kOccurrences:
      return WindowSums{1, 1, double(m.total), double(m.total - good)};
    case Method::kTimeslices: {
      // good/total >= target, in integers: no rounding decides a minute.
      constexpr std::int64_t kBillion = 1'000'000'000;
      bool ok = std::int64_t(good) * kBillion >= target_.billionths * std::int64_t(m.total);
      return WindowSums{1, 1, 1, ok ? 0.0 : 1.0};
    }
    case Method::kRatioTimeslices:
      return WindowSums{1, 1, 1, double(m.total - good) / double(m.total)};
  }
  return WindowSums{1, 0, 0, 0};
}

MinuteSeries::MinuteSeries(Counting counting, DurationUs span_us)
    : counting_(counting),
      max_hours_(std::max<std::int64_t>(1, (span_us + kHourUs - 1) / kHourUs)) {}

MinuteSeries::Hour* MinuteSeries::hour_at(std::int64_t hour) {
  if (hour < first_hour_ || hour >= first_hour_ + std::int64_t(hours_.size())) return nullptr;
  return &hours_[std::size_t(hour - first_hour_)];
}

const MinuteSeries::Hour* MinuteSeries::hour_at(std::int64_t hour) const {
  return const_cast<MinuteSeries*>(this)->hour_at(hour);
}

bool MinuteSeries::set(TimeUs minute_us, MinuteCounts counts) {
  std::int64_t h = hour_of(minute_us);
  if (hours_.empty()) {
    first_hour_ = h;
    hours_.emplace_back();
  }
  std::int64_t last = first_hour_ + std::int64_t(hours_.size()) - 1;
  if (h < first_hour_) {
    if (last - h >= max_hours_) return false;
    // Rare (a minute older than any held): every hour moves, and every running sum is redone.
    std::vector<Hour> earlier(std::size_t(first_hour_ - h));
    hours_.insert(hours_.begin(), std::make_move_iterator(earlier.begin()),
                  std::make_move_iterator(earlier.end()));
    first_hour_ = h;
    running_sums_from(0);
  } else if (h > last) {
    // Newer: old hours fall out first, so a jump far ahead never allocates the gap twice.
    drop_before(std::max<std::int64_t>(first_hour_, h - max_hours_ + 1) * kHourUs);
    if (hours_.empty()) first_hour_ = h;
    std::size_t from = hours_.size();
    while (first_hour_ + std::int64_t(hours_.size()) <= h) hours_.emplace_back();
    running_sums_from(from == 0 ? 0 : from - 1);
  }
  Hour& hour = *hour_at(h);
  int index = int((minute_us - h * kHourUs) / kMinuteUs);
  if (!hour.minutes) {
    if (hour.uniform == counts) return true;
    hour.minutes = std::make_unique<std::array<MinuteCounts, 60>>();
    hour.minutes->fill(hour.uniform);
  }
  (*hour.minutes)[std::size_t(index)] = counts;
  if (!hour.dirty) {
    hour.dirty = true;
    dirty_.push_back(h);
  }
  return true;
}

MinuteCounts MinuteSeries::at(TimeUs minute_us) const {
  std::int64_t h = hour_of(minute_us);
  const Hour* hour = hour_at(h);
  if (hour == nullptr) return {};
  if (!hour->minutes) return hour->uniform;
  return (*hour->minutes)[std::size_t((minute_us - h * kHourUs) / kMinuteUs)];
}

WindowSums MinuteSeries::partial(const Hour& hour, int first, int last) const {
  if (!hour.minutes) return times(counting_.of(hour.uniform), last - first);
  WindowSums sums;
  for (int i = first; i < last; ++i) sums.add(counting_.of((*hour.minutes)[std::size_t(i)]));
  return sums;
}

WindowSums MinuteSeries::sum(TimeUs from_us, TimeUs to_us) const {
  WindowSums sums;
  if (to_us <= from_us) return sums;
  std::int64_t total_minutes = (to_us - from_us) / kMinuteUs;
  std::int64_t first = std::max(hour_of(from_us), first_hour_);
  std::int64_t last =
      std::min(hour_of(to_us - kMinuteUs), first_hour_ + std::int64_t(hours_.size()) - 1);
  // The hours the window covers whole, [whole_first, whole_last]; the edges are summed by minute.
  std::int64_t whole_first = first, whole_last = last;
  auto edge = [&](std::int64_t h) {
    const Hour& hour = hours_[std::size_t(h - first_hour_)];
    TimeUs start = h * kHourUs;
    int a = from_us > start ? int((from_us - start) / kMinuteUs) : 0;
    int b = to_us < start + kHourUs ? int((to_us - start) / kMinuteUs) : kMinutesPerHour;
    bool whole = a == 0 && b == kMinutesPerHour;
    if (!whole) sums.add(partial(hour, a, b));
    return whole;
  };
  if (first <= last && !edge(first)) ++whole_first;
  if (whole_last > first && whole_last >= whole_first && !edge(whole_last)) --whole_last;
  if (whole_first <= whole_last) {
    if (dirty_.empty()) {
      const Hour& a = hours_[std::size_t(whole_first - first_hour_)];
      const Hour& b = hours_[std::size_t(whole_last - first_hour_)];
      WindowSums whole = b.before;
      whole.add(b.sums);
      whole.subtract(a.before);
      sums.add(whole);
    } else {
      for (std::int64_t h = whole_first; h <= whole_last; ++h)
        sums.add(partial(hours_[std::size_t(h - first_hour_)], 0, kMinutesPerHour));
    }
  }
  // Minutes outside the hours held have no data.
  sums.minutes = total_minutes;
  return sums;
}

void MinuteSeries::drop_before(TimeUs minute_us) {
  std::int64_t keep = hour_of(minute_us);
  if (hours_.empty() || keep <= first_hour_) return;
  std::size_t n = std::min(hours_.size(), std::size_t(keep - first_hour_));
  hours_.erase(hours_.begin(), hours_.begin() + std::ptrdiff_t(n));
  first_hour_ += std::int64_t(n);
  // Restart the running sums at zero: a daemon that runs for years must not sum years.
  running_sums_from(0);
}

void MinuteSeries::running_sums_from(std::size_t from) {
  for (std::size_t i = from; i < hours_.size(); ++i) {
    if (i == 0) {
      hours_[0].before = WindowSums{};
      continue;
    }
    hours_[i].before = hours_[i - 1].before;
    hours_[i].before.add(hours_[i - 1].sums);
  }
}

void MinuteSeries::settle() {
  if (dirty_.empty()) return;
  std::int64_t earliest = dirty_.front();
  for (std::int64_t h : dirty_) {
    earliest = std::min(earliest, h);
    Hour* hour = hour_at(h);
    if (hour == nullptr || !hour->dirty) continue;
    hour->dirty = false;
    const auto& minutes = *hour->minutes;
    if (std::all_of(minutes.begin(), minutes.end(),
                    [&](const MinuteCounts& m) { return m == minutes[0]; })) {
      hour->uniform = minutes[0];
      hour->minutes.reset();
    }
    hour->sums = partial(*hour, 0, kMinutesPerHour);
  }
  dirty_.clear();
  running_sums_from(std::size_t(std::max<std::int64_t>(0, earliest - first_hour_)));
}

std::size_t MinuteSeries::memory_bytes() const {
  std::size_t bytes = sizeof(*this) + hours_.size() * sizeof(Hour);
  for (const auto& hour : hours_)
    if (hour.minutes) bytes += sizeof(*hour.minutes);
  return bytes;
}

}  // namespace leeway::slo
