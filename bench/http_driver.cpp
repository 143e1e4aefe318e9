// Load driver for bench/http.sh: runs N HTTP checks through ProbeEngine with C in flight, and
// prints what it measured: checks, successes, wall and CPU seconds, latency percentiles.
// Used both to measure leeway's own probing and to drive blackbox_exporter's /probe endpoint.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <chrono>
#include <vector>

#include "bench/common.h"
#include "probe/options.h"
#include "probe/probe.h"

int main(int argc, char** argv) {
  std::string url;
  std::string body_contains;
  std::string ca_file;
  int count = 10000;
  int concurrency = 10;
  CLI::App app{"leeway HTTP probe load driver (loopback only)"};
  app.add_option("--url", url, "what to probe")->required();
  app.add_option("--count", count, "checks to run")->check(CLI::PositiveNumber);
  app.add_option("--concurrency", concurrency, "checks in flight")->check(CLI::PositiveNumber);
  app.add_option("--body-contains", body_contains, "a success also needs this text in the body");
  app.add_option("--ca-file", ca_file, "https: trust this PEM bundle instead of the system store");
  CLI11_PARSE(app, argc, argv);

  auto spec = leeway::probe::parse_target(url);
  if (!spec) {
    fmt::print(stderr, "http_driver: {}\n", spec.error().message);
    return 3;
  }
  spec->timeout_us = 10 * leeway::kSecondUs;
  spec->http.body_contains = body_contains;
  spec->http.ca_file = ca_file;

  boost::asio::io_context io;
  leeway::probe::ProbeEngine engine(io, leeway::SystemClock::instance());
  std::vector<leeway::DurationUs> latencies;
  latencies.reserve(count);
  int started = 0;
  int ok = 0;
  std::string first_error;
  std::function<void()> launch = [&] {
    ++started;
    engine.run(*spec, [&](leeway::probe::ProbeResult r) {
      latencies.push_back(r.timings.total_us);
      if (r.outcome == leeway::probe::Outcome::kUp)
        ++ok;
      else if (first_error.empty())
        first_error = fmt::format("{}: {}", to_string(r.stage), r.error);
      if (started < count) boost::asio::post(io, launch);
      if (static_cast<int>(latencies.size()) == count) io.stop();  // probers may keep idle watches
    });
  };
  double cpu0 = leeway::bench::cpu_seconds();
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < std::min(concurrency, count); ++i) launch();
  io.run();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpu = leeway::bench::cpu_seconds() - cpu0;
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty()
               ? 0.0
               : latencies[static_cast<std::size_t>(p * (latencies.size() - 1))] / 1e3;
  };
  fmt::print("checks={} ok={} wall_s={:.3f} cpu_s={:.3f} p50_ms={:.3f} p99_ms={:.3f}\n",
             latencies.size(), ok, wall, cpu, pct(0.5), pct(0.99));
  if (!first_error.empty()) fmt::print(stderr, "first failure: {}\n", first_error);
  return 0;
}
