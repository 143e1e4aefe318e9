// `leeway slo rules`: the rules for examples/full.yaml pass `promtool check rules`; a config
// with errors prints them and exits 2.
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

TEST(SloRules, PrintsRulesPromtoolAccepts) {
  ProcessResult r = run_process(
      {LEEWAY_BINARY, "slo", "rules", "-c", (kRepo / "examples" / "full.yaml").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* group :
       {"leeway-slo-storefront-up", "leeway-slo-storefront-month", "leeway-slo-storefront-fast"})
    EXPECT_THAT(r.out, HasSubstr(std::string("  - name: ") + group + "\n"));
  EXPECT_THAT(r.out, HasSubstr("le=\"0.5\""));
  auto dir = fresh_test_dir("slo-rules");
  std::ofstream(dir / "rules.yml") << r.out;
  ProcessResult check =
      run_process({"/usr/bin/promtool", "check", "rules", (dir / "rules.yml").string()});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  // 8 error ratios (the 7 burn windows and 30d), 5 metadata, 2 alerts; a calendar month has no
  // 30d ratio nor period budget (12); a page-only SLO has one alert (14).
  EXPECT_THAT(check.out, HasSubstr("SUCCESS: 41 rules found"));
}

TEST(SloRules, AConfigWithErrorsExits2) {
  auto dir = fresh_test_dir("slo-rules");
  std::ofstream(dir / "bad.yaml")
      << "services:\n"
         "  - id: shop\n"
         "    checks: [{name: home, target: \"https://shop.example/\"}]\n"
         "    slos: [{id: up, sli: availability_minutes, objective: 100}]\n";
  ProcessResult r = run_process({LEEWAY_BINARY, "slo", "rules", "-c", (dir / "bad.yaml").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_THAT(r.err, HasSubstr("bad.yaml:4:59: objective: expected a percentage above 0 and below "
                               "100"));
}

}  // namespace
}  // namespace leeway::testing
