#include "cli/commands.h"

#include <CLI/CLI.hpp>

namespace leeway::cli {

int main(int argc, char** argv) {
  CLI::App app{"leeway: checks, incidents, SLOs and SLAs for always-on services"};
  app.require_subcommand(1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUnknown;
  }
  return kExitUnknown;
}

}  // namespace leeway::cli
