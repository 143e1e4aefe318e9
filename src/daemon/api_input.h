// What the API's write and list routes share: reading a request's JSON body, its fields and its
// from/to parameters, and answering an Error by its kind. Internal to the daemon module.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "http/server.h"

namespace leeway::daemon {

// An error as the API answers it, by its kind: 404, 400, 503 or 500.
http::Response error_response(const Error& e);

// The optional from/to parameters, into from_us and to_us (which keep their values when absent).
Status time_range(const http::Request& r, TimeUs& from_us, TimeUs& to_us);

// A request body that must be a JSON object (or empty, when `empty_ok`).
Result<nlohmann::json> body_object(const http::Request& r, bool empty_ok);

// A text field of a body: a string, when present; `required` says whether it must be.
Result<std::string> text_field(const nlohmann::json& body, const char* name, bool required);

// A time field of a body (RFC 3339 with Z or an offset, or Unix seconds); `fallback` when absent.
Result<TimeUs> time_field(const nlohmann::json& body, const char* name,
                          std::optional<TimeUs> fallback);

// A list of service ids (or one id alone) that must each be one of `known`.
Result<std::vector<std::string>> services_field(const nlohmann::json& body, const char* name,
                                                const std::vector<std::string>& known);

}  // namespace leeway::daemon
