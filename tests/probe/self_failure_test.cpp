// A run that fails because of leeway itself is `unknown`, never the target being down: out of
// file descriptors (a real RLIMIT_NOFILE, real loopback servers), or an event loop held up past
// the timeout. Each case also shows the same check judged normally once leeway is well again.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "probe/probe.h"
#include "support/http_server.h"
#include "support/peers.h"

namespace leeway::probe {
namespace {

// An engine made before any descriptor runs out, as the daemon's is: its loop needs one too.
struct Prober {
  boost::asio::io_context io;
  ProbeEngine engine{io, SystemClock::instance()};

  ProbeResult run(const std::string& target, DurationUs timeout_us = 2 * kSecondUs,
                  std::function<void(boost::asio::io_context&)> before = {}) {
    auto spec = parse_target(target);
    EXPECT_TRUE(spec) << spec.error().message;
    spec->timeout_us = timeout_us;
    std::optional<ProbeResult> result;
    engine.run(*spec, [&](ProbeResult r) { result = std::move(r); });
    if (before) before(io);
    while (!result && io.run_one()) {
    }
    return result.value_or(ProbeResult{});
  }
};

// Takes every free file descriptor until destroyed, as 1,100 idle connections would.
class FdExhaustion {
 public:
  FdExhaustion() {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlimit low = saved_;
    low.rlim_cur = 256;
    ::setrlimit(RLIMIT_NOFILE, &low);
    top_up();
  }
  // Takes the descriptors freed since (a run closes its sockets, curl its pooled connections).
  void top_up() {
    for (int fd; (fd = ::dup(STDERR_FILENO)) >= 0;) held_.push_back(fd);
  }
  ~FdExhaustion() {
    for (int fd : held_) ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }

 private:
  rlimit saved_{};
  std::vector<int> held_;
};

TEST(SelfFailure, NoFileDescriptorsLeftIsUnknownNotDown) {
  testing::HttpServer server;
  // A server first reached while descriptors are out: curl keeps the healthy run's connection to
  // `server` in its pool, and a run that reuses it needs no new socket (and is rightly up).
  testing::HttpServer unvisited;
  Prober p;
  const std::string http = server.url("/ok");
  const std::string tcp = "tcp://127.0.0.1:" + std::to_string(server.port());
  // Healthy before, and again after.
  EXPECT_EQ(p.run(http).outcome, Outcome::kUp);
  EXPECT_EQ(p.run(tcp).outcome, Outcome::kUp);
  {
    FdExhaustion exhausted;
    const std::string fresh_http = unvisited.url("/ok");
    const std::string fresh_tcp = "tcp://127.0.0.1:" + std::to_string(unvisited.port());
    for (const auto& target : {fresh_http, fresh_tcp}) {
      // A descriptor that a server thread of this process closes between top_up() and the run
      // (an idle connection from the healthy runs) lets the run open its socket after all, and
      // rightly be up: then the run is tried again, with that one taken too.
      ProbeResult r;
      for (int attempt = 0; attempt < 5 && r.outcome != Outcome::kUnknown; ++attempt) {
        exhausted.top_up();
        r = p.run(target);
      }
      EXPECT_EQ(r.outcome, Outcome::kUnknown) << target << ": " << r.error;
      EXPECT_NE(r.error.find("leeway cannot open sockets (Too many open files)"), std::string::npos)
          << r.error;
    }
  }
  EXPECT_EQ(p.run(http).outcome, Outcome::kUp);
  EXPECT_EQ(p.run(tcp).outcome, Outcome::kUp);
}

TEST(SelfFailure, ALoopHeldPastTheTimeoutIsUnknownNotDown) {
  testing::SilentPeer silent;  // accepts and never answers: the run can only time out
  const std::string target = "http://127.0.0.1:" + std::to_string(silent.port()) + "/";
  // Something else on the loop holds it for a second against a 100 ms timeout.
  Prober p;
  ProbeResult late = p.run(target, 100 * kMillisecondUs, [](boost::asio::io_context& io) {
    boost::asio::post(io, [] { std::this_thread::sleep_for(std::chrono::seconds(1)); });
  });
  EXPECT_EQ(late.outcome, Outcome::kUnknown) << late.error;
  EXPECT_NE(late.error.find("event loop was late"), std::string::npos) << late.error;
  // Without the hold, the same silent target is down on time.
  ProbeResult on_time = p.run(target, 100 * kMillisecondUs);
  EXPECT_EQ(on_time.outcome, Outcome::kDown) << on_time.error;
}

}  // namespace
}  // namespace leeway::probe
