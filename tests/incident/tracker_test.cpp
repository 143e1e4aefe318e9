// The tracker on a ManualClock and a real SQLite file: incidents reach the store, a restart
// rebuilds them without duplicates, and a late batch from a spool moves the timeline to the
// results' times, not to when they arrived.
#include "incident/tracker.h"

#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "store/sla_store.h"
#include "support/fixtures.h"

namespace leeway::incident {
namespace {

using nlohmann::json;
using probe::Outcome;
using probe::Stage;

constexpr TimeUs kStartUs = 1'635'160'000 * kSecondUs;  // 2021-10-25T11:06:40Z
constexpr DurationUs kIntervalUs = 10 * kSecondUs;
const char* const kLocations[] = {"kt-1", "kt-2", "skb-1", "lgu-1"};

TimeUs round_us(int round) {
  return kStartUs + round * kIntervalUs + kSecondUs;  // each round's results start 1s in
}

TrackerOptions options() {
  TrackerOptions o;
  o.detector.checks["shop-web/home"] = {"shop-web", kIntervalUs};
  for (const char* name : kLocations) {
    const std::string isp = std::string(name).substr(0, std::string(name).find('-'));
    o.detector.locations[name] = {{isp, "seoul"}, {"ref"}, kIntervalUs};
  }
  return o;
}

// What a location's check sees in a round; nullopt: no result (silent).
using Scenario = std::function<std::optional<Outcome>(int round, const std::string& location)>;

std::vector<store::StoredResult> rounds(int from, int to, const Scenario& scenario,
                                        const std::string& only_location = "") {
  std::vector<store::StoredResult> out;
  for (int round = from; round < to; ++round) {
    for (const char* location : kLocations) {
      if (!only_location.empty() && location != only_location) continue;
      const std::optional<Outcome> outcome = scenario(round, location);
      if (!outcome) continue;
      for (const char* check : {"shop-web/home", "ref"}) {
        store::StoredResult r;
        r.check = check;
        r.location = location;
        r.started_us = round_us(round);
        r.outcome = *outcome;
        r.stage = *outcome == Outcome::kDown ? Stage::kDns : Stage::kNone;
        out.push_back(r);
      }
    }
  }
  return out;
}

bool behind_kt(const std::string& location) {
  return location.starts_with("kt-");
}

class TrackerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    uri_ = "sqlite:" + (testing::fresh_test_dir("leeway-tracker") / "db").string();
    const std::string& uri = uri_;
    auto results = store::open_store(uri);
    ASSERT_TRUE(results) << results.error().message;
    results_ = std::move(*results);
    auto incidents = store::open_incident_store(uri);
    ASSERT_TRUE(incidents) << incidents.error().message;
    incidents_ = std::move(*incidents);
  }

  std::unique_ptr<Tracker> start(TrackerOptions o = options()) {
    auto tracker = std::make_unique<Tracker>(std::move(o), *results_, *incidents_, clock_);
    auto seq = tracker->restore();
    EXPECT_TRUE(seq) << seq.error().message;
    EXPECT_EQ(*seq, *results_->last_seq());
    return tracker;
  }

  // Stores results (as ingest does) and hands what was new to the tracker, at the clock's time.
  void feed(Tracker& tracker, const std::vector<store::StoredResult>& batch) {
    auto committed = results_->write(batch);
    ASSERT_TRUE(committed) << committed.error().message;
    tracker.add(*committed);
  }

  std::vector<store::StoredIncident> stored() {
    auto all = incidents_->incidents({});
    EXPECT_TRUE(all) << all.error().message;
    return all ? *all : std::vector<store::StoredIncident>{};
  }

  json document(const std::string& id) {
    auto one = incidents_->incident(id);
    EXPECT_TRUE(one) << one.error().message;
    return one ? json::parse(one->document) : json();
  }

  ManualClock clock_{kStartUs};
  std::string uri_;
  std::unique_ptr<store::Store> results_;
  std::unique_ptr<store::IncidentStore> incidents_;
};

// kt's vantages fail at dns from round 5 until round `until`.
Scenario kt_down(int until) {
  return [until](int round, const std::string& location) -> std::optional<Outcome> {
    return behind_kt(location) && round >= 5 && round < until ? Outcome::kDown : Outcome::kUp;
  };
}

TEST_F(TrackerTest, IncidentsReachTheStoreAndARestartRebuildsWithoutDuplicates) {
  const std::string id = "shop-web@" + format_rfc3339(round_us(5));
  {
    auto tracker = start();
    for (int round = 0; round < 20; ++round) {
      clock_.set(round_us(round) + kSecondUs);
      feed(*tracker, rounds(round, round + 1, kt_down(25)));
    }
    ASSERT_EQ(stored().size(), 1u);
    EXPECT_EQ(stored()[0].id, id);
    EXPECT_EQ(stored()[0].state, "open");
    EXPECT_EQ(stored()[0].verdict, "network:kt");
    const TrackerStatus status = tracker->status();
    EXPECT_EQ(status.open.at("shop-web"), 1);
    EXPECT_EQ(status.service_up.at("shop-web"), false);
    EXPECT_EQ(status.location_up.at("kt-1"), false);  // its references fail too
    EXPECT_EQ(status.location_up.at("skb-1"), true);
    EXPECT_EQ(status.last_error, "");
  }
  const std::string before = stored()[0].document;
  ASSERT_TRUE(
      incidents_->add_note(id, {store::IncidentNote::Kind::kAck, clock_.now_us(), "ops", ""}));

  // A new tracker (a restarted daemon) replays the store: the same incident, not a second one.
  clock_.advance(2 * kMinuteUs);  // it was down for two minutes
  auto tracker = start();
  ASSERT_EQ(stored().size(), 1u);
  EXPECT_EQ(stored()[0].document, before);
  EXPECT_EQ(tracker->status().open.at("shop-web"), 1);

  // kt comes back: the same incident resolves, acknowledged before the restart.
  for (int round = 32; round < 40; ++round) {
    clock_.set(round_us(round) + kSecondUs);
    feed(*tracker, rounds(round, round + 1, kt_down(34)));
  }
  ASSERT_EQ(stored().size(), 1u);
  EXPECT_EQ(stored()[0].id, id);
  EXPECT_EQ(stored()[0].state, "resolved");
  EXPECT_EQ(stored()[0].acks, 1);
  EXPECT_EQ(tracker->status().service_up.at("shop-web"), true);

  // Restarting again within the reopen window replays the resolved incident too, so a new
  // failure reopens it (flapping) instead of opening a second one.
  tracker = start();
  for (int round = 40; round < 50; ++round) {
    clock_.set(round_us(round) + kSecondUs);
    feed(*tracker, rounds(round, round + 1, [](int r, const std::string& l) {
      return behind_kt(l) && r >= 42 ? Outcome::kDown : Outcome::kUp;
    }));
  }
  ASSERT_EQ(stored().size(), 1u);
  EXPECT_EQ(stored()[0].state, "open");
  EXPECT_EQ(document(id)["reopened"], 1);
}

TEST_F(TrackerTest, ALateBatchFromASpoolMovesTheTimelineToTheResultsTimes) {
  // kt's vantages are cut off in rounds [5, 15): their agents spool, the server hears nothing.
  const auto silent = [](int round, const std::string& location) -> std::optional<Outcome> {
    if (behind_kt(location) && round >= 5 && round < 15) return std::nullopt;
    return Outcome::kUp;
  };
  // The daemon's wiring: reclassifications (in the SLA store) follow a moved incident.
  auto sla = store::open_sla_store(uri_);
  ASSERT_TRUE(sla) << sla.error().message;
  TrackerOptions o = options();
  o.moved = [&](const store::IncidentRetirement& r) {
    return (*sla)->move_reclassifications(r.id, r.to_id);
  };
  auto tracker = start(std::move(o));
  for (int round = 0; round < 15; ++round) {
    clock_.set(round_us(round) + kSecondUs);
    feed(*tracker, rounds(round, round + 1, silent));
  }
  ASSERT_EQ(stored().size(), 1u);
  const store::StoredIncident first = stored()[0];
  ASSERT_TRUE((*sla)->reclassify(
      {0, first.id, "attribution", "network:kt", "ops", "kt's outage", clock_.now_us()}));
  EXPECT_EQ(first.verdict, "network:kt");
  EXPECT_GT(first.opened_us, round_us(5));  // opened when the silence was noticed
  ASSERT_TRUE(incidents_->add_note(first.id, {store::IncidentNote::Kind::kNote, clock_.now_us(),
                                              "ops", "kt customers call in"}));

  // The agents reconnect a minute later: their spools bring dns failures from round 5 on.
  clock_.advance(kMinuteUs);
  const Scenario failing = [](int round, const std::string&) -> std::optional<Outcome> {
    return round < 5 ? Outcome::kUp : Outcome::kDown;
  };
  feed(*tracker, rounds(5, 15, failing, "kt-1"));
  feed(*tracker, rounds(5, 15, failing, "kt-2"));

  const std::vector<store::StoredIncident> now = stored();
  ASSERT_EQ(now.size(), 1u);
  const std::string id = "shop-web@" + format_rfc3339(round_us(5));
  EXPECT_EQ(now[0].id, id);  // it opened at the first spooled failure, not on arrival
  EXPECT_EQ(now[0].verdict, "network:kt");
  const json doc = document(id);
  bool saw_kt1_down = false;
  for (const json& e : doc["timeline"]) {
    EXPECT_LT(e["at_us"].get<TimeUs>(), clock_.now_us() - 30 * kSecondUs) << e;
    if (e["text"] == "kt-1 sees shop-web/home down (dns)") {
      saw_kt1_down = true;
      EXPECT_EQ(e["at_us"], round_us(5));
    }
  }
  EXPECT_TRUE(saw_kt1_down) << doc.dump(2);
  // The note written on the incident as first seen stays with it.
  auto moved = incidents_->incident(id);
  ASSERT_TRUE(moved);
  ASSERT_EQ(moved->notes.size(), 1u);
  EXPECT_EQ(moved->notes[0].text, "kt customers call in");
  // And so does its reclassification, as it was made.
  auto trail = (*sla)->reclassifications(id);
  ASSERT_TRUE(trail) << trail.error().message;
  ASSERT_EQ(trail->size(), 1u);
  EXPECT_EQ((*trail)[0].value, "network:kt");
  EXPECT_EQ((*trail)[0].reason, "kt's outage");
  EXPECT_TRUE((*sla)->reclassifications(first.id)->empty());
}

// Every vantage silent for two days while the daemon runs on (the detector forgets the old
// results, not what each location last said): when they all report again, at the same second,
// none is taken for fallen silent while the others are back. Before, the first result back did,
// and a zero-length degraded incident that no location saw was stored.
TEST_F(TrackerTest, ResultsBackAfterDaysOfSilenceOpenNothing) {
  auto tracker = start();
  const Scenario up = [](int, const std::string&) -> std::optional<Outcome> {
    return Outcome::kUp;
  };
  const int back = 2 * 24 * 360;  // rounds of 10 s in two days
  for (const int from : {0, back}) {
    for (int round = from; round < from + 20; ++round) {
      clock_.set(round_us(round) + kSecondUs);
      feed(*tracker, rounds(round, round + 1, up));
    }
  }
  EXPECT_TRUE(stored().empty()) << stored()[0].document;
  EXPECT_EQ(tracker->status().service_up.at("shop-web"), true);
}

// The crash window between the incident store's write (an incident retired for its successor)
// and the SLA store's move of its reclassifications: the move was recorded with the write, so
// the restarted tracker makes the reclassifications follow; and a move that was followed but not
// yet forgotten when the crash came is followed again without harm.
TEST_F(TrackerTest, AMoveCutShortByACrashIsFollowedAtTheRestart) {
  auto sla = store::open_sla_store(uri_);
  ASSERT_TRUE(sla) << sla.error().message;
  int calls = 0;
  const auto hooked = [&] {
    TrackerOptions o = options();
    o.moved = [&](const store::IncidentRetirement& r) {
      ++calls;
      return (*sla)->move_reclassifications(r.id, r.to_id);
    };
    return o;
  };
  const auto incident = [](TimeUs opened_us) {
    return store::StoredIncident{"shop-web@" + format_rfc3339(opened_us),
                                 "shop-web",
                                 opened_us,
                                 opened_us + kMinuteUs,
                                 "resolved",
                                 "service",
                                 "",
                                 "{}"};
  };
  const auto retire = [&](const store::StoredIncident& from, const store::StoredIncident& to) {
    const std::vector<store::IncidentRetirement> retired{{from.id, to.id}};
    ASSERT_TRUE(incidents_->write_incidents(std::vector{to}, retired));
  };
  const auto trail_of = [&](const store::StoredIncident& i) {
    auto trail = (*sla)->reclassifications(i.id);
    EXPECT_TRUE(trail) << trail.error().message;
    return trail ? *trail : std::vector<store::Reclassification>{};
  };
  const store::StoredIncident first = incident(round_us(8)), moved = incident(round_us(5)),
                              again = incident(round_us(3));
  ASSERT_TRUE(incidents_->write_incidents(std::vector{first}));
  auto made = (*sla)->reclassify({0, first.id, "grade", "2", "ops", "short", kStartUs});
  ASSERT_TRUE(made) << made.error().message;
  clock_.set(kStartUs + kDayUs);  // long after: the restarts replay none of these

  // Killed right after the write that retired `first` for `moved`.
  retire(first, moved);
  auto tracker = start(hooked());
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(trail_of(first).empty());
  ASSERT_EQ(trail_of(moved).size(), 1u);
  EXPECT_EQ(trail_of(moved)[0].id, made->id);

  // Killed after the next move was followed but before it was forgotten.
  retire(moved, again);
  ASSERT_TRUE((*sla)->move_reclassifications(moved.id, again.id));
  tracker = start(hooked());
  EXPECT_EQ(calls, 2);
  ASSERT_EQ(trail_of(again).size(), 1u);
  EXPECT_EQ(trail_of(again)[0].reason, "short");
  EXPECT_TRUE(incidents_->pending_moves()->empty());
  EXPECT_EQ(tracker->status().last_error, "");

  // Followed and forgotten: a later restart follows nothing.
  tracker = start(hooked());
  EXPECT_EQ(calls, 2);
}

TEST_F(TrackerTest, ChangesBeforeAnIncidentAreNamedOrTheirAbsenceSaidSo) {
  auto tracker = start();
  const auto everywhere = [](int round, const std::string&) -> std::optional<Outcome> {
    return round >= 5 ? Outcome::kDown : Outcome::kUp;
  };
  for (int round = 0; round < 10; ++round) {
    clock_.set(round_us(round) + kSecondUs);
    auto batch = rounds(round, round + 1, everywhere);
    // Only shop-web/home fails, refusing connections: the references stay up, so it is the
    // service.
    for (auto& r : batch) {
      if (r.check == "ref") r = {r.check, r.location, r.started_us, 0, Outcome::kUp};
      if (r.outcome == Outcome::kDown) r.stage = Stage::kConnect;
    }
    feed(*tracker, batch);
  }
  ASSERT_EQ(stored().size(), 1u);
  json doc = document(stored()[0].id);
  EXPECT_EQ(doc["verdict"]["name"], "service");
  EXPECT_EQ(doc["changes"]["before"].size(), 0u);
  EXPECT_EQ(doc["changes"]["text"], "nothing was deployed in the 60 minutes before");

  // A deploy recorded (late) two minutes before it opened becomes its likely cause.
  store::StoredChange deploy{0,    "shop-web", round_us(5) - 2 * kMinuteUs, "deploy", "v2.3",
                             true, "ci"};
  ASSERT_TRUE(incidents_->record_change(deploy));
  tracker->record_change(deploy);
  doc = document(stored()[0].id);
  EXPECT_EQ(doc["changes"]["before"].size(), 1u);
  EXPECT_EQ(doc["changes"]["likely_cause"]["description"], "v2.3");
  EXPECT_NE(doc["summary"].get<std::string>().find("likely cause: deploy \"v2.3\""),
            std::string::npos)
      << doc["summary"];

  // A restart reads the change back from the store: the incident stays as it is.
  const std::string before = stored()[0].document;
  tracker = start();
  EXPECT_EQ(stored()[0].document, before);
}

// The tracker keeps ten minutes of results in memory for a service with nothing open. A new
// agent that could not reach the server for its first quarter hour brings a spool of results far
// older than that: the tracker reads the service's results of that time back from the store, so
// the incidents come out as they would have, had every result arrived on time (the same ids,
// times, verdicts and timelines). (A location that falls silent after reporting keeps an
// incident open, and with it its service's results, until it is heard again.)
TEST_F(TrackerTest, ASpoolOlderThanWhatIsKeptReplaysAsIfOnTime) {
  // kt's agents start at round 20 and reach the server only at round 110; in the meantime they
  // saw the shop fail at dns in rounds [30, 50) (kt's own outage), and then everyone saw it and
  // the references fail at dns in rounds [100, 106) (the name servers').
  const Scenario truth = [](int round, const std::string& location) -> std::optional<Outcome> {
    if (behind_kt(location) && round < 20) return std::nullopt;
    if (round >= 100 && round < 106) return Outcome::kDown;
    return behind_kt(location) && round >= 30 && round < 50 ? Outcome::kDown : Outcome::kUp;
  };
  const Scenario heard = [&](int round, const std::string& location) {
    return behind_kt(location) && round < 110 ? std::nullopt : truth(round, location);
  };
  constexpr int kRounds = 120;

  // On time: every result as it happened, in a store of its own.
  const std::string on_time_uri =
      "sqlite:" + (testing::fresh_test_dir("leeway-tracker-on-time") / "db").string();
  auto on_time_results = store::open_store(on_time_uri);
  auto on_time_incidents = store::open_incident_store(on_time_uri);
  ASSERT_TRUE(on_time_results && on_time_incidents);
  {
    ManualClock clock(kStartUs);
    Tracker tracker(options(), **on_time_results, **on_time_incidents, clock);
    ASSERT_TRUE(tracker.restore());
    for (int round = 0; round < kRounds; ++round) {
      clock.set(round_us(round) + kSecondUs);
      auto committed = (*on_time_results)->write(rounds(round, round + 1, truth));
      ASSERT_TRUE(committed);
      tracker.add(*committed);
    }
  }

  // Late: kt's results of the cut arrive when it ends, oldest first, a minute of them a batch.
  auto tracker = start();
  for (int round = 0; round < kRounds; ++round) {
    clock_.set(round_us(round) + kSecondUs);
    if (round == 110) {
      for (int from = 20; from < 110; from += 6) {
        for (const char* location : {"kt-1", "kt-2"}) {
          feed(*tracker, rounds(from, std::min(from + 6, 110), truth, location));
        }
      }
    }
    feed(*tracker, rounds(round, round + 1, heard));
  }
  EXPECT_EQ(tracker->status().last_error, "");

  auto expected = (*on_time_incidents)->incidents({});
  ASSERT_TRUE(expected);
  const std::vector<store::StoredIncident> got = stored();
  ASSERT_EQ(got.size(), expected->size());
  ASSERT_EQ(got.size(), 2u);
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].id, (*expected)[i].id);
    EXPECT_EQ(got[i].verdict, (*expected)[i].verdict);
    EXPECT_EQ(got[i].resolved_us, (*expected)[i].resolved_us);
    EXPECT_EQ(json::parse(got[i].document)["timeline"],
              json::parse((*expected)[i].document)["timeline"]);
  }
  EXPECT_EQ(got[0].verdict, "dns");  // newest first
  EXPECT_EQ(got[1].verdict, "network:kt");
}

}  // namespace
}  // namespace leeway::incident
