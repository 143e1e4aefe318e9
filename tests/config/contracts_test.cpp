// The `contracts:` section: the examples shaped like the clouds' SLAs and the seed's Korean
// operations contract load into the SLA engine's Contract as written.
#include <gtest/gtest.h>

#include <filesystem>

#include "config/config.h"
#include "sla/engine.h"

namespace leeway::config {
namespace {

namespace fs = std::filesystem;

const fs::path kExamples = fs::path(LEEWAY_SOURCE_DIR) / "examples" / "contracts";

sla::Contract load_example(const std::string& name) {
  LoadResult result = load_config((kExamples / name).string());
  std::string errors;
  for (const auto& e : result.errors) errors += e.to_string() + "\n";
  EXPECT_TRUE(result.ok()) << errors;
  if (!result.config || result.config->contracts.size() != 1) return {};
  return result.config->contracts[0];
}

sla::Percentage pct(std::string_view text) {
  return sla::parse_percentage(text).value();
}

TEST(Contracts, AwsShapedExample) {
  sla::Contract c = load_example("aws-ec2.yaml");
  EXPECT_EQ(c.fee, (sla::Money{1'200'000, "USD"}));
  EXPECT_EQ(c.measurement.target, pct("99.99"));
  ASSERT_EQ(c.credits.size(), 3u);
  EXPECT_EQ(c.credits[0].describe(), "less than 99.99% but at least 99%: 10% of the fee");
  EXPECT_EQ(c.credits[1].credit, pct("30"));
  EXPECT_EQ(c.credits[2].describe(), "less than 95%: 100% of the fee");
  EXPECT_TRUE(c.exclusions.network);
  EXPECT_FALSE(c.exclusions.maintenance);
}

TEST(Contracts, GoogleShapedExample) {
  sla::Contract c = load_example("google-compute.yaml");
  EXPECT_FALSE(c.measurement.partial_minutes_count);
  EXPECT_EQ(c.time_zone, "America/Los_Angeles");
  EXPECT_EQ(c.exclusions.customer_attributions, std::vector<std::string>{"dependency:customer-*"});
}

TEST(Contracts, AzureShapedExample) {
  sla::Contract c = load_example("azure-vm.yaml");
  EXPECT_TRUE(c.measurement.only_existing_minutes);
  EXPECT_EQ(c.exclusions.maintenance_notice_us, 5 * kDayUs);
  EXPECT_EQ(c.fee.currency, "EUR");
}

TEST(Contracts, KoreanOperationsExample) {
  sla::Contract c = load_example("korean-ops.yaml");
  EXPECT_EQ(c.fee, (sla::Money{15'000'000, "KRW"}));
  EXPECT_EQ(c.rounding, sla::Rounding::kDown);
  EXPECT_EQ(c.time_zone, "Asia/Seoul");
  EXPECT_EQ(c.measurement.min_location_share, pct("50"));
  ASSERT_EQ(c.grades.size(), 3u);
  const sla::Grade& g1 = c.grades[0];
  EXPECT_EQ(g1.penalty_minor_units, 3'000'000);
  EXPECT_EQ(g1.respond_within_us, 10 * kMinuteUs);
  EXPECT_EQ(g1.missed_recovery_minor_units, 1'000'000);
  ASSERT_EQ(g1.rules.size(), 2u);
  EXPECT_EQ(g1.rules[0].describe(), "duration >= 30m and down and locations >= 100%");
  EXPECT_EQ(g1.rules[1].describe(), "down and service in [payments]");
  EXPECT_EQ(c.grades[1].rules[0].business_hours, true);
  EXPECT_EQ(c.business_hours.holidays.size(), 3u);
  EXPECT_EQ(c.business_hours.start_minute, 9 * 60);
  EXPECT_EQ(c.cap, pct("30"));
  EXPECT_EQ(c.charge_in, sla::ChargeIn::kOpenedMonth);
}

TEST(Contracts, ErrorsNameTheFieldAndPlace) {
  LoadResult result = load_config_text(
      R"(services:
  - id: web
contracts:
  - id: c
    customer: x
    services: [web, wbe]
    fee: "10.005"
    currency: USD
    target: 99.9
    credits:
      - {below: 99.9, at_least: 99, credit: 10}
      - {below: 99.5, credit: 25}
    business_hours: {start: "9am"}
    grades:
      - {name: "1", penalty: "5", when: [{outcome: sideways}]}
)",
      "c.yaml", [](const std::string&) -> Result<std::string> { return fail("no includes"); });
  std::string errors;
  for (const auto& e : result.errors) errors += e.to_string() + "\n";
  EXPECT_EQ(errors,
            "c.yaml:6:21: services: unknown service \"wbe\"; did you mean `web`?\n"
            "c.yaml:7:10: fee: expected an amount of USD in major units with at most 2 "
            "decimals, like 1500.00, got \"10.005\"\n"
            "c.yaml:13:29: start: expected a time of day like 09:00, got \"9am\"\n"
            "c.yaml:15:52: outcome: expected down or degraded, got \"sideways\"\n");

  result = load_config_text(
      R"(services:
  - id: web
contracts:
  - id: c
    customer: x
    services: [web]
    fee: "10"
    currency: USD
    target: 99.9
    credits:
      - {below: 99.9, at_least: 99, credit: 10}
      - {below: 99.5, credit: 25}
)",
      "c.yaml", [](const std::string&) -> Result<std::string> { return fail("no includes"); });
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].to_string(),
            "c.yaml:4:5: contract \"c\": credits: less than 99.9% but at least 99%: 10% of the "
            "fee overlaps less than 99.5%: 25% of the fee");
}

}  // namespace
}  // namespace leeway::config

namespace leeway::config {
namespace {

// The seed's story under the Korean example: October 2026 in Seoul (44,640 minutes a service,
// two services: 89,280).
//   isp   shop-web, network:kt, 2h, every location of that ISP: excluded (carrier), no penalty;
//         120 minutes excluded
//   pay   payments down 5 min, 4 of 4 locations: grade 1 (payments down at all): 3,000,000;
//         acknowledged after 15 min against 10 min: +500,000; resolved in 5 min: met
//   availability (89,160 - 5) / 89,160 = 99.9943%: no credit tier; total 3,500,000
//   cap 30% of 15,000,000 = 4,500,000: does not bind
TEST(Contracts, KoreanExampleChargesTheSeedsMonth) {
  sla::Contract c = load_example("korean-ops.yaml");
  auto at = [](std::string_view text) { return parse_rfc3339(text).value(); };
  sla::Evidence e;
  sla::Incident isp{"isp",
                    "shop-web",
                    at("2026-10-25T02:00:00Z"),
                    at("2026-10-25T04:00:00Z"),
                    std::nullopt,
                    {2, 4},
                    {2, 2},
                    {"shop-web/home"},
                    {},
                    sla::Outcome::kDown,
                    "network:kt"};
  sla::Incident pay{"pay",
                    "payments",
                    at("2026-10-26T01:00:00Z"),
                    at("2026-10-26T01:05:00Z"),
                    at("2026-10-26T01:15:00Z"),
                    {4, 4},
                    {1, 1},
                    {"payments/api"},
                    {},
                    sla::Outcome::kDown,
                    "service"};
  e.incidents = {isp, pay};
  sla::Report r = sla::compute_report(c, sla::report_month(c.time_zone, {2026, 10}).value(), e);
  EXPECT_EQ(r.minutes.month, 89'280);
  EXPECT_EQ(r.minutes.excluded, 120);
  EXPECT_EQ(r.minutes.unavailable, 5);
  EXPECT_EQ(r.availability.text(), "99.9943");
  EXPECT_EQ(r.incidents[0].excluded, sla::ExclusionReason::kNetwork);
  EXPECT_EQ(r.incidents[1].grade, "1");
  EXPECT_EQ(r.incidents[1].rule_index, 1);
  EXPECT_FALSE(r.credit.tier);
  EXPECT_EQ(r.total_minor_units, 3'500'000);
  EXPECT_FALSE(r.cap_binds);
  EXPECT_EQ(sla::format_money(r.money(r.total_minor_units), true), "₩3,500,000");
}

}  // namespace
}  // namespace leeway::config
