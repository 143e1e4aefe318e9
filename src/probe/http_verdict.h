// The http check's verdict as a pure function: what one exchange came to (curl's code, how far it
// got, status and body) and what the check asks, in; outcome, failing stage and error out. No
// sockets and no curl handle, so tests and fuzzers can feed it any response. Internal to the
// probe module.
#pragma once

#include <curl/curl.h>

#include <string>
#include <string_view>

#include "core/time.h"
#include "probe/types.h"

namespace re2 {
class RE2;
}

namespace leeway::probe {

// What the transport saw of one exchange (the last hop of a run).
struct HttpExchange {
  CURLcode rc = CURLE_OK;   // CURLE_OK: the response was read (or its first 1 MiB)
  std::string curl_error;   // curl's words for rc
  int os_errno = 0;         // the socket's error behind rc (CURLINFO_OS_ERRNO); 0 if none
  std::string url;          // the hop's URL
  std::string refused;      // why a redirect hop's connection was refused; "" if it was not
  bool connected = false;   // the TCP connection was made
  bool tls_done = false;    // the TLS handshake finished (or the hop is plain http)
  bool first_byte = false;  // a byte of the response arrived
  int status = 0;           // the response's status code; 0 before one arrived
  std::string_view body;    // as much of it as was kept
  bool truncated = false;   // the body was cut at 1 MiB
  DurationUs timeout_us = 0;
};

struct HttpVerdict {
  Outcome outcome = Outcome::kDown;
  Stage stage = Stage::kNone;
  Cause cause = Cause::kNone;
  std::string error;
};

// Judges an exchange against the check: transport errors first (each at the stage it reached,
// with the cause the socket's error says, kTimeout for a run that timed out before it connected,
// kTls for a failed handshake or certificate),
// then the status against expect_status, then the body (body_contains, body_regex, json_pointer
// and json_equals). `body_regex` is http.body_regex compiled; null when that is empty.
HttpVerdict judge_http(const HttpExchange& exchange, const HttpSpec& http,
                       const re2::RE2* body_regex);

}  // namespace leeway::probe
