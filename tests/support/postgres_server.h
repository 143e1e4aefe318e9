// A real PostgreSQL server for tests: initdb in a temporary folder, listening on 127.0.0.1 only
// at a free port, stopped and deleted when the object goes.
#pragma once

#include <memory>
#include <string>

#include "core/result.h"

namespace leeway::testing {

class PostgresServer {
 public:
  // Starts a server. Runs initdb and postgres as the `postgres` user when the test runs as root
  // (initdb refuses root). Errors carry the server's log.
  static Result<std::unique_ptr<PostgresServer>> start();
  // Stops the server (fast shutdown) and deletes its folder.
  ~PostgresServer();
  PostgresServer(const PostgresServer&) = delete;
  PostgresServer& operator=(const PostgresServer&) = delete;

  int port() const { return port_; }
  // A libpq URI for `database` as the superuser, over TCP on loopback.
  std::string uri(const std::string& database = "postgres") const;
  // Creates an empty database named `name` (letters, digits and _ only).
  Status create_database(const std::string& name);

  // True when LEEWAY_SKIP_POSTGRES=1: developers without PostgreSQL may skip; CI must not.
  static bool skip_requested();

 private:
  PostgresServer() = default;
  std::string dir_;
  std::string bin_dir_;
  int port_ = 0;
  bool running_ = false;
};

}  // namespace leeway::testing
