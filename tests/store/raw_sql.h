// SQL run on a store's database behind its back, as an older or newer leeway would have left it
// (a schema to migrate, a version to refuse): "sqlite:PATH" or a postgres:// URI.
#pragma once

#include <sqlite3.h>

#include <pqxx/pqxx>
#include <string>

namespace leeway::testing {

// Empty when every statement ran, else the database's error.
inline std::string run_sql(const std::string& uri, const char* sql) {
  if (uri.starts_with("sqlite:")) {
    sqlite3* db = nullptr;
    std::string error;
    if (sqlite3_open(uri.substr(7).c_str(), &db) != SQLITE_OK ||
        sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      error = sqlite3_errmsg(db);
    sqlite3_close(db);
    return error;
  }
  try {
    pqxx::connection conn(uri);
    pqxx::work txn(conn);
    txn.exec(sql);
    txn.commit();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace leeway::testing
