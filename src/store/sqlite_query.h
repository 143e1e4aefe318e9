// A prepared SQLite statement with typed binds and reads, finalized when it goes out of scope,
// for the stores that keep a few rows a minute on a connection of their own. Internal to the
// store module.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace leeway::store::detail {

class SqliteQuery {
 public:
  SqliteQuery(sqlite3* db, const char* sql) : db_(db) {
    if (sqlite3_prepare_v2(db, sql, -1, &s_, nullptr) != SQLITE_OK) s_ = nullptr;
  }
  ~SqliteQuery() { sqlite3_finalize(s_); }
  SqliteQuery(const SqliteQuery&) = delete;
  SqliteQuery& operator=(const SqliteQuery&) = delete;

  SqliteQuery& bind(std::int64_t v) {
    sqlite3_bind_int64(s_, next_++, v);
    return *this;
  }
  SqliteQuery& bind(std::string_view v) {
    sqlite3_bind_text(s_, next_++, v.data(), int(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  template <typename T>
  SqliteQuery& bind(const std::optional<T>& v) {
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
  // Calls `on_row` for each row.
  template <typename OnRow>
  Status each_row(OnRow on_row) {
    while (true) {
      auto row = step();
      if (!row) return row.error();
      if (!*row) return {};
      on_row();
    }
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

}  // namespace leeway::store::detail
