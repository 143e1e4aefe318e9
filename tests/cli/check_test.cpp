// `leeway check` as a user runs it: the real binary, real loopback peers, exit codes and output.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include "support/dns_server.h"
#include "support/peers.h"
#include "support/process.h"

namespace leeway::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

ProcessResult leeway(std::vector<std::string> args) {
  args.insert(args.begin(), LEEWAY_BINARY);
  return run_process(args);
}

TEST(CheckCommand, BadInputExitsThreeWithOneLineNamingTheProblem) {
  struct Case {
    std::vector<std::string> args;
    std::string err;
  } cases[] = {
      {{"check", "ftp://x"},
       "leeway check: unknown scheme \"ftp\" in \"ftp://x\": expected http, https, tcp, dns, icmp "
       "or tls\n"},
      {{"check", "http://127.0.0.1:1/", "--send", "x"},
       "leeway check: --send applies to tcp checks, not http\n"},
      {{"check", "http://127.0.0.1:1/", "--timeout", "90x"},
       "leeway check: --timeout: expected a duration like 30s, 250ms or 1m30s, got \"90x\"\n"},
      {{"check", "tcp://127.0.0.1"},
       "leeway check: tcp target \"tcp://127.0.0.1\" needs a port: tcp://host:port\n"},
  };
  for (const auto& c : cases) {
    ProcessResult r = leeway(c.args);
    EXPECT_EQ(r.exit_code, 3) << c.args[1];
    EXPECT_EQ(r.err, c.err);
    EXPECT_EQ(r.out, "");
  }
  ProcessResult r = leeway({"check", "--no-such-flag", "tcp://127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("--no-such-flag"));
}

// Valued options take one value each, so the target after them stays the target whatever
// follows it.
TEST(CheckCommand, ValuedOptionsBeforeTheTarget) {
  BannerPeer peer("220 ready\r\n");
  std::string target = "tcp://127.0.0.1:" + std::to_string(peer.port());
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"check", "-t", "3s", target, "--json"},
           {"check", "--expect", "220", "--timeout", "3s", target, "--json"},
           {"check", "-t", "3s", target, "--expect", "220", "--json"},
       }) {
    ProcessResult r = leeway(args);
    EXPECT_EQ(r.exit_code, 0) << args[2] << ": " << r.out << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["target"], target);
  }
  // A repeatable option is given again for each value.
  ProcessResult r = leeway({"check", "-H", "X-A: 1", "-H", "X-B: 2",
                            "http://127.0.0.1:" + std::to_string(closed_port()) + "/", "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
}

TEST(Leeway, UnknownCommandIsAnErrorNamingIt) {
  ProcessResult r = leeway({"anything", "--help"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "leeway: unknown command \"anything\"; see leeway --help\n");

  r = leeway({"config", "nope", "--help"});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "leeway config: unknown command \"nope\"; see leeway config --help\n");

  r = leeway({"check", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_THAT(r.out, HasSubstr("--follow-redirects"));
}

TEST(CheckCommand, UpExitsZeroWithVerdictAndWaterfall) {
  BannerPeer peer("220 ready\r\n");
  ProcessResult r =
      leeway({"check", "tcp://127.0.0.1:" + std::to_string(peer.port()), "--expect", "220"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("UP "));
  EXPECT_THAT(r.out, HasSubstr("connect"));
  EXPECT_THAT(r.out, HasSubstr("total"));
}

TEST(CheckCommand, JsonHasTheDocumentedFields) {
  BannerPeer peer("220 ready\r\n");
  ProcessResult r = leeway({"check", "tcp://127.0.0.1:" + std::to_string(peer.port()), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["outcome"], "up");
  EXPECT_TRUE(j["stage"].is_null());
  EXPECT_TRUE(j["timings_us"]["connect"].is_number());
  EXPECT_TRUE(j["timings_us"]["total"].is_number());
  EXPECT_EQ(j["kind"], "tcp");
  EXPECT_EQ(j["error"], "");
  EXPECT_EQ(j["remote_address"], "127.0.0.1");
}

TEST(CheckCommand, DownExitsTwoAndNamesTheStage) {
  std::uint16_t port = closed_port();
  ProcessResult r = leeway({"check", "tcp://127.0.0.1:" + std::to_string(port), "--json"});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["outcome"], "down");
  EXPECT_EQ(j["stage"], "connect");
  EXPECT_EQ(j["cause"], "refused");
  EXPECT_NE(j["error"], "");
  ProcessResult human = leeway({"check", "tcp://127.0.0.1:" + std::to_string(port)});
  EXPECT_THAT(human.out, HasSubstr("at connect: refused: connect to 127.0.0.1:"));
}

TEST(CheckCommand, DegradedExitsOne) {
  BannerPeer peer("220 ready\r\n");
  ProcessResult r = leeway(
      {"check", "tcp://127.0.0.1:" + std::to_string(peer.port()), "--degraded-after", "1us"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_THAT(r.out, StartsWith("DEGRADED "));
  EXPECT_THAT(r.out, HasSubstr("slower than 1us"));
}

TEST(CheckCommand, NagiosFormatWithPerformanceData) {
  BannerPeer peer("220 ready\r\n");
  std::string target = "tcp://127.0.0.1:" + std::to_string(peer.port());
  ProcessResult up = leeway({"check", target, "--nagios", "--timeout", "5s"});
  EXPECT_EQ(up.exit_code, 0);
  EXPECT_THAT(up.out, StartsWith("LEEWAY TCP OK - " + target + " in "));
  EXPECT_THAT(up.out, HasSubstr(" | time="));
  EXPECT_THAT(up.out, HasSubstr(";;5.000000;0 connect="));

  std::string closed = "tcp://127.0.0.1:" + std::to_string(closed_port());
  ProcessResult down = leeway({"check", closed, "--nagios"});
  EXPECT_EQ(down.exit_code, 2);
  EXPECT_THAT(down.out, StartsWith("LEEWAY TCP CRITICAL - " + closed + " connect: "));
}

// A DNS answer cannot write to the terminal (escape sequences, a forged "UP" line) nor break
// --json with bytes that are not UTF-8.
TEST(CheckCommand, HostileDnsAnswersAreEscapedAndJsonStaysValid) {
  DnsServer dns;
  dns.add("evil.test", "TXT", "\x1b[2J\r\nUP forged\x1b]0;title\x07");
  dns.add("bytes.test", "TXT", "\xfe\xff");
  std::string evil = "dns://" + dns.address() + "/evil.test?type=TXT";
  ProcessResult human = leeway({"check", evil});
  EXPECT_EQ(human.exit_code, 0) << human.out << human.err;
  EXPECT_THAT(human.out, HasSubstr("answer \\x1b[2J\\x0d\\x0aUP forged\\x1b]0;title\\x07"));
  EXPECT_EQ(human.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(human.out.find('\r'), std::string::npos);

  ProcessResult nagios = leeway({"check", evil, "--nagios"});
  EXPECT_EQ(std::count(nagios.out.begin(), nagios.out.end(), '\n'), 1) << nagios.out;

  ProcessResult json =
      leeway({"check", "dns://" + dns.address() + "/bytes.test?type=TXT", "--json"});
  EXPECT_EQ(json.exit_code, 0) << json.out << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_EQ(j["answer"], "\xef\xbf\xbd\xef\xbf\xbd");
}

TEST(CheckCommand, IcmpToLoopbackReportsRepliesAndRoundTrips) {
  ProcessResult r =
      leeway({"check", "icmp://127.0.0.1", "--count", "3", "--echo-interval", "20ms", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["outcome"], "up");
  EXPECT_EQ(j["icmp"]["sent"], 3);
  EXPECT_EQ(j["icmp"]["received"], 3);
  EXPECT_GE(j["icmp"]["rtt_min_us"].get<long>(), 0);
  EXPECT_LE(j["icmp"]["rtt_min_us"].get<long>(), j["icmp"]["rtt_max_us"].get<long>());
}

}  // namespace
}  // namespace leeway::testing
