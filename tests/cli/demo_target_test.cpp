// `leeway demo-target --dns`: the name server the test bed gives its service, asked by the real
// binary's dns checks over loopback.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "cli/demo_dns.h"
#include "support/fixtures.h"
#include "support/peers.h"
#include "support/process.h"

namespace leeway::testing {
namespace {

using ::testing::HasSubstr;

ProcessResult leeway(std::vector<std::string> args) {
  args.insert(args.begin(), LEEWAY_BINARY);
  return run_process(args);
}

nlohmann::json check(const std::string& target) {
  ProcessResult r = leeway({"check", target, "--timeout", "2s", "--json"});
  auto json = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(json.is_discarded()) << r.out << r.err;
  return json;
}

// Waits until the demo target says it serves (it starts in the background).
bool wait_for_start(const std::filesystem::path& log) {
  for (int attempt = 0; attempt < 300; ++attempt) {
    if (read_file(log.string()).find("name server on") != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ADD_FAILURE() << "the demo target did not start: " << read_file(log.string());
  return false;
}

TEST(DemoTarget, AnswersItsNamesAndNxdomainForOthers) {
  auto dir = fresh_test_dir("leeway-demo-target");
  std::string web = "127.0.0.1:" + std::to_string(closed_port());
  std::string dns = "127.0.0.1:" + std::to_string(closed_port());
  ChildProcess target({LEEWAY_BINARY, "demo-target", "--listen", web, "--dns", dns, "--record",
                       "Shop.Test.=10.99.0.1"},
                      (dir / "demo.log").string());
  ASSERT_TRUE(wait_for_start(dir / "demo.log"));
  auto found = check("dns://" + dns + "/shop.test?type=A");
  EXPECT_EQ(found.value("outcome", ""), "up") << found.dump();
  EXPECT_THAT(found.dump(), HasSubstr("10.99.0.1"));
  auto missing = check("dns://" + dns + "/other.test?type=A");
  EXPECT_EQ(missing.value("outcome", ""), "down") << missing.dump();
  EXPECT_THAT(missing.dump(), HasSubstr("NXDOMAIN"));
  target.signal(SIGTERM);
  EXPECT_EQ(target.wait(), 0);
}

TEST(DemoTarget, BadRecordsAndEndpointsExitThree) {
  ProcessResult r = leeway({"demo-target", "--dns", "127.0.0.1:1", "--record", "shop.test"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("--record: expected NAME=IPV4, got \"shop.test\""));
  r = leeway({"demo-target", "--dns", "nowhere"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("--dns: expected ADDRESS:PORT, got \"nowhere\""));
}

// Packets that are not one plain question get FORMERR or nothing, never a crash.
TEST(DemoDns, ShortAndMalformedQueries) {
  cli::DnsZone zone{{"shop.test", boost::asio::ip::make_address_v4("10.99.0.1")}};
  EXPECT_EQ(cli::dns_reply("", zone), "");
  EXPECT_EQ(cli::dns_reply(std::string(11, '\0'), zone), "");
  std::string header("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  std::string cut = header + "\x04shop";  // a label that runs past the end
  std::string reply = cli::dns_reply(cut, zone);
  ASSERT_EQ(reply.size(), 12u);
  EXPECT_EQ(reply.substr(0, 2), "\x12\x34");
  EXPECT_EQ(reply[3] & 0x0f, 1);  // FORMERR
}

}  // namespace
}  // namespace leeway::testing
