// Asynchronous DNS on the event loop through c-ares: no thread per lookup, no blocking call.
// Internal to the probe module.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>

#include "core/result.h"
#include "core/time.h"
#include "probe/dns_format.h"
#include "probe/probe.h"

namespace leeway::probe {

// What callers add to their run's timeout when they give the resolver its own: the run's
// deadline, which names the step that was running, fires first.
inline constexpr DurationUs kResolverGraceUs = 100 * kMillisecondUs;

// Whether `host` is an IPv4 or IPv6 address (which resolves to itself) rather than a name.
bool is_ip_literal(const std::string& host);

// A lookup's value or error and, when it failed, what DNS said: kNxdomain, kServfail, kRefused
// (an answer of REFUSED, or the server's port refused), kTimeout; kNone when that is not known.
// Converts to a plain Result<T> for callers that need only the value.
template <typename T>
struct Lookup : Result<T> {
  Lookup(Result<T> result, Cause cause = Cause::kNone)
      : Result<T>(std::move(result)), cause(cause) {}
  Cause cause = Cause::kNone;
};

class Resolver {
 public:
  // `servers` is "ip[:port],..." ("[v6]:port" for IPv6); empty: the system's (/etc/resolv.conf
  // and /etc/hosts).
  Resolver(boost::asio::io_context& io, const std::string& servers = "");
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  using AddressesCallback = std::function<void(Lookup<std::vector<boost::asio::ip::address>>)>;
  using AnswerCallback = std::function<void(Lookup<DnsAnswer>)>;

  // Resolves a host name to addresses (A and/or AAAA by `family`), honouring /etc/hosts. An
  // address literal resolves to itself without a query. The callback runs on the loop, always
  // asynchronously, within `timeout_us`.
  void resolve(const std::string& host, IpFamily family, DurationUs timeout_us,
               AddressesCallback done);

  // Sends one query of `record_type` (A, AAAA, CNAME, MX, TXT, NS) for `name`.
  void query(const std::string& name, const std::string& record_type, DurationUs timeout_us,
             AnswerCallback done);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace leeway::probe
