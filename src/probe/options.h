// The options of a check, in one table: the YAML config key, the `leeway check --flag` (the key
// with dashes) and the reference docs all come from it, so they cannot disagree.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "probe/types.h"

namespace leeway::probe {

// What a value looks like, for validation messages and docs.
enum class OptionType {
  kString,
  kDuration,
  kInt,
  kBool,
  kPercent,
  kStatusList,
  kHeader,
  kIpVersion,
  kRedirects,
};

struct CheckOption {
  std::string_view key;  // snake_case: the YAML key; the CLI flag is --key-with-dashes
  OptionType type;
  std::string_view kinds;         // comma-separated kinds it applies to, or "all"
  std::string_view default_text;  // for docs; "" when there is none
  std::string_view help;          // one line
  bool repeatable;                // may be given several times (headers, expected statuses)
  // Applies a value given as text to a spec whose kind is already set. REQUIRES: applies_to().
  Status (*apply)(CheckSpec& spec, std::string_view value);
  // The values that, applied in order to a spec parsed from the same target, give back what
  // `spec` holds for this option; none when the spec holds what the target alone gives. This is
  // how a check crosses the wire to an agent (agent/wire.h). REQUIRES: applies_to().
  std::vector<std::string> (*format)(const CheckSpec& spec);
};

// Every check option, in documentation order.
std::span<const CheckOption> check_options();

// The option named `key` (snake_case), or nullptr.
const CheckOption* find_check_option(std::string_view key);

// True when `option` means something for checks of `kind`.
bool applies_to(const CheckOption& option, Kind kind);

// Checks `value` against the option's kind and type, then applies it. Errors read like
// `body_regex: expected a regular expression, got "(": ...` or
// `send: applies to tcp checks, not http`.
Status apply_option(CheckSpec& spec, const CheckOption& option, std::string_view value);

// A short human name for a type, e.g. "a duration like 30s", used in messages and docs.
std::string_view describe(OptionType type);

}  // namespace leeway::probe
