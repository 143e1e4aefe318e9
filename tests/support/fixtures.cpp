// Test fixtures' shared set-up: per-test folders and per-test PostgreSQL databases.
#include "support/fixtures.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "support/postgres_server.h"

namespace leeway::testing {

std::filesystem::path fresh_test_dir(std::string_view prefix) {
  std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  for (char& c : test)
    if (c == '/') c = '_';  // a parameterized test's name: "Writes/sqlite"
  auto dir = std::filesystem::temp_directory_path() /
             (std::string(prefix) + "-" + std::to_string(::getpid()) + "-" + test);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

Result<std::string> fresh_postgres_database(std::string_view prefix) {
  static auto server = PostgresServer::start();
  static int databases = 0;
  if (!server) return fail("cannot start PostgreSQL: ", server.error().message);
  std::string name = std::string(prefix) + "_" + std::to_string(++databases);
  if (Status s = (*server)->create_database(name); !s) return s.error();
  return (*server)->uri(name);
}

}  // namespace leeway::testing
