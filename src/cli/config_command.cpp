// `leeway config check FILE`: placeholder until the config module lands.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace leeway::cli {

Runner setup_config(CLI::App& sub) {
  sub.require_subcommand(1);
  auto* check = sub.add_subcommand("check", "Validate a config file and report every error");
  auto path = std::make_shared<std::string>();
  check->add_option("file", *path, "the YAML config file")->required();
  return [path] { return path->empty() ? kExitUnknown : kExitUnknown; };
}

}  // namespace leeway::cli
