// A test of a real `leeway serve`: a fresh folder for its config, store and log, a free port for
// its API, and what the daemon tests do with it: start it and wait for /healthz, stop it, read
// and write the API with the tests' token, run the CLI against it.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support/http_client.h"
#include "support/process.h"

namespace leeway::testing {

// The API token the tests' configs name "ops", and its hash as a config keeps it.
inline constexpr const char* kApiToken = "test-token-7f3a";
inline constexpr const char* kApiTokenHash =
    "sha256:8a454c264e18ea0c595ce62ad7ec5721a0c3e790498ac362022550b1c5a869ee";
// The headers of an API write with that token.
HttpHeaders api_auth();

// An incident id ("web@2026-...T...Z") as one URL path segment.
std::string path_segment(const std::string& id);

class DaemonTest : public ::testing::Test {
 protected:
  // `binary`: the leeway binary (the test's LEEWAY_BINARY); `name`: the test folder's prefix.
  DaemonTest(std::string binary, std::string name);

  // A fresh folder and port; a derived SetUp() calls this first, then writes config_path().
  void SetUp() override;
  void TearDown() override;

  std::filesystem::path config_path() const { return dir_ / "leeway.yaml"; }
  std::filesystem::path store_path() const { return dir_ / "leeway.db"; }

  // `leeway serve -c config_path()`, logging to serve.log, once its /healthz answers 200.
  std::unique_ptr<ChildProcess> start();
  // SIGTERM, and a clean exit expected.
  void stop(std::unique_ptr<ChildProcess>& child);
  // The whole log of every start so far.
  std::string log() const;

  // A GET's body as JSON (null when empty or not JSON).
  nlohmann::json get(const std::string& target, const HttpHeaders& headers = {});
  HttpReply post(const std::string& target, const nlohmann::json& body,
                 const HttpHeaders& headers = api_auth());
  // The id of the one open incident, once there is one.
  std::string open_incident();
  // `leeway ARGS --server=<this daemon>`.
  ProcessResult cli(std::vector<std::string> args);

  const std::string binary_;
  const std::string name_;
  std::filesystem::path dir_;
  std::uint16_t api_port_ = 0;
};

}  // namespace leeway::testing
