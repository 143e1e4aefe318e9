// When an incident ends: as it opens at the first failure its confirmations stand on, a location
// is back at the first success of the streak that recovered it, and the incident resolves when
// the last location the quorum counts came back, by those dates. And what silence does to it.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>

#include "incident/detector.h"

namespace leeway::incident {
namespace {

using probe::Outcome;
using probe::Stage;

constexpr TimeUs kStartUs = 1'635'160'000 * kSecondUs;  // 2021-10-25T11:06:40Z
constexpr int kDayS = 24 * 60 * 60;

// `s` seconds after the start.
TimeUs at(int s) {
  return kStartUs + DurationUs(s) * kSecondUs;
}

// shop-web/home every 10 s from four vantages, two behind kt; each also runs a reference check.
DetectorOptions options() {
  DetectorOptions o;
  o.checks["shop-web/home"] = {"shop-web", 10 * kSecondUs};
  for (const char* name : {"kt-1", "kt-2", "skb-1", "lgu-1"}) {
    const std::string isp = std::string(name).substr(0, std::string(name).find('-'));
    o.locations[name] = {{isp, "seoul"}, {"ref"}, 10 * kSecondUs};
  }
  return o;
}

// Where each vantage runs its checks within an interval: at 1, 3, 5 and 7 s.
int phase_s(const std::string& location) {
  return location == "kt-1" ? 1 : location == "kt-2" ? 3 : location == "skb-1" ? 5 : 7;
}

// What a result at `s` seconds sees; nullopt: there is none (silent).
using Seen = std::function<std::optional<Outcome>(int s)>;

struct Feed {
  std::vector<store::Committed> results;

  // Results of `check` at `location` every `interval_s`, `phase` seconds into each interval,
  // for the intervals starting in [from_s, to_s).
  Feed& every(const std::string& check, const std::string& location, int interval_s, int phase,
              int from_s, int to_s, const Seen& seen) {
    for (int start = from_s; start < to_s; start += interval_s) {
      const std::optional<Outcome> outcome = seen(start + phase);
      if (!outcome) continue;
      store::StoredResult r;
      r.check = check;
      r.location = location;
      r.started_us = at(start + phase);
      r.outcome = *outcome;
      r.stage = *outcome == Outcome::kDown ? Stage::kConnect : Stage::kNone;
      results.push_back({std::int64_t(results.size() + 1), r});
    }
    return *this;
  }
  // shop-web/home at each vantage at its phase, and its reference check up, at the same times.
  Feed& home(const std::string& location, int from_s, int to_s, const Seen& seen) {
    every("ref", location, 10, phase_s(location), from_s, to_s,
          [&](int s) { return seen(s) ? std::optional(Outcome::kUp) : std::nullopt; });
    return every("shop-web/home", location, 10, phase_s(location), from_s, to_s, seen);
  }
};

Seen up() {
  return [](int) { return Outcome::kUp; };
}
// Down for results in [from_s, to_s), up otherwise.
Seen down(int from_s, int to_s) {
  return [=](int s) { return s >= from_s && s < to_s ? Outcome::kDown : Outcome::kUp; };
}

// The incidents, checked to be the same whatever order the results arrive in: the dates come
// from a replay, which a late result starts again.
std::vector<Incident> detect(const DetectorOptions& o, const Feed& feed) {
  Detector in_order(o);
  in_order.add(feed.results);
  std::vector<store::Committed> shuffled = feed.results;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
  Detector any_order(o);
  for (std::size_t i = 0; i < shuffled.size(); i += 5) {
    any_order.add(std::span(shuffled).subspan(i, std::min<std::size_t>(5, shuffled.size() - i)));
  }
  EXPECT_EQ(any_order.incidents(), in_order.incidents());
  return in_order.incidents();
}

// The timeline as "<seconds after the start> <kind>: <text>", without the opening's lines.
std::vector<std::string> timeline(const Incident& incident) {
  std::vector<std::string> out;
  for (const TimelineEvent& e : incident.timeline) {
    if (e.kind == TimelineEvent::Kind::kOpened || e.kind == TimelineEvent::Kind::kLocationDown) {
      continue;
    }
    out.push_back(std::to_string((e.at_us - kStartUs) / kSecondUs) + " " +
                  std::string(to_string(e.kind)) + ": " + e.text);
  }
  return out;
}

// One vantage, failing three times (51, 61, 71 s) then up: down from 51 s, back at 81 s, the
// first of the successes that confirm it, however many `recover` asks for. Three intervals.
TEST(Resolution, OneLocationIsBackAtItsFirstSuccess) {
  for (int recover : {2, 3}) {
    SCOPED_TRACE(recover);
    DetectorOptions o;
    o.checks["shop-web/home"] = {"shop-web", 10 * kSecondUs};
    o.recover = recover;
    const std::vector<Incident> incidents =
        detect(o, Feed().every("shop-web/home", "local", 10, 1, 0, 200, down(50, 80)));
    ASSERT_EQ(incidents.size(), 1u);
    EXPECT_EQ(incidents[0].opened_us, at(51));
    EXPECT_EQ(incidents[0].resolved_us, at(81));
    const std::vector<std::string> expected = {
        "61 attribution changed: attribution: unknown",  // one location: too thin to tell
        "81 location back: local sees shop-web/home up again",
        "81 resolved: resolved",
    };
    EXPECT_EQ(timeline(incidents[0]), expected);
  }
}

// The service fails everywhere: home (every 10 s, at 1, 3, 5 and 7 s into each interval) in
// [50, 100) s, api (every 30 s, at 2 s, and at 14 s from skb-1) in [60, 120) s. Each location is
// back at its own first success: home at 101, 103, 105 and 107 s; api at 122 s (its results at
// 62 and 92 s failed) and at 134 s from skb-1 (74 and 104 s failed). The last is 134 s, though
// skb-1's second success, which ends it, is at 164 s.
TEST(Resolution, LocationsBackInDifferentPhasesAndIntervalsResolveAtTheLastOne) {
  DetectorOptions o = options();
  o.checks["shop-web/api"] = {"shop-web", 30 * kSecondUs};
  Feed feed;
  for (const char* location : {"kt-1", "kt-2", "skb-1", "lgu-1"}) {
    feed.home(location, 0, 300, down(50, 100));
    feed.every("shop-web/api", location, 30, location == std::string("skb-1") ? 14 : 2, 0, 300,
               down(60, 120));
  }
  const std::vector<Incident> incidents = detect(o, feed);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].opened_us, at(51));
  EXPECT_EQ(incidents[0].resolved_us, at(134));
  const std::vector<std::string> expected = {
      // Taken once every location reported after kt-1 was confirmed down at 61 s: skb-1's api
      // result at 74 s is the last.
      "74 attribution changed: attribution: service",
      "101 location back: kt-1 sees shop-web/home up again",
      "103 location back: kt-2 sees shop-web/home up again",
      "105 location back: skb-1 sees shop-web/home up again",
      "107 location back: lgu-1 sees shop-web/home up again",
      "122 location back: kt-1 sees shop-web/api up again",
      "122 location back: kt-2 sees shop-web/api up again",
      "122 location back: lgu-1 sees shop-web/api up again",
      "134 location back: skb-1 sees shop-web/api up again",
      "134 resolved: resolved",
  };
  EXPECT_EQ(timeline(incidents[0]), expected);
}

// Both vantages behind kt fail, kt-1 until 100 s and kt-2 until 130 s: once kt-1 is back, kt
// is no longer down by the quorum (one of its two), but the check stays degraded until kt-2 is
// back too, at 133 s. A single failure at skb-1 meanwhile (135 s) is not confirmed: the quorum
// counts skb-1 up, and it does not hold the end back.
TEST(Resolution, TheQuorumResolvesWhenItsLastLocationIsBack) {
  Feed feed;
  feed.home("kt-1", 0, 300, down(50, 100));
  feed.home("kt-2", 0, 300, down(50, 130));
  feed.home("skb-1", 0, 300, down(135, 136));
  feed.home("lgu-1", 0, 300, up());
  const std::vector<Incident> incidents = detect(options(), feed);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].opened_us, at(51));
  EXPECT_EQ(incidents[0].resolved_us, at(133));
  const std::vector<std::string> expected = {
      "67 attribution changed: attribution: network:kt",
      "101 location back: kt-1 sees shop-web/home up again",
      "117 attribution changed: attribution: vantage:kt-2",
      "133 location back: kt-2 sees shop-web/home up again",
      "133 resolved: resolved",
  };
  EXPECT_EQ(timeline(incidents[0]), expected);
}

// kt-2 is back at 113 s (its first success), but a verdict was taken after that, at 117 s,
// while its second success was still to come: resolving at 113 s would have the timeline change
// its verdict after the incident ended. It resolves at 117 s.
TEST(Resolution, NeverBeforeTheTimelinesLastEvent) {
  Feed feed;
  feed.home("kt-1", 0, 300, down(50, 100));
  feed.home("kt-2", 0, 300, down(50, 110));
  feed.home("skb-1", 0, 300, up());
  feed.home("lgu-1", 0, 300, up());
  const std::vector<Incident> incidents = detect(options(), feed);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].resolved_us, at(117));
  const std::vector<std::string> expected = {
      "67 attribution changed: attribution: network:kt",
      "101 location back: kt-1 sees shop-web/home up again",
      "113 location back: kt-2 sees shop-web/home up again",
      "117 attribution changed: attribution: vantage:kt-2",
      "117 resolved: resolved",
  };
  EXPECT_EQ(timeline(incidents[0]), expected);
}

TEST(Resolution, ThroughDegradedTheServiceIsBackAtTheFirstUp) {
  // kt-1 fails at 51, 61 and 71 s, is slow at 81 s, fine from 91 s: kt-1 no longer sees it down
  // from 81 s, but the service is degraded until 91 s.
  Feed feed;
  feed.home("kt-1", 0, 200, [](int s) {
    return s >= 50 && s < 80   ? Outcome::kDown
           : s < 90 && s >= 80 ? Outcome::kDegraded
                               : Outcome::kUp;
  });
  for (const char* location : {"kt-2", "skb-1", "lgu-1"}) feed.home(location, 0, 200, up());
  std::vector<Incident> incidents = detect(options(), feed);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].opened_us, at(51));
  EXPECT_EQ(incidents[0].resolved_us, at(91));
  const std::vector<std::string> expected = {
      "67 attribution changed: attribution: vantage:kt-1",
      "81 location back: kt-1 sees shop-web/home up again",
      "91 resolved: resolved",
  };
  EXPECT_EQ(timeline(incidents[0]), expected);

  // Only slow, at 55 and 65 s: degraded needs no confirmation either way, 55 to 75 s.
  Feed slow;
  slow.home("skb-1", 0, 200,
            [](int s) { return s >= 50 && s < 70 ? Outcome::kDegraded : Outcome::kUp; });
  for (const char* location : {"kt-1", "kt-2", "lgu-1"}) slow.home(location, 0, 200, up());
  incidents = detect(options(), slow);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].opened_us, at(55));
  EXPECT_EQ(incidents[0].resolved_us, at(75));
}

TEST(Resolution, ALocationBackFromSilenceIsBackAtItsReturn) {
  // kt-2 fails at 53, 63 and 73 s, then nothing comes from it until 153 s, when it is up again:
  // back at 153 s, the first of its two successes (163 s).
  Feed feed;
  feed.home("kt-2", 0, 300, [](int s) -> std::optional<Outcome> {
    return s < 50    ? Outcome::kUp
           : s < 80  ? Outcome::kDown
           : s < 150 ? std::nullopt
                     : std::optional(Outcome::kUp);
  });
  for (const char* location : {"kt-1", "skb-1", "lgu-1"}) feed.home(location, 0, 300, up());
  std::vector<Incident> incidents = detect(options(), feed);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].opened_us, at(53));
  EXPECT_EQ(incidents[0].resolved_us, at(153));

  // Silent from 50 s without failing first: lost once its last result (43 s) is over 30 s old,
  // seen at the next result (skb-1's at 75 s); back when it reports again, at 153 s: a silent
  // location needs no confirmation to count again.
  Feed silent;
  silent.home("kt-2", 0, 300, [](int s) -> std::optional<Outcome> {
    if (s >= 50 && s < 150) return std::nullopt;
    return Outcome::kUp;
  });
  for (const char* location : {"kt-1", "skb-1", "lgu-1"}) silent.home(location, 0, 300, up());
  incidents = detect(options(), silent);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].verdict.name, "vantage:kt-2");
  EXPECT_EQ(incidents[0].opened_us, at(75));
  EXPECT_EQ(incidents[0].resolved_us, at(153));
}

// ISP kt's vantages both silent from 50 s to 150 s: network:kt. They come back a little apart
// (151 and 153 s): the verdict waits for every location to report after the first return, as it
// does after a location is back from failing, and is not taken, for those 2 s, as kt-2's alone.
TEST(Resolution, AnIspBackFromSilenceKeepsItsVerdict) {
  Feed feed;
  for (const char* location : {"kt-1", "kt-2"}) {
    feed.home(location, 0, 300, [](int s) -> std::optional<Outcome> {
      if (s >= 50 && s < 150) return std::nullopt;
      return Outcome::kUp;
    });
  }
  for (const char* location : {"skb-1", "lgu-1"}) feed.home(location, 0, 300, up());
  const std::vector<Incident> incidents = detect(options(), feed);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].verdict.name, "network:kt");
  EXPECT_EQ(incidents[0].opened_us, at(75));  // kt-1's 41 s is over 30 s old
  EXPECT_EQ(incidents[0].resolved_us, at(153));
  const std::vector<std::string> expected = {
      "75 attribution changed: attribution: network:kt",
      "153 resolved: resolved",
  };
  EXPECT_EQ(timeline(incidents[0]), expected);
}

// Every vantage silent for two days (leeway stopped, say): those that report again are not lost
// the moment the first one is back. Before, the first result back made the three others "fallen
// silent" and opened a degraded incident that no location saw, zero-length when they all report
// at the same second.
TEST(Resolution, ResultsBackAfterEveryLocationWasSilentOpenNothing) {
  const int back_s = 2 * kDayS;
  const auto gap = [&](int s) -> std::optional<Outcome> {
    if (s >= 100 && s < back_s) return std::nullopt;
    return Outcome::kUp;
  };
  for (bool same_second : {true, false}) {
    SCOPED_TRACE(same_second);
    Feed feed;
    for (const char* location : {"kt-1", "kt-2", "skb-1", "lgu-1"}) {
      const int phase = same_second ? 1 : phase_s(location);
      feed.every("shop-web/home", location, 10, phase, 0, 100, gap);
      feed.every("shop-web/home", location, 10, phase, back_s, back_s + 200, gap);
    }
    EXPECT_TRUE(detect(options(), feed).empty());
  }

  // One that does not come back is missed once it had as long to report as silence takes: the
  // others are back from back_s + 1 s, so from the first result over 30 s later (skb-1's).
  Feed one_lost;
  for (const char* location : {"kt-1", "kt-2", "skb-1", "lgu-1"}) {
    one_lost.home(location, 0, 100, gap);
    if (location != std::string("kt-2")) one_lost.home(location, back_s, back_s + 200, gap);
  }
  std::vector<Incident> incidents = detect(options(), one_lost);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].opened_us, at(back_s + 35));
  EXPECT_EQ(incidents[0].verdict.name, "vantage:kt-2");

  // An incident open when everything fell silent stays open (nothing is known in between) and
  // resolves by the results back: kt-1 is back at back_s + 1 s, the others, back from silence,
  // count up from their own first result, the last at back_s + 7 s.
  Feed open;
  open.home("kt-1", 0, 100, down(50, 100));
  open.home("kt-1", back_s, back_s + 200, up());
  for (const char* location : {"kt-2", "skb-1", "lgu-1"}) {
    open.home(location, 0, 100, up());
    open.home(location, back_s, back_s + 200, up());
  }
  incidents = detect(options(), open);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].opened_us, at(51));
  EXPECT_EQ(incidents[0].resolved_us, at(back_s + 7));
}

// A lossy link still flaps into one incident reopened, though each spell now ends an interval
// sooner: kt-1 fails two results in four (51, 61; 91, 101; ... 611, 621): fifteen spells.
TEST(Resolution, FlappingStillReopens) {
  Feed feed;
  feed.home("kt-1", 0, 900, [](int s) {
    return s >= 50 && s < 650 && (s / 10 - 5) % 4 < 2 ? Outcome::kDown : Outcome::kUp;
  });
  for (const char* location : {"kt-2", "skb-1", "lgu-1"}) feed.home(location, 0, 900, up());
  const std::vector<Incident> incidents = detect(options(), feed);
  ASSERT_EQ(incidents.size(), 1u);
  EXPECT_EQ(incidents[0].reopened, 14);
  EXPECT_EQ(incidents[0].resolved_us, at(631));  // the first success after 611 and 621 s
}

}  // namespace
}  // namespace leeway::incident
