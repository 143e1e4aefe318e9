// `leeway slo import FILE [--check ID]`: OpenSLO v1 documents printed as leeway config.
// `leeway slo export [-c FILE]`: the config's SLOs as OpenSLO v1 documents.
#include <iostream>

#include "cli/commands.h"
#include "config/config.h"
#include "slo/openslo.h"

namespace leeway::cli {

// As `leeway config check`: 2 for input with errors.
constexpr int kExitInputInvalid = 2;

int run_slo_import(const std::string& path, const std::string& check) {
  auto text = config::read_file(path);
  if (!text) {
    std::cerr << path << ": " << text.error().message << "\n";
    return kExitInputInvalid;
  }
  slo::OpenSloImport imported = slo::import_openslo(*text, path, check);
  for (const auto& warning : imported.warnings) std::cerr << warning << "\n";
  for (const auto& error : imported.errors) std::cerr << error << "\n";
  if (!imported.ok()) return kExitInputInvalid;
  std::cout << slo::slos_config_yaml(imported.slos, path);
  return 0;
}

int run_slo_export(const std::string& path) {
  config::LoadResult result = config::load_config(path);
  if (!result.ok()) {
    for (const auto& error : result.errors) std::cerr << error.to_string() << "\n";
    return kExitInputInvalid;
  }
  std::cout << slo::export_openslo(result.config->slos());
  return 0;
}

}  // namespace leeway::cli
