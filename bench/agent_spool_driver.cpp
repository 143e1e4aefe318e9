// For bench/agent_memory.sh: fills an agent's spool with what an hour offline leaves in it, as
// the agent itself writes it (agent::Spool, agent::result_to_json): one run of each of `checks`
// checks every 10 s over the hour that ends at --end-us, all up. The agent started on the spool
// afterwards must send all of it.
#include <fmt/core.h>

#include <CLI/CLI.hpp>
#include <string>

#include "agent/spool.h"
#include "agent/wire.h"
#include "core/time.h"

using namespace leeway;

int main(int argc, char** argv) {
  CLI::App app{"fill an agent's spool with an hour of results"};
  std::string dir;
  int checks = 1000;
  TimeUs end_us = 0;
  app.add_option("--spool", dir)->required();
  app.add_option("--checks", checks);
  app.add_option("--end-us", end_us)->required();
  CLI11_PARSE(app, argc, argv);

  agent::SpoolOptions options;
  options.dir = dir;
  options.max_bytes = std::uint64_t{1} << 30;  // keep all of it: the bench counts every result
  auto spool = agent::Spool::open(options);
  if (!spool) {
    fmt::print(stderr, "{}\n", spool.error().message);
    return 1;
  }
  const int rounds = 360;  // an hour at 10 s
  const TimeUs start_us = end_us - TimeUs(rounds) * 10 * kSecondUs;
  for (int round = 0; round < rounds; ++round) {
    for (int i = 0; i < checks; ++i) {
      store::StoredResult r;
      r.check = fmt::format("bench/c{}", i);
      r.started_us = start_us + TimeUs(round) * 10 * kSecondUs + TimeUs(i) * 997;
      r.connect_us = 100 + i % 50;
      r.first_byte_us = 300 + i % 200;
      r.total_us = r.connect_us + r.first_byte_us + 50;
      r.http_status = 200;
      r.outcome = probe::Outcome::kUp;
      if (auto s = (*spool)->append(agent::result_to_json(r).dump()); !s) {
        fmt::print(stderr, "{}\n", s.error().message);
        return 1;
      }
    }
  }
  if (auto s = (*spool)->sync(); !s) {
    fmt::print(stderr, "{}\n", s.error().message);
    return 1;
  }
  fmt::print("results={}\n", rounds * checks);
  return 0;
}
