// The inputs' canonical form, its hash and what changed between two forms; and a stored
// incident as the SLA engine sees it.
#include "report/revision.h"

#include <gtest/gtest.h>

#include "report/evidence.h"
#include "report/shop_ops.h"

namespace leeway::report {
namespace {

constexpr TimeUs kT0 = 1'791'590'400 * kSecondUs;  // 2026-10-10T00:00:00Z

sla::Evidence evidence() {
  sla::Evidence e;
  e.incidents.push_back({"web@a",
                         "web",
                         kT0,
                         kT0 + kHourUs,
                         std::nullopt,
                         {2, 2},
                         {1, 1},
                         {"web/home"},
                         {},
                         sla::Outcome::kDown,
                         "service"});
  e.incidents.push_back({"web@b",
                         "web",
                         kT0 + kDayUs,
                         std::nullopt,
                         std::nullopt,
                         {1, 2},
                         {1, 1},
                         {"web/home"},
                         {},
                         sla::Outcome::kDown,
                         "network:kt"});
  e.maintenance.push_back({"1", kT0, kT0 + kHourUs, {"web"}, kT0 - kDayUs});
  e.reclassifications.push_back(
      {"web@a", sla::ReclassifiedField::kGrade, "2", "ops", "short", kT0 + 2 * kDayUs});
  return e;
}

sla::Contract contract() {
  return testing::shop_ops();
}

TEST(Revision, TheCanonicalFormDoesNotDependOnOrder) {
  sla::Evidence a = evidence();
  sla::Evidence b = evidence();
  std::swap(b.incidents[0], b.incidents[1]);
  b.as_of_us = kT0;  // not an input of a frozen month
  EXPECT_EQ(canonical_text(canonical_inputs(contract(), a)),
            canonical_text(canonical_inputs(contract(), b)));
  EXPECT_EQ(sha256_hex(canonical_text(canonical_inputs(contract(), a))),
            sha256_hex(canonical_text(canonical_inputs(contract(), b))));
  EXPECT_EQ(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Revision, ChangesSayWhatDiffers) {
  sla::Evidence before = evidence();
  sla::Evidence after = evidence();
  after.incidents[1].resolved_us = kT0 + kDayUs + kHourUs;
  after.incidents.erase(after.incidents.begin());
  after.manual_exclusions.push_back(
      {"4", kT0, kT0 + kMinuteUs, {"web"}, "the customer's firewall", "ops"});
  EXPECT_EQ(
      input_changes(canonical_inputs(contract(), before), canonical_inputs(contract(), after)),
      (std::vector<std::string>{
          "incident web@a: removed",
          "incident web@b: resolved_us null -> 1791680400000000",
          "manual exclusion 4: added",
      }));
  EXPECT_TRUE(
      input_changes(canonical_inputs(contract(), before), canonical_inputs(contract(), before))
          .empty());
}

// An edited contract is a change of the inputs: each term that differs, by name, before and after.
TEST(Revision, AnEditedContractSaysWhichTermsChanged) {
  sla::Contract edited = contract();
  edited.grades[0].penalty_minor_units = 3'500'000;
  edited.grades[0].respond_within_us = 15 * kMinuteUs;
  edited.grades.pop_back();
  edited.cap.reset();
  const auto before = canonical_inputs(contract(), evidence());
  const auto after = canonical_inputs(edited, evidence());
  EXPECT_NE(sha256_hex(canonical_text(before)), sha256_hex(canonical_text(after)));
  EXPECT_EQ(input_changes(before, after),
            (std::vector<std::string>{
                "contract shop-ops: cap 30% -> null; grades in order [\"1\",\"2\"] -> [\"1\"]; "
                "penalty of grade 1 KRW 3,000,000 -> KRW 3,500,000; response target of grade 1 "
                "10m -> 15m; missed recovery of grade 2 KRW 0 -> removed; missed response of "
                "grade 2 KRW 0 -> removed; penalty of grade 2 KRW 1,000,000 -> removed; recovery "
                "target of grade 2 removed; response target of grade 2 removed; rules of grade 2 "
                "[\"any incident\"] -> removed",
            }));
  // A revision frozen before the contract was among the inputs: one line that says so.
  auto old = before;
  old.erase("contract");
  EXPECT_EQ(input_changes(old, before),
            (std::vector<std::string>{"contract shop-ops: its terms are among the inputs from this "
                                      "revision on (the revisions before did not record them)"}));
}

TEST(Evidence, AStoredIncidentAsTheEngineSeesIt) {
  auto loaded = config::load_config_text(R"(
locations:
  - {id: kt-1, isp: kt}
  - {id: skb-1, isp: skb}
  - {id: lgu-1, isp: lgu}
services:
  - id: web
    checks:
      - {name: home, target: "https://shop.example/", locations: [kt-1, skb-1, lgu-1]}
      - {name: api, target: "https://shop.example/api", locations: [kt-1]}
)");
  ASSERT_TRUE(loaded.ok()) << loaded.errors[0].to_string();
  store::StoredIncident stored;
  stored.id = "web@x";
  stored.service = "web";
  stored.opened_us = kT0;
  stored.resolved_us = kT0 + kHourUs;
  stored.verdict = "network:kt";
  stored.document =
      R"({"checks": ["web/home"], "worst": "degraded", "locations": [{"location": "kt-1"}]})";
  stored.notes = {{store::IncidentNote::Kind::kNote, kT0 + kMinuteUs, "ops", "looking"},
                  {store::IncidentNote::Kind::kAck, kT0 + 3 * kMinuteUs, "ops", ""},
                  {store::IncidentNote::Kind::kAck, kT0 + 5 * kMinuteUs, "kim", ""}};
  sla::Incident in = sla_incident(stored, *loaded.config);
  EXPECT_EQ(in.acknowledged_us, kT0 + 3 * kMinuteUs);
  EXPECT_EQ(in.locations.part, 1);
  EXPECT_EQ(in.locations.whole, 3);
  EXPECT_EQ(in.checks.part, 1);
  EXPECT_EQ(in.checks.whole, 2);
  EXPECT_EQ(in.worst, sla::Outcome::kDegraded);
  EXPECT_EQ(in.attribution, "network:kt");
}

}  // namespace
}  // namespace leeway::report
