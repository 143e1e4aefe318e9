#include <gtest/gtest.h>

#include "probe/target.h"
#include "probe/types.h"

namespace leeway::probe {
namespace {

TEST(ParseTarget, Http) {
  auto spec = parse_target("https://example.com/health?x=1");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->kind, Kind::kHttp);
  EXPECT_EQ(spec->host, "example.com");
  EXPECT_EQ(spec->port, 443);
  EXPECT_EQ(spec->url, "https://example.com/health?x=1");
  EXPECT_EQ(spec->target, "https://example.com/health?x=1");

  spec = parse_target("http://127.0.0.1:8081/");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->port, 8081);
  EXPECT_EQ(spec->host, "127.0.0.1");
}

TEST(ParseTarget, Ipv6LiteralLosesItsBrackets) {
  auto spec = parse_target("http://[::1]:8080/");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->host, "::1");
  EXPECT_EQ(spec->port, 8080);
  spec = parse_target("tcp://[::1]:22");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->host, "::1");
}

TEST(ParseTarget, TcpNeedsAPort) {
  auto spec = parse_target("tcp://db.internal:5432");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->kind, Kind::kTcp);
  EXPECT_EQ(spec->port, 5432);
  EXPECT_EQ(parse_target("tcp://db.internal").error().message,
            "tcp target \"tcp://db.internal\" needs a port: tcp://host:port");
}

TEST(ParseTarget, DnsWithResolverTypeAndDefaults) {
  auto spec = parse_target("dns://127.0.0.1:5353/example.com?type=mx");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->kind, Kind::kDns);
  EXPECT_EQ(spec->host, "example.com");
  EXPECT_EQ(spec->dns.resolver, "127.0.0.1:5353");
  EXPECT_EQ(spec->dns.record_type, "MX");

  spec = parse_target("dns:///example.com");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->host, "example.com");
  EXPECT_EQ(spec->dns.resolver, "");
  EXPECT_EQ(spec->dns.record_type, "A");

  spec = parse_target("dns://[::1]/example.com?type=AAAA");
  ASSERT_TRUE(spec) << spec.error().message;
  EXPECT_EQ(spec->dns.resolver, "[::1]:53");

  EXPECT_EQ(parse_target("dns://127.0.0.1/x?type=SRV").error().message,
            "unsupported DNS record type \"SRV\": expected A, AAAA, CNAME, MX, TXT or NS");
}

TEST(ParseTarget, IcmpAndTls) {
  auto spec = parse_target("icmp://10.0.0.1");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->kind, Kind::kIcmp);
  EXPECT_EQ(spec->host, "10.0.0.1");
  spec = parse_target("tls://example.com");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->kind, Kind::kTls);
  EXPECT_EQ(spec->port, 443);
}

TEST(ParseTarget, BadInputNamesTheProblem) {
  EXPECT_EQ(parse_target("ftp://x").error().message,
            "unknown scheme \"ftp\" in \"ftp://x\": expected http, https, tcp, dns, icmp or tls");
  EXPECT_EQ(parse_target("example.com").error().message,
            "target \"example.com\" has no scheme: expected http://, https://, tcp://, dns://, "
            "icmp:// or tls://");
  EXPECT_EQ(parse_target("").error().message,
            "empty target: expected a URL such as https://example.com/");
  EXPECT_EQ(parse_target("http://host:99999/").error().message,
            "malformed URL \"http://host:99999/\": Port number was not a decimal number between 0 "
            "and 65535");
  EXPECT_FALSE(parse_target("http:// bad host/"));
  EXPECT_FALSE(parse_target("dns://127.0.0.1/"));
}

// Issue 12, item 7: the API showed the password of http://user:pass@host/ targets.
TEST(RedactCredentials, MasksPasswordsAndLoneUserNames) {
  EXPECT_EQ(redact_credentials("http://user:pass@host/"), "http://user:***@host/");
  EXPECT_EQ(redact_credentials("https://u:p%40ss@[::1]:8443/a@b?c=@#@"),
            "https://u:***@[::1]:8443/a@b?c=@#@");
  EXPECT_EQ(redact_credentials("https://ghp_TOKEN@example.com"), "https://***@example.com");
  EXPECT_EQ(redact_credentials("http://a:b@c:d@host/"), "http://a:***@host/");  // up to the last @
  EXPECT_EQ(redact_credentials("https://example.com/user@x"), "https://example.com/user@x");
  EXPECT_EQ(redact_credentials("tcp://db:5432"), "tcp://db:5432");
  EXPECT_EQ(redact_credentials("dns:///example.com?type=MX"), "dns:///example.com?type=MX");
  EXPECT_EQ(redact_credentials("no scheme"), "no scheme");
}

}  // namespace
}  // namespace leeway::probe
