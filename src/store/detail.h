// Internals shared by the store implementations: URI parsing, the compact chunk codec, paging
// cursors and batch rollup aggregation. Not part of the module's contract.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "store/incident_store.h"
#include "store/sla_store.h"
#include "store/slo_store.h"
#include "store/store.h"

namespace leeway::store::detail {

// The schema versions this build writes, one per backend. A database with a higher version is
// refused on open; a lower one is migrated.
constexpr int kSqliteSchemaVersion = 7;
constexpr int kPostgresSchemaVersion = 4;

// outcome and stage in one small integer: outcome * 8 + stage.
int pack_outcome_stage(probe::Outcome outcome, probe::Stage stage);
void unpack_outcome_stage(int packed, probe::Outcome& outcome, probe::Stage& stage);
// A stored cause code (the enum's value); one this build does not know reads as kNone.
probe::Cause unpack_cause(std::int64_t code);

// One raw result as the schema holds it: names replaced by ids.
struct Row {
  TimeUs started_us = 0;
  DurationUs total_us = 0;
  int outcome_stage = 0;
  int http_status = 0;
  std::int64_t error_id = 0;  // 0: no error text
  DurationUs dns_us = -1;
  DurationUs connect_us = -1;
  DurationUs tls_us = -1;
  DurationUs first_byte_us = -1;
  std::int64_t seq = 0;  // the commit sequence number (see Committed)
  int cause = 0;         // probe::Cause's value
  bool operator==(const Row&) const = default;
};

// Encodes rows (sorted by started_us) into a chunk: timestamps and seqs as delta-of-delta,
// durations as deltas from the previous row, all zigzag varints; status, cause and error only
// when they change.
std::string encode_chunk(const std::vector<Row>& rows);
// Decodes a chunk; a malformed chunk is an error, never a crash. Chunks written before schema 4
// carry no seqs: their rows are numbered first_seq, first_seq + 1, ... in time order. Chunks
// written before schema 5 carry no causes: their rows have cause 0 (none).
Result<std::vector<Row>> decode_chunk(std::string_view data, std::int64_t first_seq = 0);

// A paging position: the last (started_us, location) returned.
struct Cursor {
  TimeUs started_us = 0;
  std::string location;
};
std::string encode_cursor(const Cursor& cursor);
Result<Cursor> decode_cursor(std::string_view text);
// The query's cursor, decoded; nullopt for the first page (no cursor given).
Result<std::optional<Cursor>> query_cursor(const ResultQuery& query);

// Rollup deltas of a batch keyed by (check, location, minute_us).
using RollupKey = std::tuple<std::string, std::string, TimeUs>;
std::map<RollupKey, MinuteRollup> aggregate(const std::vector<const StoredResult*>& results);

// The start of the minute holding t (floor, also for times before 1970).
TimeUs minute_of(TimeUs t);

// Adds b's counts into a.
void add_rollup(MinuteRollup& a, const MinuteRollup& b);

// What a store URI names: a PostgreSQL URI, or a SQLite file's path.
struct StoreUri {
  bool postgres = false;
  std::string target;  // the URI for PostgreSQL, the file's path for SQLite
};
Result<StoreUri> parse_store_uri(std::string_view uri);

Result<std::unique_ptr<Store>> open_sqlite(const std::string& path, const StoreOptions& options);
Result<std::unique_ptr<Store>> open_postgres(const std::string& uri, const StoreOptions& options);

Result<std::unique_ptr<IncidentStore>> open_sqlite_incidents(const std::string& path);
Result<std::unique_ptr<IncidentStore>> open_postgres_incidents(const std::string& uri);
// The kind a note's stored name ("ack", "note") says.
IncidentNote::Kind note_kind(std::string_view text);

// A query's row limit as SQLite and PostgreSQL take it.
inline std::int64_t limit_of(std::size_t limit) {
  return std::int64_t(std::min<std::size_t>(limit, INT64_MAX));
}

Result<std::unique_ptr<SlaStore>> open_sqlite_sla(const std::string& path);
Result<std::unique_ptr<SlaStore>> open_postgres_sla(const std::string& uri);
// A window's or an exclusion's services as one column ("a,b": service ids hold no commas), and
// back.
std::string join_services(const std::vector<std::string>& services);
std::vector<std::string> split_services(std::string_view text);
// What a sync of the config's windows does to those stored from the config: the ids to remove
// and the windows to add (with a config source). A window stored and wanted stays as it is.
struct WindowSync {
  std::vector<std::int64_t> remove;
  std::vector<MaintenanceWindow> add;
};
WindowSync plan_sync(const std::vector<MaintenanceWindow>& stored,
                     std::span<const MaintenanceWindow> wanted);
Result<std::unique_ptr<SloStore>> open_sqlite_slos(const std::string& path);
Result<std::unique_ptr<SloStore>> open_postgres_slos(const std::string& uri);
// A decision's reasons in one text and back: one a line.
std::string join_reasons(const std::vector<std::string>& reasons);
std::vector<std::string> split_reasons(std::string_view text);

// For tests of the version check: stamps the database a URI names with a schema version.
Status force_schema_version(std::string_view uri, int version);
Status force_sqlite_schema_version(const std::string& path, int version);
Status force_postgres_schema_version(const std::string& uri, int version);

}  // namespace leeway::store::detail
