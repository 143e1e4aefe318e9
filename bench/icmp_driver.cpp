// Load driver for bench/icmp.sh: sustains RATE echo requests per second for DURATION seconds,
// spread round-robin over the 4,094 loopback addresses 127.0.0.1 .. 127.0.15.254, one echo per
// run through ProbeEngine, and prints what it measured: sent, received, loss, rate, CPU, rtts.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <vector>

#include "bench/common.h"
#include "probe/probe.h"

int main(int argc, char** argv) {
  int rate = 10000;
  double duration_s = 60;
  CLI::App app{"leeway ICMP load driver (loopback 127.0.0.0/20 only)"};
  app.add_option("--rate", rate, "echo requests per second")->check(CLI::Range(1, 1'000'000));
  app.add_option("--duration", duration_s, "seconds")->check(CLI::Range(1.0, 3600.0));
  CLI11_PARSE(app, argc, argv);

  // 127.0.0.0/20 without its network and broadcast addresses: 4,094 targets.
  std::vector<leeway::probe::CheckSpec> specs;
  for (int i = 1; i < 4095; ++i) {
    auto spec = leeway::probe::parse_target(fmt::format("icmp://127.0.{}.{}", i / 256, i % 256));
    spec->icmp.count = 1;
    spec->timeout_us = leeway::kSecondUs;
    specs.push_back(*spec);
  }

  boost::asio::io_context io;
  leeway::probe::ProbeEngine engine(io, leeway::SystemClock::instance());
  boost::asio::steady_timer tick(io);
  constexpr auto kTick = std::chrono::milliseconds(5);
  const auto t0 = std::chrono::steady_clock::now();
  const auto end = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                            std::chrono::duration<double>(duration_s));
  long sent = 0, received = 0, launched = 0, finished = 0;
  std::vector<leeway::DurationUs> rtts;
  rtts.reserve(static_cast<std::size_t>(rate * duration_s));
  std::size_t next = 0;
  std::function<void()> on_tick = [&] {
    auto now = std::chrono::steady_clock::now();
    // Launch what the rate owes by now, so a late tick catches up instead of losing echoes.
    long owed =
        static_cast<long>(std::chrono::duration<double>(std::min(now, end) - t0).count() * rate);
    for (; launched < owed; ++launched) {
      engine.run(specs[next], [&](leeway::probe::ProbeResult r) {
        sent += r.sent;
        received += r.received;
        if (r.received > 0) rtts.push_back(r.rtt_avg_us);
        if (++finished == launched && std::chrono::steady_clock::now() >= end) io.stop();
      });
      next = (next + 1) % specs.size();
    }
    if (now < end) {
      tick.expires_after(kTick);
      tick.async_wait([&](boost::system::error_code) { on_tick(); });
    }
  };
  double cpu0 = leeway::bench::cpu_seconds();
  on_tick();
  io.run();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = leeway::bench::cpu_seconds() - cpu0;
  std::sort(rtts.begin(), rtts.end());
  auto pct = [&](double p) {
    return rtts.empty() ? 0.0 : rtts[static_cast<std::size_t>(p * (rtts.size() - 1))] / 1e3;
  };
  fmt::print(
      "sent={} received={} loss_pct={:.3f} rate_per_s={:.0f} wall_s={:.2f} cpu_s={:.2f} "
      "p50_ms={:.3f} p99_ms={:.3f}\n",
      sent, received, sent ? 100.0 * (sent - received) / sent : 0.0, sent / duration_s, wall, cpu,
      pct(0.5), pct(0.99));
  return 0;
}
