// The agent protocol: a check crosses the wire and comes back the same, every option of
// probe::check_options() included; results likewise; bad input names its field.
#include <gtest/gtest.h>

#include "agent/wire.h"
#include "probe/options.h"

namespace leeway::agent {
namespace {

using nlohmann::json;

probe::CheckSpec spec(const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& options) {
  auto s = probe::parse_target(target);
  EXPECT_TRUE(s) << target;
  for (const auto& [key, value] : options) {
    Status applied = probe::apply_option(*s, *probe::find_check_option(key), value);
    EXPECT_TRUE(applied) << key << ": " << applied.error().message;
  }
  return *s;
}

void expect_round_trip(const probe::CheckSpec& original) {
  AgentCheck check{"svc/" + original.target, 30 * kSecondUs, original};
  // Through text, as it travels.
  auto back = check_from_json(json::parse(check_to_json(check).dump()));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, check) << check_to_json(check).dump();
}

TEST(WireTest, EveryCheckOptionCrossesTheWireUnchanged) {
  expect_round_trip(spec("https://shop.example:8443/health?x=1", {{"timeout", "2500ms"},
                                                                  {"degraded_after", "1s500ms"},
                                                                  {"ip", "6"},
                                                                  {"method", "POST"},
                                                                  {"header", "X-One: 1"},
                                                                  {"header", "X-Two:  two words"},
                                                                  {"body", "{\"a\": 1}"},
                                                                  {"expect_status", "200"},
                                                                  {"expect_status", "301-302"},
                                                                  {"body_contains", "ok"},
                                                                  {"body_regex", "^o+k$"},
                                                                  {"json_pointer", "/status"},
                                                                  {"json_equals", ""},
                                                                  {"follow_redirects", "none"},
                                                                  {"insecure", "true"},
                                                                  {"ca_file", "/etc/ca.pem"}}));
  expect_round_trip(spec("http://h/", {{"follow_redirects", "any"}, {"ip", "4"}}));
  expect_round_trip(spec("tcp://db.example:5432", {{"send", "PING\r\n"}, {"expect", "PONG"}}));
  expect_round_trip(
      spec("dns://1.1.1.1:53/example.com?type=MX", {{"expect_answer", "mx.example"}}));
  expect_round_trip(spec("dns:///example.com", {{"record_type", "txt"}}));
  expect_round_trip(
      spec("icmp://10.0.0.1",
           {{"count", "7"}, {"echo_interval", "350ms"}, {"degraded_loss", "12.345%"}}));
  expect_round_trip(spec("tls://mail.example:465",
                         {{"expiry_days", "30"}, {"ca_file", "ca.pem"}, {"server_name", "mx"}}));
  // Defaults only.
  expect_round_trip(spec("https://plain.example/", {}));
}

TEST(WireTest, EveryOptionHasAWayBack) {
  for (const auto& option : probe::check_options()) EXPECT_NE(option.format, nullptr) << option.key;
}

TEST(WireTest, BadChecksNameTheirField) {
  EXPECT_EQ(check_from_json(json{{"id", "a"}, {"interval_us", 0}, {"target", "tcp://h:1"}})
                .error()
                .message,
            "interval_us: expected a whole number of microseconds above zero");
  EXPECT_EQ(check_from_json(json{{"id", "a"}, {"interval_us", 1}, {"target", "ftp://h"}})
                .error()
                .message.substr(0, 8),
            "target: ");
  EXPECT_EQ(check_from_json(json{{"id", "a"},
                                 {"interval_us", 1},
                                 {"target", "tcp://h:1"},
                                 {"options", {{"timeout", {"0s"}}}}})
                .error()
                .message,
            "options.timeout: expected a duration above zero, got \"0s\"");
  EXPECT_EQ(check_list_from_json(json{{"checks", {json{{"id", "a"}}}}}).error().message,
            "checks[0].interval_us: expected a whole number of microseconds above zero");
}

TEST(WireTest, ResultsCrossTheWireUnchanged) {
  store::StoredResult r;
  r.check = "web/home";
  r.location = "seoul-kt";
  r.started_us = 1'767'225'600'123'456;
  r.total_us = 2'000'001;
  r.outcome = probe::Outcome::kDegraded;
  r.stage = probe::Stage::kBody;
  r.cause = probe::Cause::kReset;
  r.http_status = 200;
  r.error = "body: \"ok\" not found";
  r.dns_us = 1;
  r.connect_us = 2;
  r.tls_us = 0;
  r.first_byte_us = 4;
  auto back = result_from_json(json::parse(result_to_json(r).dump()), "seoul-kt");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, r);
  store::StoredResult bare;
  bare.check = "web/home";
  bare.location = "x";
  bare.started_us = 5;
  back = result_from_json(result_to_json(bare), "x");
  ASSERT_TRUE(back);
  EXPECT_EQ(*back, bare);
  EXPECT_EQ(result_from_json(json{{"check", "a"}, {"started_us", "soon"}}, "x").error().message,
            "started_us: expected a time in whole microseconds since the epoch");
  EXPECT_EQ(result_from_json(json{{"check", "a"},
                                  {"started_us", 5},
                                  {"total_us", 1},
                                  {"outcome", "down"},
                                  {"cause", "gremlins"}},
                             "x")
                .error()
                .message,
            "cause: expected refused, unreachable, reset, timeout, nxdomain, servfail or tls");
}

}  // namespace
}  // namespace leeway::agent
