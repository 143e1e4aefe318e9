// The PostgreSQL store, for several leeway nodes sharing one database. A batch is COPYed into a
// session-local staging table, then a few set-based statements move it into the schema, so a
// batch costs the same handful of round trips whatever its size or content. COPY loads the
// staging table 3 to 4 times faster than multi-row INSERTs of 1,000 rows (200,000 results in
// batches of 5,000: 0.7-1.3 s against 2.9-4.5 s); the merge into the indexes costs the rest.
//
// Commit order: each result gets a seq from the one-row table seq_counter, which the writing
// transaction locks until it ends. A sequence would not do: with several nodes, a transaction
// that took smaller numbers may commit after one that took larger ones, and a reader that went
// past the larger would never see the smaller.
//
// compact() is a no-op returning 0: results stay plain rows. PostgreSQL's heap and the
// (series, started_us) primary key already serve time-range reads, and a chunked form would add a
// second read path for a space saving that table partitioning gives a PostgreSQL operator anyway.

#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <tuple>
#include <vector>

#include "store/detail.h"
#include "store/postgres_connection.h"

namespace leeway::store::detail {
namespace {

// Schema migrations; migration i (0-based) takes the database to version i + 1. Names are
// COLLATE "C" so that ordering and cursors compare bytes, as the SQLite store does. Error texts
// stay inline in the rows: most are empty, and an index over unbounded texts would need care.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE checks(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    name TEXT COLLATE "C" NOT NULL UNIQUE);
CREATE TABLE locations(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                       name TEXT COLLATE "C" NOT NULL UNIQUE);
CREATE TABLE series(id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    check_id BIGINT NOT NULL REFERENCES checks,
                    location_id BIGINT NOT NULL REFERENCES locations,
                    UNIQUE(check_id, location_id));
CREATE TABLE results(series BIGINT NOT NULL, started_us BIGINT NOT NULL, total_us BIGINT NOT NULL,
                     outcome_stage INTEGER NOT NULL, http_status INTEGER NOT NULL,
                     error TEXT NOT NULL, dns_us BIGINT NOT NULL, connect_us BIGINT NOT NULL,
                     tls_us BIGINT NOT NULL, first_byte_us BIGINT NOT NULL,
                     PRIMARY KEY(series, started_us));
CREATE TABLE rollups(series BIGINT NOT NULL, minute_us BIGINT NOT NULL, total BIGINT NOT NULL,
                     good BIGINT NOT NULL, degraded BIGINT NOT NULL,
                     b0 BIGINT NOT NULL, b1 BIGINT NOT NULL, b2 BIGINT NOT NULL,
                     b3 BIGINT NOT NULL, b4 BIGINT NOT NULL, b5 BIGINT NOT NULL,
                     b6 BIGINT NOT NULL, b7 BIGINT NOT NULL, b8 BIGINT NOT NULL,
                     b9 BIGINT NOT NULL, b10 BIGINT NOT NULL, b11 BIGINT NOT NULL,
                     PRIMARY KEY(series, minute_us));
CREATE TABLE latest(series BIGINT PRIMARY KEY, started_us BIGINT NOT NULL,
                    total_us BIGINT NOT NULL, outcome_stage INTEGER NOT NULL,
                    http_status INTEGER NOT NULL, error TEXT NOT NULL, dns_us BIGINT NOT NULL,
                    connect_us BIGINT NOT NULL, tls_us BIGINT NOT NULL,
                    first_byte_us BIGINT NOT NULL);
)sql",
    // Version 2: the commit sequence (see the top); results already stored are numbered in time
    // order.
    R"sql(
ALTER TABLE results ADD COLUMN seq BIGINT;
UPDATE results r SET seq = n.seq
  FROM (SELECT series, started_us, row_number() OVER (ORDER BY started_us, series) AS seq
        FROM results) n
  WHERE r.series = n.series AND r.started_us = n.started_us;
ALTER TABLE results ALTER COLUMN seq SET NOT NULL;
CREATE UNIQUE INDEX results_by_seq ON results(seq);
CREATE TABLE seq_counter(last BIGINT NOT NULL);
INSERT INTO seq_counter SELECT COALESCE(max(seq), 0) FROM results;
)sql",
    // Version 3: why a run could not reach its target (probe::Cause's value; 0: none or not
    // known, as for every result stored before).
    R"sql(
ALTER TABLE results ADD COLUMN cause SMALLINT NOT NULL DEFAULT 0;
ALTER TABLE latest ADD COLUMN cause SMALLINT NOT NULL DEFAULT 0;
)sql",
    // Version 4: where a consumer of the results stream stopped (see Store::save_position()). IF
    // NOT EXISTS: the migration tests take databases back to older versions without dropping it.
    R"sql(
CREATE TABLE IF NOT EXISTS positions(consumer TEXT COLLATE "C" PRIMARY KEY, seq BIGINT NOT NULL);
)sql",
};
static_assert(std::size(kMigrations) == kPostgresSchemaVersion);
static_assert(kLatencyBuckets == 12, "the rollups table has columns b0..b11");

// Any constant works; it only has to be the same for every leeway node.
constexpr const char* kMigrationLock = "SELECT pg_advisory_xact_lock(7461207)";

constexpr const char* kRowColumns =
    "started_us, total_us, outcome_stage, http_status, error, dns_us, connect_us, tls_us, "
    "first_byte_us, cause";

// Where a batch lands first. Temporary (one per connection, not WAL-logged) and emptied by
// every commit; created by each batch, as libpqxx may quietly replace a broken connection.
constexpr const char* kCreateStaging =
    "CREATE TEMP TABLE IF NOT EXISTS leeway_staging(ord INTEGER NOT NULL, "
    "check_name TEXT COLLATE \"C\" NOT NULL, location TEXT COLLATE \"C\" NOT NULL, "
    "started_us BIGINT NOT NULL, total_us BIGINT NOT NULL, outcome_stage INTEGER NOT NULL, "
    "http_status INTEGER NOT NULL, error TEXT NOT NULL, dns_us BIGINT NOT NULL, "
    "connect_us BIGINT NOT NULL, tls_us BIGINT NOT NULL, first_byte_us BIGINT NOT NULL, "
    "cause SMALLINT NOT NULL) "
    "ON COMMIT DELETE ROWS";

const std::vector<std::string> kStagingColumns = {
    "ord",           "check_name",    "location", "started_us", "total_us",
    "outcome_stage", "http_status",   "error",    "dns_us",     "connect_us",
    "tls_us",        "first_byte_us", "cause"};

// New names and series of the staged batch. Rows go in key order so that concurrent writers
// (several nodes) lock rows in the same order and cannot deadlock.
constexpr const char* kNamesSql =
    "INSERT INTO checks(name) SELECT DISTINCT check_name FROM leeway_staging s "
    "WHERE NOT EXISTS (SELECT 1 FROM checks c WHERE c.name = s.check_name) "
    "ORDER BY 1 ON CONFLICT DO NOTHING;\n"
    "INSERT INTO locations(name) SELECT DISTINCT location FROM leeway_staging s "
    "WHERE NOT EXISTS (SELECT 1 FROM locations l WHERE l.name = s.location) "
    "ORDER BY 1 ON CONFLICT DO NOTHING;\n"
    "INSERT INTO series(check_id, location_id) SELECT DISTINCT c.id, l.id "
    "FROM leeway_staging s JOIN checks c ON c.name = s.check_name "
    "JOIN locations l ON l.name = s.location WHERE NOT EXISTS "
    "(SELECT 1 FROM series x WHERE x.check_id = c.id AND x.location_id = l.id) "
    "ORDER BY 1, 2 ON CONFLICT DO NOTHING";

// Moves the staged batch into results (a key already stored keeps its first result; row `ord`
// takes seq $1 + ord + 1), and from the rows actually inserted, the minute rollups (without
// unknown results), the latest results and the counter. Returns the new rows' seqs.
std::string merge_sql() {
  std::string bounds;
  for (DurationUs b : kLatencyBucketBoundsUs)
    bounds += (bounds.empty() ? "" : ",") + std::to_string(b);
  // The bucket of a run is the number of bounds below total_us (bounds are inclusive).
  std::string buckets, bucket_updates;
  for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
    std::string b = "b" + std::to_string(i);
    buckets += ", count(*) FILTER (WHERE width_bucket(total_us - 1, '{" + bounds +
               "}'::BIGINT[]) = " + std::to_string(i) + ")";
    bucket_updates += ", " + b + " = rollups." + b + " + excluded." + b;
  }
  const std::string minute = std::to_string(kMinuteUs);
  const std::string up = std::to_string(static_cast<int>(probe::Outcome::kUp));
  const std::string degraded = std::to_string(static_cast<int>(probe::Outcome::kDegraded));
  const std::string unknown = std::to_string(static_cast<int>(probe::Outcome::kUnknown));
  return std::string("WITH fresh AS (INSERT INTO results(series, ") + kRowColumns +
         ", seq) SELECT x.id, " + kRowColumns +
         ", $1::BIGINT + s.ord + 1 FROM leeway_staging s JOIN checks c ON c.name = s.check_name "
         "JOIN locations l ON l.name = s.location "
         "JOIN series x ON x.check_id = c.id AND x.location_id = l.id "
         "ORDER BY x.id, s.started_us, s.ord ON CONFLICT DO NOTHING RETURNING series, seq, " +
         kRowColumns +
         "),\n"
         // A floor division, also for times before 1970.
         "minutes AS (INSERT INTO rollups SELECT series, started_us - ((started_us % " +
         minute + ") + " + minute + ") % " + minute +
         ", count(*), count(*) FILTER (WHERE outcome_stage >> 3 = " + up +
         "), count(*) FILTER (WHERE outcome_stage >> 3 = " + degraded + ")" + buckets +
         " FROM fresh WHERE outcome_stage >> 3 <> " + unknown +
         " GROUP BY 1, 2 ORDER BY 1, 2 ON CONFLICT (series, minute_us) DO UPDATE SET "
         "total = rollups.total + excluded.total, good = rollups.good + excluded.good, "
         "degraded = rollups.degraded + excluded.degraded" +
         bucket_updates +
         "),\n"
         "counter AS (UPDATE seq_counter SET last = (SELECT max(seq) FROM fresh) "
         "WHERE EXISTS (SELECT 1 FROM fresh)),\n"
         "newest AS (INSERT INTO latest(series, " +
         kRowColumns + ") SELECT DISTINCT ON (series) series, " + kRowColumns +
         " FROM fresh ORDER BY series, started_us DESC ON CONFLICT (series) DO UPDATE SET "
         "started_us = excluded.started_us, total_us = excluded.total_us, "
         "outcome_stage = excluded.outcome_stage, http_status = excluded.http_status, "
         "error = excluded.error, dns_us = excluded.dns_us, connect_us = excluded.connect_us, "
         "tls_us = excluded.tls_us, first_byte_us = excluded.first_byte_us, "
         "cause = excluded.cause WHERE excluded.started_us > latest.started_us)\n"
         "SELECT seq FROM fresh ORDER BY seq";
}

StoredResult read_result(const pqxx::row& row, int first, std::string check, std::string location) {
  StoredResult s;
  s.check = std::move(check);
  s.location = std::move(location);
  s.started_us = row[first].as<std::int64_t>();
  s.total_us = row[first + 1].as<std::int64_t>();
  unpack_outcome_stage(row[first + 2].as<int>(), s.outcome, s.stage);
  s.http_status = row[first + 3].as<int>();
  s.error = row[first + 4].as<std::string>();
  s.dns_us = row[first + 5].as<std::int64_t>();
  s.connect_us = row[first + 6].as<std::int64_t>();
  s.tls_us = row[first + 7].as<std::int64_t>();
  s.first_byte_us = row[first + 8].as<std::int64_t>();
  s.cause = unpack_cause(row[first + 9].as<std::int64_t>());
  return s;
}

class PostgresStore final : public Store {
 public:
  PostgresStore(Target target, StoreOptions options, Connection writer)
      : target_(std::move(target)),
        options_(options),
        writer_(std::move(writer)),
        merge_sql_(merge_sql()) {}

  // Creates or migrates the schema. Nodes starting together migrate one at a time.
  Status init() {
    try {
      pqxx::work txn(*writer_);
      txn.exec(kMigrationLock);
      txn.exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
      pqxx::result r = txn.exec("SELECT max(version) FROM schema_version");
      const int version = r[0][0].is_null() ? 0 : r[0][0].as<int>();
      if (version > kPostgresSchemaVersion) {
        return fail("store: ", target_.display, " has schema version ", std::to_string(version),
                    ", newer than this leeway supports (", std::to_string(kPostgresSchemaVersion),
                    "); upgrade leeway or use another database");
      }
      for (int v = version; v < kPostgresSchemaVersion; ++v) {
        try {
          txn.exec(kMigrations[v]);
        } catch (const std::exception& e) {
          return fail("store: ", target_.display, ": migrating to schema version ",
                      std::to_string(v + 1), ": ", clean_message(e.what(), target_.password));
        }
      }
      // A database that takes no writes (a standby, a read-only setting) is refused now rather
      // than found out by every batch: this write proves it does.
      txn.exec("UPDATE seq_counter SET last = last");
      if (version < kPostgresSchemaVersion) {
        txn.exec("DELETE FROM schema_version");
        txn.exec_params("INSERT INTO schema_version VALUES($1)", kPostgresSchemaVersion);
      }
      txn.commit();
    } catch (const std::exception& e) {
      return fail("store: ", target_.display, ": ", clean_message(e.what(), target_.password));
    }
    return {};
  }

  std::string describe() const override { return target_.display; }

  Result<Written> write_new(std::span<const StoredResult> batch) override {
    if (batch.empty()) return Written{};
    std::lock_guard lock(write_mutex_);
    return with_writer("writing to", [&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      txn.exec(kCreateStaging);
      pqxx::stream_to copy(txn, "leeway_staging", kStagingColumns);
      for (int ord = 0; const StoredResult& r : batch) {
        const int outcome_stage = pack_outcome_stage(r.outcome, r.stage);
        const int cause = static_cast<int>(r.cause);
        copy << std::tie(ord, r.check, r.location, r.started_us, r.total_us, outcome_stage,
                         r.http_status, r.error, r.dns_us, r.connect_us, r.tls_us, r.first_byte_us,
                         cause);
        ++ord;
      }
      copy.complete();
      txn.exec(kNamesSql);
      // Locked until the commit, so that the next writer's seqs come after these (see the top).
      const auto base = txn.exec1("SELECT last FROM seq_counter FOR UPDATE")[0].as<std::int64_t>();
      pqxx::result fresh = txn.exec_params(merge_sql_, base);
      txn.commit();
      // Each staged row's seq is base + 1 + its place (see merge_sql_).
      Written written{base + 1, {}};
      written.places.reserve(std::size_t(fresh.size()));
      for (const auto& row : fresh)
        written.places.push_back(std::uint32_t(row[0].as<std::int64_t>() - base - 1));
      return written;
    });
  }

  Result<std::vector<Committed>> read_since(std::int64_t after_seq, std::size_t limit) override {
    return with_reader([&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      pqxx::result rows = txn.exec_params(
          std::string("SELECT c.name, l.name, r.seq, ") +
              "r.started_us, r.total_us, r.outcome_stage, r.http_status, r.error, r.dns_us, "
              "r.connect_us, r.tls_us, r.first_byte_us, r.cause FROM results r "
              "JOIN series x ON x.id = r.series JOIN checks c ON c.id = x.check_id "
              "JOIN locations l ON l.id = x.location_id WHERE r.seq > $1 ORDER BY r.seq LIMIT $2",
          after_seq, static_cast<std::int64_t>(std::min<std::size_t>(limit, INT64_MAX)));
      std::vector<Committed> out;
      out.reserve(std::size_t(rows.size()));
      for (const auto& row : rows) {
        out.push_back({row[2].as<std::int64_t>(),
                       read_result(row, 3, row[0].as<std::string>(), row[1].as<std::string>())});
      }
      return out;
    });
  }

  Result<std::int64_t> last_seq() override {
    return with_reader([&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      return txn.exec1("SELECT last FROM seq_counter")[0].as<std::int64_t>();
    });
  }

  Status save_position(std::string_view consumer, std::int64_t seq) override {
    std::lock_guard lock(write_mutex_);
    auto done = with_writer("saving a position in", [&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      txn.exec_params(
          "INSERT INTO positions VALUES($1, $2) ON CONFLICT (consumer) DO UPDATE SET seq = "
          "excluded.seq",
          std::string(consumer), seq);
      txn.commit();
      return true;
    });
    if (!done) return done.error();
    return {};
  }

  Result<std::optional<std::int64_t>> take_position(std::string_view consumer) override {
    std::lock_guard lock(write_mutex_);
    return with_writer("taking a position from", [&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      pqxx::result rows = txn.exec_params("DELETE FROM positions WHERE consumer = $1 RETURNING seq",
                                          std::string(consumer));
      txn.commit();
      std::optional<std::int64_t> seq;
      if (!rows.empty()) seq = rows[0][0].as<std::int64_t>();
      return seq;
    });
  }

  Result<ResultPage> results(const ResultQuery& q) override {
    if (q.limit == 0) return ResultPage{};
    auto parsed = query_cursor(q);
    if (!parsed) return parsed.error();
    const std::optional<Cursor>& cursor = *parsed;
    const bool newest = q.order == Order::kNewestFirst;
    const std::string dir = newest ? "DESC" : "ASC";
    // One query over every series of the check; the cursor is a (started_us, location) bound.
    const std::string sql =
        std::string("SELECT l.name, ") +
        "r.started_us, r.total_us, r.outcome_stage, "
        "r.http_status, r.error, r.dns_us, r.connect_us, r.tls_us, r.first_byte_us, r.cause "
        "FROM results r JOIN series x ON x.id = r.series JOIN checks c ON c.id = x.check_id "
        "JOIN locations l ON l.id = x.location_id "
        "WHERE c.name = $1 AND r.started_us >= $2 AND r.started_us < $3 "
        "AND (NOT $4 OR l.name = $5) AND (NOT $6 OR (r.started_us, l.name) " +
        (newest ? "<" : ">") + " ($7::BIGINT, $8::TEXT)) ORDER BY r.started_us " + dir +
        ", l.name " + dir + " LIMIT $9";
    return with_reader([&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      pqxx::result rows = txn.exec_params(
          sql, q.check, q.from_us, q.to_us, q.location.has_value(), q.location.value_or(""),
          cursor.has_value(), cursor ? cursor->started_us : 0,
          cursor ? cursor->location : std::string(), static_cast<std::int64_t>(q.limit) + 1);
      ResultPage page;
      for (const auto& row : rows) {
        if (page.results.size() == q.limit) {
          const StoredResult& last = page.results.back();
          page.next_cursor = encode_cursor({last.started_us, last.location});
          break;
        }
        page.results.push_back(read_result(row, 1, q.check, row[0].as<std::string>()));
      }
      return page;
    });
  }

  Result<std::vector<MinuteRollup>> rollups(const RollupQuery& q) override {
    return with_reader([&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      pqxx::result rows = txn.exec_params(
          "SELECT l.name, r.minute_us, r.total, r.good, r.degraded, r.b0, r.b1, r.b2, r.b3, "
          "r.b4, r.b5, r.b6, r.b7, r.b8, r.b9, r.b10, r.b11 FROM rollups r "
          "JOIN series x ON x.id = r.series JOIN checks c ON c.id = x.check_id "
          "JOIN locations l ON l.id = x.location_id "
          "WHERE c.name = $1 AND r.minute_us >= $2 AND r.minute_us < $3 "
          "AND (NOT $4 OR l.name = $5) ORDER BY r.minute_us, l.name",
          q.check, q.from_us, q.to_us, q.location.has_value(), q.location.value_or(""));
      std::vector<MinuteRollup> out;
      for (const auto& row : rows) {
        MinuteRollup m;
        m.check = q.check;
        m.location = row[0].as<std::string>();
        m.minute_us = row[1].as<std::int64_t>();
        m.total = row[2].as<std::int64_t>();
        m.good = row[3].as<std::int64_t>();
        m.degraded = row[4].as<std::int64_t>();
        for (std::size_t i = 0; i < kLatencyBuckets; ++i) {
          m.latency_buckets[i] = row[int(5 + i)].as<std::int64_t>();
        }
        if (q.sum_locations && !out.empty() && out.back().minute_us == m.minute_us) {
          add_rollup(out.back(), m);
          continue;
        }
        if (q.sum_locations) m.location.clear();
        out.push_back(std::move(m));
      }
      return out;
    });
  }

  Result<std::vector<StoredResult>> latest(std::string_view check) override {
    return with_reader([&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      pqxx::result rows = txn.exec_params(
          std::string("SELECT c.name, l.name, ") + kRowColumns +
              " FROM latest t JOIN series x ON x.id = t.series "
              "JOIN checks c ON c.id = x.check_id JOIN locations l ON l.id = x.location_id "
              "WHERE $1 = '' OR c.name = $1 ORDER BY c.name, l.name",
          std::string(check));
      std::vector<StoredResult> out;
      for (const auto& row : rows) {
        out.push_back(read_result(row, 2, row[0].as<std::string>(), row[1].as<std::string>()));
      }
      return out;
    });
  }

  Result<Availability> availability(std::string_view check,
                                    const std::optional<std::string>& location, TimeUs from_us,
                                    TimeUs to_us) override {
    return with_reader([&](pqxx::connection& conn) {
      pqxx::nontransaction txn(conn);
      pqxx::row row = txn.exec_params1(
          "SELECT COALESCE(SUM(r.total), 0)::BIGINT, COALESCE(SUM(r.good), 0)::BIGINT, "
          "COALESCE(SUM(r.degraded), 0)::BIGINT FROM rollups r "
          "JOIN series x ON x.id = r.series JOIN checks c ON c.id = x.check_id "
          "JOIN locations l ON l.id = x.location_id "
          "WHERE c.name = $1 AND r.minute_us >= $2 AND r.minute_us < $3 "
          "AND (NOT $4 OR l.name = $5)",
          std::string(check), from_us, to_us, location.has_value(), location.value_or(""));
      return Availability{row[0].as<std::int64_t>(), row[1].as<std::int64_t>(),
                          row[2].as<std::int64_t>()};
    });
  }

  Result<PruneStats> prune(TimeUs now_us) override {
    std::lock_guard lock(write_mutex_);
    return with_writer("pruning", [&](pqxx::connection& conn) {
      pqxx::work txn(conn);
      PruneStats stats;
      // Through series, so that each series' deletes are primary key range scans.
      stats.results = txn.exec_params(
                             "DELETE FROM results r USING series x "
                             "WHERE r.series = x.id AND r.started_us < $1",
                             now_us - options_.raw_retention_us)
                          .affected_rows();
      stats.rollups = txn.exec_params(
                             "DELETE FROM rollups r USING series x "
                             "WHERE r.series = x.id AND r.minute_us < $1",
                             now_us - options_.rollup_retention_us)
                          .affected_rows();
      txn.commit();
      return stats;
    });
  }

  Result<std::int64_t> compact(TimeUs) override { return std::int64_t{0}; }  // see the top

 private:
  // Runs `body` (idempotent: a batch written twice keeps its first copy and is counted once),
  // again on a new connection when the first broke.
  template <typename Body>
  BodyResult<Body> run(Connection& conn, const char* what, Body& body) {
    return run_on(conn, target_, what, body);
  }

  // REQUIRES: write_mutex_.
  template <typename Body>
  BodyResult<Body> with_writer(const char* what, Body body) {
    return run(writer_, what, body);
  }

  // Runs `body` on a pooled connection of its own, so reads run beside the writer.
  template <typename Body>
  BodyResult<Body> with_reader(Body body) {
    Connection conn;
    {
      std::lock_guard lock(pool_mutex_);
      if (!pool_.empty()) {
        conn = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    auto out = run(conn, "reading", body);
    std::lock_guard lock(pool_mutex_);
    if (conn && pool_.size() < 8) pool_.push_back(std::move(conn));
    return out;
  }

  const Target target_;
  const StoreOptions options_;

  std::mutex write_mutex_;
  Connection writer_;  // null after it broke, until the next write connects again
  const std::string merge_sql_;

  std::mutex pool_mutex_;
  std::vector<Connection> pool_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_postgres(const std::string& uri, const StoreOptions& options) {
  auto target = parse_target(uri);
  if (!target) return target.error();
  auto conn = connect(*target);
  if (!conn) return conn.error();
  auto store = std::make_unique<PostgresStore>(std::move(*target), options, std::move(*conn));
  if (auto s = store->init(); !s) return s.error();
  return std::unique_ptr<Store>(std::move(store));
}

Status force_postgres_schema_version(const std::string& uri, int version) {
  auto target = parse_target(uri);
  if (!target) return target.error();
  auto conn = connect(*target);
  if (!conn) return conn.error();
  try {
    pqxx::work txn(**conn);
    txn.exec("CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
    txn.exec("DELETE FROM schema_version");
    txn.exec_params("INSERT INTO schema_version VALUES($1)", version);
    txn.commit();
  } catch (const std::exception& e) {
    return fail("store: ", target->display, ": ", clean_message(e.what(), target->password));
  }
  return {};
}

}  // namespace leeway::store::detail
