// The SQLite store's reads: result pages, rollups, latest results, availability and read_since,
// each on a pooled connection of its own, merging the recent tier and the chunks.
#include <algorithm>
#include <tuple>

#include "store/sqlite_impl.h"

namespace leeway::store::detail {

Result<std::vector<Committed>> SqliteStore::read_since(std::int64_t after_seq, std::size_t limit) {
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

Result<ResultPage> SqliteStore::results(const ResultQuery& q) {
  auto conn = lease();
  if (!conn) return conn.error();
  auto out = read_results(conn->get(), q);
  give_back(std::move(*conn));
  return out;
}

Result<std::vector<MinuteRollup>> SqliteStore::rollups(const RollupQuery& q) {
  auto conn = lease();
  if (!conn) return conn.error();
  auto out = read_rollups(conn->get(), q);
  give_back(std::move(*conn));
  return out;
}

Result<std::vector<StoredResult>> SqliteStore::latest(std::string_view check) {
  auto conn = lease();
  if (!conn) return conn.error();
  auto out = read_latest(conn->get(), check);
  give_back(std::move(*conn));
  return out;
}

Result<Availability> SqliteStore::availability(std::string_view check,
                                               const std::optional<std::string>& location,
                                               TimeUs from_us, TimeUs to_us) {
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

Result<Db> SqliteStore::lease() {
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

void SqliteStore::give_back(Db db) {
  std::lock_guard lock(pool_mutex_);
  if (pool_.size() < 8) pool_.push_back(std::move(db));
}

Result<std::vector<std::pair<std::int64_t, std::string>>> SqliteStore::check_series(
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

template <class Visit>
Status SqliteStore::visit_recent_rollups(
    sqlite3* db, const std::vector<std::pair<std::int64_t, std::string>>& series,
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

Result<std::string> SqliteStore::error_text(sqlite3* db, std::int64_t id,
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

Result<ResultPage> SqliteStore::read_results(sqlite3* db, const ResultQuery& q) {
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
  auto chunks = Stmt::prepare(db, std::string("SELECT data FROM chunks WHERE series = ? AND "
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

Result<std::vector<MinuteRollup>> SqliteStore::read_rollups(sqlite3* db, const RollupQuery& q) {
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
    if (!out.empty() && out.back().minute_us == m.minute_us && out.back().location == m.location) {
      add_rollup(out.back(), m);
    } else {
      out.push_back(std::move(m));
    }
  }
  return out;
}

// In the recent tier, consecutive commits holding about `limit` seqs are read together, one range
// of minutes (those they wrote), from the commit holding after + 1 on; a live commit wrote the
// last minute or two, a late one (results hours old) more. In chunks, a piece of seq class c that
// holds a seq above `after` has min_seq > after - 2^c (see seq_class()), so per class one range
// of chunks_by_seq, merged by min_seq, visits the pieces that may hold them, and stops at the
// first piece whose min_seq is above the limit-th seq found: at most twice the pieces that hold
// wanted rows, per class.
Result<std::vector<Committed>> SqliteStore::read_committed(sqlite3* db, std::int64_t after,
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
  auto names = Stmt::prepare(db,
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

Result<std::vector<StoredResult>> SqliteStore::read_latest(sqlite3* db, std::string_view check) {
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

}  // namespace leeway::store::detail
