// `leeway serve -c leeway.yaml`: the daemon. Exit codes: 0 stopped cleanly, 1 could not start
// (port taken, store unreachable), 2 bad config (every error printed, nothing started).
#include <CLI/CLI.hpp>
#include <iostream>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli/commands.h"
#include "daemon/daemon.h"

namespace leeway::cli {

namespace {

// The API renders big, short-lived responses on the HTTP server's worker threads
// (/api/v1/checks is 5 MB at 10,000 checks; /metrics, 17 MB, was one of them until it was
// written in pieces). glibc gives each thread that allocates its own arena, and each arena keeps
// the pages of the biggest response it rendered: the scale bench grew to 112 MB. With one arena
// those pages are reused by whichever thread renders next (98 -> 71 MB after two minutes at
// 10,000 checks). A fixed mmap threshold saved as much memory but made /metrics 4x slower: each
// response faulted in fresh pages. Called before any thread starts.
void share_one_malloc_arena() {
#ifdef __GLIBC__
  mallopt(M_ARENA_MAX, 1);
#endif
}

}  // namespace

Runner setup_serve(CLI::App& sub) {
  auto options = std::make_shared<daemon::DaemonOptions>();
  sub.add_option("-c,--config", options->config_path, "the YAML config file")->required();
  sub.add_option("--store", options->store_uri,
                 "where results go: a SQLite file path, or postgres://... (default: the config's)");
  sub.add_option("--listen", options->listen,
                 "HOST:PORT for the API and /metrics (default: the config's)");
  sub.footer("Exit codes: 0 stopped cleanly, 1 could not start, 2 bad config.");
  return [options] {
    share_one_malloc_arena();
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
