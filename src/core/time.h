// Time inside leeway: UTC microseconds since the Unix epoch, and durations in microseconds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace leeway {

// Microseconds since 1970-01-01T00:00:00Z.
using TimeUs = std::int64_t;
// A span of time in microseconds.
using DurationUs = std::int64_t;

constexpr DurationUs kMillisecondUs = 1'000;
constexpr DurationUs kSecondUs = 1'000'000;
constexpr DurationUs kMinuteUs = 60 * kSecondUs;
constexpr DurationUs kHourUs = 60 * kMinuteUs;
constexpr DurationUs kDayUs = 24 * kHourUs;

// Parses a duration such as "250ms", "30s", "1m30s", "2h", "7d" or "500us". A bare number is
// rejected: the unit must be explicit so "30" is never misread.
Result<DurationUs> parse_duration(std::string_view text);

// Formats a duration compactly for people: "850us", "12.3ms", "1.25s", "3m20s", "2h5m", "3d4h".
std::string format_duration(DurationUs us);

// RFC 3339 in UTC with microseconds: "2026-11-25T10:04:05.123456Z".
std::string format_rfc3339(TimeUs t);

// Parses RFC 3339 in UTC, what format_rfc3339 writes: "2026-11-25T10:04:05Z", with up to six
// digits of fraction. nullopt for anything else (an offset other than Z, trailing text).
std::optional<TimeUs> parse_rfc3339(std::string_view text);

// Parses RFC 3339 with Z or a numeric offset, as people write times at the edges (config, API):
// "2026-11-03T02:00:00+09:00" is 2026-11-02T17:00:00Z. nullopt for anything else.
std::optional<TimeUs> parse_rfc3339_offset(std::string_view text);

}  // namespace leeway
