// Reading API requests and answering errors (see api_input.h).
#include "daemon/api_input.h"

#include <algorithm>

#include "daemon/daemon.h"

namespace leeway::daemon {

// An error as the API answers it, by its kind.
http::Response error_response(const Error& e) {
  switch (e.kind) {
    case ErrorKind::kNotFound:
      return http::Response::error(404, e.message);
    case ErrorKind::kInvalidArgument:
      return http::Response::error(400, e.message);
    case ErrorKind::kUnavailable:
      return http::Response::error(503, e.message);
    case ErrorKind::kInternal:
      break;
  }
  return http::Response::error(500, e.message);
}

// The optional from/to parameters.
Status time_range(const http::Request& r, TimeUs& from_us, TimeUs& to_us) {
  for (auto [name, out] : {std::pair{"from", &from_us}, std::pair{"to", &to_us}}) {
    if (auto it = r.query.find(name); it != r.query.end()) {
      auto t = parse_time_param(name, it->second);
      if (!t) return t.error();
      *out = *t;
    }
  }
  if (from_us >= to_us) return fail_as(ErrorKind::kInvalidArgument, "from must be before to");
  return {};
}

// A request body that must be a JSON object (or empty, when `empty_ok`).
Result<nlohmann::json> body_object(const http::Request& r, bool empty_ok) {
  if (empty_ok && r.body.find_first_not_of(" \t\r\n") == std::string::npos)
    return nlohmann::json::object();
  nlohmann::json body = nlohmann::json::parse(r.body, nullptr, false);
  if (body.is_discarded() || !body.is_object())
    return fail_as(ErrorKind::kInvalidArgument, "body: expected a JSON object");
  return body;
}

// A text field of a body: a string, when present; `required` says whether it must be.
Result<std::string> text_field(const nlohmann::json& body, const char* name, bool required) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (required) return fail_as(ErrorKind::kInvalidArgument, name, ": required");
    return std::string();
  }
  if (!it->is_string()) return fail_as(ErrorKind::kInvalidArgument, name, ": expected a string");
  return it->get<std::string>();
}

Result<TimeUs> time_field(const nlohmann::json& body, const char* name,
                          std::optional<TimeUs> fallback) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null()) {
    if (fallback) return *fallback;
    return fail_as(ErrorKind::kInvalidArgument, name, ": required");
  }
  const std::string text = it->is_string() ? it->get<std::string>() : it->dump();
  return parse_time_param(name, text);
}

Result<std::vector<std::string>> services_field(const nlohmann::json& body, const char* name,
                                                const std::vector<std::string>& known) {
  const auto it = body.find(name);
  if (it == body.end() || it->is_null() || (it->is_array() && it->empty()))
    return fail_as(ErrorKind::kInvalidArgument, name, ": expected at least one service");
  nlohmann::json list = it->is_array() ? *it : nlohmann::json::array({*it});
  std::vector<std::string> out;
  for (const auto& item : list) {
    if (!item.is_string())
      return fail_as(ErrorKind::kInvalidArgument, name, ": expected service ids");
    std::string id = item.get<std::string>();
    if (std::find(known.begin(), known.end(), id) == known.end())
      return fail_as(ErrorKind::kInvalidArgument, name, ": no such service: \"", id, "\"");
    if (std::find(out.begin(), out.end(), id) != out.end())
      return fail_as(ErrorKind::kInvalidArgument, name, ": \"", id, "\" listed twice");
    out.push_back(std::move(id));
  }
  return out;
}

}  // namespace leeway::daemon
