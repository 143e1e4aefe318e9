// A closed month's report is frozen with a hash of its inputs: the evidence in one canonical form
// (JSON with sorted keys, every list sorted by id), whose SHA-256 says whether a recompute saw the
// same inputs, and whose difference to an earlier form says what changed, one line each.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sla/evidence.h"

namespace leeway::report {

// The evidence in canonical form, without its as-of time (only closed months are frozen): the
// same evidence gives the same text whatever order it was read in.
nlohmann::json canonical_inputs(const sla::Evidence& evidence);

// The canonical text that is hashed and stored.
std::string canonical_text(const nlohmann::json& inputs);

// Lowercase hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

// What differs from `before` to `after` (both canonical_inputs()): "incident web@...: added",
// "incident web@...: resolved_us 1700000000000000 -> 1700000060000000", "reclassification of
// web@... (grade at 2026-...): added", in the order of the lists and ids.
std::vector<std::string> input_changes(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace leeway::report
