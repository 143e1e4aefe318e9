// What the OpenSLO import's files share: the documents by kind and name, messages with their
// line, and the readers of OpenSLO's numbers and durations. Internal to src/slo.
#pragma once

#include <yaml-cpp/yaml.h>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "slo/spec.h"

namespace leeway::slo::openslo {

// Errors and warnings, each "file:line: ...".
struct Messages {
  std::string file;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;

  void error(const YAML::Node& at, std::string_view message);
  void warning(const YAML::Node& at, std::string_view message);
};

// A key of a map and its value; the key's line is where the value was written even when the
// value is empty.
struct Field {
  YAML::Node key;
  YAML::Node value;
  bool found = false;  // a default YAML::Node is a defined null: it cannot say "absent"
  explicit operator bool() const { return found; }
  // The value's text, "" when it is not a scalar.
  std::string text() const;
};

// The field `name` of `map`; an empty Field when `map` is not a map or has no such key.
Field field(const YAML::Node& map, std::string_view name);

// The documents of one import, by kind; names are metadata.name.
struct Documents {
  std::vector<YAML::Node> slos;  // in file order
  std::map<std::string, YAML::Node, std::less<>> slis;
  std::map<std::string, YAML::Node, std::less<>> alert_policies;
  std::map<std::string, YAML::Node, std::less<>> alert_conditions;
};

// Reads every document of `text`; a document of another apiVersion or an unknown kind is an
// error. DataSource and AlertNotificationTarget say nothing leeway keeps and are skipped.
Documents read_documents(std::string_view text, Messages& messages);

// An OpenSLO duration shorthand: a whole number (0 or more) and one of m h d w M Q Y.
struct Shorthand {
  long long count = 0;
  char unit = 0;
  // The length for the fixed units m h d w; nullopt for months, quarters and years.
  std::optional<DurationUs> fixed_us() const;
};
std::optional<Shorthand> parse_shorthand(std::string_view text);

// A fraction 0..1 written as a decimal ("0.995", "1") in billionths, exactly; nullopt for other
// text or more than 9 decimals.
std::optional<Ratio> parse_fraction(std::string_view text);

// Whether `text` is a leeway id: letters, digits, '-', '_' or '.'.
bool is_id(std::string_view text);

// What an SLO's SLI reads: the leeway SLI and the checks ("SERVICE/NAME", of one service).
struct Binding {
  Sli sli = Sli::kAvailabilityRuns;
  std::vector<std::string> checks;
  bool foreign = false;  // bound by --check: a threshold's unit is leeway's, not the source's
};

// The SLI of an SLO's `spec` (inline `indicator` or `indicatorRef`), bound to leeway checks by
// its leeway metric sources or, when they are all foreign, by `check` (--check: NAME of
// `service`, or SERVICE/NAME); nullopt after an error.
std::optional<Binding> read_indicator(const Field& spec, const std::string& service,
                                      const Documents& documents, const std::string& check,
                                      Messages& messages);

// The short window leeway pairs with `long_us` in its default conditions (1h/5m, 6h/30m, 1d/2h,
// 3d/6h), or 0: an export names any other in kShortWindowAnnotation.
DurationUs paired_short_window(DurationUs long_us);

// Every AlertCondition and AlertPolicy of the file read once, by name: nullopt for one with
// errors (reported when read, so each is reported once, referenced or not).
struct Alerts {
  std::map<std::string, std::optional<BurnCondition>, std::less<>> conditions;
  std::map<std::string, std::optional<std::vector<BurnCondition>>, std::less<>> policies;
};
Alerts read_alerts(const Documents& documents, Messages& messages);

// The burn-rate conditions of an SLO's `alertPolicies` (inline, `alertPolicyRef`, or a name),
// or the defaults when it names none; nullopt after an error.
std::optional<std::vector<BurnCondition>> read_alert_policies(const Field& policies,
                                                              const Alerts& alerts,
                                                              Messages& messages);

}  // namespace leeway::slo::openslo
