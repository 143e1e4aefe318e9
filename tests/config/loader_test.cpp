// The config loader: error fixtures as data (data/cases/NAME.yaml in, NAME.errors out) and the
// loaded model (defaults inheritance, repeatable options, includes, the full example).
#include "config/config.h"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

namespace leeway::config {
namespace {

namespace fs = std::filesystem;

const fs::path kSourceDir = fs::path(LEEWAY_SOURCE_DIR) / "tests" / "config";
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

TEST(ConfigLoader, IncidentsAndReferences) {
  const LoadResult empty = load("");
  const Config& defaults = loaded(empty);
  EXPECT_EQ(defaults.incidents.confirm, 2);
  EXPECT_EQ(defaults.incidents.recover, 2);
  EXPECT_EQ(defaults.incidents.silent_after_intervals, 3);
  EXPECT_FALSE(defaults.incidents.down_when.is_count);
  EXPECT_EQ(defaults.incidents.down_when.fraction, 0.5);
  EXPECT_EQ(defaults.incidents.change_window_us, kHourUs);
  EXPECT_EQ(defaults.incidents.reopen_within_us, 5 * kMinuteUs);
  EXPECT_TRUE(defaults.references.empty());

  LoadResult result = load(R"(
locations:
  - {id: kt-1, isp: kt}
  - {id: skb-1, isp: skb}
incidents: {confirm: 3, recover: 1, silent_after: 2, down_when: 2, change_window: 30m,
            reopen_within: 10m}
references:
  - name: other-site
    target: https://status.example.org/
    expect_status: 200-299
  - name: resolver
    target: dns://1.1.1.1/example.org
    interval: 30s
    locations: [kt-1]
)");
  const Config& config = loaded(result);
  EXPECT_EQ(config.incidents.confirm, 3);
  EXPECT_EQ(config.incidents.recover, 1);
  EXPECT_EQ(config.incidents.silent_after_intervals, 2);
  EXPECT_TRUE(config.incidents.down_when.is_count);
  EXPECT_EQ(config.incidents.down_when.networks, 2);
  EXPECT_EQ(config.incidents.change_window_us, 30 * kMinuteUs);
  EXPECT_EQ(config.incidents.reopen_within_us, 10 * kMinuteUs);
  ASSERT_EQ(config.references.size(), 2u);
  EXPECT_EQ(config.references[0].id, "reference:other-site");
  EXPECT_EQ(config.references[0].service_id, "");
  // Every location probes a reference unless it says which.
  EXPECT_EQ(config.references[0].locations, (std::vector<std::string>{"local", "kt-1", "skb-1"}));
  EXPECT_EQ(config.references[1].locations, std::vector<std::string>{"kt-1"});
  EXPECT_EQ(config.references[1].interval_us, 30 * kSecondUs);
  EXPECT_EQ(config.references[1].spec.kind, probe::Kind::kDns);

  for (const auto& [text, share] : {std::pair{"75%", 0.75}, std::pair{"0.25", 0.25}}) {
    const LoadResult shared = load(std::string("incidents: {down_when: ") + text + "}");
    EXPECT_EQ(loaded(shared).incidents.down_when.fraction, share) << text;
  }
}

TEST(ConfigLoader, ServiceNameDefaultsToItsId) {
  LoadResult result = load("services: [{id: api}]");
  EXPECT_EQ(loaded(result).services.at(0).name, "api");
}

TEST(ConfigLoader, GatePolicyUnderAService) {
  const GatePolicy defaults = loaded(load("services: [{id: api}]")).services.at(0).gate;
  EXPECT_DOUBLE_EQ(defaults.min_budget_remaining, 0.10);
  EXPECT_TRUE(defaults.hold_on_page);
  EXPECT_TRUE(defaults.hold_while_incident);
  const GatePolicy set =
      loaded(load("services: [{id: api, gate: {min_budget_remaining: 25%, hold_on_page: false, "
                  "hold_while_incident: false}}]"))
          .services.at(0)
          .gate;
  EXPECT_DOUBLE_EQ(set.min_budget_remaining, 0.25);
  EXPECT_FALSE(set.hold_on_page);
  EXPECT_FALSE(set.hold_while_incident);
  LoadResult bad = load("services: [{id: api, gate: {min_budget_remaining: lots}}]");
  ASSERT_EQ(bad.errors.size(), 1u);
  EXPECT_NE(bad.errors[0].message.find("min_budget_remaining: expected a share of the budget"),
            std::string::npos)
      << bad.errors[0].message;
}

TEST(ConfigLoader, MaintenanceWindowsAreReadInUtc) {
  const LoadResult result = load(
      "services: [{id: api}, {id: web}]\n"
      "maintenance:\n"
      "  - {start: '2026-11-03T02:00:00+09:00', end: '2026-11-03T04:30:00+09:00',\n"
      "     services: [web, api], announced: '2026-10-20T01:00:00Z', description: upgrade}\n"
      "  - {start: '2026-11-04T00:00:00Z', end: '2026-11-04T01:00:00Z', services: web,\n"
      "     announced: '2026-11-01T00:00:00-05:00'}\n");
  const Config& config = loaded(result);
  ASSERT_EQ(config.maintenance.size(), 2u);
  const Maintenance& first = config.maintenance[0];
  EXPECT_EQ(format_rfc3339(first.start_us), "2026-11-02T17:00:00.000000Z");
  EXPECT_EQ(first.end_us - first.start_us, 2 * kHourUs + 30 * kMinuteUs);
  EXPECT_EQ(first.services, (std::vector<std::string>{"web", "api"}));
  EXPECT_EQ(format_rfc3339(first.announced_us), "2026-10-20T01:00:00.000000Z");
  EXPECT_EQ(first.description, "upgrade");
  EXPECT_EQ(config.maintenance[1].services, (std::vector<std::string>{"web"}));
  EXPECT_EQ(format_rfc3339(config.maintenance[1].announced_us), "2026-11-01T05:00:00.000000Z");
  EXPECT_EQ(config.maintenance[1].description, "");
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

// What a hostile or careless config could do to the daemon is refused, each with its place.
TEST(ConfigLoader, DangerousValuesAreRefused) {
  std::string long_id(201, 'a');
  LoadResult result = load(
      "defaults:\n"
      "  interval: 500ms\n"
      "services:\n"
      "  - id: web\n"
      "    name: \"caf\xe9\"\n"
      "    owner: \"nul\\0inside\"\n"
      "    checks:\n"
      "      - name: fast\n"
      "        target: http://127.0.0.1/\n"
      "        interval: 1us\n"
      "        timeout: 1us\n"
      "      - name: nul\n"
      "        target: \"http://127.0.0.1/ok\\0http://169.254.169.254/\"\n"
      "      - name: crlf\n"
      "        target: http://127.0.0.1/\n"
      "        header: \"X-A: b\\r\\nX-Injected: yes\"\n"
      "      - name: bad-name\n"
      "        target: http://127.0.0.1/\n"
      "        header: \"X A: b\"\n"
      "  - id: " +
      long_id +
      "\n"
      "  - id: \"\xff\xfe\"\n");
  EXPECT_EQ(error_lines(result),
            "test.yaml:2:13: interval: expected a duration of at least 1s, got \"500ms\"\n"
            "test.yaml:5:11: name: expected UTF-8 text, got \"caf\\xe9\"\n"
            "test.yaml:6:12: owner: expected text without NUL characters, got \"nul\\x00inside\"\n"
            "test.yaml:10:19: interval: expected a duration of at least 1s, got \"1us\"\n"
            "test.yaml:13:17: target: expected text without NUL characters, got "
            "\"http://127.0.0.1/ok\\x00http://169.254.169.254/\"\n"
            "test.yaml:16:17: header: expected a header like \"Name: value\" with a name of "
            "letters, digits or -_.!#$%&'*+^`|~ and no line breaks, got "
            "\"X-A: b\\x0d\\x0aX-Injected: yes\"\n"
            "test.yaml:19:17: header: expected a header like \"Name: value\" with a name of "
            "letters, digits or -_.!#$%&'*+^`|~ and no line breaks, got \"X A: b\"\n"
            "test.yaml:20:9: id: 201 bytes long; at most 200\n"
            "test.yaml:21:9: id: expected UTF-8 text, got \"\\xff\\xfe\"\n");
  EXPECT_FALSE(result.config);
}

// The config and `leeway check` read durations through the same table.
TEST(ConfigLoader, DurationsReadAsLeewayCheckReadsThem) {
  LoadResult result = load(
      "services:\n"
      "  - id: web\n"
      "    checks:\n"
      "      - {name: a, target: http://127.0.0.1/, timeout: 10000000us, interval: 10m}\n");
  EXPECT_EQ(loaded(result).services.at(0).checks.at(0).spec.timeout_us, 10 * kSecondUs);
}

// Real files on disk: what `include:` may open and how much of it it reads.
class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("leeway_loader_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }

  LoadResult load_main(const std::string& text) {
    write("main.yaml", text);
    return load_config("main.yaml", [this](const std::string& path) {
      ++reads_;
      return read_file((dir_ / path).string());
    });
  }

  fs::path dir_;
  int reads_ = 0;
};

TEST_F(ConfigFiles, OnlyRegularFilesAreRead) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  fs::create_directory(dir_ / "dir");
  LoadResult result = load_main("include: [fifo, dir, /dev/zero]\n");
  EXPECT_EQ(error_lines(result),
            "main.yaml:1:11: include: cannot read \"fifo\": not a regular file\n"
            "main.yaml:1:17: include: cannot read \"dir\": is a directory, not a file\n"
            "main.yaml:1:22: include: cannot read \"/dev/zero\": not a regular file\n");
}

TEST_F(ConfigFiles, FilesOverTheLimitsAreRefused) {
  std::string big = "# " + std::string(kMaxConfigFileBytes, 'x') + "\n";
  write("big.yaml", big);
  LoadResult result = load_main("include: big.yaml\n");
  EXPECT_EQ(error_lines(result),
            "main.yaml:1:10: include: cannot read \"big.yaml\": 4194307 bytes, over the limit "
            "of 4 MiB for one file\n");

  // Files under the limit each, over it together.
  std::string part = "# " + std::string(kMaxConfigFileBytes - 100, 'x') + "\n";
  for (int i = 0; i < 5; ++i) write("part" + std::to_string(i) + ".yaml", part);
  result = load_main("include: [part0.yaml, part1.yaml, part2.yaml, part3.yaml, part4.yaml]\n");
  EXPECT_EQ(error_lines(result),
            "main.yaml:1:59: include: \"part4.yaml\" takes the config over 16 MiB in all\n");
}

// Each file includes the next one twice: read once each, not 2^25 times.
TEST_F(ConfigFiles, AFileIncludedTwiceIsReadOnce) {
  constexpr int kFiles = 25;
  for (int i = 1; i < kFiles; ++i) {
    std::string next = "f" + std::to_string(i + 1) + ".yaml";
    std::string text = "services: [{id: s" + std::to_string(i) + "}]\n";
    if (i + 1 < kFiles) text += "include: [" + next + ", " + next + "]\n";
    write("f" + std::to_string(i) + ".yaml", text);
  }
  LoadResult result = load_main("include: [f1.yaml, f1.yaml]\n");
  const Config& config = loaded(result);
  EXPECT_EQ(config.services.size(), kFiles - 1u);
  EXPECT_EQ(reads_, kFiles);
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

// SLOs: defaults (window 30d, method by SLI, the workbook's alerts, every check of the service)
// and what each key sets.
TEST(ConfigLoader, SlosUnderAService) {
  LoadResult result = load_config("slos_valid.yaml", reader_at(kCasesDir));
  const Config& config = loaded(result);
  auto slos = config.slos();
  ASSERT_EQ(slos.size(), 3u);
  const slo::SloSpec& up = slos[0];
  EXPECT_EQ(up.id, "shop-up");
  EXPECT_EQ(up.service, "shop");
  EXPECT_EQ(up.sli, slo::Sli::kAvailabilityMinutes);
  EXPECT_EQ(up.objective.billionths, 999'000'000);
  EXPECT_EQ(up.window, (slo::Window{30 * kDayUs, ""}));
  EXPECT_EQ(up.method, slo::Method::kTimeslices);
  EXPECT_EQ(up.checks, (std::vector<std::string>{"shop/home", "shop/api"}));
  EXPECT_EQ(up.alerts, slo::default_burn_conditions());
  EXPECT_EQ(slo::check_spec(up), "");

  const slo::SloSpec& month = slos[1];
  EXPECT_EQ(month.window, (slo::Window{0, "Asia/Seoul"}));
  EXPECT_EQ(month.method, slo::Method::kRatioTimeslices);
  EXPECT_EQ(month.checks, std::vector<std::string>{"shop/api"});

  const slo::SloSpec& latency = slos[2];
  EXPECT_EQ(latency.threshold_us, 250 * kMillisecondUs);
  EXPECT_EQ(latency.slice_target.billionths, 1'000'000'000);
  EXPECT_EQ(latency.window.rolling_us, 7 * kDayUs);
  EXPECT_EQ(
      latency.alerts,
      (std::vector<slo::BurnCondition>{{slo::Severity::kPage, 10, 2 * kHourUs, 10 * kMinuteUs}}));
  for (const auto& spec : slos) EXPECT_EQ(slo::check_spec(spec), "") << spec.id;
}

}  // namespace
}  // namespace leeway::config
