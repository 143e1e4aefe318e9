// Talking to a running daemon from a one-shot command: a blocking GET or POST with libcurl. A
// one-shot command has nothing else to do meanwhile.
#pragma once

#include <string>

#include "core/result.h"

namespace leeway::cli {

// GETs `url` and returns the body of a 2xx answer; any other answer is an error that shows the
// status and the start of the body, escaped for the terminal.
Result<std::string> http_get(const std::string& url);

// POSTs a JSON body with `Authorization: Bearer <token>` and returns the body of a 2xx answer.
Result<std::string> http_post(const std::string& url, const std::string& json_body,
                              const std::string& token);

// `text` percent-encoded for one path segment.
std::string path_segment(const std::string& text);

// The API token for a write: the first line of `token_file` when given, else $LEEWAY_TOKEN.
Result<std::string> api_token(const std::string& token_file);

}  // namespace leeway::cli
