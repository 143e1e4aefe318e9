// The agent protocol: a check crosses the wire and comes back the same, every option of
// probe::check_options() included; results likewise, decoded from a batch's text; bad input
// names its field (and a result's index), whatever its type, nesting or repetition.
#include <gtest/gtest.h>

#include <tuple>

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

// A batch of these results, as an agent sends it.
json batch_of(const json& results) {
  return {{"batch", "seoul-kt:1:0"},
          {"location", "seoul-kt"},
          {"sent_us", 1'767'225'600'000'000},
          {"results", results}};
}

// What the decoder says of a batch body: the error, or the first bad result, or "ok".
std::string verdict(const std::string& body) {
  auto batch = batch_from_json(body, "seoul-kt");
  if (!batch) return batch.error().message;
  return batch->bad_result.value_or("ok");
}

// The same for one result in a batch.
std::string verdict_of(const json& result) {
  return verdict(batch_of(json::array({result})).dump());
}

json good_result() {
  return {{"check", "web/home"}, {"started_us", 5}, {"total_us", 1}, {"outcome", "down"}};
}

json with(json j, const std::string& key, const json& value) {
  j[key] = value;
  return j;
}

json without(json j, const std::string& key) {
  j.erase(key);
  return j;
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
  r.error = "body: \"ok\" not found \u00e9\\\n";
  r.dns_us = 1;
  r.connect_us = 2;
  r.tls_us = 0;
  r.first_byte_us = 4;
  store::StoredResult bare;
  bare.check = "web/home";
  bare.location = "seoul-kt";
  bare.started_us = 5;
  json body = batch_of({result_to_json(r), result_to_json(bare)});
  body["dropped_total"] = 7;
  auto back = batch_from_json(body.dump(), "seoul-kt");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->id, "seoul-kt:1:0");
  EXPECT_EQ(back->location, "seoul-kt");
  EXPECT_EQ(back->sent_us, 1'767'225'600'000'000);
  EXPECT_EQ(back->dropped_total, 7);
  EXPECT_FALSE(back->bad_result);
  EXPECT_EQ(back->results, (std::vector{r, bare}));
  // Keys in any order, unknown keys (of any shape) ignored, -1 timings as "not reached".
  auto reordered = batch_from_json(
      R"({"results": [{"future": {"a": [1, {"b": null}]}, "dns_us": -1, "outcome": "up",
           "total_us": 0, "started_us": 5, "check": "web/home"}],
          "extra": [[]], "sent_us": 1, "batch": "b", "location": "seoul-kt"})",
      "seoul-kt");
  ASSERT_TRUE(reordered) << reordered.error().message;
  ASSERT_EQ(reordered->results.size(), 1u);
  EXPECT_EQ(reordered->results[0].outcome, probe::Outcome::kUp);
  EXPECT_EQ(reordered->results[0].dns_us, -1);
  EXPECT_EQ(reordered->results[0].location, "seoul-kt");
}

TEST(WireTest, ABatchWithAFaultOfItsOwnNamesTheField) {
  const json ok = batch_of(json::array());
  EXPECT_EQ(verdict(ok.dump()), "ok");
  const std::string shape =
      "body: expected a JSON object with batch, location, sent_us and results";
  for (const char* body : {"", "{", "[]", "5", "\"x\"", "{\"batch\": }", "{} {}", "{\"a\" 1}"})
    EXPECT_EQ(verdict(body), shape) << body;
  // Nothing may follow the object, not even after a NUL byte (nlohmann's parser, before
  // simdjson, stopped reading there); a UTF-8 byte order mark may come before it.
  EXPECT_EQ(verdict(ok.dump() + std::string(1, '\0') + "{\"batch\": 5}"), shape);
  EXPECT_EQ(verdict("\xEF\xBB\xBF" + ok.dump()), "ok");
  EXPECT_EQ(verdict("\xEF\xBB" + ok.dump()), shape);
  // Text that is not UTF-8, or a bad escape, even in a key or value that would be ignored.
  EXPECT_EQ(verdict(R"({"batch": "b", "location": "seoul-kt", "sent_us": 1, "results": [],
                        "note": "caf)"
                    "\xE9\"}"),
            shape);
  EXPECT_EQ(verdict(R"({"batch": "b", "location": "seoul-kt", "sent_us": 1, "results": [],
                        "n\x": 1})"),
            shape);
  EXPECT_EQ(verdict(R"({"batch": "b", "location": "seoul-kt", "sent_us": 1, "results": [],
                        "note": [tru]})"),
            shape);
  EXPECT_EQ(verdict(without(ok, "location").dump()), "location: expected the location's id");
  EXPECT_EQ(verdict(with(ok, "location", json::array({"seoul-kt"})).dump()),
            "location: expected the location's id");
  // Another location's batch comes back as such, however bad the rest.
  auto other =
      batch_from_json(R"({"location": "busan-skb", "batch": "", "results": [5]})", "seoul-kt");
  ASSERT_TRUE(other) << other.error().message;
  EXPECT_EQ(other->location, "busan-skb");
  EXPECT_TRUE(other->results.empty());
  EXPECT_FALSE(other->bad_result);
  const std::string id = "batch: expected the batch's id (1 to 200 characters)";
  EXPECT_EQ(verdict(with(ok, "batch", "").dump()), id);
  EXPECT_EQ(verdict(with(ok, "batch", std::string(201, 'b')).dump()), id);
  EXPECT_EQ(verdict(with(ok, "batch", 5).dump()), id);
  EXPECT_EQ(verdict(with(ok, "batch", std::string(200, 'b')).dump()), "ok");
  const std::string sent =
      "sent_us: expected the agent's clock when it sent the batch, in microseconds since the "
      "epoch";
  EXPECT_EQ(verdict(without(ok, "sent_us").dump()), sent);
  EXPECT_EQ(verdict(with(ok, "sent_us", 1.5).dump()), sent);
  EXPECT_EQ(verdict(with(ok, "sent_us", "now").dump()), sent);
  EXPECT_EQ(verdict(with(ok, "dropped_total", -1).dump()),
            "dropped_total: expected a whole number");
  EXPECT_EQ(verdict(with(ok, "results", json::object()).dump()),
            "results: expected a list of results");
  EXPECT_EQ(verdict(without(ok, "results").dump()), "results: expected a list of results");
  // Given twice: neither copy is taken.
  EXPECT_EQ(verdict(R"({"batch": "a", "location": "seoul-kt", "sent_us": 1, "batch": "b",
                        "results": []})"),
            "batch: given twice");
  // The top level is checked before any result, in a fixed order whatever the keys' order.
  EXPECT_EQ(verdict(R"({"results": [5], "sent_us": "x", "batch": ""})"),
            "location: expected the location's id");
}

TEST(WireTest, EachBadResultIsNamedByIndexAndField) {
  EXPECT_EQ(verdict_of(good_result()), "ok");
  EXPECT_EQ(verdict_of(with(good_result(), "started_us", "soon")),
            "results[0].started_us: expected a time in whole microseconds since the epoch");
  EXPECT_EQ(verdict_of(with(good_result(), "cause", "gremlins")),
            "results[0].cause: expected refused, unreachable, reset, timeout, nxdomain, servfail "
            "or tls");
  // Missing fields.
  EXPECT_EQ(verdict_of(without(good_result(), "check")), "results[0].check: expected a check id");
  EXPECT_EQ(verdict_of(without(good_result(), "started_us")),
            "results[0].started_us: expected a time in whole microseconds since the epoch");
  EXPECT_EQ(verdict_of(without(good_result(), "total_us")),
            "results[0].total_us: expected a whole number of microseconds");
  EXPECT_EQ(verdict_of(without(good_result(), "outcome")),
            "results[0].outcome: expected up, degraded, down or unknown");
  // Wrong types and values.
  const std::vector<std::tuple<std::string, json, std::string>> wrong = {
      {"check", "", "expected a check id"},
      {"check", 5, "expected a check id"},
      {"started_us", 0, "expected a time in whole microseconds since the epoch"},
      {"started_us", 5.0, "expected a time in whole microseconds since the epoch"},
      {"started_us", true, "expected a time in whole microseconds since the epoch"},
      {"total_us", -1, "expected a whole number of microseconds"},
      {"total_us", nullptr, "expected a whole number of microseconds"},
      {"outcome", "sideways", "expected up, degraded, down or unknown"},
      {"outcome", 2, "expected up, degraded, down or unknown"},
      {"stage", nullptr, "expected dns, connect, tls, send, status, body or timeout"},
      {"stage", "lunch", "expected dns, connect, tls, send, status, body or timeout"},
      {"http_status", 1000, "expected an HTTP status code"},
      {"http_status", -1, "expected an HTTP status code"},
      {"http_status", "200", "expected an HTTP status code"},
      {"error", 5, "expected text"},
      {"dns_us", -2, "expected a whole number of microseconds"},
      {"connect_us", "1ms", "expected a whole number of microseconds"},
      {"tls_us", 0.5, "expected a whole number of microseconds"},
      {"first_byte_us", json::object(), "expected a whole number of microseconds"},
      {"check", json::array({"web/home"}), "expected a check id"},
  };
  for (const auto& [key, value, message] : wrong)
    EXPECT_EQ(verdict_of(with(good_result(), key, value)), "results[0]." + key + ": " + message)
        << key << " = " << value.dump();
  // Numbers beyond int64 (one just past it, one past uint64 too) are refused, never wrapped.
  for (const char* huge : {"9223372036854775808", "18446744073709551615", "99999999999999999999999",
                           "-9223372036854775809"}) {
    EXPECT_EQ(verdict(std::string(R"({"batch": "b", "location": "seoul-kt", "sent_us": 1,
                                      "results": [{"check": "a", "outcome": "up",
                                      "total_us": 1, "started_us": )") +
                      huge + "}]}"),
              "results[0].started_us: expected a time in whole microseconds since the epoch")
        << huge;
  }
  EXPECT_EQ(verdict_of(with(good_result(), "started_us", 9223372036854775807)), "ok");
  // Past a double's range the JSON itself is refused.
  EXPECT_EQ(verdict(R"({"batch": "b", "location": "seoul-kt", "sent_us": 1e400, "results": []})"),
            "body: expected a JSON object with batch, location, sent_us and results");
  // Given twice, even with the same value.
  EXPECT_EQ(verdict(R"({"batch": "b", "location": "seoul-kt", "sent_us": 1, "results": [
      {"check": "a", "started_us": 1, "total_us": 1, "outcome": "up", "outcome": "up"}]})"),
            "results[0].outcome: given twice");
  // In a fixed order, whatever the keys' order: check before outcome.
  EXPECT_EQ(verdict(R"({"batch": "b", "location": "seoul-kt", "sent_us": 1, "results": [
      {"outcome": "sideways", "check": ""}]})"),
            "results[0].check: expected a check id");
  // The first bad result is named; the good ones before it are kept, none after.
  auto batch = batch_from_json(
      batch_of({good_result(), good_result(), 5, without(good_result(), "check")}).dump(),
      "seoul-kt");
  ASSERT_TRUE(batch) << batch.error().message;
  EXPECT_EQ(batch->results.size(), 2u);
  EXPECT_EQ(batch->bad_result, "results[2]: expected an object");
  batch = batch_from_json(batch_of({good_result(), without(good_result(), "check"), 5}).dump(),
                          "seoul-kt");
  ASSERT_TRUE(batch);
  EXPECT_EQ(batch->results.size(), 1u);
  EXPECT_EQ(batch->bad_result, "results[1].check: expected a check id");
}

TEST(WireTest, DeepNestingIsSkippedWithoutRecursion) {
  // 100,000 levels: a recursive decoder would overflow the stack long before.
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  const std::string head = R"({"batch": "b", "location": "seoul-kt", "sent_us": 1, "results": [)";
  const std::string result = R"({"check": "a", "started_us": 1, "total_us": 1, "outcome": "up")";
  EXPECT_EQ(verdict(head + result + R"(, "later": )" + deep + "}]}"), "ok");
  EXPECT_EQ(verdict(head + result + R"(, "error": )" + deep + "}]}"),
            "results[0].error: expected text");
  EXPECT_EQ(verdict(head + deep + "]}"), "results[0]: expected an object");
  EXPECT_EQ(verdict(R"({"batch": "b", "location": "seoul-kt", "sent_us": 1, "x": )" + deep +
                    R"(, "results": []})"),
            "ok");
  // Unbalanced: a malformed body, not a crash.
  EXPECT_EQ(verdict(head + std::string(100'000, '[')),
            "body: expected a JSON object with batch, location, sent_us and results");
}

}  // namespace
}  // namespace leeway::agent
