// `leeway config check FILE` validates a config file and reports every error at once;
// `leeway config docs` prints the reference (docs/config.md) generated from the schema.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "config/config.h"
#include "config/schema.h"

namespace leeway::cli {

namespace {

// Exit codes of `config check`; 2 matches what `leeway serve` does with a bad file.
constexpr int kExitConfigOk = 0;
constexpr int kExitConfigInvalid = 2;

int run_config_check(const std::string& path) {
  config::LoadResult result = config::load_config(path);
  if (!result.ok()) {
    for (const auto& error : result.errors) std::cerr << error.to_string() << "\n";
    return kExitConfigInvalid;
  }
  const config::Config& loaded = *result.config;
  std::cout << fmt::format("{}: ok ({} services, {} checks, {} locations)\n", path,
                           loaded.services.size(), loaded.check_count(), loaded.locations.size());
  return kExitConfigOk;
}

}  // namespace

Runner setup_config(CLI::App& sub) {
  sub.require_subcommand(1);
  sub.footer("Exit codes: 0 ok; 2 the config file has errors; 3 bad usage.");
  auto* check = sub.add_subcommand("check", "Validate a config file and report every error");
  auto path = std::make_shared<std::string>();
  check->add_option("file", *path, "the YAML config file")->required();
  check->footer(
      "Prints \"FILE: ok (N services, M checks, K locations)\" when the file is valid, else every\n"
      "error to stderr, one per line: file:line:column: key: what was expected.\n"
      "Exit codes: 0 valid; 2 errors in the file (or it cannot be read); 3 bad usage.");
  auto* docs =
      sub.add_subcommand("docs", "Print the config reference (docs/config.md) in Markdown");

  // Only one of the two runs; the parent's Runner asks which was chosen after parsing.
  return [check, docs, path]() -> int {
    if (docs->parsed()) {
      std::cout << config::reference_docs();
      return kExitConfigOk;
    }
    if (check->parsed()) return run_config_check(*path);
    return kExitUnknown;
  };
}

}  // namespace leeway::cli
