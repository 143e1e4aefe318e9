// `leeway serve` as a real process on a real PostgreSQL: results appear over the API, SIGTERM
// writes everything pending, and a restarted daemon serves the history it had.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <thread>

#include "store/store.h"
#include "support/http_client.h"
#include "support/http_server.h"
#include "support/peers.h"
#include "support/postgres_server.h"
#include "support/process.h"

namespace leeway::testing {
namespace {

using nlohmann::json;

class PostgresServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (PostgresServer::skip_requested()) GTEST_SKIP() << "LEEWAY_SKIP_POSTGRES=1";
    auto pg = PostgresServer::start();
    ASSERT_TRUE(pg) << pg.error().message;
    pg_ = std::move(*pg);
    ASSERT_TRUE(pg_->create_database("leeway"));
    dir_ =
        std::filesystem::temp_directory_path() / ("leeway-pg-serve-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    api_port_ = closed_port();
    std::ofstream(dir_ / "leeway.yaml")
        << "server:\n  listen: 127.0.0.1:" << api_port_ << "\n  store: " << pg_->uri("leeway")
        << "\ndefaults:\n  interval: 1s\n  timeout: 500ms\n"
        << "services:\n  - id: web\n    checks:\n      - name: ok\n        target: "
           "http://127.0.0.1:"
        << target_.port() << "/ok\n";
  }

  void TearDown() override {
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  std::unique_ptr<ChildProcess> start() {
    auto child = std::make_unique<ChildProcess>(
        std::vector<std::string>{LEEWAY_BINARY, "serve", "-c", (dir_ / "leeway.yaml").string()},
        (dir_ / "serve.log").string());
    EXPECT_TRUE(wait_until([&] {
      return http_request(api_port_, "GET", "/healthz").status == 200;
    })) << log();
    return child;
  }

  // Results of web/ok stored so far, oldest first.
  std::vector<std::int64_t> result_times() {
    HttpReply r = http_request(api_port_, "GET",
                               "/api/v1/checks/web%2Fok/results?order=asc&limit=10000&from=0");
    json page = json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
    std::vector<std::int64_t> times;
    if (page.is_object())
      for (const auto& result : page["results"]) times.push_back(result["started_us"]);
    return times;
  }

  std::string log() { return read_file(dir_ / "serve.log"); }

  HttpServer target_;
  std::unique_ptr<PostgresServer> pg_;
  std::filesystem::path dir_;
  std::uint16_t api_port_ = 0;
};

TEST_F(PostgresServeTest, ResultsSurviveSigtermAndRestart) {
  auto serve = start();
  ASSERT_TRUE(wait_until([&] { return result_times().size() >= 2; })) << log();
  EXPECT_NE(log().find("postgresql://postgres@127.0.0.1:" + std::to_string(pg_->port())),
            std::string::npos)
      << log();

  serve->signal(SIGTERM);
  ASSERT_EQ(serve->wait(), 0) << log();
  std::string text = log();
  auto at = text.find("stopped; ");
  ASSERT_NE(at, std::string::npos) << text;
  const long written = std::stol(text.substr(at + 9));

  // Everything the daemon said it wrote is in the database.
  auto db = store::open_store(pg_->uri("leeway"));
  ASSERT_TRUE(db) << db.error().message;
  store::ResultQuery q;
  q.check = "web/ok";
  q.to_us = std::numeric_limits<std::int64_t>::max();
  q.limit = 10'000;
  auto page = (*db)->results(q);
  ASSERT_TRUE(page) << page.error().message;
  ASSERT_EQ(static_cast<long>(page->results.size()), written);
  std::vector<std::int64_t> before;
  for (auto it = page->results.rbegin(); it != page->results.rend(); ++it)
    before.push_back(it->started_us);
  db->reset();

  serve = start();
  ASSERT_TRUE(wait_until([&] { return result_times().size() > before.size(); })) << log();
  std::vector<std::int64_t> after = result_times();
  ASSERT_GT(after.size(), before.size());
  EXPECT_TRUE(std::equal(before.begin(), before.end(), after.begin()));  // the history, then more
  serve->signal(SIGTERM);
  EXPECT_EQ(serve->wait(), 0) << log();
}

TEST_F(PostgresServeTest, AnUnreachableStoreStopsTheStartWithAClearMessage) {
  const std::string port = std::to_string(closed_port());
  ProcessResult r =
      run_process({LEEWAY_BINARY, "serve", "-c", (dir_ / "leeway.yaml").string(), "--store",
                   "postgresql://leeway:s3cret@127.0.0.1:" + port + "/leeway"});
  EXPECT_EQ(r.exit_code, 1);  // could not start; 2 is kept for a bad config
  EXPECT_NE(r.err.find("postgres: cannot connect to 127.0.0.1:" + port), std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find("s3cret"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace leeway::testing
