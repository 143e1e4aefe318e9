// A closed month's report is frozen with a hash of its inputs: the contract's terms and the
// evidence in one canonical form (JSON with sorted keys, every list sorted by id), whose SHA-256
// says whether a recompute saw the same inputs, and whose difference to an earlier form says what
// changed, one line each.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "sla/contract.h"
#include "sla/evidence.h"

namespace leeway::report {

// The contract's terms and the evidence in canonical form, without the as-of time (only closed
// months are frozen): the same inputs give the same text whatever order they were read in. The
// contract is one item of its own list, by id, its terms by readable names ("penalty of grade
// 1"), so that an edited contract makes a revision that says which terms changed.
nlohmann::json canonical_inputs(const sla::Contract& contract, const sla::Evidence& evidence);

// The canonical text that is hashed and stored.
std::string canonical_text(const nlohmann::json& inputs);

// Lowercase hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

// What differs from `before` to `after` (both canonical_inputs()): "contract shop-ops: penalty
// of grade 1 KRW 3,000,000 -> KRW 3,500,000", "incident web@...: added",
// "incident web@...: resolved_us 1700000000000000 -> 1700000060000000", "reclassification of
// web@... (grade at 2026-...): added", in the order of the lists and ids. Inputs frozen before
// the contract was among them say so in one line rather than "added".
std::vector<std::string> input_changes(const nlohmann::json& before, const nlohmann::json& after);

}  // namespace leeway::report
