// The Prober seam: one implementation per check kind, all sharing one event loop.
// Internal to the probe module; others use ProbeEngine.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>

#include "probe/probe.h"
#include "probe/resolver.h"
#include "probe/trust_store.h"

namespace leeway::probe {

// What every prober shares: the loop, the system resolver and the parsed CA stores.
struct ProbeContext {
  boost::asio::io_context& io;
  Resolver& resolver;
  TrustStores& trust;
};

class Prober {
 public:
  virtual ~Prober() = default;
  // Starts one run. Calls `done` exactly once on the loop's thread, within spec.timeout_us.
  // The engine fills started_us and total_us and applies degraded_after_us afterwards, so a
  // prober need only set the outcome, stage, stage timings and details.
  virtual void start(const CheckSpec& spec, ProbeCallback done) = 0;
};

std::unique_ptr<Prober> make_http_prober(ProbeContext& ctx);
std::unique_ptr<Prober> make_tcp_prober(ProbeContext& ctx);
std::unique_ptr<Prober> make_dns_prober(ProbeContext& ctx);
std::unique_ptr<Prober> make_icmp_prober(ProbeContext& ctx);
std::unique_ptr<Prober> make_tls_prober(ProbeContext& ctx);

}  // namespace leeway::probe
