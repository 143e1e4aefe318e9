// What the SQLite stores beside the result store share (incidents, SLA records): a prepared
// statement, a connection of their own to the result store's file with its transactions, and
// migrations numbered in a schema table of their own. Internal to the store module.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace leeway::store::detail {

// A prepared statement, finalized when it goes out of scope.
class Query {
 public:
  Query(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) s_ = nullptr;
  }
  ~Query() { sqlite3_finalize(s_); }
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;

  Query& bind(std::int64_t v) {
    sqlite3_bind_int64(s_, next_++, v);
    return *this;
  }
  Query& bind(std::string_view v) {
    sqlite3_bind_text(s_, next_++, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  template <typename T>
  Query& bind(const std::optional<T>& v) {
    if (v) return bind(*v);
    sqlite3_bind_null(s_, next_++);
    return *this;
  }
  // True for a row, false when done; an error names the statement's failure.
  Result<bool> step() {
    if (!s_) return error();
    const int rc = sqlite3_step(s_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return error();
  }
  Status run() {
    auto r = step();
    if (!r) return r.error();
    return {};
  }
  std::int64_t i64(int col) const { return sqlite3_column_int64(s_, col); }
  bool null(int col) const { return sqlite3_column_type(s_, col) == SQLITE_NULL; }
  std::string text(int col) const {
    auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s_, col));
    return p ? std::string(p, std::size_t(sqlite3_column_bytes(s_, col))) : std::string();
  }

 private:
  Error error() const { return fail_as(ErrorKind::kUnavailable, "sqlite: ", sqlite3_errmsg(db_)); }
  sqlite3* db_;
  sqlite3_stmt* s_ = nullptr;
  int next_ = 1;
};

// Calls `on_row` for each row of `q`.
template <typename OnRow>
Status each_row(Query& q, OnRow on_row) {
  while (true) {
    auto row = q.step();
    if (!row) return row.error();
    if (!*row) return {};
    on_row();
  }
}

// A connection of its own to the result store's file (in WAL mode, so it writes beside the
// result writer, waiting on its lock at most the busy timeout). Not thread-safe: its owner
// serialises calls.
class SqliteConnection {
 public:
  SqliteConnection() = default;
  ~SqliteConnection() { sqlite3_close_v2(db_); }
  SqliteConnection(const SqliteConnection&) = delete;
  SqliteConnection& operator=(const SqliteConnection&) = delete;

  // Opens the file and brings the tables named by `schema_table` (e.g. "incident_schema") to
  // the version migrations.size(); migration i takes them to version i + 1. A database of a
  // newer version is refused, naming `tables`.
  Status open(const std::string& path, const char* schema_table, const char* tables,
              std::span<const char* const> migrations);

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

  Status exec(const char* sql);

  // Runs `body` in a write transaction, rolled back when it fails.
  template <typename Body>
  Status in_transaction(Body body) {
    if (auto s = exec("BEGIN IMMEDIATE"); !s) return failed(s.error());
    if (auto s = body(); !s) {
      (void)exec("ROLLBACK");  // the error being reported matters more
      return failed(s.error());
    }
    if (auto s = exec("COMMIT"); !s) {
      (void)exec("ROLLBACK");
      return failed(s.error());
    }
    return {};
  }

  // A failure, naming the file; one of the caller's input (kInvalidArgument, kNotFound) as it is.
  Error failed(const Error& e) const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace leeway::store::detail
