// A monthly report from the stores: read, computed, frozen once the month is over. The daemon's
// route and the benchmark call the same function.
#include "report/monthly.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "report/revision.h"
#include "sla/engine.h"

namespace leeway::report {

namespace {

using nlohmann::json;

// The most incidents of one service in one month a report reads; beyond it the report is refused
// rather than computed from a part.
constexpr std::size_t kMaxIncidents = 100'000;
// Windows and exclusions overlapping one month.
constexpr std::size_t kMaxRecords = 100'000;

// The first minute each covered service had a result, from a day before the month on. A month
// of a check's rollups is 46,080 rows, and every service began long ago but for a few: the
// minutes are read in windows from the lookback's start, each twice as long as the one before,
// until one holds a result, and a service stops at a result in the window's first minute (none
// can be earlier). A service that existed before the lookback costs one short query.
Status read_first_minutes(const MonthlyRequest& q, store::Store& db, StoredEvidence& out) {
  for (const auto& service : q.config->services) {
    if (std::find(q.contract.services.begin(), q.contract.services.end(), service.id) ==
        q.contract.services.end())
      continue;
    DurationUs span = kMinuteUs;
    for (TimeUs from = q.month.start_us - kFirstMinuteLookbackUs; from < q.month.end_us;
         from += span, span *= 2) {
      const TimeUs to = std::min(from + span, q.month.end_us);
      std::optional<TimeUs> first;
      for (const auto& check : service.checks) {
        auto rollups = db.rollups({check.id, std::nullopt, from, to, true});
        if (!rollups) return rollups.error();
        for (const auto& m : *rollups)
          if (m.total > 0) {
            first = std::min(first.value_or(m.minute_us), m.minute_us);
            break;
          }
        if (first && *first <= from) break;
      }
      if (first) {
        out.first_minute_us[service.id] = *first;
        break;
      }
    }
  }
  return {};
}

// The previous revision's figures, from its stored JSON.
void previous_figures(const store::FrozenReport& previous, sla::Revision& v) {
  const json j = json::parse(previous.json, nullptr, false);
  if (!j.is_object()) return;  // written by leeway: never expected
  const json total = j.value("total", json::object());
  if (total.is_object() && total.contains("minor_units"))
    v.previous_total_minor_units = total["minor_units"].get<std::int64_t>();
  v.previous_availability = j.value("availability", json::object()).value("percent", "unknown");
  const json minutes = j.value("minutes", json::object());
  v.previous_unavailable_minutes = minutes.value("unavailable", std::int64_t{0});
  v.previous_excluded_minutes = minutes.value("excluded", std::int64_t{0});
}

const std::string& body(const store::FrozenReport& r, sla::Format format) {
  switch (format) {
    case sla::Format::kMarkdown:
      return r.markdown;
    case sla::Format::kHtml:
      return r.html;
    case sla::Format::kCsv:
      return r.csv;
    case sla::Format::kJson:
      break;
  }
  return r.json;
}

MonthlyReport served(const store::FrozenReport& r, sla::Format format) {
  return {body(r, format), r.revision};
}

// A closed month: the latest frozen revision when the inputs are those it was computed from,
// else a new revision with what changed, stored before it is served.
Result<store::FrozenReport> freeze(const MonthlyRequest& q, sla::Report report,
                                   const sla::Evidence& evidence, store::SlaStore& sla) {
  const std::string label = q.month.label();
  const json inputs = canonical_inputs(q.contract, evidence);
  const std::string text = canonical_text(inputs);
  const std::string sha = sha256_hex(text);
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto latest = sla.frozen_report(q.contract.id, label, std::nullopt);
    if (!latest) return latest.error();
    if (*latest && (*latest)->inputs_sha256 == sha) return **latest;
    sla::Revision v;
    v.inputs_sha256 = sha;
    v.frozen_us = q.now_us;
    if (*latest) {
      v.number = (*latest)->revision + 1;
      v.changes = input_changes(json::parse((*latest)->inputs, nullptr, false), inputs);
      previous_figures(**latest, v);
    }
    report.revision = v;
    store::FrozenReport frozen{q.contract.id,
                               label,
                               v.number,
                               sha,
                               text,
                               v.frozen_us,
                               sla::render_json(report),
                               sla::render_markdown(report),
                               sla::render_html(report),
                               sla::render_csv(report)};
    auto stored = sla.add_frozen_report(frozen);
    if (!stored) return stored.error();
    if (*stored) return frozen;
    // Another request stored this revision first: read it again.
  }
  return fail("the report of ", q.contract.id, " for ", label,
              " kept changing while it was frozen; ask again");
}

}  // namespace

Result<StoredEvidence> read_evidence(const MonthlyRequest& q, const Stores& stores) {
  StoredEvidence out;
  if (q.now_us < q.month.end_us) out.as_of_us = q.now_us;
  for (const auto& service : q.contract.services) {
    store::IncidentQuery iq{service, std::nullopt, q.month.start_us, q.month.end_us, kMaxIncidents};
    auto listed = stores.incidents.incidents(iq);
    if (!listed) return listed.error();
    if (listed->size() >= kMaxIncidents)
      return fail("service ", service, " has more than ", std::to_string(kMaxIncidents),
                  " incidents in the month; the report is refused rather than computed from a "
                  "part of them");
    for (auto& incident : *listed) {
      if (incident.acks > 0) {
        auto whole = stores.incidents.incident(incident.id);
        if (!whole) return whole.error();
        incident.notes = std::move(whole->notes);
      }
      auto trail = stores.sla.reclassifications(incident.id);
      if (!trail) return trail.error();
      out.reclassifications.insert(out.reclassifications.end(), trail->begin(), trail->end());
      out.incidents.push_back(std::move(incident));
    }
  }
  store::RangeQuery rq{std::nullopt, q.month.start_us, q.month.end_us, kMaxRecords};
  auto windows = stores.sla.windows(rq);
  if (!windows) return windows.error();
  auto exclusions = stores.sla.exclusions(rq);
  if (!exclusions) return exclusions.error();
  if (windows->size() >= kMaxRecords || exclusions->size() >= kMaxRecords)
    return fail("more than ", std::to_string(kMaxRecords),
                " maintenance windows or exclusions overlap the month; the report is refused "
                "rather than computed from a part of them");
  out.windows = std::move(*windows);
  out.exclusions = std::move(*exclusions);
  if (q.contract.measurement.only_existing_minutes)
    if (Status s = read_first_minutes(q, stores.results, out); !s) return s.error();
  return out;
}

Result<MonthlyReport> monthly_report(const MonthlyRequest& q, const Stores& stores) {
  const bool closed = q.now_us >= q.month.end_us;
  if (q.revision) {
    auto stored = stores.sla.frozen_report(q.contract.id, q.month.label(), q.revision);
    if (!stored) return stored.error();
    if (!*stored)
      return fail_as(ErrorKind::kNotFound, "revision: no revision ", std::to_string(*q.revision),
                     " of ", q.contract.id, "'s report for ", q.month.label(),
                     closed ? "" : " (the month is not over: only a closed month is frozen)");
    return served(**stored, q.format);
  }
  auto stored = read_evidence(q, stores);
  if (!stored) return stored.error();
  const sla::Evidence evidence = sla_evidence(*stored, *q.config);
  sla::Report report = sla::compute_report(q.contract, q.month, evidence);
  if (!closed) return MonthlyReport{sla::render(report, q.format), std::nullopt};
  auto frozen = freeze(q, std::move(report), evidence, stores.sla);
  if (!frozen) return frozen.error();
  return served(*frozen, q.format);
}

}  // namespace leeway::report
