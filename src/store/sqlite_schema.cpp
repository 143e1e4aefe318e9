// The SQLite store: one file in WAL mode. This file: its schema, migrations and opening.
//
// Two tiers, as Prometheus has a head block and chunks. A B-tree keyed by series first takes one
// page write per series per transaction: with 2,000 series, 4 KB went to disk per result and
// ingest ran at 80,000 results/s (bench/ingest.sh; 570,000 with the tiers). So what is being
// written goes into tables keyed by minute first (recent_results, recent_rollups), where a
// batch lands in the few pages of the last minutes. compact() later moves it into tables keyed
// by series first, many minutes of a series at once: raw results into per (series, time-span)
// chunks (see chunk_codec.cpp), rollups into `rollups` and their sums per hour into
// `hourly_rollups`. Readers merge both tiers; a series' rows in the recent tier are found with
// one index seek per minute present there.
//
// Every stored result has a seq, its place in commit order (see Committed), kept through
// compaction: recent_commits says which minutes of the recent tier each commit wrote, and each
// chunk piece knows the smallest and largest seq it holds (see read_committed()). An index on
// the recent tier's seqs would find rows directly, but it cost a second B-tree insert of ~20
// bytes per result: ingest 2.4x slower and 33 more raw bytes per result (bench/ingest.sh).
#include <string>

#include "store/sqlite_impl.h"

namespace leeway::store::detail {
namespace {

// Schema migrations; migration i (0-based) takes the database to version i + 1.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE checks(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE locations(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE series(id INTEGER PRIMARY KEY, check_id INTEGER NOT NULL, location_id INTEGER NOT NULL,
                    UNIQUE(check_id, location_id));
CREATE TABLE errors(id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE);
CREATE TABLE results(series INTEGER NOT NULL, started_us INTEGER NOT NULL, total_us INTEGER NOT NULL,
                     outcome_stage INTEGER NOT NULL, http_status INTEGER NOT NULL,
                     error_id INTEGER NOT NULL, dns_us INTEGER NOT NULL, connect_us INTEGER NOT NULL,
                     tls_us INTEGER NOT NULL, first_byte_us INTEGER NOT NULL,
                     PRIMARY KEY(series, started_us)) WITHOUT ROWID;
CREATE TABLE chunks(id INTEGER PRIMARY KEY, series INTEGER NOT NULL, first_us INTEGER NOT NULL,
                    last_us INTEGER NOT NULL, count INTEGER NOT NULL, data BLOB NOT NULL);
CREATE INDEX chunks_by_series ON chunks(series, first_us);
CREATE TABLE rollups(series INTEGER NOT NULL, minute INTEGER NOT NULL, total INTEGER NOT NULL,
                     good INTEGER NOT NULL, degraded INTEGER NOT NULL,
                     b0 INTEGER NOT NULL, b1 INTEGER NOT NULL, b2 INTEGER NOT NULL,
                     b3 INTEGER NOT NULL, b4 INTEGER NOT NULL, b5 INTEGER NOT NULL,
                     b6 INTEGER NOT NULL, b7 INTEGER NOT NULL, b8 INTEGER NOT NULL,
                     b9 INTEGER NOT NULL, b10 INTEGER NOT NULL, b11 INTEGER NOT NULL,
                     PRIMARY KEY(series, minute)) WITHOUT ROWID;
CREATE TABLE latest(series INTEGER PRIMARY KEY, started_us INTEGER NOT NULL,
                    total_us INTEGER NOT NULL, outcome_stage INTEGER NOT NULL,
                    http_status INTEGER NOT NULL, error_id INTEGER NOT NULL,
                    dns_us INTEGER NOT NULL, connect_us INTEGER NOT NULL, tls_us INTEGER NOT NULL,
                    first_byte_us INTEGER NOT NULL);
)sql",
    // Version 2: recent raw results and rollups keyed by minute first (see "Two tiers" above).
    R"sql(
CREATE TABLE recent_results(minute INTEGER NOT NULL, series INTEGER NOT NULL,
                            started_us INTEGER NOT NULL, total_us INTEGER NOT NULL,
                            outcome_stage INTEGER NOT NULL, http_status INTEGER NOT NULL,
                            error_id INTEGER NOT NULL, dns_us INTEGER NOT NULL,
                            connect_us INTEGER NOT NULL, tls_us INTEGER NOT NULL,
                            first_byte_us INTEGER NOT NULL,
                            PRIMARY KEY(minute, series, started_us)) WITHOUT ROWID;
INSERT INTO recent_results
  SELECT CASE WHEN started_us >= 0 THEN started_us / 60000000
              ELSE (started_us - 59999999) / 60000000 END,
         series, started_us, total_us, outcome_stage, http_status, error_id, dns_us, connect_us,
         tls_us, first_byte_us
  FROM results;
DROP TABLE results;
CREATE TABLE recent_rollups(minute INTEGER NOT NULL, series INTEGER NOT NULL,
                            total INTEGER NOT NULL, good INTEGER NOT NULL,
                            degraded INTEGER NOT NULL, b0 INTEGER NOT NULL, b1 INTEGER NOT NULL,
                            b2 INTEGER NOT NULL, b3 INTEGER NOT NULL, b4 INTEGER NOT NULL,
                            b5 INTEGER NOT NULL, b6 INTEGER NOT NULL, b7 INTEGER NOT NULL,
                            b8 INTEGER NOT NULL, b9 INTEGER NOT NULL, b10 INTEGER NOT NULL,
                            b11 INTEGER NOT NULL, PRIMARY KEY(minute, series)) WITHOUT ROWID;
)sql",
    // Version 3: hourly sums of `rollups`, so that availability over 30 days reads 720 rows of a
    // series instead of 43,200 (see availability()).
    R"sql(
CREATE TABLE hourly_rollups(series INTEGER NOT NULL, hour INTEGER NOT NULL, total INTEGER NOT NULL,
                            good INTEGER NOT NULL, degraded INTEGER NOT NULL,
                            PRIMARY KEY(series, hour)) WITHOUT ROWID;
INSERT INTO hourly_rollups
  SELECT series, CASE WHEN minute >= 0 THEN minute / 60 ELSE (minute - 59) / 60 END,
         sum(total), sum(good), sum(degraded)
  FROM rollups GROUP BY 1, 2;
)sql",
    // Version 4: the commit sequence. Results stored before it are numbered in time order:
    // chunk pieces by their first time (a piece's rows then number on from its min_seq, see
    // decode_chunk()), then the recent tier. store_state holds the last seq handed out and the
    // time below which results may sit in chunks (see write()). recent_commits and
    // chunks_by_seq: see read_committed().
    R"sql(
ALTER TABLE recent_results ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chunks ADD COLUMN min_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chunks ADD COLUMN max_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chunks ADD COLUMN seq_class INTEGER NOT NULL DEFAULT 0;
UPDATE chunks SET min_seq = b.first, max_seq = b.first + chunks.count - 1,
                  seq_class = leeway_seq_class(chunks.count - 1)
  FROM (SELECT id, sum(count) OVER (ORDER BY first_us, id) - count + 1 AS first FROM chunks) AS b
  WHERE chunks.id = b.id;
UPDATE recent_results SET seq = b.seq
  FROM (SELECT minute, series, started_us, (SELECT COALESCE(sum(count), 0) FROM chunks) +
               row_number() OVER (ORDER BY started_us, series) AS seq FROM recent_results) AS b
  WHERE recent_results.minute = b.minute AND recent_results.series = b.series AND
        recent_results.started_us = b.started_us;
CREATE TABLE store_state(last_seq INTEGER NOT NULL, compacted_before INTEGER NOT NULL);
INSERT INTO store_state
  SELECT (SELECT COALESCE(sum(count), 0) FROM chunks) + (SELECT count(*) FROM recent_results),
         COALESCE((SELECT max(last_us) + 1 FROM chunks), -9223372036854775807 - 1);
CREATE TABLE recent_commits(first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL,
                            first_minute INTEGER NOT NULL, last_minute INTEGER NOT NULL);
INSERT INTO recent_commits SELECT * FROM (SELECT min(seq) AS first, max(seq), min(minute),
  max(minute) FROM recent_results) WHERE first IS NOT NULL;
CREATE INDEX chunks_by_seq ON chunks(seq_class, min_seq, max_seq);
)sql",
    // Version 5: why a run could not reach its target (probe::Cause's value; 0: none or not
    // known, as for every result stored before). Chunks carry it from now on (chunk_codec.cpp).
    R"sql(
ALTER TABLE recent_results ADD COLUMN cause INTEGER NOT NULL DEFAULT 0;
ALTER TABLE latest ADD COLUMN cause INTEGER NOT NULL DEFAULT 0;
)sql",
    // Version 6: the cause moves into outcome_stage, above its five bits (see kCauseShift): one
    // column fewer to bind and store for every result. Chunks keep theirs as they are.
    R"sql(
UPDATE recent_results SET outcome_stage = outcome_stage | (cause << 5) WHERE cause <> 0;
ALTER TABLE recent_results DROP COLUMN cause;
UPDATE latest SET outcome_stage = outcome_stage | (cause << 5) WHERE cause <> 0;
ALTER TABLE latest DROP COLUMN cause;
)sql",
    // Version 7: where a consumer of the results stream stopped (see Store::save_position()). IF
    // NOT EXISTS: the migration tests take files back to older versions without dropping it.
    R"sql(
CREATE TABLE IF NOT EXISTS positions(consumer TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
)sql",
};
static_assert(std::size(kMigrations) == kSqliteSchemaVersion);

}  // namespace

Status SqliteStore::init() {
  // An 8 MiB writer cache: batches touch only the last minutes' pages, so ingest is as fast as
  // with 32 MiB (bench/ingest.sh); compaction is a little slower, and memory matters more.
  if (auto s = exec(writer_.get(),
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA "
                    "cache_size=-8192; PRAGMA temp_store=MEMORY;");
      !s) {
    return fail("store: sqlite:", path_, ": ", s.error().message);
  }
  auto version = user_version(writer_.get());
  if (!version) return fail("store: sqlite:", path_, ": ", version.error().message);
  if (*version > kSqliteSchemaVersion) {
    return fail("store: sqlite:", path_, " has schema version ", std::to_string(*version),
                ", newer than this leeway supports (", std::to_string(kSqliteSchemaVersion),
                "); upgrade leeway or use another file");
  }
  // Migration 4 numbers the pieces of old chunks by their row counts.
  sqlite3_create_function(
      writer_.get(), "leeway_seq_class", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC, nullptr,
      [](sqlite3_context* context, int, sqlite3_value** argv) {
        sqlite3_result_int64(context, seq_class(0, sqlite3_value_int64(argv[0])));
      },
      nullptr, nullptr);
  for (int v = int(*version); v < kSqliteSchemaVersion; ++v) {
    std::string sql = std::string("BEGIN IMMEDIATE;") + kMigrations[v] +
                      "PRAGMA user_version=" + std::to_string(v + 1) + "; COMMIT;";
    if (auto s = exec(writer_.get(), sql.c_str()); !s) {
      (void)exec(writer_.get(), "ROLLBACK");  // the error being reported matters more
      return fail("store: sqlite:", path_, ": migrating to schema version ", std::to_string(v + 1),
                  ": ", s.error().message);
    }
  }
  auto state = Stmt::prepare(writer_.get(), "SELECT last_seq, compacted_before FROM store_state");
  if (!state) return fail("store: sqlite:", path_, ": ", state.error().message);
  if (state->step() != SQLITE_ROW) {
    return fail("store: sqlite:", path_, ": no store_state row: ", sqlite3_errmsg(writer_.get()));
  }
  last_seq_ = state->i64(0);
  committed_seq_ = last_seq_;
  compacted_before_ = state->i64(1);
  if (auto s = verify(); !s) return s;
  auto checkpoint_db = open_db(path_);
  if (!checkpoint_db) return checkpoint_db.error();
  // A connection opens the file lazily; until it has, it does not know the log exists.
  if (auto s = exec(checkpoint_db->get(), "PRAGMA journal_mode=WAL"); !s)
    return fail("store: sqlite:", path_, ": ", s.error().message);
  checkpointer_ = std::make_unique<Checkpointer>(std::move(*checkpoint_db));
  checkpointer_->watch(writer_.get());
  return {};
}

// Refuses a file that would take no result, rather than start and drop every batch: one that
// cannot be written (read-only file, directory or disk) or has a damaged b-tree. A real write
// transaction proves the first. quick_check reads every page of what it checks, so it runs on
// the tables every batch writes, which are small (the recent tier holds about an hour); of the
// large ones (chunks and rollups, growing with retention) only the path to their first row is
// read, as a full check would cost start-up time in proportion to the file.
Status SqliteStore::verify() {
  if (auto s = exec(writer_.get(),
                    "BEGIN IMMEDIATE; UPDATE store_state SET last_seq = last_seq; COMMIT;");
      !s) {
    (void)exec(writer_.get(), "ROLLBACK");  // the error being reported matters more
    return fail("store: sqlite:", path_, " cannot be written: ", s.error().message);
  }
  for (const char* table : {"checks", "locations", "series", "errors", "latest", "store_state",
                            "recent_results", "recent_rollups"}) {
    auto st = Stmt::prepare(writer_.get(), std::string("PRAGMA quick_check(") + table + ")");
    if (!st) return fail("store: sqlite:", path_, " is damaged: ", st.error().message);
    int rc = st->step();
    if (rc != SQLITE_ROW) {
      return fail("store: sqlite:", path_, " is damaged: ", sqlite3_errmsg(writer_.get()));
    }
    if (st->text(0) != "ok") {
      return fail("store: sqlite:", path_, " is damaged (table ", table, "): ", st->text(0));
    }
  }
  for (const char* table : {"chunks", "rollups", "hourly_rollups"}) {
    auto st = Stmt::prepare(writer_.get(), std::string("SELECT * FROM ") + table + " LIMIT 1");
    if (!st) return fail("store: sqlite:", path_, " is damaged: ", st.error().message);
    if (int rc = st->step(); rc != SQLITE_ROW && rc != SQLITE_DONE) {
      return fail("store: sqlite:", path_, " is damaged (table ", table,
                  "): ", sqlite3_errmsg(writer_.get()));
    }
  }
  return {};
}

Result<std::int64_t> SqliteStore::user_version(sqlite3* db) {
  auto st = Stmt::prepare(db, "PRAGMA user_version");
  if (!st) return st.error();
  if (st->step() != SQLITE_ROW) return fail("sqlite: ", sqlite3_errmsg(db));
  return st->i64(0);
}

Result<std::unique_ptr<Store>> open_sqlite(const std::string& path, const StoreOptions& options) {
  if (options.chunk_span_us <= 0) return fail("store: chunk span must be positive");
  auto db = open_db(path);
  if (!db) return db.error();
  auto store = std::make_unique<SqliteStore>(path, options, std::move(*db));
  if (auto s = store->init(); !s) return s.error();
  return std::unique_ptr<Store>(std::move(store));
}

Status force_sqlite_schema_version(const std::string& path, int version) {
  auto db = open_db(path);
  if (!db) return db.error();
  return exec(db->get(), ("PRAGMA user_version=" + std::to_string(version)).c_str());
}

}  // namespace leeway::store::detail
