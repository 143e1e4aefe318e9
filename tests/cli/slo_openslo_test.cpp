// `leeway slo import` and `leeway slo export`: the binary prints config or OpenSLO, warnings and
// errors go to stderr with file:line, and an export of examples/full.yaml imports back.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "support/fixtures.h"
#include "support/process.h"

namespace leeway::testing {
namespace {

using ::testing::HasSubstr;

const std::filesystem::path kRepo = LEEWAY_SOURCE_DIR;
const std::filesystem::path kFixtures = kRepo / "tests" / "slo" / "openslo";

TEST(SloImport, PrintsConfigAndWarnsOnStderr) {
  std::string file = (kFixtures / "timeslices-slo.yaml").string();
  ProcessResult r = run_process({LEEWAY_BINARY, "slo", "import", file, "--check", "home"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("services:\n  - id: web-availability\n    slos:\n"
                               "      - id: service-availability-internal-objective\n"
                               "        sli: availability_runs\n        objective: 99.5\n"
                               "        window: month\n        time_zone: America/New_York\n"
                               "        method: timeslices\n        slice_target: 99\n"
                               "        checks: [home]\n"));
  EXPECT_THAT(r.err, HasSubstr(file + ":27: warning: duration: 1m is one minute; a month is 1M"));
}

TEST(SloImport, AForeignSourceWithoutCheckExits2WithItsLine) {
  std::string file = (kFixtures / "occurrences-slo.yaml").string();
  ProcessResult r = run_process({LEEWAY_BINARY, "slo", "import", file});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr(file + ":16: metricSource: type Any is not leeway's"));
  ProcessResult missing = run_process({LEEWAY_BINARY, "slo", "import", "/nonexistent.yaml"});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_THAT(missing.err, HasSubstr("/nonexistent.yaml: "));
}

TEST(SloExport, ImportsBackToTheSameConfig) {
  ProcessResult exported = run_process(
      {LEEWAY_BINARY, "slo", "export", "-c", (kRepo / "examples" / "full.yaml").string()});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_THAT(exported.out, HasSubstr("kind: SLO\nmetadata:\n  name: storefront-fast\n"));
  auto dir = fresh_test_dir("slo-openslo");
  std::ofstream(dir / "openslo.yaml") << exported.out;
  ProcessResult imported =
      run_process({LEEWAY_BINARY, "slo", "import", (dir / "openslo.yaml").string()});
  ASSERT_EQ(imported.exit_code, 0) << imported.err;
  EXPECT_EQ(imported.err, "");
  EXPECT_THAT(imported.out,
              HasSubstr("      - id: storefront-fast\n        sli: latency\n        objective: 99\n"
                        "        window: 30d\n        method: occurrences\n"
                        "        threshold: 500ms\n        checks: [home]\n        alerts:\n"
                        "          - {severity: page, burn_rate: 14.4, long: 1h, short: 5m}\n"));
}

TEST(SloExport, AConfigWithErrorsExits2) {
  auto dir = fresh_test_dir("slo-openslo");
  std::ofstream(dir / "bad.yaml") << "services: 3\n";
  ProcessResult r =
      run_process({LEEWAY_BINARY, "slo", "export", "-c", (dir / "bad.yaml").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("bad.yaml:1:"));
}

}  // namespace
}  // namespace leeway::testing
