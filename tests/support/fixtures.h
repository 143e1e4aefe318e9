// What many test fixtures set up the same way: a fresh folder per test, and a fresh database on
// one PostgreSQL server shared by the test executable.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace leeway::testing {

// An empty folder for the running test: <tmp>/<prefix>-<pid>-<test name>, emptied if it exists.
std::filesystem::path fresh_test_dir(std::string_view prefix);

// The URI of a new, empty database named <prefix>_<n> on the executable's PostgreSQL server,
// started on first use. An error (with the server's log) when it cannot start.
Result<std::string> fresh_postgres_database(std::string_view prefix);

}  // namespace leeway::testing
