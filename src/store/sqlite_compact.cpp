// The SQLite store's maintenance: compaction moves the recent tier into per-series chunks and
// rollups, pruning drops what is past retention.
#include <algorithm>
#include <limits>

#include "store/sqlite_impl.h"

namespace leeway::store::detail {
namespace {

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

}  // namespace

Result<std::int64_t> SqliteStore::compact(TimeUs before_us) {
  std::lock_guard lock(write_mutex_);
  auto out = compact_locked(before_us);
  if (!out) {
    (void)exec(writer_.get(), "ROLLBACK");  // the error being reported matters more
    return fail("store: compacting sqlite:", path_, ": ", out.error().message);
  }
  return out;
}

Result<PruneStats> SqliteStore::prune(TimeUs now_us) {
  std::lock_guard lock(write_mutex_);
  auto out = prune_locked(now_us);
  if (!out) {
    (void)exec(writer_.get(), "ROLLBACK");  // the error being reported matters more
    return fail("store: pruning sqlite:", path_, ": ", out.error().message);
  }
  return out;
}

Status SqliteStore::merge_into_chunk(std::int64_t series, TimeUs span_start,
                                     std::vector<Row> rows) {
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

Result<std::int64_t> SqliteStore::compact_locked(TimeUs before_us) {
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
          row.seq = sel->i64(1 + kRowColumnCount);
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

Status SqliteStore::forget_commits_before(std::int64_t minute) {
  auto st = Stmt::prepare(writer_.get(), "DELETE FROM recent_commits WHERE last_minute < ?");
  if (!st) return st.error();
  st->bind(minute);
  if (st->step() != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
  return {};
}

TimeUs SqliteStore::span_of(TimeUs t) const {
  return floor_div(t, options_.chunk_span_us) * options_.chunk_span_us;
}

Result<std::vector<std::int64_t>> SqliteStore::all_series() {
  auto st = Stmt::prepare(writer_.get(), "SELECT id FROM series ORDER BY id");
  if (!st) return st.error();
  std::vector<std::int64_t> ids;
  int rc;
  while ((rc = st->step()) == SQLITE_ROW) ids.push_back(st->i64(0));
  if (rc != SQLITE_DONE) return fail(sqlite3_errmsg(writer_.get()));
  return ids;
}

Result<PruneStats> SqliteStore::prune_locked(TimeUs now_us) {
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

}  // namespace leeway::store::detail
