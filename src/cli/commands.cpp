#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <iostream>

namespace leeway::cli {

namespace {

Runner setup_version(CLI::App&) {
  return [] {
    std::cout << "leeway 0.1.0\n";
    return 0;
  };
}

constexpr Command kCommands[] = {
    {"serve", "Run every configured check on schedule, store results, serve the API", setup_serve},
    {"status", "Show the state of every check from a running daemon", setup_status},
    {"check", "Run one probe now and explain the result stage by stage", setup_check},
    {"config", "Validate a config file (leeway config check FILE)", setup_config},
    {"demo-target", "Serve a local demo service that is up, slow and down in turns", setup_demo_target},
    {"version", "Print the version", setup_version},
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"leeway: checks, incidents, SLOs and SLAs for always-on services"};
  app.require_subcommand(1);
  Runner chosen;
  for (const auto& command : kCommands) {
    CLI::App* sub = app.add_subcommand(command.name, command.help);
    Runner runner = command.setup(*sub);
    sub->callback([&chosen, runner] { chosen = runner; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);  // prints help or the usage error
    return rc == 0 ? 0 : kExitUnknown;
  }
  return chosen ? chosen() : kExitUnknown;
}

}  // namespace leeway::cli
