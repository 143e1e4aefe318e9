// `leeway serve`: runs every configured check on schedule, stores every result, and serves what
// it knows over HTTP (API, /metrics). Config → schedule → probe → store, on one event loop plus
// the store's writer thread.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/result.h"

namespace leeway::daemon {

struct DaemonOptions {
  std::string config_path;
  std::string store_uri;  // overrides the config's server.store when not empty
  std::string listen;     // overrides the config's server.listen when not empty
};

// Why create() returned nothing: every error line, and whether the config was at fault
// (`leeway serve` exits 2) or starting failed with a good config, e.g. the store (exits 1).
struct StartFailure {
  bool bad_config = false;
  std::vector<std::string> errors;
};

class Daemon {
 public:
  // Loads and validates the config and opens the store. On failure returns nullptr and fills
  // `failure` (for a bad config, every error as a file:line:col line).
  static std::unique_ptr<Daemon> create(const DaemonOptions& options, const Clock& clock,
                                        StartFailure& failure);
  ~Daemon();

  // Serves until SIGTERM or SIGINT and returns the exit code. Stopping is prompt however busy
  // the loop: runs in flight are abandoned, every result already submitted is written, and
  // the subscribers stop without working through their queues (they read what they skipped
  // from the store at the next start). SIGHUP reloads the config. Logs one line when it is
  // listening.
  int run();

  // The port the HTTP server is bound to (after run() started listening); for tests.
  std::uint16_t port() const;

 private:
  struct Impl;
  explicit Daemon(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Parses an API time parameter: RFC 3339 with Z or an offset ("2026-11-25T10:00:00Z",
// "2026-11-25T19:00:00+09:00", fraction optional) or Unix seconds ("1795600000"). Errors name
// the parameter.
Result<TimeUs> parse_time_param(const std::string& name, const std::string& value);

}  // namespace leeway::daemon
