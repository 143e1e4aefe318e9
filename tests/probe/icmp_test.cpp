// The icmp prober against the kernel's own echo replies on loopback, in this namespace and in
// network namespaces the tests create (to drop replies or disable the route) and delete.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "probe/probe.h"

namespace leeway::probe {
namespace {

using Steady = std::chrono::steady_clock;

// Whether this process may open an ICMP socket of the family at all (ping or raw).
bool can_open_icmp(int domain) {
  const int protocol = domain == AF_INET6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
  for (int type : {SOCK_DGRAM, SOCK_RAW}) {
    const int fd = ::socket(domain, type, protocol);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
  }
  return false;
}

bool has_ipv6_loopback() {
  const int fd = ::socket(AF_INET6, SOCK_DGRAM, 0);
  if (fd < 0) return false;
  sockaddr_in6 addr{};
  addr.sin6_family = AF_INET6;
  addr.sin6_addr = in6addr_loopback;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

#define REQUIRE_ICMP()                                                 \
  if (!can_open_icmp(AF_INET))                                         \
  GTEST_SKIP() << "cannot open an ICMP socket: neither a ping socket " \
                  "(net.ipv4.ping_group_range) nor a raw one (needs CAP_NET_RAW)"

CheckSpec icmp_spec(const std::string& host, int count, DurationUs interval_us,
                    DurationUs timeout_us) {
  CheckSpec spec;
  spec.kind = Kind::kIcmp;
  spec.target = "icmp://" + host;
  spec.host = host;
  spec.icmp.count = count;
  spec.icmp.interval_us = interval_us;
  spec.timeout_us = timeout_us;
  return spec;
}

// Runs every spec concurrently on one engine and returns the results in the specs' order.
// The shared ICMP socket keeps waiting for replies, so the loop is stopped once every result is
// in, as `leeway check` does.
std::vector<ProbeResult> run_all(const std::vector<CheckSpec>& specs) {
  boost::asio::io_context io;
  std::vector<ProbeResult> results(specs.size());
  {
    ProbeEngine engine(io, SystemClock::instance());
    std::size_t done = 0;
    for (std::size_t i = 0; i < specs.size(); ++i)
      engine.run(specs[i], [&, i](ProbeResult r) {
        results[i] = std::move(r);
        if (++done == specs.size()) io.stop();
      });
    io.run();
  }
  io.restart();
  io.run();  // lets the handlers the engine's destruction aborted finish
  return results;
}

TEST(IcmpProber, Ipv4LoopbackIsUpWithRtts) {
  REQUIRE_ICMP();
  auto results = run_all({icmp_spec("127.0.0.1", 3, 20 * kMillisecondUs, 2 * kSecondUs)});
  const ProbeResult& r = results[0];
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.stage, Stage::kNone);
  EXPECT_EQ(r.error, "");
  EXPECT_EQ(r.sent, 3);
  EXPECT_EQ(r.received, 3);
  EXPECT_EQ(r.remote_address, "127.0.0.1");
  EXPECT_GE(r.rtt_min_us, 0);
  EXPECT_LE(r.rtt_min_us, r.rtt_avg_us);
  EXPECT_LE(r.rtt_avg_us, r.rtt_max_us);
  EXPECT_LT(r.rtt_max_us, kSecondUs);
  EXPECT_GE(r.timings.dns_us, 0);
  // Three echoes 20ms apart, answered at once: done after about 40ms, not at the timeout.
  EXPECT_GE(r.timings.total_us, 40 * kMillisecondUs);
  EXPECT_LT(r.timings.total_us, kSecondUs);
}

TEST(IcmpProber, Ipv6LoopbackIsUp) {
  REQUIRE_ICMP();
  if (!has_ipv6_loopback() || !can_open_icmp(AF_INET6)) GTEST_SKIP() << "no IPv6 loopback (::1)";
  auto results = run_all({icmp_spec("::1", 3, 20 * kMillisecondUs, 2 * kSecondUs)});
  const ProbeResult& r = results[0];
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.sent, 3);
  EXPECT_EQ(r.received, 3);
  EXPECT_EQ(r.remote_address, "::1");
  EXPECT_GE(r.rtt_min_us, 0);
  EXPECT_LE(r.rtt_min_us, r.rtt_max_us);
}

TEST(IcmpProber, ManyConcurrentRunsGetTheirOwnReplies) {
  REQUIRE_ICMP();
  // 1,000 distinct loopback addresses, three echoes each, all in flight at once on one socket.
  std::vector<CheckSpec> specs;
  for (int i = 0; i < 1000; ++i) {
    const std::string host = "127.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    specs.push_back(icmp_spec(host, 3, 10 * kMillisecondUs, 10 * kSecondUs));
  }
  auto results = run_all(specs);
  int up = 0;
  for (std::size_t i = 0; i < specs.size(); ++i) {
    const ProbeResult& r = results[i];
    up += r.outcome == Outcome::kUp;
    EXPECT_EQ(r.outcome, Outcome::kUp) << specs[i].host << ": " << r.error;
    EXPECT_EQ(r.remote_address, specs[i].host);
    EXPECT_EQ(r.sent, 3) << specs[i].host;
    EXPECT_EQ(r.received, 3) << specs[i].host;
  }
  EXPECT_EQ(up, 1000);
}

// A network namespace of our own, deleted at the end; probes run on a thread that joins it, so
// nothing the tests do there touches the host's network.
class IcmpNetnsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!can_open_icmp(AF_INET)) GTEST_SKIP() << "cannot open an ICMP socket";
    static std::atomic<int> counter{0};
    name_ = "leeway-icmp-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    if (std::system(("ip netns add " + name_ + " 2>/dev/null").c_str()) != 0)
      GTEST_SKIP() << "cannot create a network namespace (needs CAP_SYS_ADMIN and iproute2)";
    created_ = true;
  }

  void TearDown() override {
    if (created_) std::system(("ip netns del " + name_).c_str());
  }

  void bring_loopback_up() {
    ASSERT_EQ(std::system(("ip -n " + name_ + " link set lo up").c_str()), 0);
  }

  // Adds nftables rules to the namespace's input hook. False when nft is missing or refused.
  bool filter_input(const std::string& rules) {
    const std::string script =
        "add table inet leeway_test\n"
        "add chain inet leeway_test input { type filter hook input priority 0; }\n" +
        rules;
    const std::string command =
        "printf '" + script + "' | ip netns exec " + name_ + " nft -f - 2>/dev/null";
    return std::system(command.c_str()) == 0;
  }

  // Drops every second echo request in the namespace (nftables' counter, not chance), so the
  // loss is exact however slowly the machine runs.
  bool drop_every_second_echo() {
    return filter_input(
        "add rule inet leeway_test input icmp type echo-request numgen inc mod 2 == 1 drop\n");
  }

  // Answers every echo request to 127.0.0.2 and ::1 with an ICMP error, as a router without a
  // route to the target does; 127.0.0.1 still answers.
  bool reject_echoes() {
    return filter_input(
        "add rule inet leeway_test input ip daddr 127.0.0.2 icmp type echo-request "
        "reject with icmp type host-unreachable\n"
        "add rule inet leeway_test input icmpv6 type echo-request "
        "reject with icmpv6 type addr-unreachable\n");
  }

  // Runs `body` on a thread inside the namespace; sockets it opens belong to the namespace.
  void inside(const std::function<void()>& body) {
    std::string error;
    std::thread thread([&] {
      const int fd = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
        error = "cannot join network namespace " + name_;
        if (fd >= 0) ::close(fd);
        return;
      }
      ::close(fd);
      body();
    });
    thread.join();
    ASSERT_EQ(error, "");
  }

  std::string name_;
  bool created_ = false;
};

// Sets a sysctl of the calling thread's network namespace.
bool write_sysctl(const std::string& name, const std::string& value) {
  std::ofstream file("/proc/sys/net/" + name);
  file << value;
  file.close();
  return file.good();
}

TEST_F(IcmpNetnsTest, AllRepliesLostIsDownAtTimeout) {
  bring_loopback_up();
  ProbeResult r;
  Steady::duration took{};
  inside([&] {
    ASSERT_TRUE(write_sysctl("ipv4/icmp_echo_ignore_all", "1"));
    const auto start = Steady::now();
    r = run_all({icmp_spec("127.0.0.1", 3, 50 * kMillisecondUs, 400 * kMillisecondUs)})[0];
    took = Steady::now() - start;
  });
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTimeout);
  EXPECT_EQ(r.error, "100% loss (0/3)");
  EXPECT_EQ(r.sent, 3);
  EXPECT_EQ(r.received, 0);
  EXPECT_EQ(r.rtt_min_us, -1);
  EXPECT_EQ(r.rtt_avg_us, -1);
  EXPECT_EQ(r.rtt_max_us, -1);
  EXPECT_EQ(r.remote_address, "127.0.0.1");
  // The timeout is respected: the run ends at 400ms, not before and not much after.
  EXPECT_GE(took, std::chrono::milliseconds(400));
  EXPECT_LT(took, std::chrono::milliseconds(400 + 400));
}

TEST_F(IcmpNetnsTest, AllRepliesLostOnIpv6IsDown) {
  bring_loopback_up();
  if (!can_open_icmp(AF_INET6)) GTEST_SKIP() << "cannot open an ICMPv6 socket";
  ProbeResult r;
  inside([&] {
    ASSERT_TRUE(write_sysctl("ipv6/icmp/echo_ignore_all", "1"));
    r = run_all({icmp_spec("::1", 2, 50 * kMillisecondUs, 300 * kMillisecondUs)})[0];
  });
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTimeout);
  EXPECT_EQ(r.error, "100% loss (0/2)");
}

TEST_F(IcmpNetnsTest, PartialLossIsDegraded) {
  bring_loopback_up();
  if (!drop_every_second_echo()) GTEST_SKIP() << "nftables (nft) is not available";
  ProbeResult r;
  inside([&] { r = run_all({icmp_spec("127.0.0.1", 4, 20 * kMillisecondUs, kSecondUs)})[0]; });
  EXPECT_EQ(r.outcome, Outcome::kDegraded);
  EXPECT_EQ(r.stage, Stage::kTimeout);
  EXPECT_EQ(r.error, "50% loss (2/4)");
  EXPECT_EQ(r.sent, 4);
  EXPECT_EQ(r.received, 2);
  EXPECT_GE(r.rtt_min_us, 0);
}

TEST_F(IcmpNetnsTest, LossWithinTheThresholdIsUp) {
  bring_loopback_up();
  if (!drop_every_second_echo()) GTEST_SKIP() << "nftables (nft) is not available";
  ProbeResult r;
  inside([&] {
    auto spec = icmp_spec("127.0.0.1", 4, 20 * kMillisecondUs, kSecondUs);
    spec.icmp.degraded_loss_percent = 50;
    r = run_all({spec})[0];
  });
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.received, 2);
}

TEST_F(IcmpNetnsTest, NoRouteIsDownAtSend) {
  // Loopback stays down, so the namespace has no route at all.
  ProbeResult r;
  inside([&] { r = run_all({icmp_spec("127.0.0.1", 3, 50 * kMillisecondUs, 10 * kSecondUs)})[0]; });
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kSend);
  EXPECT_EQ(r.error, "cannot send an echo request to 127.0.0.1: Network is unreachable");
  EXPECT_EQ(r.sent, 0);
}

// An ICMP error is the path saying the target cannot be reached: the run is down as unreachable
// as soon as every echo came back as one, not a black hole at its timeout, and a run to a target
// that answers beside it on the same socket stays up. Raw sockets (root's default) and ping
// sockets both read it.
TEST_F(IcmpNetnsTest, AnIcmpErrorIsUnreachableAtOnce) {
  bring_loopback_up();
  if (!reject_echoes()) GTEST_SKIP() << "nftables (nft) is not available";
  for (const bool ping_sockets : {false, true}) {
    SCOPED_TRACE(ping_sockets ? "ping sockets" : "raw sockets");
    std::vector<ProbeResult> results;
    Steady::duration took{};
    inside([&] {
      if (ping_sockets) {
        ASSERT_TRUE(write_sysctl("ipv4/ping_group_range", "0 2147483647"));
      }
      std::vector<CheckSpec> specs{icmp_spec("127.0.0.1", 3, 10 * kMillisecondUs, 10 * kSecondUs),
                                   icmp_spec("127.0.0.2", 3, 10 * kMillisecondUs, 10 * kSecondUs)};
      if (has_ipv6_loopback())
        specs.push_back(icmp_spec("::1", 3, 10 * kMillisecondUs, 10 * kSecondUs));
      const auto start = Steady::now();
      results = run_all(specs);
      took = Steady::now() - start;
    });
    ASSERT_GE(results.size(), 2u);
    EXPECT_EQ(results[0].outcome, Outcome::kUp) << results[0].error;
    EXPECT_EQ(results[0].received, 3);
    EXPECT_EQ(results[1].error, "100% loss (0/3), host unreachable (ICMP from 127.0.0.2)");
    if (results.size() > 2) {
      EXPECT_EQ(results[2].error, "100% loss (0/3), address unreachable (ICMPv6 from ::1)");
    }
    for (std::size_t i = 1; i < results.size(); ++i) {
      const ProbeResult& r = results[i];
      EXPECT_EQ(r.outcome, Outcome::kDown);
      EXPECT_EQ(r.stage, Stage::kSend);
      EXPECT_EQ(r.cause, Cause::kUnreachable);
      EXPECT_EQ(r.sent, 3);
      EXPECT_EQ(r.received, 0);
    }
    EXPECT_LT(took, std::chrono::seconds(5));  // the 10 s timeout did not decide it
  }
}

TEST_F(IcmpNetnsTest, WorksWithPingSockets) {
  // Lets every group open unprivileged ping sockets in the namespace, so the prober picks them.
  bring_loopback_up();
  std::vector<ProbeResult> results;
  bool ping_sockets_used = false;
  inside([&] {
    ASSERT_TRUE(write_sysctl("ipv4/ping_group_range", "0 2147483647"));
    boost::asio::io_context io;
    {
      ProbeEngine engine(io, SystemClock::instance());
      std::vector<CheckSpec> specs{icmp_spec("127.0.0.1", 3, 10 * kMillisecondUs, 10 * kSecondUs)};
      if (has_ipv6_loopback())
        specs.push_back(icmp_spec("::1", 3, 10 * kMillisecondUs, 10 * kSecondUs));
      results.resize(specs.size());
      std::size_t done = 0;
      for (std::size_t i = 0; i < specs.size(); ++i)
        engine.run(specs[i], [&, i](ProbeResult r) {
          results[i] = std::move(r);
          if (++done < results.size()) return;
          // The prober's sockets are still open: ping sockets are listed in the namespace's
          // /proc/net/icmp, raw ones are not.
          std::ifstream table("/proc/thread-self/net/icmp");
          std::string header, line;
          std::getline(table, header);
          ping_sockets_used = static_cast<bool>(std::getline(table, line));
          io.stop();
        });
      io.run();
    }
    io.restart();
    io.run();
  });
  EXPECT_TRUE(ping_sockets_used);
  for (const ProbeResult& r : results) {
    EXPECT_EQ(r.outcome, Outcome::kUp) << r.remote_address << ": " << r.error;
    EXPECT_EQ(r.received, 3) << r.remote_address;
  }
}

}  // namespace
}  // namespace leeway::probe
