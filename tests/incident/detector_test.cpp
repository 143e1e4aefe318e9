// The detector: incidents from committed results, at the results' times, the same whatever order
// and batches the results arrive in (late ones from an agent's spool included).
#include "incident/detector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

namespace leeway::incident {
namespace {

constexpr TimeUs kStartUs = 1'635'160'000 * kSecondUs;  // 2021-10-25T11:06:40Z
constexpr DurationUs kIntervalUs = 10 * kSecondUs;

TimeUs round_us(int round) {
  return kStartUs + round * kIntervalUs;
}

// Four vantages: two behind kt, one behind skb, one behind lgu; each runs shop-web/home and a
// reference check.
DetectorOptions options() {
  DetectorOptions o;
  o.checks["shop-web/home"] = {"shop-web", kIntervalUs};
  for (const char* name : {"kt-1", "kt-2", "skb-1", "lgu-1"}) {
    const std::string isp = std::string(name).substr(0, std::string(name).find('-'));
    o.locations[name] = {{isp, "seoul"}, {"ref"}, kIntervalUs};
  }
  return o;
}

struct Sample {
  probe::Outcome outcome = probe::Outcome::kUp;
  probe::Stage stage = probe::Stage::kNone;
};
// What a location's check sees in a round; nullopt: no result (silent).
using Scenario = std::function<std::optional<Sample>(int round, const std::string& location,
                                                     const std::string& check)>;

std::vector<store::Committed> results(int rounds, const Scenario& scenario) {
  std::vector<store::Committed> out;
  for (int round = 0; round < rounds; ++round) {
    for (const char* location : {"kt-1", "kt-2", "skb-1", "lgu-1"}) {
      for (const char* check : {"shop-web/home", "ref"}) {
        const std::optional<Sample> sample = scenario(round, location, check);
        if (!sample) continue;
        store::StoredResult r;
        r.check = check;
        r.location = location;
        r.started_us = round_us(round) + kSecondUs;  // each round's results start 1s in
        r.outcome = sample->outcome;
        r.stage = sample->stage;
        out.push_back({std::int64_t(out.size() + 1), r});
      }
    }
  }
  return out;
}

// ISP kt is down in rounds [5, 12): its vantages fail at dns and reach no reference either.
std::optional<Sample> kt_down(int round, const std::string& location, const std::string&) {
  if (location.rfind("kt-", 0) == 0 && round >= 5 && round < 12) {
    return Sample{probe::Outcome::kDown, probe::Stage::kDns};
  }
  return Sample{};
}

std::vector<Incident> detect(const std::vector<store::Committed>& all, std::size_t batch,
                             unsigned shuffle_seed) {
  std::vector<store::Committed> order = all;
  if (shuffle_seed != 0) std::shuffle(order.begin(), order.end(), std::mt19937(shuffle_seed));
  Detector detector(options());
  for (std::size_t i = 0; i < order.size(); i += batch) {
    const std::size_t n = std::min(batch, order.size() - i);
    detector.add(std::span(order).subspan(i, n));
  }
  return detector.incidents();
}

TEST(Detector, AnIspOutageIsOneIncidentAtTheResultsTimes) {
  const std::vector<Incident> incidents = detect(results(20, kt_down), 1000, 0);
  ASSERT_EQ(incidents.size(), 1u);
  const Incident& i = incidents[0];
  EXPECT_EQ(i.service, "shop-web");
  EXPECT_EQ(i.opened_us, round_us(5) + kSecondUs);  // the first failure, not its confirmation
  EXPECT_EQ(i.id, "shop-web@" + format_rfc3339(round_us(5) + kSecondUs));
  ASSERT_TRUE(i.resolved_us.has_value());
  // Back at the first of the two successes (round 12) that confirm it, as it went down at the
  // first of the two failures: the outage is rounds 5 to 11, seven intervals, not eight.
  EXPECT_EQ(*i.resolved_us, round_us(12) + kSecondUs);
  EXPECT_EQ(i.checks, std::set<std::string>{"shop-web/home"});
  const std::map<std::string, std::set<probe::Stage>> locations = {{"kt-1", {probe::Stage::kDns}},
                                                                   {"kt-2", {probe::Stage::kDns}}};
  EXPECT_EQ(i.locations, locations);
  EXPECT_EQ(i.worst, probe::Outcome::kDown);
  EXPECT_EQ(i.verdict.name, "network:kt");
  EXPECT_EQ(i.summary,
            "shop-web is unreachable from the vantages behind ISP kt (dns failures) since "
            "11:07:31; reachable from lgu and skb; kt's vantages cannot reach their reference "
            "targets either; nothing was deployed in the 60 minutes before: network: kt");
  std::vector<std::string> timeline;
  for (const TimelineEvent& e : i.timeline) {
    timeline.push_back(format_rfc3339(e.at_us).substr(11, 8) + " " +
                       std::string(to_string(e.kind)) + ": " + e.text);
  }
  const std::vector<std::string> expected = {
      "11:07:31 opened: opened",
      "11:07:31 location down: kt-1 sees shop-web/home down (dns)",
      "11:07:31 location down: kt-2 sees shop-web/home down (dns)",
      "11:07:41 attribution changed: attribution: network:kt",
      "11:08:41 location back: kt-1 sees shop-web/home up again",
      "11:08:41 location back: kt-2 sees shop-web/home up again",
      "11:08:41 resolved: resolved",
  };
  EXPECT_EQ(timeline, expected);
}

TEST(Detector, OneFailureIsNotAnIncident) {
  const auto blip = [](int round, const std::string& location,
                       const std::string& check) -> std::optional<Sample> {
    if (location == "skb-1" && check == "shop-web/home" && round == 4) {
      return Sample{probe::Outcome::kDown, probe::Stage::kTimeout};
    }
    return Sample{};
  };
  EXPECT_TRUE(detect(results(10, blip), 1000, 0).empty());
}

TEST(Detector, ResultsInAnyOrderAndBatchesGiveTheSameIncidents) {
  const std::vector<store::Committed> all = results(20, kt_down);
  const std::vector<Incident> in_order = detect(all, 1000, 0);
  ASSERT_EQ(in_order.size(), 1u);
  for (unsigned seed : {1u, 2u, 3u}) {
    for (std::size_t batch : {7u, 50u}) {
      EXPECT_EQ(detect(all, batch, seed), in_order) << "seed " << seed << ", batch " << batch;
    }
  }
  // One result at a time replays the history on every result: once is enough.
  EXPECT_EQ(detect(all, 1, 4), in_order);
}

// Results in time order, a round per batch, extend the replay instead of starting it again.
TEST(Detector, ResultsInTimeOrderGiveTheSameIncidentsAsOneBatch) {
  const std::vector<store::Committed> all = results(20, kt_down);
  const std::vector<Incident> at_once = detect(all, all.size(), 0);
  ASSERT_EQ(at_once.size(), 1u);
  EXPECT_EQ(detect(all, 8, 0), at_once);  // 8 results per round
  EXPECT_EQ(detect(all, 3, 0), at_once);  // rounds split across batches
}

TEST(Detector, ResultsSentAgainAreCountedOnce) {
  std::vector<store::Committed> all = results(20, kt_down);
  const std::vector<Incident> once = detect(all, 1000, 0);
  const std::vector<store::Committed> copy = all;
  all.insert(all.end(), copy.begin(), copy.end());
  EXPECT_EQ(detect(all, 13, 0), once);
}

// ISP kt is cut in rounds [5, 12): its agents cannot reach the server, fall silent and spool
// their failures, which arrive after the cut.
TEST(Detector, SpooledResultsRewriteTheIncidentFromTheCutOnward) {
  const std::vector<store::Committed> all = results(20, kt_down);
  std::vector<store::Committed> others, spooled;
  for (const store::Committed& c : all) {
    const bool behind_kt = c.result.location.rfind("kt-", 0) == 0;
    const bool during_cut =
        c.result.started_us >= round_us(5) && c.result.started_us < round_us(12);
    (behind_kt && during_cut ? spooled : others).push_back(c);
  }
  Detector detector(options());
  // Before the spool arrives, kt has only fallen silent: an incident laid at kt, not the service.
  detector.add(std::span(others).first(others.size() / 2));
  std::vector<Incident> before = detector.incidents();
  ASSERT_EQ(before.size(), 1u);
  EXPECT_EQ(before[0].verdict.name, "network:kt");
  EXPECT_GT(before[0].opened_us, round_us(5));

  detector.add(std::span(others).subspan(others.size() / 2));
  detector.add(spooled);
  EXPECT_EQ(detector.incidents(), detect(all, 1000, 0));
  EXPECT_EQ(detector.incidents()[0].opened_us, round_us(5) + kSecondUs);
}

// A lossy link behind skb: its vantage fails two rounds in four for a while.
TEST(Detector, FlappingIsOneIncidentReopened) {
  const auto lossy = [](int round, const std::string& location,
                        const std::string& check) -> std::optional<Sample> {
    if (location == "skb-1" && check == "shop-web/home" && round >= 3 && round < 30 &&
        round % 4 < 2) {
      return Sample{probe::Outcome::kDown, probe::Stage::kTimeout};
    }
    return Sample{};
  };
  const std::vector<Incident> incidents = detect(results(40, lossy), 1000, 0);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].reopened, 6);
  EXPECT_EQ(incidents[0].verdict.name, "network:skb");
  // Its last failures are rounds 28 and 29: back at round 30, the first of the two successes.
  EXPECT_EQ(*incidents[0].resolved_us, round_us(30) + kSecondUs);
}

// kt fails in rounds [5, 12); a change is deployed at round 13; from round 14 the service fails
// everywhere. Soon after it resolved, so the same incident reopens, but the new spell gets its
// own verdict, "since" its own start and the change before it, not the first spell's.
TEST(Detector, AReopenedIncidentTellsItsNewSpell) {
  const auto spells = [](int round, const std::string& location,
                         const std::string& check) -> std::optional<Sample> {
    if (check != "shop-web/home") return Sample{};
    if (round >= 14 && round < 20) return Sample{probe::Outcome::kDown, probe::Stage::kConnect};
    return kt_down(round, location, check);
  };
  Detector detector(options());
  detector.record_change("shop-web", {round_us(13), "deploy", "v2.4", false});
  detector.add(results(30, spells));
  const std::vector<Incident> incidents = detector.incidents();
  ASSERT_EQ(incidents.size(), 1u);
  const Incident& i = incidents[0];
  EXPECT_EQ(i.reopened, 1);
  EXPECT_EQ(spell_start(i), round_us(14) + kSecondUs);
  EXPECT_EQ(i.verdict.name, "service");
  const std::string since = format_rfc3339(round_us(14) + kSecondUs).substr(11, 8);
  EXPECT_NE(i.summary.find("since " + since), std::string::npos) << i.summary;
  ASSERT_TRUE(i.changes.likely_cause.has_value()) << i.summary;
  EXPECT_EQ(i.changes.likely_cause->description, "v2.4");
  const auto attributions = std::count_if(i.timeline.begin(), i.timeline.end(), [](const auto& e) {
    return e.kind == TimelineEvent::Kind::kAttributionChanged;
  });
  EXPECT_EQ(attributions, 2);
}

TEST(Detector, FailingAgainLaterIsANewIncident) {
  const auto twice = [](int round, const std::string& location,
                        const std::string& check) -> std::optional<Sample> {
    if (location == "skb-1" && check == "shop-web/home" &&
        ((round >= 3 && round < 6) || (round >= 50 && round < 53))) {
      return Sample{probe::Outcome::kDown, probe::Stage::kTimeout};
    }
    return Sample{};
  };
  const std::vector<Incident> incidents = detect(results(60, twice), 1000, 0);
  ASSERT_EQ(incidents.size(), 2u);
  EXPECT_EQ(incidents[0].reopened, 0);
  EXPECT_EQ(incidents[1].opened_us, round_us(50) + kSecondUs);
}

// One of the two vantages behind kt loses its uplink: it falls silent, its neighbour is fine.
TEST(Detector, AVantageFallingSilentIsLaidAtTheVantage) {
  const auto lost = [](int round, const std::string& location,
                       const std::string&) -> std::optional<Sample> {
    if (location == "kt-2" && round >= 5 && round < 15) return std::nullopt;
    return Sample{};
  };
  const std::vector<Incident> incidents = detect(results(20, lost), 1000, 0);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].verdict.name, "vantage:kt-2");
  EXPECT_EQ(incidents[0].worst, probe::Outcome::kDegraded);
  // Silent once its last result (round 4) is over 3 intervals old: first seen at round 8.
  EXPECT_EQ(incidents[0].opened_us, round_us(8) + kSecondUs);
  EXPECT_EQ(*incidents[0].resolved_us, round_us(15) + kSecondUs);
}

// Two checks that run at different moments of a round: kt-2 stops running home after round 4
// but keeps running api. Its home falls silent at the first result of either check more than 3
// intervals after the last, which is api's, 4 s after home's round.
TEST(Detector, ALocationFallingSilentIsSeenAtTheNextResultOfAnyCheck) {
  DetectorOptions o = options();
  o.checks["shop-web/api"] = {"shop-web", kIntervalUs};
  std::vector<store::Committed> all;
  for (int round = 0; round < 12; ++round) {
    for (const std::string location : {"kt-1", "kt-2", "skb-1", "lgu-1"}) {
      for (const auto& [check, at_s] : {std::pair{"shop-web/home", 1}, {"shop-web/api", 5}}) {
        if (location == "kt-2" && check == std::string("shop-web/home") && round > 4) continue;
        store::StoredResult r;
        r.check = check;
        r.location = location;
        r.started_us = round_us(round) + at_s * kSecondUs;
        r.outcome = probe::Outcome::kUp;
        all.push_back({std::int64_t(all.size() + 1), r});
      }
    }
  }
  Detector detector(o);
  detector.add(all);
  const std::vector<Incident> incidents = detector.incidents();
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].opened_us, round_us(7) + 5 * kSecondUs);  // home's round 7 is 30 s on
  EXPECT_EQ(incidents[0].checks, std::set<std::string>{"shop-web/home"});
}

TEST(Detector, AServiceWideFailureNamesTheChangeBeforeIt) {
  const auto stopped = [](int round, const std::string&,
                          const std::string& check) -> std::optional<Sample> {
    if (check == "shop-web/home" && round >= 5 && round < 12) {
      return Sample{probe::Outcome::kDown, probe::Stage::kConnect};
    }
    return Sample{};
  };
  Detector detector(options());
  detector.record_change("shop-web", {round_us(3), "deploy", "v2.3 checkout", true});
  const std::vector<store::Committed> all = results(20, stopped);
  detector.add(all);
  const std::vector<Incident> incidents = detector.incidents();
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].verdict.name, "service");
  ASSERT_TRUE(incidents[0].changes.likely_cause.has_value());
  EXPECT_EQ(incidents[0].changes.likely_cause->description, "v2.3 checkout");
  EXPECT_EQ(incidents[0].timeline.front().kind, TimelineEvent::Kind::kChange);
}

TEST(Detector, ForgettingKeepsWhatIsOpenAndDetectsTheSameAfterwards) {
  // kt fails in rounds [5, 12) and again from round 60 on.
  const auto twice = [](int round, const std::string& location,
                        const std::string&) -> std::optional<Sample> {
    const bool kt = location.rfind("kt-", 0) == 0;
    if (kt && ((round >= 5 && round < 12) || round >= 60)) {
      return Sample{probe::Outcome::kDown, probe::Stage::kDns};
    }
    return Sample{};
  };
  const std::vector<store::Committed> all = results(70, twice);
  Detector whole(options());
  whole.add(all);
  ASSERT_EQ(whole.incidents().size(), 2u);

  Detector bounded(options());
  const auto at_round_50 = std::find_if(
      all.begin(), all.end(), [](const auto& c) { return c.result.started_us >= round_us(50); });
  bounded.add(std::span(all.begin(), at_round_50));
  ASSERT_EQ(bounded.incidents().size(), 1u);
  // The first resolved long before round 40 (past the 5 minute reopen window): forgotten.
  bounded.forget(round_us(49));
  EXPECT_TRUE(bounded.incidents().empty());
  bounded.add(std::span(at_round_50, all.end()));
  ASSERT_EQ(bounded.incidents().size(), 1u);
  EXPECT_EQ(bounded.incidents()[0], whole.incidents()[1]);
  EXPECT_TRUE(bounded.has_open("shop-web"));

  // What is open is kept whatever the horizon.
  bounded.forget(round_us(70));
  ASSERT_EQ(bounded.incidents().size(), 1u);
  EXPECT_EQ(bounded.incidents()[0], whole.incidents()[1]);
}

}  // namespace
}  // namespace leeway::incident
