// The SQLite store's insides, shared by its files: statement and connection helpers, the row
// conversions, the WAL checkpointer and the SqliteStore class. How the store is laid out (two
// tiers, seqs): see sqlite_schema.cpp. Not part of the module's contract: open it with
// open_store().
//
// sqlite_schema.cpp  schema and migrations, opening and the open-time checks
// sqlite_write.cpp   the write path: a batch into the recent tier, its rollups and latest rows
// sqlite_compact.cpp compaction of the recent tier into chunks, and pruning
// sqlite_read.cpp    the reads: result pages, rollups, latest, availability, read_since
// sqlite_db.cpp      the helpers below and the checkpointer
#pragma once

#include <sqlite3.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/detail.h"

namespace leeway::store::detail {

// Encoded bytes per chunk row at most (about): four of them and their columns fill a 4 KB page.
constexpr std::size_t kChunkPieceBytes = 960;

// Rows per INSERT statement on the write path: most of SQLite's cost is per statement.
constexpr std::size_t kInsertGroup = 32;

// Series compacted together: their rows are read in one pass over the recent tier's minutes and
// held in memory (at a 10 s interval, 5 minutes of them are ~250 KB).
constexpr std::size_t kCompactSeries = 256;

// "head (?,?),(?,?) tail" with `rows` tuples of `columns` parameters.
std::string rows_sql(const char* head, int columns, std::size_t rows, const std::string& tail);

// An upsert of the write path, for one row and for kInsertGroup rows, and the statement cache
// slots that hold them (slot and slot + 1).
struct Upsert {
  int slot;
  std::string sql[2];
  Upsert(int slot, const char* head, int columns, const std::string& tail)
      : slot(slot),
        sql{rows_sql(head, columns, 1, tail), rows_sql(head, columns, kInsertGroup, tail)} {}
};

// The columns of a Row (see read_row()) and of a rollup's counts, in schema order. A row's cause
// shares the outcome_stage column (see kCauseShift).
constexpr const char* kRowColumns =
    "started_us, total_us, outcome_stage, http_status, error_id, dns_us, connect_us, tls_us, "
    "first_byte_us";
constexpr int kRowColumnCount = 9;

// Since schema 6 the outcome_stage column holds a row's cause too, above its five bits
// (outcome * 8 + stage): a column of its own cost 790 instructions per result, 4.9% of write()
// (a 13th value bound, stored and checked per row; bench/ingest.sh), and most causes are 0.
constexpr int kCauseShift = 5;
constexpr const char* kRollupCounts =
    "total, good, degraded, b0, b1, b2, b3, b4, b5, b6, b7, b8, b9, b10, b11";

// Rollup counts add up (an ON CONFLICT clause): a conflicting row's counts are added to the stored
// ones.
inline const std::string kAddRollupCounts =
    " DO UPDATE SET total = total + excluded.total, good = good + excluded.good, "
    "degraded = degraded + excluded.degraded, b0 = b0 + excluded.b0, b1 = b1 + excluded.b1, "
    "b2 = b2 + excluded.b2, b3 = b3 + excluded.b3, b4 = b4 + excluded.b4, "
    "b5 = b5 + excluded.b5, b6 = b6 + excluded.b6, b7 = b7 + excluded.b7, "
    "b8 = b8 + excluded.b8, b9 = b9 + excluded.b9, b10 = b10 + excluded.b10, "
    "b11 = b11 + excluded.b11";

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
  // Like reset(), but the old values stay bound until bound again: for a statement whose every
  // parameter is bound before each run. Clearing 384 parameters of a group insert cost more
  // than binding them (bench/ingest.sh).
  Stmt& rewind() {
    sqlite3_reset(s_);
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

// Runs SQL that returns no rows.
Status exec(sqlite3* db, const char* sql);

// Opens (creating) a database file with the store's connection settings.
Result<Db> open_db(const std::string& path);

// A Row from the columns of kRowColumns, starting at first_col; and its parameters, bound.
Row read_row(const Stmt& st, int first_col);
void bind_row(Stmt& st, const Row& r);

// A result as a Row (names are ids by then) and back.
Row to_row(const StoredResult& s, std::int64_t error_id);
StoredResult from_row(const Row& r, std::string check, std::string location, std::string error);

// A chunk piece's seq class: the bit width of max_seq - min_seq, so that every piece of class c
// holding a seq above s has min_seq > s - 2^c (see read_committed()).
std::int64_t seq_class(std::int64_t min_seq, std::int64_t max_seq);

// Floor and ceiling division by a positive divisor, for negative times too.
std::int64_t floor_div(std::int64_t a, std::int64_t b);
std::int64_t ceil_div(std::int64_t a, std::int64_t b);

// The minutes in [first, last] that hold rows of a recent-tier table (keyed by minute first),
// ascending: one index seek per minute present, however many rows each has.
Result<std::vector<std::int64_t>> present_minutes(sqlite3* db, const std::string& table,
                                                  std::int64_t first, std::int64_t last);

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
  void committed(sqlite3* writer, int pages);
  void loop(std::stop_token stop);

  Db db_;
  std::atomic<bool> caught_up_{false};  // the last passive copy left little for the writer
  std::mutex mutex_;
  std::condition_variable_any wakeup_;
  bool due_ = false;
  std::jthread thread_;  // last: stopped and joined before the rest is destroyed
};

// A series' names as the writer's cache keeps them, and looks them up as views.
using SeriesName = std::pair<std::string, std::string>;  // check, location
using SeriesNameView = std::pair<std::string_view, std::string_view>;
struct SeriesNameHash {
  using is_transparent = void;
  std::size_t operator()(SeriesNameView n) const {
    std::size_t h = std::hash<std::string_view>()(n.first);
    return h ^ (std::hash<std::string_view>()(n.second) + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2));
  }
};
struct SeriesNameEqual {
  using is_transparent = void;
  bool operator()(SeriesNameView a, SeriesNameView b) const { return a == b; }
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, StoreOptions options, Db writer)
      : path_(std::move(path)), options_(options), writer_(std::move(writer)) {}

  // Opens the store: pragmas, migrations, the checks of verify(), the checkpointer.
  Status init();

  // Refuses a file that would take no result: one that cannot be written or has a damaged
  // b-tree.
  Status verify();

  static Result<std::int64_t> user_version(sqlite3* db);

  std::string describe() const override { return "sqlite:" + path_; }

  Result<Written> write_new(std::span<const StoredResult> batch) override;

  Result<std::vector<Committed>> read_since(std::int64_t after_seq, std::size_t limit) override;

  Result<std::int64_t> last_seq() override { return committed_seq_.load(); }

  Status save_position(std::string_view consumer, std::int64_t seq) override;

  Result<std::optional<std::int64_t>> take_position(std::string_view consumer) override;

  Result<ResultPage> results(const ResultQuery& q) override;

  Result<std::vector<MinuteRollup>> rollups(const RollupQuery& q) override;

  Result<std::vector<StoredResult>> latest(std::string_view check) override;

  Result<Availability> availability(std::string_view check,
                                    const std::optional<std::string>& location, TimeUs from_us,
                                    TimeUs to_us) override;

  Result<PruneStats> prune(TimeUs now_us) override;

  Result<std::int64_t> compact(TimeUs before_us) override;

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

  // --- writing (REQUIRES: write_mutex_), sqlite_write.cpp ---

  // The writer's prepared statement in stmts_[slot], prepared on first use, rewound (every
  // parameter must be bound again before it runs).
  Result<Stmt*> cached(int slot, const char* sql);

  // Gets or creates the id of a name in `checks` (kind 0) or `locations` (kind 1).
  Result<std::int64_t> name_id(int kind, const std::string& name);

  Result<std::int64_t> series_id(const std::string& check, const std::string& location);

  Result<std::int64_t> error_id(const std::string& text);

  Result<Written> write_locked(std::span<const StoredResult> batch);

  // Removes from pending_ the rows whose result is already stored in a chunk.
  Status drop_compacted();

  // Runs an upsert for every row, kInsertGroup rows per statement while there are that many.
  // slot (one row) and slot + 1 (a group) cache its statements.
  template <class T, class Bind>
  Status upsert_all(const Upsert& upsert, std::span<const T> rows, Bind bind);

  // Inserts a full group of rows (places in pending_) in one statement, as most of SQLite's
  // cost is per statement. Returns false, having inserted nothing, when any of them is already
  // stored: the caller then inserts them one by one to learn which.
  Result<bool> insert_group(std::span<const std::uint32_t> group);

  // Inserts one row; false when it was already stored (the first write of a key wins).
  Result<bool> insert_one(const Pending& p);

  static void bind_pending(Stmt& st, const Pending& p);

  // Adds a written row to its (minute, series) rollup delta; rows arrive in key order, so the
  // delta to add to, if any, is the last one. An unknown result (leeway's own failure, not the
  // target's) counts nowhere.
  void count_in_rollup(const Pending& p);

  // --- compaction and pruning (REQUIRES: write_mutex_), sqlite_compact.cpp ---

  // Rewrites the chunk of `series` covering [span_start, span_start + span) with `rows` merged in.
  Status merge_into_chunk(std::int64_t series, TimeUs span_start, std::vector<Row> rows);

  Result<std::int64_t> compact_locked(TimeUs before_us);

  // Drops the recent_commits rows whose minutes all precede `minute`, once the recent tier has
  // no rows there any more.
  Status forget_commits_before(std::int64_t minute);

  TimeUs span_of(TimeUs t) const;

  Result<std::vector<std::int64_t>> all_series();

  Result<PruneStats> prune_locked(TimeUs now_us);

  // --- reading: each read takes a connection of its own, so reads run beside the writer;
  // sqlite_read.cpp ---

  Result<Db> lease();

  void give_back(Db db);

  // The series of a check (at one location, or all), with their location names.
  Result<std::vector<std::pair<std::int64_t, std::string>>> check_series(
      sqlite3* db, std::string_view check, const std::optional<std::string>& location);

  // Calls visit(location, minute, columns of kRollupCounts) for every rollup row of the recent
  // tier of these series in minutes [first, last].
  template <class Visit>
  Status visit_recent_rollups(sqlite3* db,
                              const std::vector<std::pair<std::int64_t, std::string>>& series,
                              std::int64_t first, std::int64_t last, Visit visit);

  Result<std::string> error_text(sqlite3* db, std::int64_t id,
                                 std::unordered_map<std::int64_t, std::string>& memo);

  Result<ResultPage> read_results(sqlite3* db, const ResultQuery& q);

  Result<std::vector<MinuteRollup>> read_rollups(sqlite3* db, const RollupQuery& q);

  // The `limit` results of smallest seq above `after`.
  Result<std::vector<Committed>> read_committed(sqlite3* db, std::int64_t after, std::size_t limit);

  Result<std::vector<StoredResult>> read_latest(sqlite3* db, std::string_view check);

  const std::string path_;
  const StoreOptions options_;

  std::mutex write_mutex_;
  std::unique_ptr<Checkpointer> checkpointer_;  // before writer_: outlives the hook it installs
  Db writer_;
  std::unique_ptr<Stmt> stmts_[22];
  std::string insert_group_sql_, insert_one_sql_;
  // Scratch of write(), kept to reuse its memory.
  std::vector<Pending> pending_;      // in batch order
  std::vector<std::uint32_t> order_;  // places in pending_, in key order
  std::vector<RollupDelta> rollup_deltas_;
  std::vector<std::uint32_t> newest_;  // the newest stored row of each series, by series
  // By series id (ids are dense: the series table's rowids): 1 + the place in pending_ of the
  // series' newest stored row in this batch, 0 for none. Zeroed again after each batch.
  std::vector<std::uint32_t> newest_of_series_;
  // By (check, location), found from the result's own strings: nothing is built per lookup.
  std::unordered_map<SeriesName, std::int64_t, SeriesNameHash, SeriesNameEqual> series_ids_;
  std::unordered_map<std::string, std::int64_t> name_ids_[2];
  std::unordered_map<std::string, std::int64_t> error_ids_;
  std::int64_t last_seq_ = 0;                   // the highest seq stored
  TimeUs compacted_before_ = 0;                 // every result in a chunk started before it
  std::atomic<std::int64_t> committed_seq_{0};  // last_seq_ once committed, for last_seq()

  std::mutex pool_mutex_;
  std::vector<Db> pool_;
};

}  // namespace leeway::store::detail
