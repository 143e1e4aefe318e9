// A contract's monthly report as leeway serves it (`GET /api/v1/contracts/{id}/reports/{month}`,
// and so `leeway report`): the evidence read from the stores, the SLA engine's report, and for a
// closed month its frozen revision, a new one stored when the inputs changed.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "config/config.h"
#include "core/result.h"
#include "report/evidence.h"
#include "sla/month.h"
#include "sla/render.h"
#include "store/incident_store.h"
#include "store/sla_store.h"
#include "store/store.h"

namespace leeway::report {

// The stores a report reads (and a closed month's revisions are written to).
struct Stores {
  store::Store& results;
  store::IncidentStore& incidents;
  store::SlaStore& sla;
};

struct MonthlyRequest {
  std::shared_ptr<const config::Config> config;
  sla::Contract contract;
  sla::ReportMonth month;
  sla::Format format = sla::Format::kJson;
  std::optional<int> revision;  // an earlier revision of a closed month; none: the current one
  TimeUs now_us = 0;            // the month is provisional before its end
};

struct MonthlyReport {
  std::string body;             // in the request's format
  std::optional<int> revision;  // a closed month's revision; none: provisional
};

// The report's inputs from the stores: the incidents of the contract's services that overlap
// the month (with their acks and reclassifications), the windows and exclusions that overlap it
// and, for a contract that measures only existing minutes, the services' first minutes.
// kInternal when a service has 100,000 incidents or more in the month, or as many windows or
// exclusions overlap it: refused rather than computed from a part.
Result<StoredEvidence> read_evidence(const MonthlyRequest& request, const Stores& stores);

// The report the request asks for. A closed month's is the latest frozen revision when the
// inputs hash as it did, else a new revision (with what changed) stored before it is returned;
// an asked-for revision that was never stored is kNotFound.
Result<MonthlyReport> monthly_report(const MonthlyRequest& request, const Stores& stores);

}  // namespace leeway::report
