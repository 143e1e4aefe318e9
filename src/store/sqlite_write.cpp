// The SQLite store's write path: a batch into the recent tier, its minute rollups and the latest
// result per series, in one transaction.
#include <algorithm>
#include <limits>
#include <tuple>

#include "store/sqlite_impl.h"

namespace leeway::store::detail {
namespace {

const Upsert kRollupUpsert(9, "INSERT INTO recent_rollups VALUES", 17,
                           " ON CONFLICT(minute, series)" + kAddRollupCounts);

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

}  // namespace

Result<Written> SqliteStore::write_new(std::span<const StoredResult> batch) {
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

Result<Stmt*> SqliteStore::cached(int slot, const char* sql) {
  if (!stmts_[slot]) {
    auto st = Stmt::prepare(writer_.get(), sql);
    if (!st) return st.error();
    stmts_[slot] = std::make_unique<Stmt>(std::move(*st));
  }
  return &stmts_[slot]->rewind();
}

Result<std::int64_t> SqliteStore::name_id(int kind, const std::string& name) {
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

Result<std::int64_t> SqliteStore::series_id(const std::string& check, const std::string& location) {
  if (auto it = series_ids_.find(SeriesNameView(check, location)); it != series_ids_.end())
    return it->second;
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
  series_ids_.emplace(SeriesName(check, location), id);
  return id;
}

Result<std::int64_t> SqliteStore::error_id(const std::string& text) {
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

Result<Written> SqliteStore::write_locked(std::span<const StoredResult> batch) {
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
  // Places are sorted rather than the rows (112 bytes each): moving rows in two sorts cost ~8%
  // of the write path (bench/ingest.sh). Of two results with the same key in one batch, the
  // first is kept: ties go by place.
  order_.resize(pending_.size());
  for (std::uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
  std::sort(order_.begin(), order_.end(), [this](std::uint32_t a, std::uint32_t b) {
    const Pending& x = pending_[a];
    const Pending& y = pending_[b];
    return std::tie(x.minute, x.series, x.row.started_us, a) <
           std::tie(y.minute, y.series, y.row.started_us, b);
  });
  rollup_deltas_.clear();
  std::span<const std::uint32_t> rows(order_);
  while (!rows.empty()) {
    auto group = rows.first(std::min(rows.size(), kInsertGroup));
    rows = rows.subspan(group.size());
    auto inserted = group.size() == kInsertGroup ? insert_group(group) : Result<bool>(false);
    if (!inserted) return inserted.error();
    for (std::uint32_t i : group) {
      Pending& p = pending_[i];
      if (!*inserted) {
        auto one = insert_one(p);
        if (!one) return one.error();
        if (!*one) continue;  // already stored
      }
      p.stored = true;
      count_in_rollup(p);
    }
  }
  // The new results in batch order, which is seq order, copied once into a vector of their exact
  // size (sorting the copies by seq and growing the vector cost 6.5% of the write path); and the
  // newest of each series, which becomes its latest row.
  std::int64_t first_minute = std::numeric_limits<std::int64_t>::max();
  std::int64_t last_minute = std::numeric_limits<std::int64_t>::min();
  std::size_t new_count = 0;
  newest_.clear();
  for (std::uint32_t i = 0; i < pending_.size(); ++i) {
    const Pending& p = pending_[i];
    if (!p.stored) continue;
    ++new_count;
    first_minute = std::min(first_minute, p.minute);
    last_minute = std::max(last_minute, p.minute);
    if (std::size_t(p.series) >= newest_of_series_.size()) newest_of_series_.resize(p.series + 1);
    std::uint32_t& newest = newest_of_series_[std::size_t(p.series)];
    if (newest == 0) {
      newest_.push_back(i);
    } else if (pending_[newest - 1].row.started_us >= p.row.started_us) {
      continue;
    }
    newest = i + 1;
  }
  Written written{base_seq, {}};
  written.places.reserve(new_count);
  for (const Pending& p : pending_)
    if (p.stored) written.places.push_back(std::uint32_t(p.row.seq - base_seq));
  auto rollups =
      upsert_all(kRollupUpsert, std::span<const RollupDelta>(rollup_deltas_),
                 [](Stmt& st, const RollupDelta& m) {
                   st.bind(m.minute).bind(m.series).bind(m.total).bind(m.good).bind(m.degraded);
                   for (auto b : m.buckets) st.bind(b);
                 });
  if (!rollups) return rollups.error();
  // In series order, the latest table's key; newest_ held the first stored row of each series.
  for (std::uint32_t& i : newest_) {
    std::uint32_t& newest = newest_of_series_[std::size_t(pending_[i].series)];
    i = newest - 1;
    newest = 0;
  }
  std::sort(newest_.begin(), newest_.end(), [this](std::uint32_t a, std::uint32_t b) {
    return pending_[a].series < pending_[b].series;
  });
  auto latest = upsert_all(kLatestUpsert, std::span<const std::uint32_t>(newest_),
                           [this](Stmt& st, std::uint32_t i) {
                             st.bind(pending_[i].series);
                             bind_row(st, pending_[i].row);
                           });
  if (!latest) return latest.error();
  const std::int64_t last_seq =
      written.places.empty() ? last_seq_ : base_seq + written.places.back();
  if (!written.places.empty()) {
    auto st = cached(19, "UPDATE store_state SET last_seq = ?");
    if (!st) return st.error();
    (*st)->bind(last_seq);
    if ((*st)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
    auto commit = cached(21, "INSERT INTO recent_commits VALUES(?, ?, ?, ?)");
    if (!commit) return commit.error();
    (*commit)
        ->bind(base_seq + written.places.front())
        .bind(last_seq)
        .bind(first_minute)
        .bind(last_minute);
    if ((*commit)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
  }
  // A cached statement left mid-result keeps a read snapshot open after COMMIT, and SQLite
  // cannot restart the write-ahead log while any snapshot is open: it would grow forever.
  for (auto& st : stmts_)
    if (st) st->reset();
  if (auto s = exec(writer_.get(), "COMMIT"); !s) return s.error();
  last_seq_ = last_seq;
  committed_seq_ = last_seq;
  return written;
}

// Only rows older than compacted_before_ can be in a chunk (live results are newer: they cost no
// lookup), and those of one series mostly fall in the same piece, so each piece is decoded once
// per batch.
Status SqliteStore::drop_compacted() {
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

template <class T, class Bind>
Status SqliteStore::upsert_all(const Upsert& upsert, std::span<const T> rows, Bind bind) {
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

Result<bool> SqliteStore::insert_group(std::span<const std::uint32_t> group) {
  if (insert_group_sql_.empty()) {
    insert_group_sql_ = rows_sql(kInsertResult, kInsertColumns, kInsertGroup, "");
  }
  auto begin = cached(14, "SAVEPOINT insert_group");
  if (!begin || (*begin)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
  auto ins = cached(15, insert_group_sql_.c_str());
  if (!ins) return ins.error();
  for (std::uint32_t i : group) bind_pending(**ins, pending_[i]);
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

Result<bool> SqliteStore::insert_one(const Pending& p) {
  if (insert_one_sql_.empty()) insert_one_sql_ = rows_sql(kInsertResult, kInsertColumns, 1, "");
  auto ins = cached(8, insert_one_sql_.c_str());
  if (!ins) return ins.error();
  bind_pending(**ins, p);
  if ((*ins)->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
  return sqlite3_changes(writer_.get()) > 0;
}

void SqliteStore::bind_pending(Stmt& st, const Pending& p) {
  st.bind(p.minute).bind(p.series);
  bind_row(st, p.row);
  st.bind(p.row.seq);
}

void SqliteStore::count_in_rollup(const Pending& p) {
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

Status SqliteStore::save_position(std::string_view consumer, std::int64_t seq) {
  std::lock_guard lock(write_mutex_);
  auto st = Stmt::prepare(writer_.get(),
                          "INSERT INTO positions VALUES(?, ?) ON CONFLICT(consumer) DO UPDATE SET "
                          "seq = excluded.seq");
  if (!st) return fail("store: sqlite:", path_, ": ", st.error().message);
  st->bind(consumer).bind(seq);
  if (st->step() != SQLITE_DONE)
    return fail("store: sqlite:", path_, ": saving a position: ", sqlite3_errmsg(writer_.get()));
  return {};
}

Result<std::optional<std::int64_t>> SqliteStore::take_position(std::string_view consumer) {
  std::lock_guard lock(write_mutex_);
  auto st = Stmt::prepare(writer_.get(), "DELETE FROM positions WHERE consumer = ? RETURNING seq");
  if (!st) return fail("store: sqlite:", path_, ": ", st.error().message);
  st->bind(consumer);
  std::optional<std::int64_t> seq;
  int rc = st->step();
  if (rc == SQLITE_ROW) {
    seq = st->i64(0);
    rc = st->step();
  }
  if (rc != SQLITE_DONE)
    return fail("store: sqlite:", path_, ": taking a position: ", sqlite3_errmsg(writer_.get()));
  return seq;
}

}  // namespace leeway::store::detail
