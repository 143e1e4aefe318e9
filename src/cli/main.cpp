// The leeway binary: dispatches to the subcommands in cli/commands.h.
#include "cli/commands.h"

int main(int argc, char** argv) {
  return leeway::cli::main(argc, argv);
}
