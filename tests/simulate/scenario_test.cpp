// The scenario loader: what a scenario says, and every mistake named with its file:line:column,
// the config's own errors included (inline, they keep the scenario file's lines).
#include "simulate/scenario.h"

#include <gtest/gtest.h>

#include <map>

namespace leeway::simulate {
namespace {

// The config part every scenario below shares: two vantages behind two ISPs, one reference.
constexpr std::string_view kConfig = R"(defaults:
  interval: 10s
  timeout: 5s
  locations: [kt-1, skb-1]
locations:
  - {id: kt-1, isp: kt}
  - {id: skb-1, isp: skb}
references:
  - name: dns
    target: dns://1.1.1.1/example.com
    locations: [kt-1, skb-1]
services:
  - id: shop
    checks:
      - name: home
        target: https://shop.example.com/
)";

// Files the loader may read, by name; no disk.
config::FileReader files(std::map<std::string, std::string> texts) {
  return [texts = std::move(texts)](const std::string& path) -> Result<std::string> {
    auto it = texts.find(path);
    if (it == texts.end()) return fail("No such file or directory");
    return it->second;
  };
}

std::vector<std::string> errors_of(std::string_view text,
                                   const config::FileReader& read = files({})) {
  std::vector<std::string> out;
  for (const auto& e : load_scenario_text(text, "s.yaml", read).errors)
    out.push_back(e.to_string());
  return out;
}

TEST(Scenario, InlineConfigAndTimeline) {
  const std::string text = std::string(R"(from: 2026-10-05T11:00:00Z
to: +1h
failures:
  - checks: [shop/home]
    locations: kt-1
    from: +16m40s
    to: 2026-10-05T11:48:00Z
    stage: dns
    cause: timeout
  - service: shop
    from: +50m
    to: +55m
    outcome: degraded
reference_failures:
  - locations: [kt-1]
    from: +16m40s
    to: +32m
    stage: connect
silences:
  - locations: skb-1
    from: +5m
    to: +6m
changes:
  - service: shop
    at: +10m
    description: v2.3
maintenance:
  - services: [shop]
    from: +1h
    to: +2h
    announced: 2026-10-01T00:00:00Z
    description: db
)") + std::string(kConfig);
  LoadResult r = load_scenario_text(text, "s.yaml", files({}));
  ASSERT_TRUE(r.ok()) << r.errors[0].to_string();
  const Scenario& s = *r.scenario;
  const TimeUs start = *parse_rfc3339("2026-10-05T11:00:00Z");
  EXPECT_EQ(s.from_us, start);
  EXPECT_EQ(s.to_us, start + kHourUs);
  ASSERT_EQ(s.faults.size(), 3u);
  EXPECT_EQ(s.faults[0].checks, std::set<std::string>{"shop/home"});
  EXPECT_EQ(s.faults[0].locations, std::set<std::string>{"kt-1"});
  EXPECT_EQ(s.faults[0].from_us, start + 16 * kMinuteUs + 40 * kSecondUs);
  EXPECT_EQ(s.faults[0].to_us, start + 48 * kMinuteUs);
  EXPECT_EQ(s.faults[0].stage, probe::Stage::kDns);
  EXPECT_EQ(s.faults[0].cause, probe::Cause::kTimeout);
  EXPECT_EQ(s.faults[1].outcome, probe::Outcome::kDegraded);
  EXPECT_TRUE(s.faults[1].locations.empty());  // every location that runs it
  EXPECT_EQ(s.faults[2].checks, std::set<std::string>{"reference:dns"});
  ASSERT_EQ(s.silences.size(), 1u);
  EXPECT_EQ(s.silences[0].locations, std::set<std::string>{"skb-1"});
  ASSERT_EQ(s.changes.size(), 1u);
  EXPECT_EQ(s.changes[0].service, "shop");
  EXPECT_EQ(s.changes[0].change.kind, "deploy");
  EXPECT_EQ(s.changes[0].change.at_us, start + 10 * kMinuteUs);
  ASSERT_EQ(s.maintenance.size(), 1u);
  EXPECT_EQ(s.maintenance[0].announced_us, *parse_rfc3339("2026-10-01T00:00:00Z"));
  EXPECT_EQ(s.config.check_count(), 1u);
}

TEST(Scenario, ConfigFromAFileNamedRelativeToTheScenario) {
  auto read = files({{"dir/leeway.yaml", std::string(kConfig)}});
  LoadResult r = load_scenario_text("config: leeway.yaml\nfrom: 2026-10-05T11:00:00Z\nto: +1h\n",
                                    "dir/s.yaml", read);
  ASSERT_TRUE(r.ok()) << r.errors[0].to_string();
  EXPECT_EQ(r.scenario->config.locations.size(), 3u);  // kt-1, skb-1 and the daemon's own
}

TEST(Scenario, ConfigErrorsNameTheirFileAndLine) {
  auto read = files({{"leeway.yaml", "services:\n  - id: shop\n    tier: high\n"}});
  EXPECT_EQ(errors_of("config: leeway.yaml\nfrom: 2026-10-05T11:00:00Z\nto: +1h\n", read),
            std::vector<std::string>{"leeway.yaml:3:11: tier: expected a whole number from 1 to 4, "
                                     "got \"high\""});
  EXPECT_EQ(errors_of("config: missing.yaml\nfrom: 2026-10-05T11:00:00Z\nto: +1h\n", read),
            std::vector<std::string>{"missing.yaml: cannot read: No such file or directory"});
}

TEST(Scenario, InlineConfigErrorsKeepTheScenarioLines) {
  // The scenario's own keys come first and are blanked for the config loader: line 5 stays 5.
  EXPECT_EQ(errors_of("from: 2026-10-05T11:00:00Z\n"
                      "to: +1h\n"
                      "services:\n"
                      "  - id: shop\n"
                      "    tier: high\n"),
            std::vector<std::string>{
                "s.yaml:5:11: tier: expected a whole number from 1 to 4, got \"high\""});
}

// Each bad scenario, with the one error it must give, verbatim.
struct Bad {
  std::string timeline;  // put before the shared config
  std::string error;
};

class BadScenario : public ::testing::TestWithParam<Bad> {};

TEST_P(BadScenario, NamesFileLineAndWhat) {
  const std::string text = GetParam().timeline + std::string(kConfig);
  EXPECT_EQ(errors_of(text), std::vector<std::string>{GetParam().error});
}

INSTANTIATE_TEST_SUITE_P(
    Errors, BadScenario,
    ::testing::Values(
        Bad{"to: +1h\n", "s.yaml:1:1: from: required key is missing"},
        Bad{"from: 2026-10-05 11:00\nto: +1h\n",
            "s.yaml:1:7: from: expected a time in UTC like 2026-10-05T11:16:40Z, got "
            "\"2026-10-05 11:00\""},
        Bad{"from: 2026-10-05T11:00:00Z\nto: 2026-10-05T10:00:00Z\n",
            "s.yaml:2:5: to: expected a time after `from`"},
        Bad{"from: 2026-10-05T11:00:00Z\nto: +1h\nfailure:\n  - service: shop\n",
            "s.yaml:3:1: \"failure\": unknown key; expected config, from, to, failures, "
            "silences, reference_failures, changes, maintenance or the config's sections"},
        Bad{"from: 2026-10-05T11:00:00Z\nto: +1h\nfailures:\n  - service: shop\n    from: +1m\n"
            "    to: +2m\n    stage: http\n",
            "s.yaml:7:12: stage: expected dns, connect, tls, send, status, body or timeout, got "
            "\"http\""},
        Bad{"from: 2026-10-05T11:00:00Z\nto: +1h\nfailures:\n  - service: shop\n    from: +1m\n"
            "    to: +2m\n",
            "s.yaml:4:5: stage: required key is missing (where the checks fail: dns, connect, "
            "tls, send, status, body or timeout)"},
        Bad{"from: 2026-10-05T11:00:00Z\nto: +1h\nfailures:\n  - service: web\n    from: +1m\n"
            "    to: +2m\n    stage: dns\n",
            "s.yaml:4:14: service: no service \"web\" in the config"},
        Bad{"from: 2026-10-05T11:00:00Z\nto: +1h\nfailures:\n  - checks: [shop/home]\n"
            "    locations: [kt-9]\n    from: +1m\n    to: +2m\n    stage: dns\n",
            "s.yaml:5:16: locations: no location \"kt-9\" in the config"},
        Bad{"from: 2026-10-05T11:00:00Z\nto: +1h\nfailures:\n  - service: shop\n    from: +3m\n"
            "    to: +2m\n    stage: dns\n",
            "s.yaml:6:9: to: expected a time after `from`"},
        Bad{"from: 2026-10-05T11:00:00Z\nto: +1h\nsilences:\n  - locations: [kt-1]\n"
            "    from: +1m\n",
            "s.yaml:4:5: to: required key is missing"},
        Bad{"from: 2026-10-05T11:00:00Z\nto: +1h\nreference_failures:\n  - references: [ntp]\n"
            "    from: +1m\n    to: +2m\n    stage: dns\n",
            "s.yaml:4:17: references: no reference \"ntp\" in the config"},
        Bad{"from: 2026-10-05T11:00:00Z\nto: +1h\nchanges:\n  - service: shop\n    at: soon\n",
            "s.yaml:5:9: at: expected a time in UTC like 2026-10-05T11:16:40Z, or +DURATION "
            "after `from` like +16m40s, got \"soon\""},
        Bad{"from: 2026-10-05T11:00:00Z\nto: +1h\nmaintenance:\n  - services: [shop]\n"
            "    from: +1m\n    to: +2m\n",
            "s.yaml:4:5: announced: required key is missing"},
        Bad{"from: 2026-10-05T11:00:00Z\nto: +1000d\n",
            "s.yaml:2:5: to: 34560000 results from `from` to here, over the limit of 5000000; "
            "shorten the time range"}));

TEST(Scenario, ConfigNamedAndInlineAtOnce) {
  EXPECT_EQ(errors_of("config: leeway.yaml\nfrom: 2026-10-05T11:00:00Z\nto: +1h\nlocations: []\n"),
            std::vector<std::string>{"s.yaml:4:1: locations: not with `config:`; give the config's "
                                     "file or its sections inline, not both"});
}

TEST(Scenario, NoConfigAtAll) {
  EXPECT_EQ(errors_of("from: 2026-10-05T11:00:00Z\nto: +1h\n"),
            std::vector<std::string>{"s.yaml: expected `config: FILE` or the config's sections "
                                     "inline (locations, services, references, incidents, ...)"});
}

TEST(Scenario, YamlThatYamlCppWouldNeverFinish) {
  // Read as the config loader reads (config/yaml_document.h): an error, not a hang.
  EXPECT_EQ(errors_of(",x").size(), 1u);
  EXPECT_EQ(errors_of("from: 2026-10-05T11:00:00Z\n---\nto: +1h\n"),
            std::vector<std::string>{"s.yaml:2:1: expected one YAML document per file; use "
                                     "include: for more"});
}

TEST(Scenario, BrokenYamlAndNotAMap) {
  EXPECT_EQ(errors_of("from: [2026\n"),
            std::vector<std::string>{"s.yaml:2:1: invalid YAML: end of sequence flow not found"});
  EXPECT_EQ(errors_of("- a\n"),
            std::vector<std::string>{"s.yaml:1:1: expected a map of keys, one a line (from, to, "
                                     "config or the config's sections, failures, ...), got a "
                                     "list"});
}

}  // namespace
}  // namespace leeway::simulate
