#include "probe/options.h"

#include <gtest/gtest.h>

#include <set>

namespace leeway::probe {
namespace {

CheckSpec spec_for(const char* target) {
  auto spec = parse_target(target);
  EXPECT_TRUE(spec) << spec.error().message;
  return *spec;
}

Status apply(CheckSpec& spec, const char* key, const char* value) {
  const CheckOption* option = find_check_option(key);
  EXPECT_NE(option, nullptr) << key;
  return apply_option(spec, *option, value);
}

TEST(CheckOptions, KeysAreUniqueSnakeCaseAndDocumented) {
  std::set<std::string_view> keys;
  for (const auto& option : check_options()) {
    EXPECT_TRUE(keys.insert(option.key).second) << option.key;
    EXPECT_EQ(option.key.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos);
    EXPECT_FALSE(option.help.empty()) << option.key;
    EXPECT_FALSE(option.kinds.empty()) << option.key;
  }
}

TEST(CheckOptions, ApplyHttpOptions) {
  CheckSpec spec = spec_for("https://example.com/");
  ASSERT_TRUE(apply(spec, "timeout", "2500ms"));
  ASSERT_TRUE(apply(spec, "degraded_after", "1s"));
  ASSERT_TRUE(apply(spec, "method", "POST"));
  ASSERT_TRUE(apply(spec, "header", "X-Token:  abc"));
  ASSERT_TRUE(apply(spec, "expect_status", "200,301-302"));
  ASSERT_TRUE(apply(spec, "expect_status", "404"));
  ASSERT_TRUE(apply(spec, "follow_redirects", "false"));
  ASSERT_TRUE(apply(spec, "ip", "6"));
  EXPECT_EQ(spec.timeout_us, 2'500'000);
  EXPECT_EQ(spec.degraded_after_us, 1'000'000);
  EXPECT_EQ(spec.http.method, "POST");
  ASSERT_EQ(spec.http.headers.size(), 1u);
  EXPECT_EQ(spec.http.headers[0].first, "X-Token");
  EXPECT_EQ(spec.http.headers[0].second, "abc");
  EXPECT_EQ(spec.http.expect_status,
            (std::vector<StatusRange>{{200, 200}, {301, 302}, {404, 404}}));
  EXPECT_EQ(spec.http.follow_redirects, Redirects::kNone);
  EXPECT_EQ(spec.family, IpFamily::kV6);

  for (auto [text, value] :
       {std::pair{"same-host", Redirects::kSameHost}, std::pair{"any", Redirects::kAny},
        std::pair{"none", Redirects::kNone}, std::pair{"true", Redirects::kSameHost}}) {
    ASSERT_TRUE(apply(spec, "follow_redirects", text));
    EXPECT_EQ(spec.http.follow_redirects, value) << text;
  }
}

TEST(CheckOptions, ApplyOtherKinds) {
  CheckSpec icmp = spec_for("icmp://127.0.0.1");
  ASSERT_TRUE(apply(icmp, "count", "5"));
  ASSERT_TRUE(apply(icmp, "degraded_loss", "20%"));
  EXPECT_EQ(icmp.icmp.count, 5);
  EXPECT_DOUBLE_EQ(icmp.icmp.degraded_loss_percent, 20);

  CheckSpec dns = spec_for("dns:///example.com");
  ASSERT_TRUE(apply(dns, "record_type", "txt"));
  EXPECT_EQ(dns.dns.record_type, "TXT");

  CheckSpec tls = spec_for("tls://example.com");
  ASSERT_TRUE(apply(tls, "expiry_days", "30"));
  ASSERT_TRUE(apply(tls, "ca_file", "/tmp/ca.pem"));
  EXPECT_EQ(tls.tls.expiry_degraded_days, 30);
  EXPECT_EQ(tls.tls.ca_file, "/tmp/ca.pem");
}

TEST(CheckOptions, ErrorsNameTheOptionAndTheProblem) {
  CheckSpec spec = spec_for("https://example.com/");
  struct Case {
    const char* key;
    const char* value;
    const char* message;
  } cases[] = {
      {"timeout", "90x", "timeout: expected a duration like 30s, 250ms or 1m30s, got \"90x\""},
      {"timeout", "0s", "timeout: expected a duration above zero, got \"0s\""},
      {"expect_status", "2xx",
       "expect_status: expected status codes like 200 or 200-299,301, got \"2xx\""},
      {"expect_status", "300-200",
       "expect_status: expected status codes like 200 or 200-299,301, got \"300-200\""},
      {"method", "get",
       "method: expected an HTTP method in capitals like GET or POST, got \"get\""},
      {"header", "NoColon", "header: expected a header like \"Name: value\", got \"NoColon\""},
      {"json_pointer", "status",
       "json_pointer: expected a JSON Pointer starting with / like /status, got \"status\""},
      {"follow_redirects", "maybe",
       "follow_redirects: expected same-host, any or none, got \"maybe\""},
      {"ip", "5", "ip: expected 4, 6 or any, got \"5\""},
      {"send", "hello", "send: applies to tcp checks, not http"},
      {"count", "3", "count: applies to icmp checks, not http"},
  };
  for (const auto& c : cases) {
    Status s = apply(spec, c.key, c.value);
    ASSERT_FALSE(s) << c.key << "=" << c.value;
    EXPECT_EQ(s.error().message, c.message);
  }
  Status regex = apply(spec, "body_regex", "(");
  ASSERT_FALSE(regex);
  EXPECT_EQ(regex.error().message,
            "body_regex: expected a regular expression (RE2 syntax), got \"(\": missing ): (");
  // RE2 has no backreferences: refused when the check is read, not when it runs.
  EXPECT_EQ(apply(spec, "body_regex", "(a)\\1").error().message,
            "body_regex: expected a regular expression (RE2 syntax), got \"(a)\\1\": invalid "
            "escape sequence: \\1");

  CheckSpec icmp = spec_for("icmp://127.0.0.1");
  EXPECT_EQ(apply(icmp, "count", "0").error().message,
            "count: expected a whole number from 1 to 100, got \"0\"");
  EXPECT_EQ(apply(icmp, "degraded_loss", "100%").error().message,
            "degraded_loss: expected a percentage from 0 to below 100 like 20%, got \"100%\"");
}

}  // namespace
}  // namespace leeway::probe
