// The SQLite store: one file in WAL mode.
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
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <map>
#include <mutex>
#include <stop_token>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "store/detail.h"

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
};
static_assert(std::size(kMigrations) == kSqliteSchemaVersion);

// Encoded bytes per chunk row at most (about): four of them and their columns fill a 4 KB page.
constexpr std::size_t kChunkPieceBytes = 960;

// Rows per INSERT statement on the write path: most of SQLite's cost is per statement.
constexpr std::size_t kInsertGroup = 32;

// Series compacted together: their rows are read in one pass over the recent tier's minutes and
// held in memory (at a 10 s interval, 5 minutes of them are ~250 KB).
constexpr std::size_t kCompactSeries = 256;

// "head (?,?),(?,?) tail" with `rows` tuples of `columns` parameters.
std::string rows_sql(const char* head, int columns, std::size_t rows, const std::string& tail) {
  std::string tuple = "(?";
  for (int i = 1; i < columns; ++i) tuple += ",?";
  tuple += ")";
  std::string sql = head;
  for (std::size_t i = 0; i < rows; ++i) sql += (i ? "," : " ") + tuple;
  return sql + tail;
}

// An upsert of the write path, for one row and for kInsertGroup rows, and the statement cache
// slots that hold them (slot and slot + 1).
struct Upsert {
  int slot;
  std::string sql[2];
  Upsert(int slot, const char* head, int columns, const std::string& tail)
      : slot(slot),
        sql{rows_sql(head, columns, 1, tail), rows_sql(head, columns, kInsertGroup, tail)} {}
};

// Rollup counts add up: a conflicting row's counts are added to the stored ones.
const std::string kAddRollupCounts =
    " DO UPDATE SET total = total + excluded.total, good = good + excluded.good, "
    "degraded = degraded + excluded.degraded, b0 = b0 + excluded.b0, b1 = b1 + excluded.b1, "
    "b2 = b2 + excluded.b2, b3 = b3 + excluded.b3, b4 = b4 + excluded.b4, "
    "b5 = b5 + excluded.b5, b6 = b6 + excluded.b6, b7 = b7 + excluded.b7, "
    "b8 = b8 + excluded.b8, b9 = b9 + excluded.b9, b10 = b10 + excluded.b10, "
    "b11 = b11 + excluded.b11";

const Upsert kRollupUpsert(9, "INSERT INTO recent_rollups VALUES", 17,
                           " ON CONFLICT(minute, series)" + kAddRollupCounts);

// Moves the recent tier's rollups into `rollups`, in that table's key order, and adds them to
// `hourly_rollups`: a row of `rollups` is counted there from the moment it exists. ("WHERE true"
// keeps SQLite from reading ON CONFLICT as part of the SELECT.)
const std::string kMoveRollups =
    "INSERT INTO hourly_rollups SELECT series, "
    "CASE WHEN minute >= 0 THEN minute / 60 ELSE (minute - 59) / 60 END, sum(total), sum(good), "
    "sum(degraded) FROM recent_rollups WHERE true GROUP BY 1, 2 ORDER BY 1, 2 "
    "ON CONFLICT(series, hour) DO UPDATE SET total = total + excluded.total, "
    "good = good + excluded.good, degraded = degraded + excluded.degraded; "
    "INSERT INTO rollups SELECT series, minute, total, good, degraded, b0, b1, b2, b3, b4, b5, "
    "b6, b7, b8, b9, b10, b11 FROM recent_rollups WHERE true ORDER BY series, minute "
    "ON CONFLICT(series, minute)" +
    kAddRollupCounts + "; DELETE FROM recent_rollups;";
const Upsert kLatestUpsert(17, "INSERT INTO latest VALUES", 10,
                           " ON CONFLICT(series) DO UPDATE SET started_us = excluded.started_us, "
                           "total_us = excluded.total_us, outcome_stage = excluded.outcome_stage, "
                           "http_status = excluded.http_status, error_id = excluded.error_id, "
                           "dns_us = excluded.dns_us, connect_us = excluded.connect_us, "
                           "tls_us = excluded.tls_us, first_byte_us = excluded.first_byte_us "
                           "WHERE excluded.started_us > latest.started_us");

constexpr const char* kInsertResult =
    "INSERT OR IGNORE INTO recent_results(minute, series, started_us, total_us, outcome_stage, "
    "http_status, error_id, dns_us, connect_us, tls_us, first_byte_us, seq) VALUES";
constexpr int kInsertColumns = 12;
constexpr const char* kRowColumns =
    "started_us, total_us, outcome_stage, http_status, error_id, dns_us, connect_us, tls_us, "
    "first_byte_us";
constexpr const char* kRollupCounts =
    "total, good, degraded, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11";

// Owns a prepared statement; reset on every run so it can be reused.
class Stmt {
 public:
  Stmt() = default;
  Stmt(Stmt&& o) noexcept : s_(std::exchange(o.s_, nullptr)) {}
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  static Result<Stmt> prepare(sqlite3* db, std::string_view sql) {
    Stmt st;
    if (sqlite3_prepare_v3(db, sql.data(), int(sql.size()), SQLITE_PREPARE_PERSISTENT, &st.s_,
                           nullptr) != SQLITE_OK) {
      return fail("sqlite: ", sqlite3_errmsg(db));
    }
    return st;
  }
  Stmt& reset() {
    sqlite3_reset(s_);
    sqlite3_clear_bindings(s_);
    next_ = 1;
    return *this;
  }
  Stmt& bind(std::int64_t v) {
    sqlite3_bind_int64(s_, next_++, v);
    return *this;
  }
  Stmt& bind(std::string_view v) {
    sqlite3_bind_text(s_, next_++, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& bind_blob(std::string_view v) {
    sqlite3_bind_blob(s_, next_++, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int step() { return sqlite3_step(s_); }
  std::int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, std::size_t(sqlite3_column_bytes(s_, col))) : std::string();
  }
  std::string_view blob(int col) const {
    auto* p = static_cast<const char*>(sqlite3_column_blob(s_, col));
    return p ? std::string_view(p, std::size_t(sqlite3_column_bytes(s_, col))) : std::string_view();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
  int next_ = 1;
};

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;

Status exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string message = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return fail("sqlite: ", message);
  }
  return {};
}

Result<Db> open_db(const std::string& path) {
  sqlite3* raw = nullptr;
  int rc =
      sqlite3_open_v2(path.c_str(), &raw,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  Db db(raw);
  if (rc != SQLITE_OK) {
    return fail("store: cannot open sqlite:", path, ": ",
                raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(raw, 10'000);
  sqlite3_extended_result_codes(raw, 1);
  return db;
}

Row read_row(const Stmt& st, int first_col) {
  Row r;
  r.started_us = st.i64(first_col);
  r.total_us = st.i64(first_col + 1);
  r.outcome_stage = int(st.i64(first_col + 2));
  r.http_status = int(st.i64(first_col + 3));
  r.error_id = st.i64(first_col + 4);
  r.dns_us = st.i64(first_col + 5);
  r.connect_us = st.i64(first_col + 6);
  r.tls_us = st.i64(first_col + 7);
  r.first_byte_us = st.i64(first_col + 8);
  return r;
}

void bind_row(Stmt& st, const Row& r) {
  st.bind(r.started_us)
      .bind(r.total_us)
      .bind(r.outcome_stage)
      .bind(r.http_status)
      .bind(r.error_id)
      .bind(r.dns_us)
      .bind(r.connect_us)
      .bind(r.tls_us)
      .bind(r.first_byte_us);
}

Row to_row(const StoredResult& s, std::int64_t error_id) {
  return Row{s.started_us,  s.total_us, pack_outcome_stage(s.outcome, s.stage),
             s.http_status, error_id,   s.dns_us,
             s.connect_us,  s.tls_us,   s.first_byte_us};
}

StoredResult from_row(const Row& r, std::string check, std::string location, std::string error) {
  StoredResult s;
  s.check = std::move(check);
  s.location = std::move(location);
  s.started_us = r.started_us;
  s.total_us = r.total_us;
  unpack_outcome_stage(r.outcome_stage, s.outcome, s.stage);
  s.http_status = r.http_status;
  s.error = std::move(error);
  s.dns_us = r.dns_us;
  s.connect_us = r.connect_us;
  s.tls_us = r.tls_us;
  s.first_byte_us = r.first_byte_us;
  return s;
}

// A chunk piece's seq class: the bit width of max_seq - min_seq, so that every piece of class c
// holding a seq above s has min_seq > s - 2^c (see read_committed()).
std::int64_t seq_class(std::int64_t min_seq, std::int64_t max_seq) {
  return std::bit_width(static_cast<std::uint64_t>(max_seq) - static_cast<std::uint64_t>(min_seq));
}

// Floor and ceiling division by a positive divisor, for negative times too.
std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  return a / b - (a % b < 0 ? 1 : 0);
}
std::int64_t ceil_div(std::int64_t a, std::int64_t b) {
  return -floor_div(-a, b);
}

// The minutes in [first, last] that hold rows of a recent-tier table (keyed by minute first),
// ascending: one index seek per minute present, however many rows each has.
Result<std::vector<std::int64_t>> present_minutes(sqlite3* db, const std::string& table,
                                                  std::int64_t first, std::int64_t last) {
  auto st = Stmt::prepare(db, "SELECT minute FROM " + table +
                                  " WHERE minute >= ? AND minute <= ? ORDER BY minute LIMIT 1");
  if (!st) return st.error();
  std::vector<std::int64_t> minutes;
  while (first <= last) {
    st->reset().bind(first).bind(last);
    int rc = st->step();
    if (rc == SQLITE_DONE) break;
    if (rc != SQLITE_ROW) return fail("sqlite: ", sqlite3_errmsg(db));
    minutes.push_back(st->i64(0));
    first = minutes.back() + 1;  // minutes are far from the int64 limits: no overflow
  }
  return minutes;
}

// Copies the write-ahead log back into the database on a thread of its own. SQLite's automatic
// checkpoint runs on the writer's thread after a commit, so the writer would wait for the whole
// copy and its fsync (about a third of ingest time, measured with bench/ingest.sh). Here a
// passive checkpoint on another connection copies most of the log while the writer goes on.
// The log only starts over from its beginning once all of it was copied and nobody reads it, so
// the writer itself finishes with a RESTART checkpoint (from another thread, the writer's next
// batch would always win the lock): cheap when the copy has nearly caught up, and forced when
// the log reaches kMaxPages, which bounds the file.
class Checkpointer {
 public:
  static constexpr int kPages = 4096;  // 16 MiB of 4 KiB pages: wake the copier
  static constexpr int kMaxPages = 4 * kPages;

  explicit Checkpointer(Db db)
      : db_(std::move(db)), thread_([this](std::stop_token stop) { loop(stop); }) {}

  // Installs the hook on the writer connection; it replaces SQLite's automatic checkpoint.
  void watch(sqlite3* writer) {
    sqlite3_wal_hook(
        writer,
        [](void* self, sqlite3* db, const char*, int pages) {
          static_cast<Checkpointer*>(self)->committed(db, pages);
          return SQLITE_OK;
        },
        this);
  }

 private:
  // On the writer's thread, after each commit, with the log's size in pages.
  void committed(sqlite3* writer, int pages) {
    if (pages >= kMaxPages || (pages >= kPages && caught_up_.exchange(false))) {
      sqlite3_wal_checkpoint_v2(writer, nullptr, SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
      return;
    }
    if (pages < kPages) return;
    {
      std::lock_guard lock(mutex_);
      due_ = true;
    }
    wakeup_.notify_one();
  }

  void loop(std::stop_token stop) {
    std::unique_lock lock(mutex_);
    while (wakeup_.wait(lock, stop, [this] { return due_; })) {
      due_ = false;
      lock.unlock();
      int frames = 0, copied = 0;
      sqlite3_wal_checkpoint_v2(db_.get(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
      if (frames - copied < kPages / 4) caught_up_ = true;
      lock.lock();
    }
  }

  Db db_;
  std::atomic<bool> caught_up_{false};  // the last passive copy left little for the writer
  std::mutex mutex_;
  std::condition_variable_any wakeup_;
  bool due_ = false;
  std::jthread thread_;  // last: stopped and joined before the rest is destroyed
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, StoreOptions options, Db writer)
      : path_(std::move(path)), options_(options), writer_(std::move(writer)) {}

  Status init() {
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
        return fail("store: sqlite:", path_, ": migrating to schema version ",
                    std::to_string(v + 1), ": ", s.error().message);
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
  Status verify() {
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

  static Result<std::int64_t> user_version(sqlite3* db) {
    auto st = Stmt::prepare(db, "PRAGMA user_version");
    if (!st) return st.error();
    if (st->step() != SQLITE_ROW) return fail("sqlite: ", sqlite3_errmsg(db));
    return st->i64(0);
  }

  std::string describe() const override { return "sqlite:" + path_; }

  Result<std::vector<Committed>> write(std::span<const StoredResult> batch) override {
    std::lock_guard lock(write_mutex_);
    auto s = write_locked(batch);
    if (!s) {
      (void)exec(writer_.get(), "ROLLBACK");  // the error being reported matters more
      // Ids created in the rolled-back transaction are gone: forget them.
      series_ids_.clear();
      name_ids_[0].clear();
      name_ids_[1].clear();
      error_ids_.clear();
      return fail("store: writing to sqlite:", path_, ": ", s.error().message);
    }
    return s;
  }

  Result<std::vector<Committed>> read_since(std::int64_t after_seq, std::size_t limit) override {
    auto conn = lease();
    if (!conn) return conn.error();
    // One read transaction: compaction may move rows from the recent tier into chunks between
    // two statements, and a row must be seen exactly once.
    Result<std::vector<Committed>> out = fail("");
    if (auto s = exec(conn->get(), "BEGIN"); !s) {
      out = fail("store: reading sqlite:", path_, ": ", s.error().message);
    } else {
      out = read_committed(conn->get(), after_seq, limit);
      (void)exec(conn->get(), "COMMIT");  // read only: nothing to lose
    }
    give_back(std::move(*conn));
    return out;
  }

  Result<std::int64_t> last_seq() override { return committed_seq_.load(); }

  Result<ResultPage> results(const ResultQuery& q) override {
    auto conn = lease();
    if (!conn) return conn.error();
    auto out = read_results(conn->get(), q);
    give_back(std::move(*conn));
    return out;
  }

  Result<std::vector<MinuteRollup>> rollups(const RollupQuery& q) override {
    auto conn = lease();
    if (!conn) return conn.error();
    auto out = read_rollups(conn->get(), q);
    give_back(std::move(*conn));
    return out;
  }

  Result<std::vector<StoredResult>> latest(std::string_view check) override {
    auto conn = lease();
    if (!conn) return conn.error();
    auto out = read_latest(conn->get(), check);
    give_back(std::move(*conn));
    return out;
  }

  Result<Availability> availability(std::string_view check,
                                    const std::optional<std::string>& location, TimeUs from_us,
                                    TimeUs to_us) override {
    auto conn = lease();
    if (!conn) return conn.error();
    // The statements are finalized before the connection goes back to the pool.
    Result<Availability> out = [&]() -> Result<Availability> {
      const std::int64_t first = ceil_div(from_us, kMinuteUs), end = ceil_div(to_us, kMinuteUs);
      auto series = check_series(conn->get(), check, location);
      if (!series) return series.error();
      // The whole hours inside [first, end) come from hourly_rollups, the minutes before and
      // after them from rollups: 30 days are at most 720 + 118 rows of a series, not 43,200.
      const std::int64_t hour_begin = ceil_div(first, 60);
      const std::int64_t hour_end = std::max(hour_begin, floor_div(end, 60));
      const std::int64_t head_end = std::min(end, hour_begin * 60);
      const std::int64_t tail_begin = std::max(head_end, hour_end * 60);
      Availability a;
      auto sum = [&](Stmt& st, std::int64_t id, std::int64_t from, std::int64_t to) -> Status {
        if (from >= to) return {};
        st.reset().bind(id).bind(from).bind(to);
        if (st.step() != SQLITE_ROW)
          return fail("store: reading sqlite:", path_, ": ", sqlite3_errmsg(conn->get()));
        a.total += st.i64(0);
        a.good += st.i64(1);
        a.degraded += st.i64(2);
        return {};
      };
      auto minutes = Stmt::prepare(conn->get(),
                                   "SELECT COALESCE(SUM(total), 0), COALESCE(SUM(good), 0), "
                                   "COALESCE(SUM(degraded), 0) FROM rollups WHERE series = ? AND "
                                   "minute >= ? AND minute < ?");
      if (!minutes) return minutes.error();
      auto hours = Stmt::prepare(conn->get(),
                                 "SELECT COALESCE(SUM(total), 0), COALESCE(SUM(good), 0), "
                                 "COALESCE(SUM(degraded), 0) FROM hourly_rollups WHERE series = ? "
                                 "AND hour >= ? AND hour < ?");
      if (!hours) return hours.error();
      for (const auto& [id, name] : *series) {
        if (Status s = sum(*minutes, id, first, head_end); !s) return s.error();
        if (Status s = sum(*hours, id, hour_begin, hour_end); !s) return s.error();
        if (Status s = sum(*minutes, id, tail_begin, end); !s) return s.error();
      }
      auto recent = visit_recent_rollups(conn->get(), *series, first, end - 1,
                                         [&](const std::string&, std::int64_t, const Stmt& r) {
                                           a.total += r.i64(0);
                                           a.good += r.i64(1);
                                           a.degraded += r.i64(2);
                                         });
      if (!recent) return recent.error();
      return a;
    }();
    give_back(std::move(*conn));
    return out;
  }

  Result<PruneStats> prune(TimeUs now_us) override {
    std::lock_guard lock(write_mutex_);
    auto out = prune_locked(now_us);
    if (!out) {
      (void)exec(writer_.get(), "ROLLBACK");  // the error being reported matters more
      return fail("store: pruning sqlite:", path_, ": ", out.error().message);
    }
    return out;
  }

  Result<std::int64_t> compact(TimeUs before_us) override {
    std::lock_guard lock(write_mutex_);
    auto out = compact_locked(before_us);
    if (!out) {
      (void)exec(writer_.get(), "ROLLBACK");  // the error being reported matters more
      return fail("store: compacting sqlite:", path_, ": ", out.error().message);
    }
    return out;
  }

 private:
  // A row of a batch being written, and a batch's counts for one rollup row.
  struct Pending {
    std::int64_t minute;  // minutes since the epoch, as the recent tier keys rows
    std::int64_t series;
    Row row;
    bool stored = false;  // inserted by this batch (false: the key was already stored)
  };
  struct RollupDelta {
    std::int64_t minute;
    std::int64_t series;
    std::int64_t total = 0, good = 0, degraded = 0;
    std::array<std::int64_t, kLatencyBuckets> buckets{};
  };

  // --- writing (REQUIRES: write_mutex_) ---

  Result<Stmt*> cached(int slot, const char* sql) {
    if (!stmts_[slot]) {
      auto st = Stmt::prepare(writer_.get(), sql);
      if (!st) return st.error();
      stmts_[slot] = std::make_unique<Stmt>(std::move(*st));
    }
    return &stmts_[slot]->reset();
  }

  // Gets or creates the id of a name in `checks` (kind 0) or `locations` (kind 1).
  Result<std::int64_t> name_id(int kind, const std::string& name) {
    auto& cache = name_ids_[kind];
    if (auto it = cache.find(name); it != cache.end()) return it->second;
    auto ins =
        cached(kind == 0 ? 0 : 1, kind == 0 ? "INSERT OR IGNORE INTO checks(name) VALUES(?)"
                                            : "INSERT OR IGNORE INTO locations(name) VALUES(?)");
    if (!ins) return ins.error();
    (*ins)->bind(name);
    if ((*ins)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    auto sel = cached(kind == 0 ? 2 : 3, kind == 0 ? "SELECT id FROM checks WHERE name = ?"
                                                   : "SELECT id FROM locations WHERE name = ?");
    if (!sel) return sel.error();
    (*sel)->bind(name);
    if ((*sel)->step() != SQLITE_ROW) return fail(sqlite3_errmsg(writer_.get()));
    std::int64_t id = (*sel)->i64(0);
    cache.emplace(name, id);
    return id;
  }

  Result<std::int64_t> series_id(const std::string& check, const std::string& location) {
    // One string key, built in a reused buffer: the lookup allocates nothing once warm. The
    // length prefix keeps ("a", "bc") and ("ab", "c") apart.
    series_key_.assign(std::to_string(check.size())).append(1, ':').append(check).append(location);
    if (auto it = series_ids_.find(series_key_); it != series_ids_.end()) return it->second;
    std::string key = series_key_;
    auto c = name_id(0, check);
    if (!c) return c.error();
    auto l = name_id(1, location);
    if (!l) return l.error();
    auto ins = cached(4, "INSERT OR IGNORE INTO series(check_id, location_id) VALUES(?, ?)");
    if (!ins) return ins.error();
    (*ins)->bind(*c).bind(*l);
    if ((*ins)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    auto sel = cached(5, "SELECT id FROM series WHERE check_id = ? AND location_id = ?");
    if (!sel) return sel.error();
    (*sel)->bind(*c).bind(*l);
    if ((*sel)->step() != SQLITE_ROW) return fail(sqlite3_errmsg(writer_.get()));
    std::int64_t id = (*sel)->i64(0);
    series_ids_.emplace(std::move(key), id);
    return id;
  }

  Result<std::int64_t> error_id(const std::string& text) {
    if (text.empty()) return std::int64_t{0};
    if (auto it = error_ids_.find(text); it != error_ids_.end()) return it->second;
    auto ins = cached(6, "INSERT OR IGNORE INTO errors(text) VALUES(?)");
    if (!ins) return ins.error();
    (*ins)->bind(text);
    if ((*ins)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    auto sel = cached(7, "SELECT id FROM errors WHERE text = ?");
    if (!sel) return sel.error();
    (*sel)->bind(text);
    if ((*sel)->step() != SQLITE_ROW) return fail(sqlite3_errmsg(writer_.get()));
    std::int64_t id = (*sel)->i64(0);
    // Error texts can be unbounded (addresses, ports): keep the cache from growing forever.
    if (error_ids_.size() > 10'000) error_ids_.clear();
    error_ids_.emplace(text, id);
    return id;
  }

  Result<std::vector<Committed>> write_locked(std::span<const StoredResult> batch) {
    if (auto s = exec(writer_.get(), "BEGIN IMMEDIATE"); !s) return s.error();
    // Names become ids first; then rows go in in key order (minute, series, time), so that each
    // B-tree page is found once per run of neighbours and rollup rows fall out of one pass.
    // Each row takes the seq of its place in the batch; one not stored leaves a gap.
    const std::int64_t base_seq = last_seq_ + 1;
    pending_.clear();
    pending_.reserve(batch.size());
    for (const StoredResult& r : batch) {
      auto series = series_id(r.check, r.location);
      if (!series) return series.error();
      auto err = error_id(r.error);
      if (!err) return err.error();
      pending_.push_back({floor_div(r.started_us, kMinuteUs), *series, to_row(r, *err)});
      pending_.back().row.seq = base_seq + std::int64_t(pending_.size() - 1);
    }
    // The recent tier's key catches a result stored twice there; one already compacted is
    // looked up in its chunk.
    if (auto s = drop_compacted(); !s) return s.error();
    // Stable: of two results with the same key in one batch, the first is kept.
    std::stable_sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
      return std::tie(a.minute, a.series, a.row.started_us) <
             std::tie(b.minute, b.series, b.row.started_us);
    });
    rollup_deltas_.clear();
    std::span<Pending> rows(pending_);
    while (!rows.empty()) {
      auto group = rows.first(std::min(rows.size(), kInsertGroup));
      rows = rows.subspan(group.size());
      auto inserted = group.size() == kInsertGroup ? insert_group(group) : Result<bool>(false);
      if (!inserted) return inserted.error();
      for (Pending& p : group) {
        if (!*inserted) {
          auto one = insert_one(p);
          if (!one) return one.error();
          if (!*one) continue;  // already stored
        }
        p.stored = true;
        count_in_rollup(p);
      }
    }
    std::vector<Committed> committed;
    std::int64_t first_minute = std::numeric_limits<std::int64_t>::max();
    std::int64_t last_minute = std::numeric_limits<std::int64_t>::min();
    for (const Pending& p : pending_) {
      if (!p.stored) continue;
      committed.push_back({p.row.seq, batch[std::size_t(p.row.seq - base_seq)]});
      first_minute = std::min(first_minute, p.minute);
      last_minute = std::max(last_minute, p.minute);
    }
    std::sort(committed.begin(), committed.end(),
              [](const Committed& a, const Committed& b) { return a.seq < b.seq; });
    auto rollups =
        upsert_all(kRollupUpsert, std::span<const RollupDelta>(rollup_deltas_),
                   [](Stmt& st, const RollupDelta& m) {
                     st.bind(m.minute).bind(m.series).bind(m.total).bind(m.good).bind(m.degraded);
                     for (auto b : m.buckets) st.bind(b);
                   });
    if (!rollups) return rollups.error();
    // The newest stored row of each series becomes its latest.
    std::sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
      return std::tie(a.series, a.row.started_us) < std::tie(b.series, b.row.started_us);
    });
    newest_.clear();
    for (const Pending& p : pending_) {
      if (!p.stored) continue;
      if (newest_.empty() || newest_.back().series != p.series)
        newest_.push_back(p);
      else
        newest_.back() = p;
    }
    auto latest = upsert_all(kLatestUpsert, std::span<const Pending>(newest_),
                             [](Stmt& st, const Pending& p) {
                               st.bind(p.series);
                               bind_row(st, p.row);
                             });
    if (!latest) return latest.error();
    const std::int64_t last_seq = committed.empty() ? last_seq_ : committed.back().seq;
    if (!committed.empty()) {
      auto st = cached(19, "UPDATE store_state SET last_seq = ?");
      if (!st) return st.error();
      (*st)->bind(last_seq);
      if ((*st)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
      auto commit = cached(21, "INSERT INTO recent_commits VALUES(?, ?, ?, ?)");
      if (!commit) return commit.error();
      (*commit)->bind(committed.front().seq).bind(last_seq).bind(first_minute).bind(last_minute);
      if ((*commit)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    }
    // A cached statement left mid-result keeps a read snapshot open after COMMIT, and SQLite
    // cannot restart the write-ahead log while any snapshot is open: it would grow forever.
    for (auto& st : stmts_)
      if (st) st->reset();
    if (auto s = exec(writer_.get(), "COMMIT"); !s) return s.error();
    last_seq_ = last_seq;
    committed_seq_ = last_seq;
    return committed;
  }

  // Removes from pending_ the rows whose result is already stored in a chunk. Only rows older
  // than compacted_before_ can be (live results are newer: they cost no lookup), and those of
  // one series mostly fall in the same piece, so each piece is decoded once per batch.
  Status drop_compacted() {
    struct Piece {
      TimeUs first_us = 0, last_us = -1;
      std::vector<TimeUs> times;  // sorted
    };
    std::unordered_map<std::int64_t, Piece> pieces;  // the last piece looked at, per series
    auto in_chunk = [&](std::int64_t series, TimeUs t) -> Result<bool> {
      Piece& piece = pieces[series];
      if (t < piece.first_us || t > piece.last_us) {
        auto st = cached(20,
                         "SELECT first_us, last_us, data FROM chunks WHERE series = ? AND "
                         "first_us <= ? ORDER BY first_us DESC LIMIT 1");
        if (!st) return st.error();
        (*st)->bind(series).bind(t);
        int rc = (*st)->step();
        if (rc == SQLITE_DONE) return false;
        if (rc != SQLITE_ROW) return fail(sqlite3_errmsg(writer_.get()));
        piece.first_us = (*st)->i64(0);
        piece.last_us = (*st)->i64(1);
        auto rows = decode_chunk((*st)->blob(2));
        (*st)->reset();
        if (!rows) return rows.error();
        piece.times.clear();
        for (const Row& r : *rows) piece.times.push_back(r.started_us);
        if (t > piece.last_us) return false;
      }
      return std::binary_search(piece.times.begin(), piece.times.end(), t);
    };
    Status status;
    std::erase_if(pending_, [&](const Pending& p) {
      if (!status || p.row.started_us >= compacted_before_) return false;
      auto found = in_chunk(p.series, p.row.started_us);
      if (!found) status = found.error();
      return found && *found;
    });
    return status;
  }

  // Runs an upsert for every row, kInsertGroup rows per statement while there are that many.
  // slot (one row) and slot + 1 (a group) cache its statements.
  template <class T, class Bind>
  Status upsert_all(const Upsert& upsert, std::span<const T> rows, Bind bind) {
    while (!rows.empty()) {
      bool many = rows.size() >= kInsertGroup;
      auto group = rows.first(many ? kInsertGroup : 1);
      rows = rows.subspan(group.size());
      auto st = cached(upsert.slot + int(many), upsert.sql[many].c_str());
      if (!st) return st.error();
      for (const T& row : group) bind(**st, row);
      if ((*st)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    }
    return {};
  }

  // Inserts a full group of rows in one statement, as most of SQLite's cost is per statement.
  // Returns false, having inserted nothing, when any of them is already stored: the caller then
  // inserts them one by one to learn which.
  Result<bool> insert_group(std::span<const Pending> group) {
    if (insert_group_sql_.empty()) {
      insert_group_sql_ = rows_sql(kInsertResult, kInsertColumns, kInsertGroup, "");
    }
    auto begin = cached(14, "SAVEPOINT insert_group");
    if (!begin || (*begin)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    auto ins = cached(15, insert_group_sql_.c_str());
    if (!ins) return ins.error();
    for (const Pending& p : group) bind_pending(**ins, p);
    if ((*ins)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    if (std::size_t(sqlite3_changes(writer_.get())) != group.size()) {
      if (auto s = exec(writer_.get(), "ROLLBACK TO insert_group; RELEASE insert_group"); !s) {
        return s.error();
      }
      return false;
    }
    auto end = cached(16, "RELEASE insert_group");
    if (!end || (*end)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    return true;
  }

  // Inserts one row; false when it was already stored (the first write of a key wins).
  Result<bool> insert_one(const Pending& p) {
    if (insert_one_sql_.empty()) insert_one_sql_ = rows_sql(kInsertResult, kInsertColumns, 1, "");
    auto ins = cached(8, insert_one_sql_.c_str());
    if (!ins) return ins.error();
    bind_pending(**ins, p);
    if ((*ins)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    return sqlite3_changes(writer_.get()) > 0;
  }

  static void bind_pending(Stmt& st, const Pending& p) {
    st.bind(p.minute).bind(p.series);
    bind_row(st, p.row);
    st.bind(p.row.seq);
  }

  // Adds a written row to its (minute, series) rollup delta; rows arrive in key order, so the
  // delta to add to, if any, is the last one. An unknown result (leeway's own failure, not the
  // target's) counts nowhere.
  void count_in_rollup(const Pending& p) {
    if (p.row.outcome_stage >> 3 == static_cast<int>(probe::Outcome::kUnknown)) return;
    if (rollup_deltas_.empty() || rollup_deltas_.back().series != p.series ||
        rollup_deltas_.back().minute != p.minute) {
      rollup_deltas_.push_back({p.minute, p.series});
    }
    RollupDelta& m = rollup_deltas_.back();
    probe::Outcome outcome;
    probe::Stage stage;
    unpack_outcome_stage(p.row.outcome_stage, outcome, stage);
    ++m.total;
    if (outcome == probe::Outcome::kUp) ++m.good;
    if (outcome == probe::Outcome::kDegraded) ++m.degraded;
    ++m.buckets[latency_bucket(p.row.total_us)];
  }

  // Rewrites the chunk of `series` covering [span_start, span_start + span) with `rows` merged in.
  Status merge_into_chunk(std::int64_t series, TimeUs span_start, std::vector<Row> rows) {
    auto sel = cached(
        11,
        "SELECT id, data, min_seq FROM chunks WHERE series = ? AND first_us >= ? AND first_us < ?");
    if (!sel) return sel.error();
    (*sel)->bind(series).bind(span_start).bind(span_start + options_.chunk_span_us);
    std::vector<std::int64_t> old_ids;
    int rc;
    while ((rc = (*sel)->step()) == SQLITE_ROW) {
      old_ids.push_back((*sel)->i64(0));
      auto old = decode_chunk((*sel)->blob(1), (*sel)->i64(2));
      if (!old) return old.error();
      rows.insert(rows.end(), old->begin(), old->end());
    }
    if (rc != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    for (auto id : old_ids) {
      auto del = cached(12, "DELETE FROM chunks WHERE id = ?");
      if (!del) return del.error();
      (*del)->bind(id);
      if ((*del)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    }
    if (rows.empty()) return {};
    std::stable_sort(rows.begin(), rows.end(),
                     [](const Row& a, const Row& b) { return a.started_us < b.started_us; });
    rows.erase(std::unique(rows.begin(), rows.end(),
                           [](const Row& a, const Row& b) { return a.started_us == b.started_us; }),
               rows.end());
    // A span's chunk is stored in pieces of about a quarter page: a 3 KB chunk alone in a 4 KB
    // page wastes a quarter of it, while small pieces pack the pages full, whatever the span.
    std::string whole = encode_chunk(rows);
    std::size_t pieces = (whole.size() + kChunkPieceBytes - 1) / kChunkPieceBytes;
    std::size_t per_piece = (rows.size() + pieces - 1) / pieces;
    for (std::size_t first = 0; first < rows.size(); first += per_piece) {
      std::size_t end = std::min(rows.size(), first + per_piece);
      std::string data = pieces == 1 ? std::move(whole)
                                     : encode_chunk({rows.begin() + std::ptrdiff_t(first),
                                                     rows.begin() + std::ptrdiff_t(end)});
      auto [min_seq, max_seq] = std::minmax_element(
          rows.begin() + std::ptrdiff_t(first), rows.begin() + std::ptrdiff_t(end),
          [](const Row& a, const Row& b) { return a.seq < b.seq; });
      auto ins = cached(13,
                        "INSERT INTO chunks(series, first_us, last_us, count, data, min_seq, "
                        "max_seq, seq_class) VALUES(?,?,?,?,?,?,?,?)");
      if (!ins) return ins.error();
      (*ins)
          ->bind(series)
          .bind(rows[first].started_us)
          .bind(rows[end - 1].started_us)
          .bind(std::int64_t(end - first))
          .bind_blob(data)
          .bind(min_seq->seq)
          .bind(max_seq->seq)
          .bind(seq_class(min_seq->seq, max_seq->seq));
      if ((*ins)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    }
    return {};
  }

  Result<std::int64_t> compact_locked(TimeUs before_us) {
    if (auto s = exec(writer_.get(), "BEGIN IMMEDIATE"); !s) return s.error();
    // Raw results started before `before_us`, kCompactSeries series at a time: their rows are
    // read minute by minute (one range of neighbouring pages per minute), then each series'
    // rows are merged into the chunks of the spans they fall in.
    const std::int64_t last_minute = floor_div(before_us - 1, kMinuteUs);
    auto minutes = present_minutes(writer_.get(), "recent_results",
                                   std::numeric_limits<std::int64_t>::min(), last_minute);
    if (!minutes) return minutes.error();
    std::int64_t moved = 0;
    if (!minutes->empty()) {
      auto all = all_series();
      if (!all) return all.error();
      auto sel = Stmt::prepare(writer_.get(),
                               std::string("SELECT series, ") + kRowColumns +
                                   ", seq FROM recent_results WHERE minute = ? AND series >= ? AND "
                                   "series <= ? AND started_us < ? ORDER BY series, started_us");
      if (!sel) return sel.error();
      std::unordered_map<std::int64_t, std::vector<Row>> rows;
      for (std::size_t first = 0; first < all->size(); first += kCompactSeries) {
        std::span<const std::int64_t> group =
            std::span(*all).subspan(first, std::min(kCompactSeries, all->size() - first));
        rows.clear();
        for (std::int64_t minute : *minutes) {
          sel->reset().bind(minute).bind(group.front()).bind(group.back()).bind(before_us);
          int rc;
          while ((rc = sel->step()) == SQLITE_ROW) {
            Row& row = rows[sel->i64(0)].emplace_back(read_row(*sel, 1));
            row.seq = sel->i64(10);
          }
          if (rc != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
        }
        for (auto& [series, series_rows] : rows) {
          moved += std::int64_t(series_rows.size());
          // In time order (minutes ascend): one merge per span.
          for (auto from = series_rows.begin(); from != series_rows.end();) {
            TimeUs span = span_of(from->started_us);
            auto to = std::find_if(from, series_rows.end(),
                                   [&](const Row& r) { return span_of(r.started_us) != span; });
            if (auto s = merge_into_chunk(series, span, {from, to}); !s) return s.error();
            from = to;
          }
        }
      }
      auto del = Stmt::prepare(writer_.get(),
                               "DELETE FROM recent_results WHERE minute <= ? AND started_us < ?");
      if (!del) return del.error();
      del->bind(last_minute).bind(before_us);
      if (del->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
      if (auto s = forget_commits_before(floor_div(before_us, kMinuteUs)); !s) return s.error();
    }
    // Rollups: the whole recent tier (a few minutes at the daemon's maintenance pace) is added
    // into `rollups`; a minute still being written simply continues in the recent tier.
    if (auto s = exec(writer_.get(), kMoveRollups.c_str()); !s) return s.error();
    const TimeUs compacted_before =
        moved > 0 ? std::max(compacted_before_, before_us) : compacted_before_;
    if (compacted_before != compacted_before_) {
      auto st = Stmt::prepare(writer_.get(), "UPDATE store_state SET compacted_before = ?");
      if (!st) return st.error();
      st->bind(compacted_before);
      if (st->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    }
    if (auto s = exec(writer_.get(), "COMMIT"); !s) return s.error();
    compacted_before_ = compacted_before;
    return moved;
  }

  // Drops the recent_commits rows whose minutes all precede `minute`, once the recent tier has
  // no rows there any more.
  Status forget_commits_before(std::int64_t minute) {
    auto st = Stmt::prepare(writer_.get(), "DELETE FROM recent_commits WHERE last_minute < ?");
    if (!st) return st.error();
    st->bind(minute);
    if (st->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    return {};
  }

  TimeUs span_of(TimeUs t) const {
    return floor_div(t, options_.chunk_span_us) * options_.chunk_span_us;
  }

  Result<std::vector<std::int64_t>> all_series() {
    auto st = Stmt::prepare(writer_.get(), "SELECT id FROM series ORDER BY id");
    if (!st) return st.error();
    std::vector<std::int64_t> ids;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) ids.push_back(st->i64(0));
    if (rc != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    return ids;
  }

  Result<PruneStats> prune_locked(TimeUs now_us) {
    PruneStats stats;
    TimeUs raw_cutoff = now_us - options_.raw_retention_us;
    if (auto s = exec(writer_.get(), "BEGIN IMMEDIATE"); !s) return s.error();
    auto del = Stmt::prepare(writer_.get(),
                             "DELETE FROM recent_results WHERE minute <= ? AND started_us < ?");
    if (!del) return del.error();
    del->bind(floor_div(raw_cutoff - 1, kMinuteUs)).bind(raw_cutoff);
    if (del->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    stats.results += sqlite3_changes(writer_.get());
    if (auto s = forget_commits_before(floor_div(raw_cutoff, kMinuteUs)); !s) return s.error();
    // Chunks wholly older than the cutoff go; one that straddles it is rewritten without its old
    // rows.
    auto old = Stmt::prepare(writer_.get(),
                             "SELECT id, series, first_us, last_us, count, data, min_seq "
                             "FROM chunks WHERE first_us < ?");
    if (!old) return old.error();
    old->bind(raw_cutoff);
    struct Straddler {
      std::int64_t series;
      TimeUs span_start;
      std::vector<Row> keep;
    };
    std::vector<std::int64_t> doomed;
    std::vector<Straddler> straddlers;
    int rc;
    while ((rc = old->step()) == SQLITE_ROW) {
      doomed.push_back(old->i64(0));
      if (old->i64(3) < raw_cutoff) {
        stats.results += old->i64(4);
        continue;
      }
      auto rows = decode_chunk(old->blob(5), old->i64(6));
      if (!rows) return rows.error();
      Straddler s{old->i64(1), span_of(old->i64(2)), {}};
      for (const Row& r : *rows) {
        if (r.started_us >= raw_cutoff)
          s.keep.push_back(r);
        else
          ++stats.results;
      }
      straddlers.push_back(std::move(s));
    }
    if (rc != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    for (auto id : doomed) {
      auto d = cached(12, "DELETE FROM chunks WHERE id = ?");
      if (!d) return d.error();
      (*d)->bind(id);
      if ((*d)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    }
    for (auto& s : straddlers) {
      if (auto st = merge_into_chunk(s.series, s.span_start, std::move(s.keep)); !st)
        return st.error();
    }
    // Rollups go an hour at a time, so that an hour in hourly_rollups always sums the minutes
    // that `rollups` still holds.
    const std::int64_t first_hour_kept =
        floor_div(ceil_div(now_us - options_.rollup_retention_us, kMinuteUs), 60);
    for (const char* sql :
         {"DELETE FROM rollups WHERE minute < ?", "DELETE FROM recent_rollups WHERE minute < ?"}) {
      auto del_rollups = Stmt::prepare(writer_.get(), sql);
      if (!del_rollups) return del_rollups.error();
      del_rollups->bind(first_hour_kept * 60);
      if (del_rollups->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
      stats.rollups += sqlite3_changes(writer_.get());
    }
    auto del_hours = Stmt::prepare(writer_.get(), "DELETE FROM hourly_rollups WHERE hour < ?");
    if (!del_hours) return del_hours.error();
    del_hours->bind(first_hour_kept);
    if (del_hours->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    if (auto s = exec(writer_.get(), "COMMIT"); !s) return s.error();
    return stats;
  }

  // --- reading: each read takes a connection of its own, so reads run beside the writer ---

  Result<Db> lease() {
    {
      std::lock_guard lock(pool_mutex_);
      if (!pool_.empty()) {
        Db db = std::move(pool_.back());
        pool_.pop_back();
        return db;
      }
    }
    return open_db(path_);
  }

  void give_back(Db db) {
    std::lock_guard lock(pool_mutex_);
    if (pool_.size() < 8) pool_.push_back(std::move(db));
  }

  // The series of a check (at one location, or all), with their location names.
  Result<std::vector<std::pair<std::int64_t, std::string>>> check_series(
      sqlite3* db, std::string_view check, const std::optional<std::string>& location) {
    auto st = Stmt::prepare(db,
                            "SELECT s.id, l.name FROM series s JOIN checks c ON c.id = s.check_id "
                            "JOIN locations l ON l.id = s.location_id WHERE c.name = ?");
    if (!st) return st.error();
    st->bind(check);
    std::vector<std::pair<std::int64_t, std::string>> series;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      std::string name = st->text(1);
      if (!location || *location == name) series.emplace_back(st->i64(0), std::move(name));
    }
    if (rc != SQLITE_DONE) return fail("store: reading sqlite:", path_, ": ", sqlite3_errmsg(db));
    return series;
  }

  // Calls visit(location, minute, columns of kRollupCounts) for every rollup row of the recent
  // tier of these series in minutes [first, last].
  template <class Visit>
  Status visit_recent_rollups(sqlite3* db,
                              const std::vector<std::pair<std::int64_t, std::string>>& series,
                              std::int64_t first, std::int64_t last, Visit visit) {
    auto minutes = present_minutes(db, "recent_rollups", first, last);
    if (!minutes) return fail("store: reading sqlite:", path_, ": ", minutes.error().message);
    auto st = Stmt::prepare(db, std::string("SELECT ") + kRollupCounts +
                                    " FROM recent_rollups WHERE minute = ? AND series = ?");
    if (!st) return st.error();
    for (std::int64_t minute : *minutes) {
      for (const auto& [id, location] : series) {
        st->reset().bind(minute).bind(id);
        int rc = st->step();
        if (rc == SQLITE_ROW) visit(location, minute, *st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
          return fail("store: reading sqlite:", path_, ": ", sqlite3_errmsg(db));
      }
    }
    return {};
  }

  Result<std::string> error_text(sqlite3* db, std::int64_t id,
                                 std::unordered_map<std::int64_t, std::string>& memo) {
    if (id == 0) return std::string();
    if (auto it = memo.find(id); it != memo.end()) return it->second;
    auto st = Stmt::prepare(db, "SELECT text FROM errors WHERE id = ?");
    if (!st) return st.error();
    st->bind(id);
    std::string text = st->step() == SQLITE_ROW ? st->text(0) : std::string();
    memo.emplace(id, text);
    return text;
  }

  Result<ResultPage> read_results(sqlite3* db, const ResultQuery& q) {
    ResultPage page;
    if (q.limit == 0) return page;
    auto parsed = query_cursor(q);
    if (!parsed) return parsed.error();
    const std::optional<Cursor>& cursor = *parsed;
    const bool newest = q.order == Order::kNewestFirst;
    auto series = check_series(db, q.check, q.location);
    if (!series) return series.error();
    if (q.from_us >= q.to_us) return page;
    auto minutes = present_minutes(db, "recent_results", floor_div(q.from_us, kMinuteUs),
                                   floor_div(q.to_us - 1, kMinuteUs));
    if (!minutes) return fail("store: reading sqlite:", path_, ": ", minutes.error().message);
    if (newest) std::reverse(minutes->begin(), minutes->end());

    struct Candidate {
      Row row;
      const std::string* location;
    };
    std::vector<Candidate> found;
    const std::int64_t want = std::int64_t(q.limit) + 1;
    auto head = Stmt::prepare(db, std::string("SELECT ") + kRowColumns +
                                      " FROM recent_results WHERE minute = ? AND series = ? AND "
                                      "started_us >= ? AND started_us < ? ORDER BY started_us " +
                                      (newest ? "DESC" : "ASC"));
    if (!head) return head.error();
    auto chunks =
        Stmt::prepare(db, std::string("SELECT data FROM chunks WHERE series = ? AND "
                                      "first_us < ? AND last_us >= ? ORDER BY first_us ") +
                              (newest ? "DESC" : "ASC"));
    if (!chunks) return chunks.error();
    int rc = SQLITE_DONE;
    for (const auto& [id, loc] : *series) {
      // The cursor's (started_us, location) bound, as a started_us range for this series.
      TimeUs lo = q.from_us, hi = q.to_us;  // [lo, hi)
      if (cursor) {
        if (newest) {
          hi = std::min(hi, loc < cursor->location ? cursor->started_us + 1 : cursor->started_us);
        } else {
          lo = std::max(lo, loc > cursor->location ? cursor->started_us : cursor->started_us + 1);
        }
      }
      if (lo >= hi) continue;
      // The recent tier, minute by minute in the order asked, until `want` rows.
      std::int64_t from_head = 0;
      for (std::int64_t minute : *minutes) {
        if (from_head >= want) break;
        if (minute < floor_div(lo, kMinuteUs) || minute > floor_div(hi - 1, kMinuteUs)) continue;
        head->reset().bind(minute).bind(id).bind(lo).bind(hi);
        while (from_head < want && (rc = head->step()) == SQLITE_ROW) {
          found.push_back({read_row(*head, 0), &loc});
          ++from_head;
        }
        if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
          return fail("store: reading sqlite:", path_, ": ", sqlite3_errmsg(db));
        }
      }
      chunks->reset().bind(id).bind(hi).bind(lo);
      std::int64_t from_chunks = 0;
      while (from_chunks < want && (rc = chunks->step()) == SQLITE_ROW) {
        auto rows = decode_chunk(chunks->blob(0));
        if (!rows) return fail("store: reading sqlite:", path_, ": ", rows.error().message);
        if (newest) std::reverse(rows->begin(), rows->end());
        for (const Row& r : *rows) {
          if (r.started_us < lo || r.started_us >= hi) continue;
          found.push_back({r, &loc});
          if (++from_chunks >= want) break;
        }
      }
      if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        return fail("store: reading sqlite:", path_, ": ", sqlite3_errmsg(db));
      }
    }
    auto before = [](const Candidate& a, const Candidate& b) {
      return std::tie(a.row.started_us, *a.location) < std::tie(b.row.started_us, *b.location);
    };
    if (newest) {
      std::sort(found.begin(), found.end(),
                [&](const auto& a, const auto& b) { return before(b, a); });
    } else {
      std::sort(found.begin(), found.end(), before);
    }
    bool more = found.size() > q.limit;
    if (more) found.resize(q.limit);
    std::unordered_map<std::int64_t, std::string> errors;
    for (const Candidate& c : found) {
      auto text = error_text(db, c.row.error_id, errors);
      if (!text) return text.error();
      page.results.push_back(from_row(c.row, q.check, *c.location, std::move(*text)));
    }
    if (more) {
      page.next_cursor = encode_cursor({found.back().row.started_us, *found.back().location});
    }
    return page;
  }

  Result<std::vector<MinuteRollup>> read_rollups(sqlite3* db, const RollupQuery& q) {
    const std::int64_t first = ceil_div(q.from_us, kMinuteUs), end = ceil_div(q.to_us, kMinuteUs);
    auto series = check_series(db, q.check, q.location);
    if (!series) return series.error();
    // Both tiers' rows, then sorted by (minute, location): a minute in both is added up.
    std::vector<MinuteRollup> rows;
    auto add_row = [&](const std::string& location, std::int64_t minute, const Stmt& st,
                       int first_col) {
      MinuteRollup& m = rows.emplace_back();
      m.check = q.check;
      m.location = location;
      m.minute_us = minute * kMinuteUs;
      m.total = st.i64(first_col);
      m.good = st.i64(first_col + 1);
      m.degraded = st.i64(first_col + 2);
      for (std::size_t i = 0; i < kLatencyBuckets; ++i)
        m.latency_buckets[i] = st.i64(first_col + 3 + int(i));
    };
    auto st = Stmt::prepare(db, std::string("SELECT minute, ") + kRollupCounts +
                                    " FROM rollups WHERE series = ? AND minute >= ? AND "
                                    "minute < ? ORDER BY minute");
    if (!st) return st.error();
    for (const auto& [id, location] : *series) {
      st->reset().bind(id).bind(first).bind(end);
      int rc;
      while ((rc = st->step()) == SQLITE_ROW) add_row(location, st->i64(0), *st, 1);
      if (rc != SQLITE_DONE) return fail("store: reading sqlite:", path_, ": ", sqlite3_errmsg(db));
    }
    if (auto s =
            visit_recent_rollups(db, *series, first, end - 1,
                                 [&](const std::string& location, std::int64_t minute,
                                     const Stmt& recent) { add_row(location, minute, recent, 0); });
        !s) {
      return s.error();
    }
    std::sort(rows.begin(), rows.end(), [](const MinuteRollup& a, const MinuteRollup& b) {
      return std::tie(a.minute_us, a.location) < std::tie(b.minute_us, b.location);
    });
    std::vector<MinuteRollup> out;
    for (MinuteRollup& m : rows) {
      if (q.sum_locations) m.location.clear();
      if (!out.empty() && out.back().minute_us == m.minute_us &&
          out.back().location == m.location) {
        add_rollup(out.back(), m);
      } else {
        out.push_back(std::move(m));
      }
    }
    return out;
  }

  // The `limit` results of smallest seq above `after`. In the recent tier, consecutive commits
  // holding about `limit` seqs are read together, one range of minutes (those they wrote), from
  // the commit holding after + 1 on; a live commit wrote the last minute or two, a late one
  // (results hours old) more. In chunks, a piece of seq class c that holds a seq above `after` has
  // min_seq > after - 2^c (see seq_class()), so per class one range of chunks_by_seq, merged by
  // min_seq, visits the pieces that may hold them, and stops at the first piece whose min_seq
  // is above the limit-th seq found: at most twice the pieces that hold wanted rows, per class.
  Result<std::vector<Committed>> read_committed(sqlite3* db, std::int64_t after,
                                                std::size_t limit) {
    std::vector<Committed> out;
    if (limit == 0) return out;
    auto failed = [&] { return fail("store: reading sqlite:", path_, ": ", sqlite3_errmsg(db)); };
    struct Found {
      std::int64_t series;
      Row row;
    };
    // A max-heap by seq of the `limit` smallest seqs found so far.
    std::vector<Found> found;
    auto by_seq = [](const Found& a, const Found& b) { return a.row.seq < b.row.seq; };
    auto offer = [&](std::int64_t series, const Row& row) {
      if (row.seq <= after) return;
      if (found.size() == limit) {
        if (row.seq >= found.front().row.seq) return;
        std::pop_heap(found.begin(), found.end(), by_seq);
        found.pop_back();
      }
      found.push_back({series, row});
      std::push_heap(found.begin(), found.end(), by_seq);
    };
    auto commits = Stmt::prepare(
        db,
        "SELECT first_seq, last_seq, first_minute, last_minute FROM recent_commits WHERE "
        "first_seq >= (SELECT COALESCE(max(first_seq), 0) FROM recent_commits WHERE "
        "first_seq <= ?) ORDER BY first_seq");
    if (!commits) return commits.error();
    auto recent = Stmt::prepare(db, std::string("SELECT series, seq, ") + kRowColumns +
                                        " FROM recent_results WHERE minute >= ? AND minute <= ? "
                                        "AND seq > ? AND seq <= ?");
    if (!recent) return recent.error();
    commits->bind(after == INT64_MAX ? after : after + 1);
    int rc = commits->step();
    while (rc == SQLITE_ROW) {
      if (found.size() == limit && commits->i64(0) > found.front().row.seq) break;
      const std::int64_t first_seq = commits->i64(0);
      std::int64_t last_seq = commits->i64(1), first_minute = commits->i64(2),
                   last_minute = commits->i64(3);
      while ((rc = commits->step()) == SQLITE_ROW &&
             static_cast<std::uint64_t>(last_seq - first_seq) < limit) {
        last_seq = commits->i64(1);
        first_minute = std::min(first_minute, commits->i64(2));
        last_minute = std::max(last_minute, commits->i64(3));
      }
      if (rc != SQLITE_ROW && rc != SQLITE_DONE) return failed();
      recent->reset()
          .bind(first_minute)
          .bind(last_minute)
          .bind(std::max(after, first_seq - 1))  // a row is read with its own commit only
          .bind(last_seq);
      int row_rc;
      while ((row_rc = recent->step()) == SQLITE_ROW) {
        Row row = read_row(*recent, 2);
        row.seq = recent->i64(1);
        offer(recent->i64(0), row);
      }
      if (row_rc != SQLITE_DONE) return failed();
    }
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) return failed();

    struct Stream {
      Stmt st;
      bool more = false;
    };
    std::vector<Stream> streams;
    auto next_class = Stmt::prepare(
        db, "SELECT seq_class FROM chunks WHERE seq_class >= ? ORDER BY seq_class LIMIT 1");
    if (!next_class) return next_class.error();
    for (std::int64_t c = 0; c < 64; ++c) {
      next_class->reset().bind(c);
      if ((rc = next_class->step()) == SQLITE_DONE) break;
      if (rc != SQLITE_ROW) return failed();
      c = next_class->i64(0);
      auto st = Stmt::prepare(db,
                              "SELECT min_seq, max_seq, series, data FROM chunks "
                              "WHERE seq_class = ? AND min_seq > ? ORDER BY seq_class, min_seq");
      if (!st) return st.error();
      const std::int64_t reach = c >= 63 ? INT64_MAX : (std::int64_t{1} << c);
      st->bind(c).bind(after < INT64_MIN + reach ? INT64_MIN : after - reach);
      Stream& stream = streams.emplace_back(Stream{std::move(*st)});
      if ((rc = stream.st.step()) != SQLITE_ROW && rc != SQLITE_DONE) return failed();
      stream.more = rc == SQLITE_ROW;
    }
    while (true) {
      Stream* next = nullptr;
      for (Stream& stream : streams) {
        if (stream.more && (!next || stream.st.i64(0) < next->st.i64(0))) next = &stream;
      }
      if (!next) break;
      if (found.size() == limit && next->st.i64(0) > found.front().row.seq) break;
      if (next->st.i64(1) > after) {
        auto rows = decode_chunk(next->st.blob(3), next->st.i64(0));
        if (!rows) return fail("store: reading sqlite:", path_, ": ", rows.error().message);
        for (const Row& row : *rows) offer(next->st.i64(2), row);
      }
      if ((rc = next->st.step()) != SQLITE_ROW && rc != SQLITE_DONE) return failed();
      next->more = rc == SQLITE_ROW;
    }

    std::sort_heap(found.begin(), found.end(), by_seq);
    auto names =
        Stmt::prepare(db,
                      "SELECT c.name, l.name FROM series s JOIN checks c ON c.id = "
                      "s.check_id JOIN locations l ON l.id = s.location_id WHERE s.id = ?");
    if (!names) return names.error();
    std::unordered_map<std::int64_t, std::pair<std::string, std::string>> series_names;
    std::unordered_map<std::int64_t, std::string> errors;
    out.reserve(found.size());
    for (const Found& f : found) {
      auto it = series_names.find(f.series);
      if (it == series_names.end()) {
        names->reset().bind(f.series);
        if (names->step() != SQLITE_ROW) return failed();
        it = series_names.emplace(f.series, std::pair(names->text(0), names->text(1))).first;
      }
      auto text = error_text(db, f.row.error_id, errors);
      if (!text) return text.error();
      out.push_back(
          {f.row.seq, from_row(f.row, it->second.first, it->second.second, std::move(*text))});
    }
    return out;
  }

  Result<std::vector<StoredResult>> read_latest(sqlite3* db, std::string_view check) {
    std::string sql = std::string("SELECT c.name, l.name, COALESCE(e.text, ''), ") +
                      "t.started_us, t.total_us, t.outcome_stage, t.http_status, t.error_id, "
                      "t.dns_us, t.connect_us, t.tls_us, t.first_byte_us "
                      "FROM latest t JOIN series s ON s.id = t.series "
                      "JOIN checks c ON c.id = s.check_id JOIN locations l ON l.id = s.location_id "
                      "LEFT JOIN errors e ON e.id = t.error_id";
    if (!check.empty()) sql += " WHERE c.name = ?";
    sql += " ORDER BY c.name, l.name";
    auto st = Stmt::prepare(db, sql);
    if (!st) return st.error();
    if (!check.empty()) st->bind(check);
    std::vector<StoredResult> out;
    int rc;
    while ((rc = st->step()) == SQLITE_ROW) {
      out.push_back(from_row(read_row(*st, 3), st->text(0), st->text(1), st->text(2)));
    }
    if (rc != SQLITE_DONE) return fail("store: reading sqlite:", path_, ": ", sqlite3_errmsg(db));
    return out;
  }

  const std::string path_;
  const StoreOptions options_;

  std::mutex write_mutex_;
  std::unique_ptr<Checkpointer> checkpointer_;  // before writer_: outlives the hook it installs
  Db writer_;
  std::unique_ptr<Stmt> stmts_[22];
  std::string insert_group_sql_, insert_one_sql_;
  // Scratch of write(), kept to reuse its memory.
  std::vector<Pending> pending_;
  std::vector<RollupDelta> rollup_deltas_;
  std::vector<Pending> newest_;
  std::unordered_map<std::string, std::int64_t> series_ids_;  // key: see series_id()
  std::string series_key_;
  std::unordered_map<std::string, std::int64_t> name_ids_[2];
  std::unordered_map<std::string, std::int64_t> error_ids_;
  std::int64_t last_seq_ = 0;                   // the highest seq stored
  TimeUs compacted_before_ = 0;                 // every result in a chunk started before it
  std::atomic<std::int64_t> committed_seq_{0};  // last_seq_ once committed, for last_seq()

  std::mutex pool_mutex_;
  std::vector<Db> pool_;
};

}  // namespace

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
