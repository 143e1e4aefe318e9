#include "support/daemon_test.h"

#include <csignal>

#include "support/fixtures.h"
#include "support/peers.h"

namespace leeway::testing {

using nlohmann::json;

HttpHeaders api_auth() {
  return {{"Authorization", std::string("Bearer ") + kApiToken},
          {"Content-Type", "application/json"}};
}

std::string path_segment(const std::string& id) {
  std::string out;
  for (char c : id) out += c == ':' ? std::string("%3A") : std::string(1, c);
  return out;
}

DaemonTest::DaemonTest(std::string binary, std::string name)
    : binary_(std::move(binary)), name_(std::move(name)) {}

void DaemonTest::SetUp() {
  dir_ = fresh_test_dir(name_);
  api_port_ = closed_port();
}

void DaemonTest::TearDown() {
  std::filesystem::remove_all(dir_);
}

std::unique_ptr<ChildProcess> DaemonTest::start() {
  auto child = std::make_unique<ChildProcess>(
      std::vector<std::string>{binary_, "serve", "-c", config_path().string()},
      (dir_ / "serve.log").string());
  EXPECT_TRUE(wait_until([&] { return http_request(api_port_, "GET", "/healthz").status == 200; }))
      << log();
  return child;
}

void DaemonTest::stop(std::unique_ptr<ChildProcess>& child) {
  child->signal(SIGTERM);
  EXPECT_EQ(child->wait(), 0) << log();
  child.reset();
}

std::string DaemonTest::log() const {
  return read_file((dir_ / "serve.log").string());
}

json DaemonTest::get(const std::string& target, const HttpHeaders& headers) {
  HttpReply r = http_request(api_port_, "GET", target, "", headers);
  return json::parse(r.body.empty() ? "null" : r.body, nullptr, false);
}

HttpReply DaemonTest::post(const std::string& target, const json& body,
                           const HttpHeaders& headers) {
  return http_request(api_port_, "POST", target, body.dump(), headers);
}

std::string DaemonTest::open_incident() {
  std::string id;
  EXPECT_TRUE(wait_until([&] {
    json list = get("/api/v1/incidents?state=open");
    if (!list.is_object() || list["incidents"].size() != 1) return false;
    id = list["incidents"][0]["id"];
    return true;
  })) << log();
  return id;
}

ProcessResult DaemonTest::cli(std::vector<std::string> args) {
  args.insert(args.begin(), binary_);
  args.push_back("--server=http://127.0.0.1:" + std::to_string(api_port_));
  return run_process(args);
}

}  // namespace leeway::testing
