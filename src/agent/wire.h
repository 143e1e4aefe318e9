// The agent protocol's JSON, in one place so that `leeway serve` and `leeway agent` agree: the
// checks a location runs (server to agent) and results (agent to server).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "probe/types.h"
#include "store/store.h"

namespace leeway::agent {

// How long an agent's GET /api/v1/agent/checks waits for a change (?wait=) before asking again;
// the server counts a location silent only after a longer gap (see daemon/location_health.h).
inline constexpr int kLongPollWaitS = 20;
// The most a long poll may ask to wait.
inline constexpr int kMaxLongPollWaitS = 60;

// A check as an agent runs it.
struct AgentCheck {
  std::string id;
  DurationUs interval_us = 0;
  probe::CheckSpec spec;

  bool operator==(const AgentCheck&) const = default;
};

// {"id", "interval_us", "target", "options": {"key": ["value", ...]}}: the target and the values
// of probe::check_options() that rebuild the spec exactly (CheckOption::format), so the wire has
// no serializer of its own to fall out of step with the options.
nlohmann::json check_to_json(const AgentCheck& check);

// The check again, as parse_target and apply_option build it. Errors name the field, e.g.
// `options.timeout: expected a duration above zero, got "0s"`.
Result<AgentCheck> check_from_json(const nlohmann::json& j);

// The answer of GET /api/v1/agent/checks: {"location": id, "checks": [...]}.
nlohmann::json check_list_to_json(const std::string& location,
                                  const std::vector<AgentCheck>& checks);
// Errors name the check by index: `checks[2].interval_us: ...`.
Result<std::vector<AgentCheck>> check_list_from_json(const nlohmann::json& j);

// One result without its location (a batch names it once): {"check", "started_us",
// "total_us", "outcome"} and, when set, "stage", "http_status", "error" and the stage timings
// ("dns_us", "connect_us", "tls_us", "first_byte_us").
nlohmann::json result_to_json(const store::StoredResult& r);

// The longest batch id a server takes.
inline constexpr std::size_t kMaxBatchIdBytes = 200;

// A batch of results as an agent pushes it: {"batch": id, "location": id, "sent_us": the
// agent's clock, "dropped_total": what its full spool dropped (optional), "results": [...]}.
struct ResultBatch {
  std::string id;
  std::string location;
  TimeUs sent_us = 0;
  std::int64_t dropped_total = 0;
  // The valid results before the first invalid one (each of `location`), and what is wrong with
  // that one, by index and field: `results[3].started_us: expected a time in whole
  // microseconds since the epoch`. The caller may refuse a valid one before it for reasons of
  // its own (an unknown check) first.
  std::vector<store::StoredResult> results;
  std::optional<std::string> bad_result;
};

// Decodes a pushed batch from its text without building a JSON tree (batch_decoder.cpp). A batch
// that names a location other than `location` comes back with that location and nothing else
// checked: the caller refuses it first. Every problem with its shape is an error naming the field
// (`sent_us: ...`, `batch: given twice`). Results are checked field by field as result_to_json
// writes them; unknown keys are ignored.
Result<ResultBatch> batch_from_json(std::string_view body, const std::string& location);

}  // namespace leeway::agent
