// `leeway serve` on a disk that fills up: write failures are logged once per burst, counted,
// /healthz tells the truth until writes work again, nothing stored before is lost, and a stop
// after lost results exits 1. The disk is a real tmpfs of a few MiB (the tests run as root).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>

#include "support/fixtures.h"
#include "support/http_client.h"
#include "support/http_server.h"
#include "support/peers.h"
#include "support/process.h"

namespace leeway::testing {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// Occurrences of `needle` in `text`.
std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class StoreFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root (CI runs as root)";
    dir_ = fresh_test_dir("leeway-disk");
    std::filesystem::create_directories(dir_ / "disk");
    ASSERT_EQ(::mount("tmpfs", (dir_ / "disk").c_str(), "tmpfs", 0, "size=8m"), 0);
    mounted_ = true;
    api_port_ = closed_port();
    std::ofstream(dir_ / "leeway.yaml")
        << "server:\n  listen: 127.0.0.1:" << api_port_
        << "\n  store: " << (dir_ / "disk" / "leeway.db").string()
        << "\ndefaults:\n  interval: 1s\n  timeout: 500ms\n"
        << "services:\n  - id: web\n    checks:\n"
        << "      - name: ok\n        target: http://127.0.0.1:" << target_.port() << "/ok\n";
  }

  void TearDown() override {
    if (mounted_) ::umount2((dir_ / "disk").c_str(), MNT_DETACH);
    if (!dir_.empty()) std::filesystem::remove_all(dir_);
  }

  // Writes zeros into the tmpfs until it is full.
  void fill_disk() {
    std::ofstream filler(dir_ / "disk" / "filler", std::ios::binary);
    std::string block(64 * 1024, '\0');
    for (int i = 0; i < 1'000 && filler.write(block.data(), block.size()); ++i) filler.flush();
  }

  std::size_t stored_results() {
    HttpReply r =
        http_request(api_port_, "GET", "/api/v1/checks/web%2Fok/results?limit=10000&from=0");
    json page = json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
    return page.is_object() ? page["results"].size() : 0;
  }

  std::string log() { return read_file(dir_ / "serve.log"); }

  HttpServer target_;
  std::filesystem::path dir_;
  bool mounted_ = false;
  std::uint16_t api_port_ = 0;
};

TEST_F(StoreFailureTest, AFullDiskIsReportedUntilWritesWorkAgain) {
  ChildProcess serve({LEEWAY_BINARY, "serve", "-c", (dir_ / "leeway.yaml").string()},
                     (dir_ / "serve.log").string());
  ASSERT_TRUE(wait_until([&] { return stored_results() >= 2; })) << log();

  fill_disk();
  ASSERT_TRUE(wait_until([&] { return http_request(api_port_, "GET", "/healthz").status == 503; }))
      << log();
  HttpReply health = http_request(api_port_, "GET", "/healthz");
  EXPECT_THAT(health.body, HasSubstr("store: writes fail"));
  EXPECT_THAT(health.body, HasSubstr("full"));
  HttpReply metrics = http_request(api_port_, "GET", "/metrics");
  EXPECT_THAT(metrics.body, HasSubstr("leeway_store_up 0"));
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(metrics.body, m, std::regex("leeway_store_write_errors_total (\\d+)")));
  EXPECT_GE(std::stoi(m[1]), 1);
  const std::size_t before = stored_results();
  ::sleep(3);  // several failed batches: still one line in the log
  EXPECT_EQ(count(log(), "writing failed"), 1u) << log();

  std::filesystem::remove(dir_ / "disk" / "filler");
  ASSERT_TRUE(wait_until([&] { return http_request(api_port_, "GET", "/healthz").status == 200; }))
      << log();
  EXPECT_EQ(count(log(), "writing works again"), 1u) << log();
  ASSERT_TRUE(wait_until([&] { return stored_results() > before; })) << log();
  EXPECT_THAT(http_request(api_port_, "GET", "/metrics").body, HasSubstr("leeway_store_up 1"));

  // Results were lost while the disk was full: the stop says so and exits 1.
  serve.signal(SIGTERM);
  EXPECT_EQ(serve.wait(), 1) << log();
  EXPECT_THAT(log(), HasSubstr("lost in"));
}

}  // namespace
}  // namespace leeway::testing
