// The renderers: JSON whose ranges recompute the figures, CSV with one row per incident and a
// summary, self-contained HTML, Markdown tables; outside text escaped in each.
#include "sla/render.h"

#include <gtest/gtest.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "sla/engine.h"

namespace leeway::sla {
namespace {

TimeUs at(std::string_view text) {
  return parse_rfc3339(text).value();
}

// Seoul, October 2026; two services; a late window and an honoured one, an incident with a
// reclassified attribution and one whose name needs escaping.
Report sample() {
  Contract c;
  c.id = "shop-ops";
  c.customer = "ACME <Korea>";
  c.services = {"web", "pay"};
  c.fee = Money{10'000'000, "KRW"};
  c.time_zone = "Asia/Seoul";
  c.exclusions.maintenance_notice_us = 3 * kDayUs;
  c.credits = {{parse_percentage("99.99").value(), {}, parse_percentage("10").value()}};
  Grade g{"1", {GradeRule{}}, 500'000, 10 * kMinuteUs, 50'000};
  c.grades = {g};
  Evidence e;
  Incident a{"a,1",
             "web",
             at("2026-10-05T01:00:00Z"),
             at("2026-10-05T01:30:00Z"),
             at("2026-10-05T01:05:00Z"),
             {3, 3},
             {1, 2},
             {"web/home"},
             {},
             Outcome::kDown,
             "service"};
  Incident b{"=b",
             "pay",
             at("2026-10-06T01:00:00Z"),
             at("2026-10-06T02:00:00Z"),
             std::nullopt,
             {1, 3},
             {1, 1},
             {"pay/api"},
             {},
             Outcome::kDown,
             "network:kt"};
  e.incidents = {a, b};
  e.maintenance = {MaintenanceWindow{"mw-late",
                                     at("2026-10-10T00:00:00Z"),
                                     at("2026-10-10T01:00:00Z"),
                                     {},
                                     at("2026-10-09T00:00:00Z")},
                   MaintenanceWindow{"mw-ok",
                                     at("2026-10-11T00:00:00Z"),
                                     at("2026-10-11T01:00:00Z"),
                                     {"web"},
                                     at("2026-10-01T00:00:00Z")}};
  e.reclassifications = {Reclassification{"=b", ReclassifiedField::kAttribution, "service", "park",
                                          "the carrier was fine", at("2026-10-07T00:00:00Z")}};
  return compute_report(c, report_month(c.time_zone, YearMonth{2026, 10}).value(), e);
}

TEST(Render, JsonRangesRecomputeTheFigures) {
  Report r = sample();
  auto j = nlohmann::json::parse(render_json(r));
  std::int64_t unavailable = 0, excluded = 0;
  for (const auto& u : j["unavailable"]) unavailable += u["minutes"].get<std::int64_t>();
  for (const auto& x : j["excluded"]) excluded += x["minutes"].get<std::int64_t>();
  EXPECT_EQ(unavailable, j["minutes"]["unavailable"].get<std::int64_t>());
  EXPECT_EQ(excluded, j["minutes"]["excluded"].get<std::int64_t>());
  // 2 x 44,640 minutes; 30 + 60 unavailable; 60 excluded (mw-ok on web only).
  EXPECT_EQ(j["minutes"]["month"], 89'280);
  EXPECT_EQ(unavailable, 90);
  EXPECT_EQ(excluded, 60);
  EXPECT_EQ(j["availability"]["percent"], "99.8991");  // 89,130 / 89,220
  EXPECT_EQ(j["month"], "2026-10");
  EXPECT_EQ(j["start"], "2026-09-30T15:00:00.000000Z");
  EXPECT_EQ(j["incidents"][1]["attribution"]["automatic"], "network:kt");
  EXPECT_EQ(j["incidents"][1]["attribution"]["effective"], "service");
  EXPECT_EQ(j["incidents"][1]["response"]["result"], "missed");
  EXPECT_EQ(j["maintenance"][0]["excluded"], false);
  EXPECT_EQ(j["credit"]["amount"]["text"], "KRW 1,000,000");
  // 1,000,000 credit + 2 x 500,000 + 50,000 (b never acknowledged).
  EXPECT_EQ(j["total"]["minor_units"], 2'050'000);
}

// The JSON's layout, byte for byte (sorted keys, two-space indents, nlohmann's escapes), with a
// revision and text that needs escaping. The file was written by the renderer before it was
// made a stream; a change of the format is a change of this file.
TEST(Render, JsonKeepsItsLayout) {
  Report r = sample();
  r.notes = {"tab\there, \"quoted\", back\\slash, \x01 and \x7f, caf\xc3\xa9"};
  r.revision = Revision{2,
                        "0123abcd",
                        at("2026-11-02T00:00:00Z"),
                        {"incident a,1: added", "odd \x02"},
                        4'100'000,
                        "99.8000",
                        180,
                        0};
  std::ifstream file(LEEWAY_SOURCE_DIR "/tests/sla/data/render.json", std::ios::binary);
  ASSERT_TRUE(file) << "tests/sla/data/render.json";
  std::stringstream expected;
  expected << file.rdbuf();
  EXPECT_EQ(render_json(r), expected.str());
  r.revision->number = 1;
  r.revision->changes.clear();
  r.incidents.clear();
  auto j = nlohmann::json::parse(render_json(r));
  EXPECT_EQ(render_json(r), j.dump(2) + "\n");  // empty lists, no previous revision
}

TEST(Render, CsvHasARowPerIncidentAndASummary) {
  std::string csv = render_csv(sample());
  std::vector<std::string> lines;
  for (std::size_t at = 0, next; (next = csv.find("\r\n", at)) != std::string::npos; at = next + 2)
    lines.push_back(csv.substr(at, next - at));
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_TRUE(lines[0].starts_with("kind,contract,month,incident"));
  EXPECT_TRUE(lines[1].starts_with("incident,shop-ops,2026-10,\"a,1\",web,"));
  EXPECT_TRUE(lines[2].starts_with("incident,shop-ops,2026-10,'=b,pay,"));
  EXPECT_TRUE(lines[3].starts_with("summary,shop-ops,2026-10,"));
  EXPECT_NE(lines[3].find(",99.8991,0,1000000,2050000,,KRW"), std::string::npos) << lines[3];
}

TEST(Render, HtmlIsOneSelfContainedFile) {
  std::string html = render_html(sample());
  EXPECT_TRUE(html.starts_with("<!DOCTYPE html>"));
  EXPECT_NE(html.find("<style>"), std::string::npos);
  for (std::string_view outside : {"<script", "<link", "src=", "http://", "https://", "url("})
    EXPECT_EQ(html.find(outside), std::string::npos) << outside;
  EXPECT_NE(html.find("ACME &lt;Korea&gt;"), std::string::npos);
  EXPECT_NE(html.find("not excluded: announced 1d before it started; the contract needs 3d"),
            std::string::npos);
}

TEST(Render, MarkdownShowsLocalTimesAndSources) {
  std::string md = render_markdown(sample());
  EXPECT_NE(md.find("# SLA report 2026-10: shop-ops for ACME <Korea>"), std::string::npos);
  EXPECT_NE(md.find("| a,1 | web | 2026-10-05 10:00 | 2026-10-05 10:30 | 30m | down |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| web | 2026-10-11 09:00 | 2026-10-11 10:00 | 60 | maintenance | "
                    "maintenance:mw-ok |"),
            std::string::npos);
  EXPECT_NE(md.find("| Total | KRW 2,050,000 |"), std::string::npos);
  EXPECT_EQ(parse_format("md").value(), Format::kMarkdown);
  EXPECT_FALSE(parse_format("pdf"));
}

}  // namespace
}  // namespace leeway::sla
