// `leeway agent`: run this machine as a vantage point of a `leeway serve` (see agent/agent.h).
#include <CLI/CLI.hpp>

#include "agent/agent.h"
#include "cli/commands.h"
#include "core/clock.h"

namespace leeway::cli {

Runner setup_agent(CLI::App& sub) {
  auto options = std::make_shared<agent::AgentOptions>();
  options->spool_dir = "leeway-agent-spool";
  sub.add_option("--server", options->server, "the server's base URL, e.g. https://leeway:8080")
      ->required();
  sub.add_option("--location", options->location, "this agent's location id, as in the config")
      ->required();
  sub.add_option("--token-file", options->token_file,
                 "a file holding the location's token (the config keeps only its hash)")
      ->required();
  sub.add_option("--spool", options->spool_dir,
                 "where results wait until the server has them, and the last check list")
      ->capture_default_str();
  sub.add_option("--ca-file", options->ca_file, "trust the server's certificate through this CA");
  sub.add_option("--spool-max-bytes", options->spool_max_bytes,
                 "results kept at most while the server is away; past it the oldest are dropped "
                 "(counted and reported)")
      ->capture_default_str();
  return [options] { return agent::run_agent(*options, SystemClock::instance()); };
}

}  // namespace leeway::cli
