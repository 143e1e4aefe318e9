// The dns prober: one query of the check's record type, up when the server answers (with the
// expected record, when one is set). Resolvers for custom servers are made once and kept.
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/steady_timer.hpp>

#include "probe/dns_format.h"
#include "probe/probers.h"

namespace leeway::probe {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

struct Run {
  Run(asio::io_context& io, ProbeCallback done) : deadline(io), done(std::move(done)) {}
  asio::steady_timer deadline;
  ProbeCallback done;
  bool finished = false;

  void finish(ProbeResult result) {
    if (finished) return;
    finished = true;
    deadline.cancel();
    done(std::move(result));
  }
};

class DnsProber final : public Prober {
 public:
  explicit DnsProber(ProbeContext& ctx) : ctx_(ctx) {}

  void start(const CheckSpec& spec, ProbeCallback done) override {
    auto run = std::make_shared<Run>(ctx_.io, std::move(done));
    run->deadline.expires_after(std::chrono::microseconds(spec.timeout_us));
    run->deadline.async_wait([run, spec](boost::system::error_code ec) {
      if (ec) return;
      ProbeResult result;
      result.stage = Stage::kTimeout;
      result.cause = Cause::kTimeout;
      result.error = "no answer to " + spec.dns.record_type + " " + spec.host + " within " +
                     format_duration(spec.timeout_us) +
                     (spec.dns.resolver.empty() ? "" : " from " + spec.dns.resolver);
      run->finish(std::move(result));
    });
    auto started = Clock::now();
    resolver_for(spec.dns.resolver)
        .query(spec.host, spec.dns.record_type, spec.timeout_us + kResolverGraceUs,
               [run, spec, started](Lookup<DnsAnswer> answer) {
                 if (run->finished) return;
                 ProbeResult result;
                 result.timings.dns_us =
                     std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started)
                         .count();
                 if (!answer) {
                   result.stage = Stage::kDns;
                   result.cause = answer.cause;
                   result.error = answer.error().message;
                 } else {
                   auto timings = result.timings;
                   result = judge_dns_answer(spec, *answer);
                   result.timings = timings;
                 }
                 if (!spec.dns.resolver.empty()) result.remote_address = spec.dns.resolver;
                 run->finish(std::move(result));
               });
  }

 private:
  // The context's system resolver for "", else one Resolver per server list, kept for reuse.
  Resolver& resolver_for(const std::string& servers) {
    if (servers.empty()) return ctx_.resolver;
    auto& resolver = resolvers_[servers];
    if (!resolver) resolver = std::make_unique<Resolver>(ctx_.io, servers);
    return *resolver;
  }

  ProbeContext& ctx_;
  std::map<std::string, std::unique_ptr<Resolver>> resolvers_;
};

}  // namespace

std::unique_ptr<Prober> make_dns_prober(ProbeContext& ctx) {
  return std::make_unique<DnsProber>(ctx);
}

}  // namespace leeway::probe
