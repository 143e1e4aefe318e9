// The cause a failed run records (probe::Cause), against real peers: a closed loopback port
// (refused), a peer that resets, a listener whose accept queue is full and that never accepts
// (its SYNs are dropped: a black hole, timeout), a DNS responder answering NXDOMAIN, SERVFAIL or
// nothing, and, in a network namespace of the test's own with no route, an address that cannot
// be reached (unreachable). Nothing leaves the machine.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "probe/probe.h"
#include "probe/resolver.h"
#include "support/dns_server.h"
#include "support/peers.h"

namespace leeway::probe {
namespace {

using namespace leeway::testing;

CheckSpec spec_for(const std::string& target, DurationUs timeout_us = 2 * kSecondUs) {
  auto spec = parse_target(target);
  EXPECT_TRUE(spec) << target << ": " << spec.error().message;
  if (!spec) return CheckSpec{};
  spec->timeout_us = timeout_us;
  return *spec;
}

// Runs one probe on a loop of its own, on the calling thread (and so in its network namespace).
ProbeResult run(const CheckSpec& spec) {
  boost::asio::io_context io;
  ProbeEngine engine(io, SystemClock::instance());
  std::optional<ProbeResult> result;
  engine.run(spec, [&](ProbeResult r) { result = std::move(r); });
  auto start = std::chrono::steady_clock::now();
  while (!result && std::chrono::steady_clock::now() - start < std::chrono::seconds(10))
    io.run_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(result) << "no result for " << spec.target;
  return result.value_or(ProbeResult{});
}

std::string loopback(std::uint16_t port) {
  return "127.0.0.1:" + std::to_string(port);
}

// A TCP listener on loopback that never accepts, with its accept queue filled by connections
// of its own: the kernel drops every further SYN, so a connect to it waits until it times out.
class FullListener {
 public:
  FullListener() {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    EXPECT_EQ(::bind(listener_, reinterpret_cast<sockaddr*>(&addr), len), 0);
    EXPECT_EQ(::listen(listener_, 0), 0);
    EXPECT_EQ(::getsockname(listener_, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    port_ = ntohs(addr.sin_port);
    // A backlog of 0 holds one connection; the second waits in the SYN queue. Both fill it.
    for (int i = 0; i < 2; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), len);
      fillers_.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ~FullListener() {
    for (int fd : fillers_) ::close(fd);
    ::close(listener_);
  }
  std::uint16_t port() const { return port_; }

 private:
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::vector<int> fillers_;
};

TEST(Cause, AClosedPortIsRefusedForEveryConnectingKind) {
  const auto port = closed_port();
  for (const std::string scheme : {"http://", "tcp://", "tls://"}) {
    ProbeResult r = run(spec_for(scheme + loopback(port) + (scheme == "http://" ? "/" : "")));
    EXPECT_EQ(r.outcome, Outcome::kDown) << scheme;
    EXPECT_EQ(r.stage, Stage::kConnect) << scheme << r.error;
    EXPECT_EQ(r.cause, Cause::kRefused) << scheme << r.error;
  }
}

TEST(Cause, APeerThatResetsIsReset) {
  ResetPeer peer(ResetPeer::When::kAfterFirstRead);
  ProbeResult http = run(spec_for("http://" + loopback(peer.port()) + "/"));
  EXPECT_EQ(http.cause, Cause::kReset) << http.error;
  auto tcp = spec_for("tcp://" + loopback(peer.port()));
  tcp.tcp.send = "hello\n";
  tcp.tcp.expect = "hi";
  ProbeResult r = run(tcp);
  EXPECT_EQ(r.cause, Cause::kReset) << r.error;
}

TEST(Cause, AListenerThatNeverAcceptsIsATimeout) {
  FullListener hole;
  for (const std::string scheme : {"http://", "tcp://", "tls://"}) {
    ProbeResult r = run(spec_for(scheme + loopback(hole.port()) + (scheme == "http://" ? "/" : ""),
                                 500 * kMillisecondUs));
    EXPECT_EQ(r.stage, Stage::kTimeout) << scheme << r.error;
    EXPECT_EQ(r.cause, Cause::kTimeout) << scheme << r.error;
  }
}

TEST(Cause, ATimeoutAfterConnectingHasNoCause) {
  SilentPeer peer;  // the target was reached: it is slow, the path is fine
  ProbeResult r = run(spec_for("http://" + loopback(peer.port()) + "/", 300 * kMillisecondUs));
  EXPECT_EQ(r.stage, Stage::kTimeout) << r.error;
  EXPECT_EQ(r.cause, Cause::kNone) << r.error;
}

TEST(Cause, AFailedHandshakeIsTls) {
  BannerPeer peer("SSH-2.0-not-tls\r\n", /*close_after_banner=*/true);
  ProbeResult r = run(spec_for("tls://" + loopback(peer.port())));
  EXPECT_EQ(r.stage, Stage::kTls) << r.error;
  EXPECT_EQ(r.cause, Cause::kTls) << r.error;
}

TEST(Cause, DnsAnswersNxdomainServfailOrNothing) {
  DnsServer dns;
  dns.set_mode("gone.test", DnsServer::Mode::kNxdomain);
  dns.set_mode("broken.test", DnsServer::Mode::kServfail);
  dns.set_mode("silent.test", DnsServer::Mode::kSilent);
  struct Case {
    std::string name;
    Cause cause;
  };
  for (const Case& c : {Case{"gone.test", Cause::kNxdomain}, Case{"broken.test", Cause::kServfail},
                        Case{"silent.test", Cause::kTimeout}}) {
    ProbeResult r =
        run(spec_for("dns://" + dns.address() + "/" + c.name + "?type=A", 500 * kMillisecondUs));
    EXPECT_EQ(r.outcome, Outcome::kDown) << c.name;
    EXPECT_EQ(r.cause, c.cause) << c.name << ": " << r.error;

    // The address lookup of the other kinds says the same (through Resolver, which they use).
    boost::asio::io_context io;
    Resolver resolver(io, dns.address());
    std::optional<Lookup<std::vector<boost::asio::ip::address>>> lookup;
    resolver.resolve(c.name, IpFamily::kV4, 500 * kMillisecondUs,
                     [&](Lookup<std::vector<boost::asio::ip::address>> l) { lookup = l; });
    auto start = std::chrono::steady_clock::now();
    while (!lookup && std::chrono::steady_clock::now() - start < std::chrono::seconds(5))
      io.run_for(std::chrono::milliseconds(5));
    ASSERT_TRUE(lookup) << c.name;
    EXPECT_FALSE(lookup->has_value()) << c.name;
    EXPECT_EQ(lookup->cause, c.cause) << c.name << ": " << lookup->error().message;
  }
}

TEST(Cause, ADnsServerThatRefusesIsRefused) {
  const auto port = closed_port();  // ICMP port unreachable from loopback: the host answered
  ProbeResult r =
      run(spec_for("dns://127.0.0.1:" + std::to_string(port) + "/a.test?type=A", kSecondUs));
  EXPECT_EQ(r.cause, Cause::kRefused) << r.error;
}

// In a network namespace with no route (made for this thread only: sockets belong to the
// namespace of the thread that opens them), any address but loopback is unreachable.
TEST(Cause, NoRouteIsUnreachable) {
  std::optional<ProbeResult> http, tcp, icmp;
  bool isolated = false;
  std::thread([&] {
    if (::unshare(CLONE_NEWNET) != 0) return;  // needs CAP_SYS_ADMIN (root, as in CI)
    isolated = true;
    // 192.0.2.1 (TEST-NET-1): no route here, and in this namespace nothing could reach it.
    http = run(spec_for("http://192.0.2.1:80/"));
    tcp = run(spec_for("tcp://192.0.2.1:80"));
    icmp = run(spec_for("icmp://192.0.2.1"));
  }).join();
  if (!isolated) GTEST_SKIP() << "cannot make a network namespace: " << std::strerror(errno);
  ASSERT_TRUE(http && tcp && icmp);
  EXPECT_EQ(http->stage, Stage::kConnect) << http->error;
  EXPECT_EQ(http->cause, Cause::kUnreachable) << http->error;
  EXPECT_EQ(tcp->stage, Stage::kConnect) << tcp->error;
  EXPECT_EQ(tcp->cause, Cause::kUnreachable) << tcp->error;
  EXPECT_EQ(icmp->cause, Cause::kUnreachable) << icmp->error;
}

TEST(Cause, NamesRoundTrip) {
  for (Cause c : {Cause::kRefused, Cause::kUnreachable, Cause::kReset, Cause::kTimeout,
                  Cause::kNxdomain, Cause::kServfail, Cause::kTls}) {
    EXPECT_EQ(cause_from_string(to_string(c)), c);
  }
  EXPECT_EQ(to_string(Cause::kNone), "");
  EXPECT_EQ(cause_from_string("nope"), std::nullopt);
  EXPECT_EQ(cause_from_errno(ECONNREFUSED), Cause::kRefused);
  EXPECT_EQ(cause_from_errno(EHOSTUNREACH), Cause::kUnreachable);
  EXPECT_EQ(cause_from_errno(EACCES), Cause::kNone);
}

}  // namespace
}  // namespace leeway::probe
