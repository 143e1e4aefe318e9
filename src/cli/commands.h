// leeway's command line: one table of subcommands (name, one-line help, setup), in commands.cpp.
#pragma once

#include <functional>
#include <string>

namespace CLI {
class App;
}

namespace leeway::cli {

// Exit codes follow the Nagios plugin convention, so `leeway check` can run as a plugin.
enum ExitCode : int {
  kExitUp = 0,
  kExitDegraded = 1,
  kExitDown = 2,
  kExitUnknown = 3,  // bad usage or input: nothing was probed
};

// A subcommand's setup adds its options to `sub` and returns what runs it after parsing.
using Runner = std::function<int()>;
using Setup = Runner (*)(CLI::App& sub);

struct Command {
  const char* name;
  const char* help;
  Setup setup;
};

// Each subcommand, defined in <name>_command.cpp.
Runner setup_change(CLI::App& sub);
Runner setup_agent(CLI::App& sub);
Runner setup_check(CLI::App& sub);
Runner setup_config(CLI::App& sub);
Runner setup_demo_target(CLI::App& sub);
Runner setup_exclusion(CLI::App& sub);
Runner setup_gate(CLI::App& sub);
Runner setup_incident(CLI::App& sub);
Runner setup_incidents(CLI::App& sub);
Runner setup_maintenance(CLI::App& sub);
Runner setup_report(CLI::App& sub);
Runner setup_serve(CLI::App& sub);
Runner setup_simulate(CLI::App& sub);
Runner setup_slo(CLI::App& sub);
Runner setup_status(CLI::App& sub);

// `leeway slo import` and `leeway slo export` (openslo_command.cpp), exit codes as `slo rules`.
int run_slo_import(const std::string& path, const std::string& check);
int run_slo_export(const std::string& config_path);

// Parses argv, runs the chosen subcommand and returns the process exit code.
int main(int argc, char** argv);

}  // namespace leeway::cli
