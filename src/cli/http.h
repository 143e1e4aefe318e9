// Talking to a running daemon from a one-shot command: a blocking GET or POST with libcurl. A
// one-shot command has nothing else to do meanwhile.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "core/result.h"

namespace leeway::cli {

// GETs `url` and returns the body of a 2xx answer; any other answer is an error that shows the
// status and the start of the body, escaped for the terminal. With a token, it says who asks
// (`Authorization: Bearer <token>`).
Result<std::string> http_get(const std::string& url, const std::string& token = "");

// POSTs a JSON body with `Authorization: Bearer <token>` and returns the body of a 2xx answer.
Result<std::string> http_post(const std::string& url, const std::string& json_body,
                              const std::string& token);

// `text` percent-encoded for one path segment.
std::string path_segment(const std::string& text);

// The API token for a write: the first line of `token_file` when given, else $LEEWAY_TOKEN.
Result<std::string> api_token(const std::string& token_file);

// GETs `path` from the daemon at `server` and parses its JSON answer; the error says what
// went wrong in words for the command's user.
Result<nlohmann::json> get_json(const std::string& server, const std::string& path,
                                const std::string& token = "");

// Prints the daemon's answer at `path` as JSON, or as `print` makes it; exit 0, or 3 with the
// reason on stderr when it cannot be had.
int show(const char* command, const std::string& server, const std::string& path, bool as_json,
         const std::function<void(const nlohmann::json&)>& print);

// POSTs `body` to `path` of the daemon at `server` with the API token of `token_file` (see
// api_token) and prints what `print` makes of its JSON answer; exit 0, or 3 with the reason on
// stderr (the daemon's error names the field at fault).
int post(const char* command, const std::string& server, const std::string& path,
         const nlohmann::json& body, const std::string& token_file,
         const std::function<void(const nlohmann::json&)>& print);

// A text field of the daemon's answer, escaped for the terminal; "-" when null.
std::string field(const nlohmann::json& j, const char* name);

}  // namespace leeway::cli
