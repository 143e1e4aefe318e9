// Opening and migrating the SQLite stores beside the result store (see sqlite_query.h).
#include "store/sqlite_query.h"

namespace leeway::store::detail {

Status SqliteConnection::open(const std::string& path, const char* schema_table, const char* tables,
                              std::span<const char* const> migrations) {
  path_ = path;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    return fail("store: cannot open sqlite:", path, ": ",
                db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc));
  }
  // The result writer holds the file's write lock for a batch at a time.
  sqlite3_busy_timeout(db_, 10'000);
  if (auto s = exec("PRAGMA journal_mode=WAL"); !s) return failed(s.error());
  const int latest = int(migrations.size());
  return in_transaction([&]() -> Status {
    const std::string table(schema_table);
    if (auto s =
            exec(("CREATE TABLE IF NOT EXISTS " + table + "(version INTEGER NOT NULL)").c_str());
        !s)
      return s;
    Query q(db_, ("SELECT max(version) FROM " + table).c_str());
    if (auto row = q.step(); !row) return row.error();
    const int version = int(q.i64(0));
    if (version > latest) {
      return fail(tables, " have schema version ", std::to_string(version),
                  ", newer than this leeway supports (", std::to_string(latest),
                  "); upgrade leeway");
    }
    for (int v = version; v < latest; ++v) {
      if (auto s = exec(migrations[std::size_t(v)]); !s) return s;
    }
    if (version == latest) return {};
    return exec(("DELETE FROM " + table + "; INSERT INTO " + table + " VALUES(" +
                 std::to_string(latest) + ")")
                    .c_str());
  });
}

Status SqliteConnection::exec(const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &message) == SQLITE_OK) return {};
  Error e = fail_as(ErrorKind::kUnavailable, "sqlite: ", message ? message : sqlite3_errmsg(db_));
  sqlite3_free(message);
  return e;
}

Error SqliteConnection::failed(const Error& e) const {
  if (e.kind == ErrorKind::kInvalidArgument || e.kind == ErrorKind::kNotFound) return e;
  return fail_as(ErrorKind::kUnavailable, "store: sqlite:", path_, ": ", e.message);
}

}  // namespace leeway::store::detail
