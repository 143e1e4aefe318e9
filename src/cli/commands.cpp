#include "cli/commands.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <string_view>

#include "core/text.h"

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
    {"agent", "Run checks for the server from this machine as one of its locations", setup_agent},
    {"status", "Show the state of every check from a running daemon", setup_status},
    {"incidents", "List incidents from a running daemon", setup_incidents},
    {"gate", "May SERVICE ship now? go (0), hold (1) or unknown (3), with the reasons", setup_gate},
    {"incident",
     "Show one incident: verdict, evidence, changes before it, timeline; or reclassify it",
     setup_incident},
    {"change", "Record a change (a deploy) with a running daemon", setup_change},
    {"maintenance", "Record and list planned maintenance windows with a running daemon",
     setup_maintenance},
    {"exclusion", "Exclude minutes from SLA accounting with a reason, and list exclusions",
     setup_exclusion},
    {"report", "A contract's monthly SLA report from a running daemon (md, html, csv, json)",
     setup_report},
    {"check", "Run one probe now and explain the result stage by stage", setup_check},
    {"config", "Validate a config file (leeway config check FILE)", setup_config},
    {"simulate", "Replay a scenario through the detector: the incidents and verdicts it gives",
     setup_simulate},
    {"slo",
     "SLOs: list and show them from a running daemon, print Prometheus rules, OpenSLO in and out",
     setup_slo},
    {"demo-target", "Serve a local demo service that is up, slow and down in turns",
     setup_demo_target},
    {"version", "Print the version", setup_version},
};

// The command words at the start of argv must name commands: CLI11 reads `leeway anything
// --help` as a request for the top help (exit 0) before it notices "anything". Prints the error
// and returns false for an unknown one.
bool known_commands(CLI::App& app, int argc, char** argv) {
  CLI::App* at = &app;
  std::string path = "leeway";
  for (int i = 1; i < argc; ++i) {
    std::string_view word = argv[i];
    auto subs = at->get_subcommands({});
    if (word.starts_with('-') || subs.empty()) return true;
    auto it = std::find_if(subs.begin(), subs.end(),
                           [&](CLI::App* sub) { return sub->get_name() == word; });
    // A command that takes a word of its own (`leeway incident ID`) reads it as that.
    if (it == subs.end() &&
        !at->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty())
      return true;
    if (it == subs.end()) {
      std::cerr << path << ": unknown command \"" << terminal_safe(word) << "\"; see " << path
                << " --help\n";
      return false;
    }
    at = *it;
    path += " " + at->get_name();
  }
  return true;
}

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
  if (!known_commands(app, argc, argv)) return kExitUnknown;
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);  // prints help or the usage error
    return rc == 0 ? 0 : kExitUnknown;
  }
  return chosen ? chosen() : kExitUnknown;
}

}  // namespace leeway::cli
