// The c-ares resolver against /etc/hosts and a real DNS responder on loopback.
#include "probe/resolver.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <optional>

#include "support/dns_server.h"

namespace leeway::probe {
namespace {

using boost::asio::ip::address;
using testing::DnsServer;
using Addresses = Result<std::vector<address>>;

// Runs `io` until `done` is set or `limit` passes; returns how long it ran.
template <typename T>
std::chrono::milliseconds run_until(boost::asio::io_context& io, const std::optional<T>& done,
                                    std::chrono::milliseconds limit = std::chrono::seconds(5)) {
  auto start = std::chrono::steady_clock::now();
  io.restart();
  while (!done && std::chrono::steady_clock::now() - start < limit)
    io.run_for(std::chrono::milliseconds(5));
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

std::vector<std::string> texts(const std::vector<address>& addresses) {
  std::vector<std::string> out;
  for (const auto& a : addresses) out.push_back(a.to_string());
  std::sort(out.begin(), out.end());
  return out;
}

class ResolverTest : public ::testing::Test {
 protected:
  ResolverTest() : resolver(io, dns.address()) {}

  Addresses resolve(const std::string& host, IpFamily family,
                    DurationUs timeout_us = 2 * kSecondUs) {
    std::optional<Addresses> result;
    resolver.resolve(host, family, timeout_us, [&](Addresses r) { result = std::move(r); });
    EXPECT_FALSE(result) << "the callback must not run inside resolve()";
    run_until(io, result);
    return result ? std::move(*result) : Addresses(fail("no callback"));
  }

  Result<DnsAnswer> query(const std::string& name, const std::string& type,
                          DurationUs timeout_us = 2 * kSecondUs) {
    std::optional<Result<DnsAnswer>> result;
    resolver.query(name, type, timeout_us, [&](Result<DnsAnswer> r) { result = std::move(r); });
    EXPECT_FALSE(result) << "the callback must not run inside query()";
    run_until(io, result);
    return result ? std::move(*result) : Result<DnsAnswer>(fail("no callback"));
  }

  boost::asio::io_context io;
  DnsServer dns;
  Resolver resolver;
};

TEST(SystemResolver, LocalhostComesFromEtcHosts) {
  boost::asio::io_context io;
  Resolver resolver(io);
  std::optional<Addresses> result;
  resolver.resolve("localhost", IpFamily::kV4, 2 * kSecondUs,
                   [&](Addresses r) { result = std::move(r); });
  EXPECT_FALSE(result);
  run_until(io, result);
  ASSERT_TRUE(result && *result) << (result ? result->error().message : "no callback");
  EXPECT_EQ(texts(**result), std::vector<std::string>{"127.0.0.1"});
}

TEST_F(ResolverTest, AddressLiteralsResolveToThemselvesWithoutAQuery) {
  auto v4 = resolve("127.0.0.1", IpFamily::kAny);
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(texts(*v4), std::vector<std::string>{"127.0.0.1"});
  auto v6 = resolve("::1", IpFamily::kV6);
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(texts(*v6), std::vector<std::string>{"::1"});
  EXPECT_EQ(dns.queries(), 0);
}

TEST_F(ResolverTest, LiteralOfTheWrongFamilyIsAnError) {
  auto r = resolve("::1", IpFamily::kV4);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "address ::1 is not IPv4");
}

TEST_F(ResolverTest, FiltersByFamily) {
  dns.add("dual.test", "A", "192.0.2.10");
  dns.add("dual.test", "AAAA", "2001:db8::10");
  auto any = resolve("dual.test", IpFamily::kAny);
  ASSERT_TRUE(any) << any.error().message;
  EXPECT_EQ(texts(*any), (std::vector<std::string>{"192.0.2.10", "2001:db8::10"}));
  auto v4 = resolve("dual.test", IpFamily::kV4);
  ASSERT_TRUE(v4) << v4.error().message;
  EXPECT_EQ(texts(*v4), std::vector<std::string>{"192.0.2.10"});
  auto v6 = resolve("dual.test", IpFamily::kV6);
  ASSERT_TRUE(v6) << v6.error().message;
  EXPECT_EQ(texts(*v6), std::vector<std::string>{"2001:db8::10"});
}

TEST_F(ResolverTest, UnknownNameFails) {
  auto r = resolve("nothere.invalid", IpFamily::kV4);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("cannot resolve \"nothere.invalid\""), std::string::npos)
      << r.error().message;
}

TEST_F(ResolverTest, ResolveTimesOutWhenTheServerIsSilent) {
  dns.set_default(DnsServer::Mode::kSilent);
  auto start = std::chrono::steady_clock::now();
  auto r = resolve("slow.test", IpFamily::kV4, 300 * kMillisecondUs);
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "no DNS answer for \"slow.test\" within 300ms");
  EXPECT_GE(took, std::chrono::milliseconds(295));
  EXPECT_LT(took, std::chrono::milliseconds(600));
  EXPECT_GE(dns.queries(), 1);
}

TEST_F(ResolverTest, QueryReturnsEachRecordTypeAsText) {
  dns.add("example.test", "A", "192.0.2.1");
  dns.add("example.test", "A", "192.0.2.2");
  dns.add("example.test", "AAAA", "2001:db8::1");
  dns.add("example.test", "MX", "10 mx1.example.test");
  dns.add("example.test", "TXT", "v=spf1 -all");
  dns.add("example.test", "NS", "ns1.example.test");
  dns.add("www.example.test", "CNAME", "example.test");

  auto a = query("example.test", "A");
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(a->rcode, "NOERROR");
  EXPECT_EQ(a->records, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
  auto aaaa = query("example.test", "AAAA");
  ASSERT_TRUE(aaaa) << aaaa.error().message;
  EXPECT_EQ(aaaa->records, std::vector<std::string>{"2001:db8::1"});
  auto mx = query("example.test", "MX");
  ASSERT_TRUE(mx) << mx.error().message;
  EXPECT_EQ(mx->records, std::vector<std::string>{"10 mx1.example.test"});
  auto txt = query("example.test", "TXT");
  ASSERT_TRUE(txt) << txt.error().message;
  EXPECT_EQ(txt->records, std::vector<std::string>{"v=spf1 -all"});
  auto ns = query("example.test", "NS");
  ASSERT_TRUE(ns) << ns.error().message;
  EXPECT_EQ(ns->records, std::vector<std::string>{"ns1.example.test"});
  auto cname = query("www.example.test", "CNAME");
  ASSERT_TRUE(cname) << cname.error().message;
  EXPECT_EQ(cname->records, std::vector<std::string>{"example.test"});
  auto via_cname = query("www.example.test", "A");
  ASSERT_TRUE(via_cname) << via_cname.error().message;
  EXPECT_EQ(via_cname->records, (std::vector<std::string>{"192.0.2.1", "192.0.2.2"}));
}

TEST_F(ResolverTest, LongTxtRecordsAreJoined) {
  std::string text(300, 'x');
  dns.add("long.test", "TXT", text);
  auto txt = query("long.test", "TXT");
  ASSERT_TRUE(txt) << txt.error().message;
  EXPECT_EQ(txt->records, std::vector<std::string>{text});
}

TEST_F(ResolverTest, QueryReportsTheRcode) {
  dns.set_mode("gone.test", DnsServer::Mode::kNxdomain);
  dns.set_mode("broken.test", DnsServer::Mode::kServfail);
  dns.add("empty.test", "A", "192.0.2.1");
  auto nx = query("gone.test", "A");
  ASSERT_TRUE(nx) << nx.error().message;
  EXPECT_EQ(nx->rcode, "NXDOMAIN");
  EXPECT_TRUE(nx->records.empty());
  auto servfail = query("broken.test", "A");
  ASSERT_TRUE(servfail) << servfail.error().message;
  EXPECT_EQ(servfail->rcode, "SERVFAIL");
  auto empty = query("empty.test", "MX");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(empty->rcode, "NOERROR");
  EXPECT_TRUE(empty->records.empty());
}

TEST_F(ResolverTest, QueryRejectsUnsupportedTypes) {
  auto r = query("example.test", "SRV");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "unsupported DNS record type \"SRV\": expected A, AAAA, CNAME, MX, TXT or NS");
  EXPECT_EQ(dns.queries(), 0);
}

TEST_F(ResolverTest, QueryTimesOutWhenTheServerIsSilent) {
  dns.set_mode("slow.test", DnsServer::Mode::kSilent);
  auto r = query("slow.test", "A", 200 * kMillisecondUs);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "no DNS answer for \"slow.test\" within 200ms");
}

TEST_F(ResolverTest, ManyQueriesAtOnce) {
  constexpr int kCount = 50;
  for (int i = 0; i < kCount; ++i) dns.add("h" + std::to_string(i) + ".test", "A", "192.0.2.7");
  int answered = 0;
  for (int i = 0; i < kCount; ++i)
    resolver.query("h" + std::to_string(i) + ".test", "A", 2 * kSecondUs, [&](Result<DnsAnswer> r) {
      EXPECT_TRUE(r && r->records.size() == 1);
      ++answered;
    });
  io.restart();
  auto start = std::chrono::steady_clock::now();
  while (answered < kCount && std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
    io.run_for(std::chrono::milliseconds(5));
  EXPECT_EQ(answered, kCount);
}

TEST(ResolverLifetime, DestroyingWithQueriesInFlightIsSafe) {
  boost::asio::io_context io;
  DnsServer dns;
  dns.set_default(DnsServer::Mode::kSilent);
  bool called = false;
  {
    Resolver resolver(io, dns.address());
    resolver.query("a.test", "A", kSecondUs, [&](Result<DnsAnswer>) { called = true; });
    resolver.resolve("b.test", IpFamily::kAny, kSecondUs, [&](Addresses) { called = true; });
    io.run_for(std::chrono::milliseconds(50));
    // Posted but not yet run when the resolver goes: dropped too.
    resolver.resolve("127.0.0.1", IpFamily::kAny, kSecondUs, [&](Addresses) { called = true; });
  }
  io.restart();
  io.run_for(std::chrono::milliseconds(1200));
  EXPECT_FALSE(called);
}

TEST(ResolverLifetime, DestroyingInsideACallbackIsSafe) {
  boost::asio::io_context io;
  DnsServer dns;
  dns.add("a.test", "A", "192.0.2.1");
  auto resolver = std::make_unique<Resolver>(io, dns.address());
  std::optional<bool> done;
  resolver->query("a.test", "A", kSecondUs, [&](Result<DnsAnswer> r) {
    EXPECT_TRUE(r);
    resolver.reset();
    done = true;
  });
  run_until(io, done);
  EXPECT_TRUE(done);
}

TEST(ResolverConfig, BadServerListFailsEveryCall) {
  boost::asio::io_context io;
  Resolver resolver(io, "not an address");
  std::optional<Result<DnsAnswer>> result;
  resolver.query("a.test", "A", kSecondUs, [&](Result<DnsAnswer> r) { result = std::move(r); });
  run_until(io, result);
  ASSERT_TRUE(result);
  ASSERT_FALSE(*result);
  EXPECT_NE(result->error().message.find("bad DNS server list \"not an address\""),
            std::string::npos)
      << result->error().message;
}

}  // namespace
}  // namespace leeway::probe
