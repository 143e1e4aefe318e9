// The SQLite store's statement and connection helpers, row conversions and WAL checkpointer.
#include <bit>
#include <string>

#include "store/sqlite_impl.h"

namespace leeway::store::detail {

std::string rows_sql(const char* head, int columns, std::size_t rows, const std::string& tail) {
  std::string tuple = "(?";
  for (int i = 1; i < columns; ++i) tuple += ",?";
  tuple += ")";
  std::string sql = head;
  for (std::size_t i = 0; i < rows; ++i) sql += (i ? "," : " ") + tuple;
  return sql + tail;
}

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
  const auto packed = st.i64(first_col + 2);
  r.outcome_stage = int(packed & ((1 << kCauseShift) - 1));
  r.cause = int(packed >> kCauseShift);
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
      .bind(r.outcome_stage | std::int64_t(r.cause) << kCauseShift)
      .bind(r.http_status)
      .bind(r.error_id)
      .bind(r.dns_us)
      .bind(r.connect_us)
      .bind(r.tls_us)
      .bind(r.first_byte_us);
}

Row to_row(const StoredResult& s, std::int64_t error_id) {
  Row r{s.started_us,  s.total_us, pack_outcome_stage(s.outcome, s.stage),
        s.http_status, error_id,   s.dns_us,
        s.connect_us,  s.tls_us,   s.first_byte_us};
  r.cause = static_cast<int>(s.cause);
  return r;
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
  s.cause = unpack_cause(r.cause);
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

// On the writer's thread, after each commit, with the log's size in pages.
void Checkpointer::committed(sqlite3* writer, int pages) {
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

void Checkpointer::loop(std::stop_token stop) {
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

}  // namespace leeway::store::detail
