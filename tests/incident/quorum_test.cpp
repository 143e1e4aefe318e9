// The quorum, from the cases in data/quorum*.cases: locations' latest results in, the check's
// state out. See data/quorum.cases for the format.
#include "incident/quorum.h"

#include <gtest/gtest.h>

#include "incident/cases.h"

namespace leeway::incident {
namespace {

const std::filesystem::path kDataDir =
    std::filesystem::path(LEEWAY_SOURCE_DIR) / "tests" / "incident" / "data";
constexpr TimeUs kNowUs = 1'800'000'000 * kSecondUs;

probe::Outcome outcome_from(const std::string& word, const std::string& where) {
  for (probe::Outcome o : {probe::Outcome::kUp, probe::Outcome::kDegraded, probe::Outcome::kDown,
                           probe::Outcome::kUnknown}) {
    if (probe::to_string(o) == word) return o;
  }
  throw std::runtime_error(where + ": unknown outcome " + word);
}

DurationUs duration_from(const std::string& word, const std::string& where) {
  auto d = parse_duration(word);
  if (!d) throw std::runtime_error(where + ": bad duration " + word);
  return *d;
}

// location ID [isp=I] [region=R] (never | ago=DURATION OUTCOME[/STAGE]) [awaited=DURATION]
LocationReport location_from(const testing::Line& line) {
  LocationReport r;
  r.location = line.words.at(1);
  for (std::size_t i = 2; i < line.words.size(); ++i) {
    const std::string& w = line.words[i];
    if (w.rfind("isp=", 0) == 0) {
      r.labels.isp = w.substr(4);
    } else if (w.rfind("region=", 0) == 0) {
      r.labels.region = w.substr(7);
    } else if (w.rfind("ago=", 0) == 0) {
      r.last_us = kNowUs - duration_from(w.substr(4), line.where);
    } else if (w.rfind("awaited=", 0) == 0) {
      r.awaited_since_us = kNowUs - duration_from(w.substr(8), line.where);
    } else if (w == "never") {
      r.last_us.reset();
    } else {
      const std::size_t slash = w.find('/');
      r.outcome = outcome_from(w.substr(0, slash), line.where);
      if (slash != std::string::npos) {
        auto stage = probe::stage_from_string(w.substr(slash + 1));
        if (!stage) throw std::runtime_error(line.where + ": unknown stage " + w);
        r.stage = *stage;
      }
    }
  }
  return r;
}

TEST(Quorum, Cases) {
  const auto cases = testing::read_cases(kDataDir, "quorum");
  ASSERT_FALSE(cases.empty());
  for (const testing::Case& c : cases) {
    SCOPED_TRACE(c.where + ": " + c.name);
    QuorumOptions options;
    std::vector<LocationReport> reports;
    std::vector<const testing::Line*> expectations;
    for (const testing::Line& line : c.lines) {
      const std::string& d = line.words.at(0);
      if (d == "interval") {
        options.interval_us = duration_from(line.words.at(1), line.where);
      } else if (d == "silent_after") {
        options.silent_after_intervals = std::stoi(line.words.at(1));
      } else if (d == "down_when") {
        options.down_when = line.words.at(1) == "at_least"
                                ? DownWhen::at_least(std::stoi(line.words.at(2)))
                                : DownWhen::more_than(std::stod(line.words.at(2)));
      } else if (d == "location") {
        reports.push_back(location_from(line));
      } else if (d == "expect") {
        expectations.push_back(&line);
      } else {
        FAIL() << line.where << ": unknown directive " << d;
      }
    }
    const Quorum q = decide_quorum(reports, kNowUs, options);
    for (const testing::Line* line : expectations) {
      SCOPED_TRACE(line->where);
      const std::string& what = line->words.at(1);
      const std::string& want = line->words.at(2);
      if (what == "state") {
        EXPECT_EQ(to_string(q.state), want) << q.reason;
      } else if (what == "networks_down") {
        EXPECT_EQ(std::to_string(q.networks_down) + "/" + std::to_string(q.networks_reporting),
                  want);
      } else if (what == "silent") {
        EXPECT_EQ(std::to_string(q.locations_silent), want);
      } else if (what == "reason") {
        EXPECT_EQ(q.reason, want);
      } else {
        FAIL() << "unknown expectation " << what;
      }
    }
  }
}

}  // namespace
}  // namespace leeway::incident
