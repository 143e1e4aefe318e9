// What the PostgreSQL stores share (the result store, and the incident, SLA and SLO stores, each
// on connections of its own): the URI read by libpq, connecting, messages without the password, and
// running a statement body that survives one broken connection. Internal to the store module.
#pragma once

#include <memory>
#include <mutex>
#include <pqxx/pqxx>
#include <span>
#include <string>
#include <type_traits>

#include "core/result.h"

namespace leeway::store::detail {

// What a postgres:// URI names, parsed by libpq itself so that every form libpq accepts works.
struct Target {
  std::string conninfo;  // keyword=value form, with our defaults added
  std::string endpoint;  // "host:port" for messages
  std::string display;   // the URI without its password, for describe() and messages
  std::string password;  // only to scrub it from messages
};

Result<Target> parse_target(const std::string& uri);

// Collapses a libpq/libpqxx message onto one line and removes the password, should the server
// or the library ever echo it.
std::string clean_message(std::string message, const std::string& password);

using Connection = std::unique_ptr<pqxx::connection>;

Result<Connection> connect(const Target& t);

// False when the server has closed (or written to) a connection we left idle: a terminated
// backend sends its goodbye and hangs up. Such a connection is replaced before use rather than
// found broken by a query, where libpqxx 6.4 leaks the failed result.
bool idle_and_open(const pqxx::connection& conn);

// Brings the tables whose version `schema_table` holds (e.g. "incident_schema") to the version
// migrations.size() in `txn`; migration i takes them to version i + 1. Nodes starting together
// migrate one at a time. A database of a newer version is refused, naming `tables`.
Status migrate(pqxx::work& txn, const Target& target, const char* schema_table, const char* tables,
               std::span<const char* const> migrations);

// What a body's return value becomes: a Result of it, unless it is one already.
template <typename T>
struct AsResult {
  using type = Result<T>;
};
template <typename T>
struct AsResult<Result<T>> {
  using type = Result<T>;
};
template <typename Body>
using BodyResult = typename AsResult<std::invoke_result_t<Body, pqxx::connection&>>::type;

// Runs `body` on `conn` (connecting first when it is null) and turns exceptions into errors
// ("store: <what> <uri>: ..."); a body may return a Result itself. When the connection broke (a
// server restart) `body` runs again on a new one: every body must be idempotent.
template <typename Body>
BodyResult<Body> run_on(Connection& conn, const Target& target, const char* what, Body& body) {
  for (int attempt = 0;; ++attempt) {
    if (conn && !idle_and_open(*conn)) conn.reset();
    if (!conn) {
      auto c = connect(target);
      if (!c) return c.error();
      conn = std::move(*c);
    }
    try {
      return body(*conn);
    } catch (const std::exception& e) {
      bool broken = dynamic_cast<const pqxx::broken_connection*>(&e) ||
                    dynamic_cast<const pqxx::in_doubt_error*>(&e);
      if (broken) conn.reset();
      if (broken && attempt == 0) continue;
      return fail("store: ", what, " ", target.display, ": ",
                  clean_message(e.what(), target.password));
    }
  }
}

// One connection behind a mutex, for the stores that write a few rows a minute at most
// (incidents, SLA records, SLO events). run() is run_on() under the lock; a database failure
// comes back as kUnavailable, since it is the store's and not the caller's, while a body's own
// kinds (a missing incident's kNotFound) stay. The retry after a broken connection makes an
// insert that committed but lost its answer twice: each store says what that means for it.
class Session {
 public:
  explicit Session(Target target) : target_(std::move(target)) {}

  const Target& target() const { return target_; }

  template <typename Body>
  BodyResult<Body> run(const char* what, Body body) {
    std::lock_guard lock(mutex_);
    auto out = run_on(conn_, target_, what, body);
    if (!out && out.error().kind == ErrorKind::kInternal) {
      Error e = out.error();
      e.kind = ErrorKind::kUnavailable;
      return e;
    }
    return out;
  }

 private:
  const Target target_;
  std::mutex mutex_;
  Connection conn_;  // null until first used, and after it broke
};

}  // namespace leeway::store::detail
