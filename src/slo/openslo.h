// OpenSLO v1 in and out: documents (SLO, SLI, AlertPolicy, AlertCondition, Service) read into
// leeway SLOs, leeway SLOs written as documents, and SLOs printed as leeway config. Pure: text in,
// text out. What the mapping keeps and refuses is in docs/slo.md ("OpenSLO").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "slo/spec.h"

namespace leeway::slo {

// The metric source type that names leeway's own checks:
// `metricSource: {type: leeway, spec: {check: SERVICE/NAME, sli: availability_runs}}`.
inline constexpr std::string_view kLeewayMetricSource = "leeway";

// The metadata annotation of an AlertCondition that names a short window other than the one
// leeway pairs with its lookbackWindow (1h/5m, 6h/30m, 1d/2h, 3d/6h).
inline constexpr std::string_view kShortWindowAnnotation = "leeway.dev/short-window";

// What an import found. Messages read "file:line: message"; warnings add "warning: ".
struct OpenSloImport {
  std::vector<SloSpec> slos;  // one per SLO and objective, in document order; only without errors
  std::vector<std::string> errors;
  std::vector<std::string> warnings;

  bool ok() const { return errors.empty(); }
};

// Reads OpenSLO v1 documents (one YAML stream, `---` between documents) named `file` in
// messages. `check` ("" for none, "NAME" or "SERVICE/NAME") binds SLIs whose metric source is
// not leeway's to that check; a bare NAME is a check of the SLO's own service. Every error is
// reported, not just the first; SLOs are returned only when there is none.
OpenSloImport import_openslo(std::string_view text, const std::string& file,
                             const std::string& check = "");

// OpenSLO v1 documents for `slos`: a Service per service, then an SLO per SLO with its SLI and
// alert policies inline. import_openslo reads them back to the same specs.
// REQUIRES: specs that pass check_spec, with checks named "SERVICE/NAME".
std::string export_openslo(const std::vector<SloSpec>& slos);

// The leeway config for `slos`: `services:` with each service's `slos:`, every key written
// (window, method, checks by name, alerts unless they are the defaults). The services' checks are
// not in it: the SLOs are to be merged into the config that defines them. `source` names where
// they came from, in the header comment.
std::string slos_config_yaml(const std::vector<SloSpec>& slos, std::string_view source);

}  // namespace leeway::slo
