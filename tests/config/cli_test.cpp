// `leeway config check` and `leeway config docs`, run as the built binary: output and exit code.
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/schema.h"

namespace leeway::config {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = fs::path(LEEWAY_SOURCE_DIR) / "tests" / "config";

struct Invocation {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string slurp(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Runs the leeway binary from `dir` with `args` (trusted, space-separated test arguments).
Invocation run_leeway(const fs::path& dir, const std::string& args) {
  fs::path scratch =
      fs::temp_directory_path() / ("leeway_config_cli_test." + std::to_string(::getpid()));
  fs::create_directories(scratch);
  std::string command = "cd '" + dir.string() + "' && '" LEEWAY_BINARY "' " + args + " >'" +
                        (scratch / "out").string() + "' 2>'" + (scratch / "err").string() + "'";
  int status = std::system(command.c_str());
  Invocation run;
  run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  run.out = slurp(scratch / "out");
  run.err = slurp(scratch / "err");
  fs::remove_all(scratch);
  return run;
}

TEST(ConfigCli, CheckGoodFilePrintsASummaryAndExitsZero) {
  Invocation run = run_leeway(kSourceDir / "data" / "cases", "config check include_nested.yaml");
  EXPECT_EQ(run.exit_code, 0) << run.err;
  EXPECT_EQ(run.out, "include_nested.yaml: ok (2 services, 2 checks, 3 locations)\n");
  EXPECT_EQ(run.err, "");
}

TEST(ConfigCli, CheckBadFilePrintsEveryErrorToStderrAndExitsTwo) {
  fs::path cases = kSourceDir / "data" / "cases";
  Invocation run = run_leeway(cases, "config check unknown_keys.yaml");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, slurp(cases / "unknown_keys.errors"));
}

TEST(ConfigCli, CheckMissingFileExitsTwo) {
  Invocation run = run_leeway(kSourceDir, "config check no-such-file.yaml");
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_EQ(run.err, "no-such-file.yaml: cannot read: No such file or directory\n");
}

TEST(ConfigCli, HelpDocumentsExitCodes) {
  Invocation run = run_leeway(kSourceDir, "config check --help");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_NE(run.out.find("Exit codes: 0 valid; 2 errors"), std::string::npos) << run.out;
}

TEST(ConfigCli, DocsPrintsTheReference) {
  Invocation run = run_leeway(kSourceDir, "config docs");
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out, reference_docs());
}

}  // namespace
}  // namespace leeway::config
