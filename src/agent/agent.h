// `leeway agent`: a remote vantage point. It follows the checks the server assigns to its
// location, runs them with the same probe engine and scheduler as `leeway serve`, spools every
// result on disk and pushes the spool to the server (see check_source.h, spool.h, pusher.h).
#pragma once

#include <cstdint>
#include <string>

#include "core/clock.h"

namespace leeway::agent {

struct AgentOptions {
  std::string server;      // base URL of `leeway serve`
  std::string location;    // this agent's location id
  std::string token_file;  // a file holding the location's token
  std::string spool_dir;   // the spool and the saved check list
  std::string ca_file;     // a private CA for the server's certificate; "" for the system's
  std::uint64_t spool_max_bytes = std::uint64_t{64} << 20;
};

// Runs until SIGTERM or SIGINT; returns the exit code (1 when it cannot start, with why on
// standard error).
int run_agent(const AgentOptions& options, const Clock& clock);

}  // namespace leeway::agent
