// Is it us or the network? From what each location sees of a service, and whether it still
// reaches its reference targets, the verdict (service, network:<isp>, network:region:<r>,
// vantage:<location>, dns, or unknown with the reason), with a confidence and its evidence, and
// the changes recorded before the incident. The rules are the table in README.md.
#pragma once

#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/time.h"
#include "incident/labels.h"
#include "probe/types.h"

namespace leeway::incident {

// The recent status of one of the service's checks at one location.
struct CheckStatus {
  std::string check;
  probe::Outcome outcome = probe::Outcome::kUp;
  probe::Stage stage = probe::Stage::kNone;  // the failing stage, when outcome is kDown
  bool silent = false;                       // no recent result here (see is_silent)
};

// Whether a location reaches its reference targets (another site, a public resolver), which
// tells "this vantage cannot reach anything" from "this vantage cannot reach the service".
enum class ReferenceHealth { kNone, kUp, kDown };  // kNone: none configured

struct LocationEvidence {
  std::string location;
  Labels labels;
  std::vector<CheckStatus> checks;
  ReferenceHealth references = ReferenceHealth::kNone;
};

// A change recorded for the service: a deploy, a config change, an infrastructure event.
struct Change {
  TimeUs at_us = 0;
  std::string kind;  // "deploy", "config", ...
  std::string description;
  bool improvement = false;  // made to improve the service (it can happen)

  bool operator==(const Change&) const = default;
};

enum class VerdictKind { kService, kNetwork, kRegion, kVantage, kDns, kUnknown };

struct Verdict {
  VerdictKind kind = VerdictKind::kUnknown;
  // The verdict as operators read it: "service", "network:kt", "network:region:seoul",
  // "vantage:kt-2", "dns", "unknown".
  std::string name;
  // For kNetwork the ISP, for kRegion the region, for kVantage the locations (comma-separated).
  std::string subject;
  double confidence = 0;  // 0 to 1
  std::string reason;     // for kUnknown: why the evidence is too thin
  // The evidence, one fact a line, in words with the numbers.
  std::vector<std::string> evidence;
  // Locations by what they see: failing (some check down), silent (every check silent),
  // reachable (reporting, none down). Sorted.
  std::vector<std::string> failing, silent, reachable;
  std::vector<probe::Stage> failing_stages;  // distinct, in enum order

  bool operator==(const Verdict&) const = default;
};

// The verdict from every location running the service's checks.
Verdict attribute(std::span<const LocationEvidence> locations);

// The changes recorded in the window before an incident opened, and the likely cause.
struct ChangeCorrelation {
  DurationUs window_us = 0;
  std::vector<Change> before;  // in [start - window, start], oldest first
  // A service-wide failure (verdict service or dns) names the latest change in the window.
  std::optional<Change> likely_cause;

  bool operator==(const ChangeCorrelation&) const = default;
};

constexpr DurationUs kDefaultChangeWindowUs = 60 * kMinuteUs;

ChangeCorrelation correlate_changes(std::span<const Change> changes, TimeUs incident_start_us,
                                    const Verdict& verdict,
                                    DurationUs window_us = kDefaultChangeWindowUs);

// The changes clause of that sentence: "nothing was deployed in the 60 minutes before", "likely
// cause: deploy \"v2.3\" at 11:14:00 (2m40s before)" or the changes listed.
std::string describe_changes(const ChangeCorrelation& changes, TimeUs start_us);

// The verdict in one sentence, with its evidence, such as: "shop-web is unreachable from the
// vantages behind ISP kt (dns failures) since 11:16:40; reachable from skb, lgu and local; kt's
// vantages cannot reach their reference targets either; nothing was deployed in the 60 minutes
// before: network: kt". Times are UTC.
std::string describe(const std::string& service, TimeUs since_us, const Verdict& verdict,
                     std::span<const LocationEvidence> locations, const ChangeCorrelation& changes);

}  // namespace leeway::incident
