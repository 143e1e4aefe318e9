// `leeway slo rules [-c FILE]`: the Prometheus recording and alerting rules for every SLO in
// the config, so that Prometheus can alert as leeway does.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/commands.h"
#include "config/config.h"
#include "slo/rules.h"

namespace leeway::cli {

namespace {

// As `leeway config check`: 2 for a config with errors.
constexpr int kExitConfigInvalid = 2;

int run_slo_rules(const std::string& path) {
  config::LoadResult result = config::load_config(path);
  if (!result.ok()) {
    for (const auto& error : result.errors) std::cerr << error.to_string() << "\n";
    return kExitConfigInvalid;
  }
  std::cout << slo::prometheus_rules(result.config->slos(), path);
  return 0;
}

}  // namespace

Runner setup_slo(CLI::App& sub) {
  sub.require_subcommand(1);
  auto* rules = sub.add_subcommand(
      "rules", "Print Prometheus recording and alerting rules for every SLO in the config");
  auto path = std::make_shared<std::string>("leeway.yaml");
  rules->add_option("-c,--config", *path, "the YAML config file")->capture_default_str();
  rules->footer(
      "The rules read the counters of leeway's /metrics and fire the alerts leeway's engine\n"
      "fires, at the same evaluations (see the file's header for where they differ).\n"
      "Exit codes: 0 printed; 2 the config has errors (printed to stderr); 3 bad usage.");
  return [rules, path]() -> int {
    if (rules->parsed()) return run_slo_rules(*path);
    return kExitUnknown;
  };
}

}  // namespace leeway::cli
