// What both store implementations share: opening by URI, result conversion, rollup aggregation
// and paging cursors.
#include "store/store.h"

#include <algorithm>
#include <charconv>

#include "store/detail.h"

namespace leeway::store {

StoredResult make_stored_result(std::string check, std::string location,
                                const probe::ProbeResult& result) {
  StoredResult s;
  s.check = std::move(check);
  s.location = std::move(location);
  s.started_us = result.started_us;
  s.total_us = result.timings.total_us;
  s.outcome = result.outcome;
  s.stage = result.stage;
  s.cause = result.cause;
  s.http_status = result.http_status;
  s.error = result.error;
  s.dns_us = result.timings.dns_us;
  s.connect_us = result.timings.connect_us;
  s.tls_us = result.timings.tls_us;
  s.first_byte_us = result.timings.first_byte_us;
  return s;
}

std::vector<Committed> take_new(const Written& written, std::span<StoredResult> batch) {
  std::vector<Committed> out;
  out.reserve(written.places.size());
  for (std::uint32_t i : written.places)
    out.push_back({written.first_seq + std::int64_t(i), std::move(batch[i])});
  return out;
}

Result<std::vector<Committed>> Store::write(std::span<const StoredResult> batch) {
  auto written = write_new(batch);
  if (!written) return written.error();
  std::vector<Committed> out;
  out.reserve(written->places.size());
  for (std::uint32_t i : written->places)
    out.push_back({written->first_seq + std::int64_t(i), batch[i]});
  return out;
}

Result<std::vector<Committed>> Store::write(std::vector<StoredResult>&& batch) {
  auto written = write_new(batch);
  if (!written) return written.error();
  return take_new(*written, batch);
}

std::size_t latency_bucket(DurationUs total_us) {
  auto it =
      std::lower_bound(kLatencyBucketBoundsUs.begin(), kLatencyBucketBoundsUs.end(), total_us);
  return static_cast<std::size_t>(it - kLatencyBucketBoundsUs.begin());
}

Result<std::unique_ptr<Store>> open_store(std::string_view uri, const StoreOptions& options) {
  auto parsed = detail::parse_store_uri(uri);
  if (!parsed) return parsed.error();
  if (parsed->postgres) return detail::open_postgres(parsed->target, options);
  return detail::open_sqlite(parsed->target, options);
}

namespace detail {

Result<StoreUri> parse_store_uri(std::string_view uri) {
  if (uri.empty())
    return fail("store: empty URI; expected a file path, sqlite:PATH or postgres://...");
  if (uri.starts_with("postgres://") || uri.starts_with("postgresql://")) {
    return StoreUri{true, std::string(uri)};
  }
  if (uri.starts_with("sqlite:")) {
    std::string_view path = uri.substr(7);
    if (path.starts_with("//")) path.remove_prefix(2);  // sqlite:///abs/path
    if (path.empty()) return fail("store: \"", std::string(uri), "\" names no file");
    return StoreUri{false, std::string(path)};
  }
  if (auto colon = uri.find("://"); colon != std::string_view::npos) {
    return fail("store: unknown scheme \"", std::string(uri.substr(0, colon)), "\" in \"",
                std::string(uri), "\"; expected a file path, sqlite:PATH or postgres://...");
  }
  return StoreUri{false, std::string(uri)};
}

int pack_outcome_stage(probe::Outcome outcome, probe::Stage stage) {
  return static_cast<int>(outcome) * 8 + static_cast<int>(stage);
}

static_assert(static_cast<int>(probe::Outcome::kUnknown) == 3, "an outcome fits in two bits");

void unpack_outcome_stage(int packed, probe::Outcome& outcome, probe::Stage& stage) {
  outcome = static_cast<probe::Outcome>((packed >> 3) & 3);
  stage = static_cast<probe::Stage>(packed & 7);
}

probe::Cause unpack_cause(std::int64_t code) {
  return code > 0 && code <= static_cast<int>(probe::Cause::kTls) ? static_cast<probe::Cause>(code)
                                                                  : probe::Cause::kNone;
}

std::string encode_cursor(const Cursor& cursor) {
  return std::to_string(cursor.started_us) + "/" + cursor.location;
}

Result<Cursor> decode_cursor(std::string_view text) {
  auto slash = text.find('/');
  Cursor c;
  if (slash == std::string_view::npos ||
      std::from_chars(text.data(), text.data() + slash, c.started_us).ptr != text.data() + slash) {
    return fail("store: malformed cursor \"", std::string(text), "\"");
  }
  c.location = std::string(text.substr(slash + 1));
  return c;
}

Result<std::optional<Cursor>> query_cursor(const ResultQuery& query) {
  if (query.cursor.empty()) return std::optional<Cursor>();
  auto cursor = decode_cursor(query.cursor);
  if (!cursor) return cursor.error();
  return std::optional<Cursor>(std::move(*cursor));
}

Status force_schema_version(std::string_view uri, int version) {
  if (uri.starts_with("postgres://") || uri.starts_with("postgresql://")) {
    return force_postgres_schema_version(std::string(uri), version);
  }
  if (uri.starts_with("sqlite:")) uri.remove_prefix(7);
  return force_sqlite_schema_version(std::string(uri), version);
}

TimeUs minute_of(TimeUs t) {
  TimeUs m = t / kMinuteUs;
  if (t % kMinuteUs < 0) --m;
  return m * kMinuteUs;
}

void add_rollup(MinuteRollup& a, const MinuteRollup& b) {
  a.total += b.total;
  a.good += b.good;
  a.degraded += b.degraded;
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) a.latency_buckets[i] += b.latency_buckets[i];
}

std::map<RollupKey, MinuteRollup> aggregate(const std::vector<const StoredResult*>& results) {
  std::map<RollupKey, MinuteRollup> out;
  for (const StoredResult* r : results) {
    TimeUs minute = minute_of(r->started_us);
    if (r->outcome == probe::Outcome::kUnknown) continue;  // says nothing about the target
    MinuteRollup& m = out[RollupKey{r->check, r->location, minute}];
    if (m.total == 0) {
      m.check = r->check;
      m.location = r->location;
      m.minute_us = minute;
    }
    ++m.total;
    if (r->outcome == probe::Outcome::kUp) ++m.good;
    if (r->outcome == probe::Outcome::kDegraded) ++m.degraded;
    ++m.latency_buckets[latency_bucket(r->total_us)];
  }
  return out;
}

}  // namespace detail

Status check_cursor(const ResultQuery& query) {
  if (auto cursor = detail::query_cursor(query); !cursor) return cursor.error();
  return {};
}

}  // namespace leeway::store
