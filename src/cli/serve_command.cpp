// `leeway serve -c leeway.yaml`: the daemon. Exit codes: 0 stopped cleanly, 1 could not start
// (port taken, store unreachable), 2 bad config (every error printed, nothing started).
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/commands.h"
#include "daemon/daemon.h"

namespace leeway::cli {

Runner setup_serve(CLI::App& sub) {
  auto options = std::make_shared<daemon::DaemonOptions>();
  sub.add_option("-c,--config", options->config_path, "the YAML config file")->required();
  sub.add_option("--store", options->store_uri,
                 "where results go: a SQLite file path, or postgres://... (default: the config's)");
  sub.add_option("--listen", options->listen, "HOST:PORT for the API and /metrics (default: the config's)");
  sub.footer("Exit codes: 0 stopped cleanly, 1 could not start, 2 bad config.");
  return [options] {
    daemon::StartFailure failure;
    auto daemon = daemon::Daemon::create(*options, SystemClock::instance(), failure);
    if (!daemon) {
      for (const auto& e : failure.errors) std::cerr << e << "\n";
      return failure.bad_config ? 2 : 1;
    }
    return daemon->run();
  };
}

}  // namespace leeway::cli
