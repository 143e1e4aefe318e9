// The SLA engine: one contract's month from plain evidence (incidents, maintenance windows,
// manual exclusions, reclassifications), as a report model whose every figure names its
// sources. Pure computation: no store, no clock, no I/O.
#pragma once

#include "sla/contract.h"
#include "sla/evidence.h"
#include "sla/month.h"
#include "sla/report.h"

namespace leeway::sla {

// The report of `contract` for `month`. Evidence outside the contract's services or the month
// is ignored; what is ignored for a reason worth telling (a reclassification of an unknown
// incident, of an unknown grade) is listed in the report's notes.
//
// The rules, in the order they apply:
// - minutes are service-minutes: each covered service's minutes of the month, summed;
// - a service's minute is measured unless it is before the service existed (when the contract
//   measures only existing minutes) or after the as-of time; it is excluded when any honoured
//   maintenance window, manual exclusion or excluded incident covers it (counted once), and
//   unavailable when an incident that counts as downtime covers it and nothing excludes it;
// - availability = (counted - unavailable) / counted, with counted = measured - excluded;
// - the credit is the tier the exact availability falls in, as a share of the fee, rounded by
//   the contract's rule; penalties are the graded incidents' fixed amounts and missed-target
//   extras, charged in the month the contract says; the total is capped.
//
// REQUIRES: validate(contract) holds; month is in the contract's zone.
Report compute_report(const Contract& contract, const ReportMonth& month, const Evidence& evidence);

}  // namespace leeway::sla
