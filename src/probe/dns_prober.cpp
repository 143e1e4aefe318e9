// The dns prober: one query of the check's record type, up when the server answers (with the
// expected record, when one is set). Resolvers for custom servers are made once and kept.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/steady_timer.hpp>

#include "probe/probers.h"

namespace leeway::probe {

namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

// Lower case, no trailing dot: how DNS names (and, harmlessly, other answers) are compared.
std::string comparable(std::string text) {
  if (!text.empty() && text.back() == '.') text.pop_back();
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string joined(const std::vector<std::string>& records) {
  std::string out;
  for (const auto& record : records) {
    if (!out.empty()) out += ", ";
    out += record;
  }
  return out;
}

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

ProbeResult judge(const CheckSpec& spec, const DnsAnswer& answer) {
  ProbeResult result;
  result.answer = joined(answer.records);
  std::string what = spec.dns.record_type + " " + spec.host;
  if (answer.rcode != "NOERROR") {
    result.stage = Stage::kDns;
    result.error = what + ": " + answer.rcode;
    return result;
  }
  if (answer.records.empty()) {
    result.stage = Stage::kDns;
    result.error = what + ": no answer";
    return result;
  }
  if (!spec.dns.expect.empty()) {
    auto wanted = comparable(spec.dns.expect);
    bool seen = std::any_of(answer.records.begin(), answer.records.end(),
                            [&](const std::string& r) { return comparable(r) == wanted; });
    if (!seen) {
      result.stage = Stage::kDns;
      result.error = what + ": expected \"" + spec.dns.expect + "\", got " + result.answer;
      return result;
    }
  }
  result.outcome = Outcome::kUp;
  return result;
}

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
      result.error = "no answer to " + spec.dns.record_type + " " + spec.host + " within " +
                     format_duration(spec.timeout_us) +
                     (spec.dns.resolver.empty() ? "" : " from " + spec.dns.resolver);
      run->finish(std::move(result));
    });
    auto started = Clock::now();
    resolver_for(spec.dns.resolver)
        .query(spec.host, spec.dns.record_type, spec.timeout_us + kResolverGraceUs,
               [run, spec, started](Result<DnsAnswer> answer) {
                 if (run->finished) return;
                 ProbeResult result;
                 result.timings.dns_us =
                     std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started)
                         .count();
                 if (!answer) {
                   result.stage = Stage::kDns;
                   result.error = answer.error().message;
                 } else {
                   auto timings = result.timings;
                   result = judge(spec, *answer);
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
