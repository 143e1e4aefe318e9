// A pushed batch decoded straight from its text into StoredResults (see batch_from_json() in
// wire.h), with nlohmann's SAX parser: no DOM. Building the DOM (a std::map and strings per
// result) took two thirds of the server's CPU during a push (bench/agent.sh).
//
// The handler records what it saw and checks it in a fixed order once the whole body has
// parsed, so the error does not depend on the order of the keys: first a malformed body, then
// the top-level fields (location, batch, sent_us, dropped_total, results), then the results in
// order, each field of a result in wire.h's order. A value that is an object or a list where a
// scalar belongs is skipped by counting its depth, so nesting costs no recursion.
#include <fmt/format.h>

#include <array>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "agent/wire.h"

namespace leeway::agent {

namespace {

using nlohmann::json;

// A result's fields, in the order their errors are reported.
enum Field : int {
  kCheck,
  kStartedUs,
  kTotalUs,
  kOutcome,
  kStage,
  kCause,
  kHttpStatus,
  kError,
  kDnsUs,
  kConnectUs,
  kTlsUs,
  kFirstByteUs,
  kFieldCount,
  kUnknownField = kFieldCount,
};

constexpr std::array<std::string_view, kFieldCount> kFieldNames = {
    "check",       "started_us", "total_us", "outcome",    "stage",  "cause",
    "http_status", "error",      "dns_us",   "connect_us", "tls_us", "first_byte_us"};

constexpr std::array<const char*, kFieldCount> kFieldErrors = {
    "expected a check id",
    "expected a time in whole microseconds since the epoch",
    "expected a whole number of microseconds",
    "expected up, degraded, down or unknown",
    "expected dns, connect, tls, send, status, body or timeout",
    "expected refused, unreachable, reset, timeout, nxdomain, servfail or tls",
    "expected an HTTP status code",
    "expected text",
    "expected a whole number of microseconds",
    "expected a whole number of microseconds",
    "expected a whole number of microseconds",
    "expected a whole number of microseconds",
};

constexpr std::uint32_t kRequired =
    1u << kCheck | 1u << kStartedUs | 1u << kTotalUs | 1u << kOutcome;

// The batch's own fields.
enum TopField : int { kLocation, kBatch, kSentUs, kDroppedTotal, kResults, kTopCount, kUnknownTop };

constexpr std::array<std::string_view, kTopCount> kTopNames = {"location", "batch", "sent_us",
                                                               "dropped_total", "results"};

template <std::size_t N>
int field_of(const std::array<std::string_view, N>& names, std::string_view key, int unknown) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == key) return int(i);
  return unknown;
}

std::optional<probe::Outcome> outcome_from_string(std::string_view text) {
  for (auto o : {probe::Outcome::kUp, probe::Outcome::kDegraded, probe::Outcome::kDown,
                 probe::Outcome::kUnknown})
    if (probe::to_string(o) == text) return o;
  return std::nullopt;
}

// A scalar as the parser reports it: the handler's callbacks funnel into one place.
struct Scalar {
  enum Kind { kInteger, kOther, kText } kind = kOther;
  std::int64_t integer = 0;
  std::string* text = nullptr;  // kText: the parser's buffer, which may be moved from
};

class Handler final : public json::json_sax_t {
 public:
  explicit Handler(std::size_t body_bytes) {
    // About 170 bytes a result as agents write them: one reservation, rarely a second.
    batch_.results.reserve(body_bytes / 128 + 1);
  }

  bool null() override { return scalar({}); }
  bool boolean(bool) override { return scalar({}); }
  bool number_integer(number_integer_t v) override { return scalar({Scalar::kInteger, v}); }
  bool number_unsigned(number_unsigned_t v) override {
    // Beyond int64 no field can hold it: as wrong as a fraction.
    if (v > std::uint64_t(std::numeric_limits<std::int64_t>::max())) return scalar({});
    return scalar({Scalar::kInteger, std::int64_t(v)});
  }
  bool number_float(number_float_t, const string_t&) override { return scalar({}); }
  bool string(string_t& v) override { return scalar({Scalar::kText, 0, &v}); }
  bool binary(binary_t&) override { return scalar({}); }

  bool start_object(std::size_t) override {
    if (skipping_ > 0) return ++skipping_, true;
    switch (depth_) {
      case 0:
        top_is_object_ = true;
        break;
      case 1:
        top_bad_ |= top_field_ < kTopCount ? 1u << top_field_ : 0;
        skipping_ = 1;
        return true;
      case 2:
        if (in_results_) {
          start_result();
          break;
        }
        skipping_ = 1;
        return true;
      default:
        mark_bad(field_);
        skipping_ = 1;
        return true;
    }
    ++depth_;
    return true;
  }

  bool end_object() override {
    if (skipping_ > 0) return --skipping_, true;
    if (--depth_ == 2) end_result();
    return true;
  }

  bool start_array(std::size_t) override {
    if (skipping_ > 0) return ++skipping_, true;
    if (depth_ == 1 && top_field_ == kResults) {
      top_seen_ |= 1u << kResults;
      in_results_ = true;
      ++depth_;
      return true;
    }
    if (depth_ == 1 && top_field_ < kTopCount) top_bad_ |= 1u << top_field_;
    if (depth_ == 2 && in_results_) not_a_result();
    if (depth_ >= 3) mark_bad(field_);
    skipping_ = 1;
    return true;
  }

  bool end_array() override {
    if (skipping_ > 0) return --skipping_, true;
    in_results_ = false;
    --depth_;
    return true;
  }

  bool key(string_t& k) override {
    if (skipping_ > 0) return true;
    if (depth_ == 1) {
      top_field_ = field_of(kTopNames, k, kUnknownTop);
      if (top_field_ < kTopCount) {
        if (top_given_ & 1u << top_field_ && duplicate_.empty())
          duplicate_ = fmt::format("{}: given twice", k);
        top_given_ |= 1u << top_field_;
      }
    } else {
      field_ = field_of(kFieldNames, k, kUnknownField);
      if (field_ < kFieldCount) {
        if (given_ & 1u << field_) duplicated_ |= 1u << field_;
        given_ |= 1u << field_;
      }
    }
    return true;
  }

  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override {
    malformed_ = true;
    return false;
  }

  // The batch, checked in the order the file's comment gives.
  Result<ResultBatch> finish(const std::string& location) && {
    auto bad = [](std::string message) {
      return fail_as(ErrorKind::kInvalidArgument, std::move(message));
    };
    if (malformed_ || !top_is_object_)
      return bad("body: expected a JSON object with batch, location, sent_us and results");
    if (!duplicate_.empty()) return bad(duplicate_);
    if (!(top_seen_ & 1u << kLocation)) return bad("location: expected the location's id");
    // Another location's batch: the caller refuses it for that before anything else.
    if (batch_.location != location) {
      batch_.results.clear();
      batch_.bad_result.reset();
      return std::move(batch_);
    }
    if (!(top_seen_ & 1u << kBatch) || batch_.id.empty() || batch_.id.size() > kMaxBatchIdBytes)
      return bad(
          fmt::format("batch: expected the batch's id (1 to {} characters)", kMaxBatchIdBytes));
    if (!(top_seen_ & 1u << kSentUs))
      return bad(
          "sent_us: expected the agent's clock when it sent the batch, in microseconds since the "
          "epoch");
    if (top_bad_ & 1u << kDroppedTotal) return bad("dropped_total: expected a whole number");
    if (!(top_seen_ & 1u << kResults) || top_bad_ & 1u << kResults)
      return bad("results: expected a list of results");
    for (auto& r : batch_.results) r.location = location;
    return std::move(batch_);
  }

 private:
  bool scalar(Scalar v) {
    if (skipping_ > 0) return true;
    if (depth_ == 1) {
      top_scalar(v);
    } else if (depth_ == 2) {
      if (in_results_) not_a_result();
    } else if (depth_ == 3) {
      result_scalar(v);
    }
    // depth 0: a body that is a bare scalar, refused as not an object.
    return true;
  }

  void top_scalar(const Scalar& v) {
    if (top_field_ >= kTopCount) return;
    auto ok = [&](bool valid) {
      if (valid)
        top_seen_ |= 1u << top_field_;
      else
        top_bad_ |= 1u << top_field_;
    };
    switch (top_field_) {
      case kLocation:
        ok(v.kind == Scalar::kText);
        if (v.kind == Scalar::kText) batch_.location = std::move(*v.text);
        break;
      case kBatch:
        ok(v.kind == Scalar::kText);
        if (v.kind == Scalar::kText) batch_.id = std::move(*v.text);
        break;
      case kSentUs:
        ok(v.kind == Scalar::kInteger);
        batch_.sent_us = v.integer;
        break;
      case kDroppedTotal:
        ok(v.kind == Scalar::kInteger && v.integer >= 0);
        batch_.dropped_total = v.integer;
        break;
      case kResults:
        ok(false);
        break;
      default:
        break;
    }
  }

  void start_result() {
    given_ = bad_ = duplicated_ = 0;
    current_ = store::StoredResult{};
  }

  // An element of `results` that is not an object.
  void not_a_result() {
    if (!batch_.bad_result)
      batch_.bad_result = fmt::format("results[{}]: expected an object", index_);
    ++index_;
  }

  void mark_bad(int field) {
    if (field < kFieldCount) bad_ |= 1u << field;
  }

  void result_scalar(Scalar& v) {
    if (field_ >= kFieldCount) return;
    store::StoredResult& r = current_;
    const bool integer = v.kind == Scalar::kInteger;
    const bool text = v.kind == Scalar::kText;
    bool valid = false;
    switch (field_) {
      case kCheck:
        valid = text && !v.text->empty();
        if (valid) r.check = std::move(*v.text);
        break;
      case kStartedUs:
        valid = integer && v.integer > 0;
        r.started_us = v.integer;
        break;
      case kTotalUs:
        valid = integer && v.integer >= 0;
        r.total_us = v.integer;
        break;
      case kOutcome:
        if (auto o = text ? outcome_from_string(*v.text) : std::nullopt) {
          valid = true;
          r.outcome = *o;
        }
        break;
      case kStage:
        if (auto s = text ? probe::stage_from_string(*v.text) : std::nullopt) {
          valid = true;
          r.stage = *s;
        }
        break;
      case kCause:
        if (auto c = text ? probe::cause_from_string(*v.text) : std::nullopt) {
          valid = true;
          r.cause = *c;
        }
        break;
      case kHttpStatus:
        valid = integer && v.integer >= 0 && v.integer <= 999;
        r.http_status = int(v.integer);
        break;
      case kError:
        valid = text;
        if (valid) r.error = std::move(*v.text);
        break;
      default: {  // the stage timings: -1 is "not reached"
        valid = integer && v.integer >= -1;
        DurationUs* timings[] = {&r.dns_us, &r.connect_us, &r.tls_us, &r.first_byte_us};
        *timings[field_ - kDnsUs] = v.integer;
      }
    }
    if (!valid) bad_ |= 1u << field_;
  }

  void end_result() {
    std::size_t index = index_++;
    if (batch_.bad_result) return;  // only results before the first bad one are kept
    const std::uint32_t wrong = bad_ | (kRequired & ~given_);
    for (int f = 0; f < kFieldCount; ++f) {
      if (duplicated_ & 1u << f) {
        batch_.bad_result = fmt::format("results[{}].{}: given twice", index, kFieldNames[f]);
        return;
      }
      if (wrong & 1u << f) {
        batch_.bad_result =
            fmt::format("results[{}].{}: {}", index, kFieldNames[f], kFieldErrors[f]);
        return;
      }
    }
    batch_.results.push_back(std::move(current_));
  }

  ResultBatch batch_;
  bool malformed_ = false;
  bool top_is_object_ = false;
  int depth_ = 0;     // 1: in the batch's object, 2: in `results`, 3: in a result
  int skipping_ = 0;  // > 0: inside a value being skipped, this deep
  bool in_results_ = false;
  int top_field_ = kUnknownTop;
  std::uint32_t top_given_ = 0, top_seen_ = 0, top_bad_ = 0;  // by TopField
  std::string duplicate_;                                     // the first top-level key given twice
  // The result being read.
  store::StoredResult current_;
  std::size_t index_ = 0;  // its place in `results`
  int field_ = kUnknownField;
  std::uint32_t given_ = 0, bad_ = 0, duplicated_ = 0;  // by Field
};

}  // namespace

Result<ResultBatch> batch_from_json(std::string_view body, const std::string& location) {
  Handler handler(body.size());
  json::sax_parse(body.begin(), body.end(), &handler);
  return std::move(handler).finish(location);
}

}  // namespace leeway::agent
