// The http check's verdict: see http_verdict.h.
#include "probe/http_verdict.h"

#include <re2/re2.h>

#include <nlohmann/json.hpp>

namespace leeway::probe {
namespace {

bool status_ok(const std::vector<StatusRange>& ranges, int status) {
  if (ranges.empty()) return status >= 200 && status <= 399;
  for (const auto& r : ranges)
    if (status >= r.lo && status <= r.hi) return true;
  return false;
}

std::string ranges_text(const std::vector<StatusRange>& ranges) {
  if (ranges.empty()) return "200-399";
  std::string text;
  for (const auto& r : ranges) {
    if (!text.empty()) text += ", ";
    text += std::to_string(r.lo);
    if (r.hi != r.lo) text += "-" + std::to_string(r.hi);
  }
  return text;
}

bool is_tls_error(CURLcode rc) {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

}  // namespace

HttpVerdict judge_http(const HttpExchange& x, const HttpSpec& http, const re2::RE2* body_regex) {
  HttpVerdict result;
  CURLcode rc = x.rc;
  if (rc == CURLE_WRITE_ERROR && x.truncated) rc = CURLE_OK;
  if (rc != CURLE_OK && !x.refused.empty()) {
    result.stage = Stage::kStatus;
    result.error = "redirect to " + x.url + " refused: " + x.refused;
    return result;
  }
  if (rc != CURLE_OK) {
    std::string error = x.curl_error;
    result.cause = cause_from_errno(x.os_errno);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      // Before the connection was made, nothing answered: a black hole. After it, the target
      // was reached and is slow, which says nothing against the path.
      result.cause = x.connected ? Cause::kNone : Cause::kTimeout;
      result.stage = Stage::kTimeout;
      const char* step = !x.connected    ? "while connecting"
                         : !x.tls_done   ? "during the TLS handshake"
                         : x.status == 0 ? (x.first_byte ? "while reading the response headers"
                                                         : "waiting for the response")
                                         : "while reading the body";
      result.error = "timed out " + std::string(step) + " (" + format_duration(x.timeout_us) +
                     " timeout): " + error;
      return result;
    }
    if (rc == CURLE_COULDNT_RESOLVE_HOST)
      result.stage = Stage::kDns;
    else if (rc == CURLE_COULDNT_CONNECT)
      result.stage = Stage::kConnect;
    else if (is_tls_error(rc)) {
      result.stage = Stage::kTls;
      if (result.cause == Cause::kNone) result.cause = Cause::kTls;
    } else if (rc == CURLE_SEND_ERROR)
      result.stage = Stage::kSend;
    else if (!x.connected)
      result.stage = Stage::kConnect;
    else if (!x.tls_done)
      result.stage = Stage::kTls;
    else
      result.stage = x.status == 0 ? Stage::kStatus : Stage::kBody;
    result.error = std::move(error);
    return result;
  }

  if (!status_ok(http.expect_status, x.status)) {
    result.stage = Stage::kStatus;
    result.error = "status " + std::to_string(x.status) + " is not in the expected " +
                   ranges_text(http.expect_status);
    return result;
  }

  const char* within = x.truncated ? " in the first 1 MiB of the body" : " in the body";
  if (!http.body_contains.empty() && x.body.find(http.body_contains) == std::string::npos) {
    result.stage = Stage::kBody;
    result.error = "\"" + http.body_contains + "\" not found" + within;
    return result;
  }
  if (body_regex) {
    if (!re2::RE2::PartialMatch(re2::StringPiece(x.body.data(), x.body.size()), *body_regex)) {
      result.stage = Stage::kBody;
      result.error = "no match for /" + http.body_regex + "/" + within;
      return result;
    }
  }
  if (!http.json_pointer.empty()) {
    using nlohmann::json;
    json doc = json::parse(x.body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      result.stage = Stage::kBody;
      result.error =
          x.truncated ? "body is over 1 MiB, too big to check as JSON" : "body is not valid JSON";
      return result;
    }
    try {
      json::json_pointer pointer(http.json_pointer);
      if (!doc.contains(pointer)) {
        result.stage = Stage::kBody;
        result.error = "JSON has nothing at " + http.json_pointer;
        return result;
      }
      const json& value = doc.at(pointer);
      if (http.json_equals) {
        // Equal as JSON text ("42", "true", "\"ok\"") or, for a string, as the bare string.
        json expected = json::parse(*http.json_equals, nullptr, false);
        bool equal =
            (!expected.is_discarded() && expected == value) ||
            (value.is_string() && value.get_ref<const std::string&>() == *http.json_equals);
        if (!equal) {
          result.stage = Stage::kBody;
          result.error = "JSON at " + http.json_pointer + " is " + value.dump() + ", expected " +
                         *http.json_equals;
          return result;
        }
      }
    } catch (const json::exception& ex) {
      result.stage = Stage::kBody;
      result.error = "bad JSON pointer \"" + http.json_pointer + "\": " + ex.what();
      return result;
    }
  }
  result.outcome = Outcome::kUp;
  return result;
}

}  // namespace leeway::probe
