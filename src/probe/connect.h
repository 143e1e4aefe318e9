// The first two steps of the tcp and tls probers: resolve the host, then connect to its
// addresses in turn. Internal to the probe module.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "probe/probe.h"
#include "probe/resolver.h"

namespace leeway::probe {

using SteadyClock = std::chrono::steady_clock;

inline DurationUs since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
}

// "127.0.0.1:443", "[::1]:443".
inline std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint) {
  auto address = endpoint.address().to_string();
  if (endpoint.address().is_v6()) address = "[" + address + "]";
  return address + ":" + std::to_string(endpoint.port());
}

// The cause an Asio error says (see Cause).
inline Cause connect_cause(const boost::system::error_code& ec) {
  return ec.category() == boost::system::system_category() ? cause_from_errno(ec.value())
                                                           : Cause::kNone;
}

// Resolves run->spec.host, then connects `socket` (a member of the run) to its addresses in
// turn. Fills result.timings.dns_us (for a name, not an address), connect_us and remote_address,
// result.cause when it fails,
// and keeps run->step and run->step_started current for the timeout message. A failure ends the
// run through run->finish(Outcome::kDown, Stage::kDns or Stage::kConnect, message); success
// calls run->*next(). `Run` is a prober's run: spec, result, step, step_started, finished and
// finish(outcome, stage, error).
template <typename Run, typename Socket>
void resolve_and_connect(std::shared_ptr<Run> run, Resolver& resolver, Socket& socket,
                         void (Run::*next)()) {
  const bool literal = is_ip_literal(run->spec.host);
  run->step = "dns";
  run->step_started = SteadyClock::now();
  resolver.resolve(run->spec.host, run->spec.family, run->spec.timeout_us + kResolverGraceUs,
                   [run, literal, &socket, next](auto addresses) {
                     if (run->finished) return;
                     if (!literal) run->result.timings.dns_us = since(run->step_started);
                     if (!addresses) {
                       run->result.cause = addresses.cause;
                       return run->finish(Outcome::kDown, Stage::kDns, addresses.error().message);
                     }
                     std::vector<boost::asio::ip::tcp::endpoint> endpoints;
                     for (const auto& address : *addresses)
                       endpoints.emplace_back(address, run->spec.port);
                     run->step = "connect";
                     run->step_started = SteadyClock::now();
                     boost::asio::async_connect(
                         socket, endpoints,
                         [run, endpoints, next](boost::system::error_code ec,
                                                const boost::asio::ip::tcp::endpoint& endpoint) {
                           if (run->finished) return;
                           if (ec) {
                             run->result.cause = connect_cause(ec);
                             // Asio reports the last endpoint's error; name the last one tried.
                             return run->finish(Outcome::kDown, Stage::kConnect,
                                                "connect to " + endpoint_text(endpoints.back()) +
                                                    ": " + ec.message());
                           }
                           run->result.timings.connect_us = since(run->step_started);
                           run->result.remote_address = endpoint.address().to_string();
                           ((*run).*next)();
                         });
                   });
}

}  // namespace leeway::probe
