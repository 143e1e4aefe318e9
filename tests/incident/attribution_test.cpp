// Attribution and change correlation, from the cases in data/attribution*.cases: what each
// location sees in, the verdict, its evidence and the sentence out. See data/attribution.cases
// for the format.
#include "incident/attribution.h"

#include <gtest/gtest.h>

#include "incident/cases.h"

namespace leeway::incident {
namespace {

const std::filesystem::path kDataDir =
    std::filesystem::path(LEEWAY_SOURCE_DIR) / "tests" / "incident" / "data";

TimeUs time_from(const std::string& word, const std::string& where) {
  auto t = parse_rfc3339(word);
  if (!t) throw std::runtime_error(where + ": bad time " + word);
  return *t;
}

// A check's status: up, degraded, down/STAGE, unknown or silent.
CheckStatus status_from(const std::string& check, const std::string& word,
                        const std::string& where) {
  CheckStatus s{check};
  const std::string outcome = word.substr(0, word.find('/'));
  if (outcome == "silent") {
    s.silent = true;
  } else if (outcome == "up") {
    s.outcome = probe::Outcome::kUp;
  } else if (outcome == "degraded") {
    s.outcome = probe::Outcome::kDegraded;
  } else if (outcome == "down") {
    s.outcome = probe::Outcome::kDown;
  } else if (outcome == "unknown") {
    s.outcome = probe::Outcome::kUnknown;
  } else {
    throw std::runtime_error(where + ": unknown status " + word);
  }
  if (const std::size_t slash = word.find('/'); slash != std::string::npos) {
    auto stage = probe::stage_from_string(word.substr(slash + 1));
    if (!stage) throw std::runtime_error(where + ": unknown stage " + word);
    s.stage = *stage;
  }
  return s;
}

// location ID [isp=I] [region=R] [refs=up|down|none] CHECK=STATUS...
LocationEvidence location_from(const testing::Line& line) {
  LocationEvidence l;
  l.location = line.words.at(1);
  for (std::size_t i = 2; i < line.words.size(); ++i) {
    const std::string& w = line.words[i];
    const std::size_t eq = w.find('=');
    if (eq == std::string::npos) throw std::runtime_error(line.where + ": expected key=value");
    const std::string key = w.substr(0, eq), value = w.substr(eq + 1);
    if (key == "isp") {
      l.labels.isp = value;
    } else if (key == "region") {
      l.labels.region = value;
    } else if (key == "refs") {
      l.references = value == "up"     ? ReferenceHealth::kUp
                     : value == "down" ? ReferenceHealth::kDown
                                       : ReferenceHealth::kNone;
    } else {
      l.checks.push_back(status_from(key, value, line.where));
    }
  }
  return l;
}

TEST(Attribution, Cases) {
  const auto cases = testing::read_cases(kDataDir, "attribution");
  ASSERT_FALSE(cases.empty());
  for (const testing::Case& c : cases) {
    SCOPED_TRACE(c.where + ": " + c.name);
    std::string service = "shop-web";
    TimeUs start_us = 0;
    DurationUs window_us = kDefaultChangeWindowUs;
    std::vector<LocationEvidence> locations;
    std::vector<Change> changes;
    std::vector<const testing::Line*> expectations;
    for (const testing::Line& line : c.lines) {
      const std::string& d = line.words.at(0);
      if (d == "service") {
        service = line.words.at(1);
      } else if (d == "start") {
        start_us = time_from(line.words.at(1), line.where);
      } else if (d == "window") {
        window_us = *parse_duration(line.words.at(1));
      } else if (d == "location") {
        locations.push_back(location_from(line));
      } else if (d == "change") {
        changes.push_back({time_from(line.words.at(1), line.where), line.words.at(2),
                           line.words.at(3),
                           line.words.size() > 4 && line.words[4] == "improvement"});
      } else if (d == "expect") {
        expectations.push_back(&line);
      } else {
        FAIL() << line.where << ": unknown directive " << d;
      }
    }
    const Verdict v = attribute(locations);
    const ChangeCorrelation correlation = correlate_changes(changes, start_us, v, window_us);
    const std::string sentence = describe(service, start_us, v, locations, correlation);
    std::string evidence;
    for (const std::string& e : v.evidence) evidence += e + "\n";
    for (const testing::Line* line : expectations) {
      SCOPED_TRACE(line->where);
      const std::string& what = line->words.at(1);
      const std::string want = line->words.size() > 2 ? line->words[2] : "";
      if (what == "verdict") {
        EXPECT_EQ(v.name, want) << v.reason << "\n" << evidence;
      } else if (what == "confidence_at_least") {
        EXPECT_GE(v.confidence, std::stod(want));
      } else if (what == "confidence_below") {
        EXPECT_LT(v.confidence, std::stod(want));
      } else if (what == "reason") {
        EXPECT_EQ(v.reason, want);
      } else if (what == "evidence") {
        EXPECT_NE(evidence.find(want), std::string::npos) << evidence;
      } else if (what == "cause") {
        ASSERT_TRUE(correlation.likely_cause.has_value());
        EXPECT_EQ(correlation.likely_cause->description, want);
      } else if (what == "no_cause") {
        EXPECT_FALSE(correlation.likely_cause.has_value());
      } else if (what == "changes_before") {
        EXPECT_EQ(std::to_string(correlation.before.size()), want);
      } else if (what == "sentence") {
        EXPECT_EQ(sentence, want);
      } else {
        FAIL() << "unknown expectation " << what;
      }
    }
  }
}

}  // namespace
}  // namespace leeway::incident
