// The probe engine: runs checks (http/s, tcp, dns, icmp, tls) on one Asio event loop, measures
// every stage and says where a failure happened. A probe's failure is data, never an exception.
// The vocabulary (CheckSpec, ProbeResult, Outcome, Stage) is in types.h, without Asio.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/clock.h"
#include "core/result.h"
#include "core/time.h"
#include "probe/types.h"

namespace leeway::probe {

// Runs probes concurrently on one io_context. Not thread-safe: call run() from the loop's thread
// (or before the loop runs).
class ProbeEngine {
 public:
  ProbeEngine(boost::asio::io_context& io, const Clock& clock);
  ~ProbeEngine();
  ProbeEngine(const ProbeEngine&) = delete;
  ProbeEngine& operator=(const ProbeEngine&) = delete;

  // Starts one run. `done` is called exactly once, on the loop's thread, no later than the
  // spec's timeout (plus scheduling slack), whatever the peer does.
  void run(const CheckSpec& spec, ProbeCallback done);

  // Parses every CA bundle again when next used (the daemon calls it on a config reload; a
  // changed file is also noticed by itself within seconds).
  void reload_trust();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace leeway::probe
