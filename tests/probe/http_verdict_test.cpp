// judge_http(), the http check's verdict, called directly: an exchange in, outcome, stage and
// error out, with no socket (the prober's own tests run it against real servers).
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <cerrno>

#include "probe/http_verdict.h"

namespace leeway::probe {
namespace {

// A whole 200 response with `body`.
HttpExchange answered(int status, std::string_view body = "") {
  HttpExchange x;
  x.url = "http://example.test/";
  x.connected = x.tls_done = x.first_byte = true;
  x.status = status;
  x.body = body;
  x.timeout_us = 5 * kSecondUs;
  return x;
}

TEST(HttpVerdict, StatusInTheDefaultRangeIsUp) {
  HttpVerdict v = judge_http(answered(204), HttpSpec{}, nullptr);
  EXPECT_EQ(v.outcome, Outcome::kUp);
  EXPECT_EQ(v.stage, Stage::kNone);
  EXPECT_EQ(v.error, "");
}

TEST(HttpVerdict, StatusOutsideTheExpectedRangesFailsAtStatus) {
  HttpSpec http;
  http.expect_status = {{200, 200}, {301, 302}};
  HttpVerdict v = judge_http(answered(500), http, nullptr);
  EXPECT_EQ(v.outcome, Outcome::kDown);
  EXPECT_EQ(v.stage, Stage::kStatus);
  EXPECT_EQ(v.error, "status 500 is not in the expected 200, 301-302");
  EXPECT_EQ(judge_http(answered(302), http, nullptr).outcome, Outcome::kUp);
}

TEST(HttpVerdict, BodyChecksSayWhatWasMissingAndWhere) {
  HttpSpec http;
  http.body_contains = "ready";
  EXPECT_EQ(judge_http(answered(200, "all ready"), http, nullptr).outcome, Outcome::kUp);
  HttpExchange cut = answered(200, "not yet");
  cut.truncated = true;
  HttpVerdict v = judge_http(cut, http, nullptr);
  EXPECT_EQ(v.stage, Stage::kBody);
  EXPECT_EQ(v.error, "\"ready\" not found in the first 1 MiB of the body");

  HttpSpec regex;
  regex.body_regex = "v[0-9]+";
  RE2 compiled(regex.body_regex);
  EXPECT_EQ(judge_http(answered(200, "build v42"), regex, &compiled).outcome, Outcome::kUp);
  v = judge_http(answered(200, "build x"), regex, &compiled);
  EXPECT_EQ(v.stage, Stage::kBody);
  EXPECT_EQ(v.error, "no match for /v[0-9]+/ in the body");
}

TEST(HttpVerdict, JsonPointerAndEquals) {
  HttpSpec http;
  http.json_pointer = "/status";
  http.json_equals = "ok";
  EXPECT_EQ(judge_http(answered(200, R"({"status":"ok"})"), http, nullptr).outcome, Outcome::kUp);
  EXPECT_EQ(judge_http(answered(200, R"({"status":"down"})"), http, nullptr).error,
            R"(JSON at /status is "down", expected ok)");
  EXPECT_EQ(judge_http(answered(200, "{"), http, nullptr).error, "body is not valid JSON");
  EXPECT_EQ(judge_http(answered(200, "{}"), http, nullptr).error, "JSON has nothing at /status");
  http.json_pointer = "status";
  EXPECT_EQ(judge_http(answered(200, "{}"), http, nullptr).stage, Stage::kBody);
}

TEST(HttpVerdict, TransportFailuresFailAtTheStageReached) {
  HttpExchange x;
  x.rc = CURLE_COULDNT_CONNECT;
  x.curl_error = "Failed to connect";
  HttpVerdict v = judge_http(x, HttpSpec{}, nullptr);
  EXPECT_EQ(v.stage, Stage::kConnect);
  EXPECT_EQ(v.error, "Failed to connect");

  x.rc = CURLE_PEER_FAILED_VERIFICATION;
  x.connected = true;
  EXPECT_EQ(judge_http(x, HttpSpec{}, nullptr).stage, Stage::kTls);

  x.rc = CURLE_RECV_ERROR;  // no code of its own: the stage the exchange reached
  x.tls_done = true;
  EXPECT_EQ(judge_http(x, HttpSpec{}, nullptr).stage, Stage::kStatus);
  x.status = 200;
  EXPECT_EQ(judge_http(x, HttpSpec{}, nullptr).stage, Stage::kBody);
}

TEST(HttpVerdict, TheSocketsErrorIsTheCause) {
  HttpExchange x;
  x.rc = CURLE_COULDNT_CONNECT;
  x.os_errno = ECONNREFUSED;
  EXPECT_EQ(judge_http(x, HttpSpec{}, nullptr).cause, Cause::kRefused);
  x.os_errno = ENETUNREACH;
  EXPECT_EQ(judge_http(x, HttpSpec{}, nullptr).cause, Cause::kUnreachable);
  x.rc = CURLE_RECV_ERROR;
  x.connected = x.tls_done = true;
  x.os_errno = ECONNRESET;
  EXPECT_EQ(judge_http(x, HttpSpec{}, nullptr).cause, Cause::kReset);
  x.rc = CURLE_PEER_FAILED_VERIFICATION;
  x.os_errno = 0;
  EXPECT_EQ(judge_http(x, HttpSpec{}, nullptr).cause, Cause::kTls);
  // A timeout is a black hole only before the connection was made.
  x.rc = CURLE_OPERATION_TIMEDOUT;
  EXPECT_EQ(judge_http(x, HttpSpec{}, nullptr).cause, Cause::kNone);
  x.connected = false;
  EXPECT_EQ(judge_http(x, HttpSpec{}, nullptr).cause, Cause::kTimeout);
  EXPECT_EQ(judge_http(answered(500), HttpSpec{}, nullptr).cause, Cause::kNone);
}

TEST(HttpVerdict, TimeoutSaysWhereItStopped) {
  HttpExchange x;
  x.rc = CURLE_OPERATION_TIMEDOUT;
  x.curl_error = "Operation timed out";
  x.timeout_us = 2 * kSecondUs;
  x.connected = x.tls_done = true;
  HttpVerdict v = judge_http(x, HttpSpec{}, nullptr);
  EXPECT_EQ(v.stage, Stage::kTimeout);
  EXPECT_EQ(v.error, "timed out waiting for the response (2s timeout): Operation timed out");
}

TEST(HttpVerdict, ABodyCutAtTheCapIsJudgedOnWhatWasKept) {
  HttpSpec http;
  http.body_contains = "start";
  HttpExchange x = answered(200, "start of a long page");
  x.rc = CURLE_WRITE_ERROR;  // the prober stops reading at 1 MiB
  x.truncated = true;
  EXPECT_EQ(judge_http(x, http, nullptr).outcome, Outcome::kUp);
}

TEST(HttpVerdict, ARefusedRedirectIsAStatusFailure) {
  HttpExchange x;
  x.rc = CURLE_COULDNT_CONNECT;
  x.url = "http://169.254.169.254/";
  x.refused = "169.254.169.254 is a link-local address";
  HttpVerdict v = judge_http(x, HttpSpec{}, nullptr);
  EXPECT_EQ(v.stage, Stage::kStatus);
  EXPECT_EQ(v.error,
            "redirect to http://169.254.169.254/ refused: 169.254.169.254 is a link-local address");
}

}  // namespace
}  // namespace leeway::probe
