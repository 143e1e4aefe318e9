// The config loader: error fixtures as data (data/cases/NAME.yaml in, NAME.errors out) and the
// loaded model (defaults inheritance, repeatable options, includes, the full example).
#include "config/config.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

namespace leeway::config {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = fs::path(__FILE__).parent_path();
const fs::path kCasesDir = kSourceDir / "data" / "cases";
const fs::path kRepoDir = kSourceDir.parent_path().parent_path();

// Reads files relative to `root`, so that errors name them as the fixtures do.
FileReader reader_at(fs::path root) {
  return [root](const std::string& path) { return read_file((root / path).string()); };
}

std::string error_lines(const LoadResult& result) {
  std::string out;
  for (const auto& error : result.errors) out += error.to_string() + "\n";
  return out;
}

// Every data/cases/NAME.yaml with its expected errors in NAME.errors (empty: the file is valid).
// Set LEEWAY_UPDATE_FIXTURES=1 to write the .errors files from what the loader says, then read
// the diff before committing it.
TEST(ConfigFixtures, ErrorsMatchVerbatim) {
  bool update = std::getenv("LEEWAY_UPDATE_FIXTURES") != nullptr;
  int cases = 0;
  for (const auto& entry : fs::directory_iterator(kCasesDir)) {
    if (entry.path().extension() != ".yaml") continue;
    ++cases;
    std::string name = entry.path().filename().string();
    fs::path expected_path = fs::path(entry.path()).replace_extension(".errors");
    LoadResult result = load_config(name, reader_at(kCasesDir));
    std::string actual = error_lines(result);
    if (update) {
      std::ofstream(expected_path) << actual;
      continue;
    }
    auto expected = read_file(expected_path.string());
    ASSERT_TRUE(expected) << expected_path << " is missing; the loader says:\n" << actual;
    EXPECT_EQ(actual, *expected) << "case " << name;
    EXPECT_EQ(result.ok(), result.config.has_value()) << name;
  }
  EXPECT_GE(cases, 20);
}

LoadResult load(std::string_view yaml) {
  return load_config_text(yaml, "test.yaml", [](const std::string& path) -> Result<std::string> {
    return fail("no includes in this test: ", path);
  });
}

const Config& loaded(const LoadResult& result) {
  EXPECT_TRUE(result.ok()) << error_lines(result);
  static const Config kEmpty;
  return result.config ? *result.config : kEmpty;
}

TEST(ConfigLoader, EmptyFileHasTheDocumentedDefaults) {
  LoadResult result = load("");
  const Config& config = loaded(result);
  EXPECT_EQ(config.server.listen, "127.0.0.1:8080");
  EXPECT_EQ(config.server.store, "leeway.db");
  EXPECT_EQ(config.server.location, "local");
  EXPECT_EQ(config.server.raw_retention_us, 14 * kDayUs);
  EXPECT_EQ(config.server.rollup_retention_us, 400 * kDayUs);
  EXPECT_EQ(config.server.max_concurrent_per_host, 4);
  EXPECT_EQ(config.defaults.interval_us, kMinuteUs);
  EXPECT_EQ(config.defaults.timeout_us, 10 * kSecondUs);
  EXPECT_EQ(config.defaults.locations, std::vector<std::string>{"local"});
  ASSERT_EQ(config.locations.size(), 1u);
  EXPECT_EQ(config.locations[0].id, "local");
  EXPECT_EQ(config.locations[0].kind, "local");
  EXPECT_EQ(config.files, std::vector<std::string>{"test.yaml"});
}

TEST(ConfigLoader, ChecksInheritDefaultsUnlessTheySayOtherwise) {
  LoadResult result = load(R"(
server: {location: berlin}
locations:
  - {id: tokyo, region: ap-northeast, isp: AS2516}
defaults:
  interval: 30s
  timeout: 5s
  locations: [berlin, tokyo]
services:
  - id: api
    name: Public API
    owner: team-api
    tier: 1
    checks:
      - name: inherits
        target: https://api.example.com/
      - name: overrides
        target: tcp://db.example.com:5432
        interval: 2m
        timeout: 1m
        locations: tokyo
)");
  const Config& config = loaded(result);
  ASSERT_EQ(config.locations.size(), 2u);
  // The daemon's own location comes first when the file does not list it.
  EXPECT_EQ(config.locations[0].id, "berlin");
  EXPECT_EQ(config.locations[0].kind, "local");
  EXPECT_EQ(config.locations[1].id, "tokyo");
  EXPECT_EQ(config.locations[1].kind, "agent");
  EXPECT_EQ(config.locations[1].region, "ap-northeast");
  EXPECT_EQ(config.locations[1].isp, "AS2516");
  ASSERT_EQ(config.services.size(), 1u);
  const Service& api = config.services[0];
  EXPECT_EQ(api.name, "Public API");
  EXPECT_EQ(api.owner, "team-api");
  EXPECT_EQ(api.tier, 1);
  ASSERT_EQ(api.checks.size(), 2u);
  const Check& inherits = api.checks[0];
  EXPECT_EQ(inherits.id, "api/inherits");
  EXPECT_EQ(inherits.service_id, "api");
  EXPECT_EQ(inherits.interval_us, 30 * kSecondUs);
  EXPECT_EQ(inherits.spec.timeout_us, 5 * kSecondUs);
  EXPECT_EQ(inherits.locations, (std::vector<std::string>{"berlin", "tokyo"}));
  EXPECT_EQ(inherits.spec.kind, probe::Kind::kHttp);
  const Check& overrides = api.checks[1];
  EXPECT_EQ(overrides.interval_us, 2 * kMinuteUs);
  EXPECT_EQ(overrides.spec.timeout_us, kMinuteUs);
  EXPECT_EQ(overrides.locations, std::vector<std::string>{"tokyo"});
  EXPECT_EQ(overrides.spec.kind, probe::Kind::kTcp);
  EXPECT_EQ(overrides.spec.port, 5432);
}

TEST(ConfigLoader, ServiceNameDefaultsToItsId) {
  LoadResult result = load("services: [{id: api}]");
  EXPECT_EQ(loaded(result).services.at(0).name, "api");
}

TEST(ConfigLoader, RepeatableOptionsTakeAScalarOrAList) {
  LoadResult result = load(R"(
services:
  - id: api
    checks:
      - name: scalar
        target: https://api.example.com/
        header: "X-One: 1"
        expect_status: 200-204
      - name: list
        target: https://api.example.com/
        header: ["X-One: 1", "X-Two: 2"]
        expect_status: [200, 301-302]
)");
  const Config& config = loaded(result);
  ASSERT_EQ(config.check_count(), 2u);
  const auto& scalar = config.services[0].checks[0].spec.http;
  ASSERT_EQ(scalar.headers.size(), 1u);
  EXPECT_EQ(scalar.headers[0], (std::pair<std::string, std::string>{"X-One", "1"}));
  EXPECT_EQ(scalar.expect_status, (std::vector<probe::StatusRange>{{200, 204}}));
  const auto& list = config.services[0].checks[1].spec.http;
  ASSERT_EQ(list.headers.size(), 2u);
  EXPECT_EQ(list.headers[1], (std::pair<std::string, std::string>{"X-Two", "2"}));
  EXPECT_EQ(list.expect_status, (std::vector<probe::StatusRange>{{200, 200}, {301, 302}}));
}

TEST(ConfigLoader, ScalarsOfAnyYamlTypeAreOptionText) {
  LoadResult result = load(R"(
services:
  - id: api
    checks:
      - name: http
        target: https://api.example.com/
        follow_redirects: no
        insecure: true
        json_equals: 42
        degraded_after: 1.5s
      - name: ping
        target: icmp://127.0.0.1
        count: 5
        degraded_loss: 20%
        ip: 4
)");
  const Config& config = loaded(result);
  ASSERT_EQ(config.check_count(), 2u);
  const probe::CheckSpec& http = config.services[0].checks[0].spec;
  EXPECT_EQ(http.http.follow_redirects, probe::Redirects::kNone);
  EXPECT_TRUE(http.http.insecure);
  EXPECT_EQ(http.http.json_equals, "42");
  EXPECT_EQ(http.degraded_after_us, 1'500'000);
  const probe::CheckSpec& ping = config.services[0].checks[1].spec;
  EXPECT_EQ(ping.icmp.count, 5);
  EXPECT_EQ(ping.icmp.degraded_loss_percent, 20);
  EXPECT_EQ(ping.family, probe::IpFamily::kV4);
}

TEST(ConfigLoader, IncludesAreReadRelativeToTheIncludingFile) {
  std::map<std::string, std::string> files = {
      {"conf/leeway.yaml", "include: [teams/a.yaml]\nservices: [{id: main}]\n"},
      {"conf/teams/a.yaml", "include: ../shared/locations.yaml\nservices: [{id: a}]\n"},
      {"conf/shared/locations.yaml", "locations: [{id: eu-west}]\n"},
  };
  FileReader read = [&files](const std::string& path) -> Result<std::string> {
    auto it = files.find(path);
    if (it == files.end()) return fail("no such file");
    return it->second;
  };
  LoadResult result = load_config("conf/leeway.yaml", read);
  const Config& config = loaded(result);
  EXPECT_EQ(config.files, (std::vector<std::string>{"conf/leeway.yaml", "conf/teams/a.yaml",
                                                    "conf/shared/locations.yaml"}));
  ASSERT_EQ(config.services.size(), 2u);
  EXPECT_EQ(config.services[1].id, "a");
  EXPECT_NE(config.find_location("eu-west"), nullptr);
}

TEST(ConfigLoader, UnreadableMainFileIsOneErrorWithoutPosition) {
  LoadResult result = load_config((kCasesDir / "no-such-file.yaml").string());
  ASSERT_EQ(result.errors.size(), 1u);
  EXPECT_EQ(result.errors[0].line, 0);
  EXPECT_NE(result.errors[0].to_string().find("no-such-file.yaml: cannot read: "),
            std::string::npos);
  EXPECT_FALSE(result.config);
}

TEST(ConfigLoader, ReportsEveryErrorButNotEndlessly) {
  std::string yaml = "services:\n";
  for (int i = 0; i < 500; ++i) yaml += "  - {id: api, tier: 9}\n";
  LoadResult result = load(yaml);
  ASSERT_EQ(result.errors.size(), 101u);
  EXPECT_EQ(result.errors.back().to_string(), "test.yaml: too many errors; stopped after 100");
}

// A large, realistic file: every section, every kind of check.
TEST(ConfigLoader, FullExampleIsValid) {
  fs::path examples = kRepoDir / "examples";
  LoadResult result = load_config("full.yaml", reader_at(examples));
  const Config& config = loaded(result);
  EXPECT_GE(config.services.size(), 4u);
  EXPECT_GE(config.check_count(), 10u);
  EXPECT_GE(config.locations.size(), 3u);
  std::map<probe::Kind, int> kinds;
  for (const auto& service : config.services)
    for (const auto& check : service.checks) ++kinds[check.spec.kind];
  EXPECT_EQ(kinds.size(), 5u) << "every kind of check appears";
}

}  // namespace
}  // namespace leeway::config
