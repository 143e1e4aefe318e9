// `leeway demo-target --dns`: the name server the test bed gives its service, asked by the real
// binary's dns checks over loopback.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
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

// Runs `leeway check --json` until the name server answers (it starts in the background).
nlohmann::json check_until_answered(const std::string& target) {
  ProcessResult r;
  for (int attempt = 0; attempt < 50; ++attempt) {
    r = leeway({"check", target, "--timeout", "1s", "--json"});
    auto json = nlohmann::json::parse(r.out, nullptr, false);
    if (!json.is_discarded() && json.value("error", "").find("timed out") == std::string::npos)
      return json;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << "no answer from " << target << ": " << r.out << r.err;
  return {};
}

TEST(DemoTarget, AnswersItsNamesAndNxdomainForOthers) {
  auto dir = fresh_test_dir("leeway-demo-target");
  std::string web = "127.0.0.1:" + std::to_string(closed_port());
  std::string dns = "127.0.0.1:" + std::to_string(closed_port());
  ChildProcess target({LEEWAY_BINARY, "demo-target", "--listen", web, "--dns", dns, "--record",
                       "Shop.Test.=10.99.0.1"},
                      (dir / "demo.log").string());
  auto found = check_until_answered("dns://" + dns + "/shop.test?type=A");
  EXPECT_EQ(found.value("outcome", ""), "up") << found.dump();
  EXPECT_THAT(found.dump(), HasSubstr("10.99.0.1"));
  auto missing = check_until_answered("dns://" + dns + "/other.test?type=A");
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
