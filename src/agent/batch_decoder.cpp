// A pushed batch decoded straight from its text into StoredResults (see batch_from_json() in
// wire.h), with simdjson's On-Demand parser: no DOM. Building nlohmann's DOM (a std::map and
// strings per result) took two thirds of the server's CPU during a push, and nlohmann's SAX
// parser after it still cost more per result than storing it (bench/agent.sh).
//
// On-Demand checks only what it is asked to read, so the walk below reads every token, ignored
// ones too: a body that is not JSON is refused whole, as before. A walk feeds a handler that
// records what it saw and checks it in a fixed order once the whole body has been read, so the
// error does not depend on the order of the keys: first a malformed body, then the top-level
// fields (location, batch, sent_us, dropped_total, results), then the results in order, each
// field of a result in wire.h's order. A value that is an object or a list where a scalar
// belongs is skipped by counting its depth, so nesting costs no recursion.
#include <fmt/format.h>

#include <simdjson.h>
#include <array>
#include <utility>
#include <variant>
#include <vector>

#include "agent/wire.h"

namespace leeway::agent {

namespace {

using simdjson::error_code;
using simdjson::INCORRECT_TYPE;
using simdjson::OUT_OF_BOUNDS;
using simdjson::simdjson_result;
using simdjson::SUCCESS;
using simdjson::TRAILING_CONTENT;
namespace ondemand = simdjson::ondemand;

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

// A scalar as the walk reports it: the handler's events funnel into one place.
struct Scalar {
  enum Kind { kInteger, kOther, kText } kind = kOther;
  std::int64_t integer = 0;
  std::string_view text;  // kText: unescaped, in the parser's buffer
};

// What the walk below saw, in document order: it records and checks once the whole body has
// been read (finish()).
class Handler {
 public:
  explicit Handler(std::size_t body_bytes) {
    // About 170 bytes a result as agents write them: one reservation, rarely a second.
    batch_.results.reserve(body_bytes / 128 + 1);
  }

  void start_object() {
    if (skipping_ > 0) return void(++skipping_);
    switch (depth_) {
      case 0:
        top_is_object_ = true;
        break;
      case 1:
        top_bad_ |= top_field_ < kTopCount ? 1u << top_field_ : 0;
        skipping_ = 1;
        return;
      case 2:
        if (in_results_) {
          start_result();
          break;
        }
        skipping_ = 1;
        return;
      default:
        mark_bad(field_);
        skipping_ = 1;
        return;
    }
    ++depth_;
  }

  void end_object() {
    if (skipping_ > 0) return void(--skipping_);
    if (--depth_ == 2) end_result();
  }

  void start_array() {
    if (skipping_ > 0) return void(++skipping_);
    if (depth_ == 1 && top_field_ == kResults) {
      top_seen_ |= 1u << kResults;
      in_results_ = true;
      ++depth_;
      return;
    }
    if (depth_ == 1 && top_field_ < kTopCount) top_bad_ |= 1u << top_field_;
    if (depth_ == 2 && in_results_) not_a_result();
    if (depth_ >= 3) mark_bad(field_);
    skipping_ = 1;
  }

  void end_array() {
    if (skipping_ > 0) return void(--skipping_);
    in_results_ = false;
    --depth_;
  }

  // `field` is the key's index in the names of its level (kTopNames at the batch's level,
  // kFieldNames in a result), or past them when unknown.
  void key(std::string_view k, int field) {
    if (skipping_ > 0) return;
    if (depth_ == 1) {
      top_field_ = field;
      if (top_field_ < kTopCount) {
        if (top_given_ & 1u << top_field_ && duplicate_.empty())
          duplicate_ = fmt::format("{}: given twice", k);
        top_given_ |= 1u << top_field_;
      }
    } else {
      field_ = field;
      if (field_ < kFieldCount) {
        if (given_ & 1u << field_) duplicated_ |= 1u << field_;
        given_ |= 1u << field_;
      }
    }
  }

  // Which names the next key is one of: the batch's or a result's (or neither: it is ignored).
  int key_level() const { return skipping_ > 0 ? 0 : depth_ == 1 ? 1 : depth_ == 3 ? 3 : 0; }

  void scalar(const Scalar& v) {
    if (skipping_ > 0) return;
    if (depth_ == 1) {
      top_scalar(v);
    } else if (depth_ == 2) {
      if (in_results_) not_a_result();
    } else if (depth_ == 3) {
      result_scalar(v);
    }
    // depth 0: a body that is a bare scalar, refused as not an object.
  }

  // The batch, checked in the order the file's comment gives.
  Result<ResultBatch> finish(bool malformed, const std::string& location) && {
    auto bad = [](std::string message) {
      return fail_as(ErrorKind::kInvalidArgument, std::move(message));
    };
    if (malformed || !top_is_object_)
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
        if (v.kind == Scalar::kText) batch_.location = v.text;
        break;
      case kBatch:
        ok(v.kind == Scalar::kText);
        if (v.kind == Scalar::kText) batch_.id = v.text;
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

  void result_scalar(const Scalar& v) {
    if (field_ >= kFieldCount) return;
    store::StoredResult& r = current_;
    const bool integer = v.kind == Scalar::kInteger;
    const bool text = v.kind == Scalar::kText;
    bool valid = false;
    switch (field_) {
      case kCheck:
        valid = text && !v.text.empty();
        if (valid) r.check = v.text;
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
        if (auto o = text ? outcome_from_string(v.text) : std::nullopt) {
          valid = true;
          r.outcome = *o;
        }
        break;
      case kStage:
        if (auto s = text ? probe::stage_from_string(v.text) : std::nullopt) {
          valid = true;
          r.stage = *s;
        }
        break;
      case kCause:
        if (auto c = text ? probe::cause_from_string(v.text) : std::nullopt) {
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
        if (valid) r.error = v.text;
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

// The index of a key among `names` (or `unknown`): compared in the body's own text when it is
// one of them spelt without escapes, as agents write them, else unescaped (which checks its
// escapes) and compared again.
template <std::size_t N>
simdjson_result<int> field_of(ondemand::field& field, const std::array<std::string_view, N>& names,
                              int unknown) {
  ondemand::raw_json_string raw = field.key();
  for (std::size_t i = 0; i < N; ++i)  // the first letter rules out most names cheaply
    if (raw.raw()[0] == names[i][0] && raw.unsafe_is_equal(names[i])) return int(i);
  std::string_view key;
  if (auto error = field.unescaped_key().get(key)) return error;
  return field_of(names, key, unknown);
}

// A scalar value read whole, so that a malformed one is an error: On-Demand checks only what it
// is asked for.
error_code read_scalar(ondemand::value& value, ondemand::json_type type, Handler& handler) {
  Scalar scalar;
  switch (type) {
    case ondemand::json_type::string:
      scalar.kind = Scalar::kText;
      if (auto error = value.get_string().get(scalar.text)) return error;
      break;
    case ondemand::json_type::number: {
      ondemand::number number;
      if (value.get_number().get(number) == SUCCESS) {
        // Beyond int64 (an unsigned number) no field can hold it: as wrong as a fraction.
        if (number.is_int64()) scalar = {Scalar::kInteger, number.get_int64()};
      } else {
        // An integer beyond uint64 is still JSON, as a double; past a double's range it is not.
        double ignored;
        if (auto error = value.get_double().get(ignored)) return error;
      }
      break;
    }
    case ondemand::json_type::boolean: {
      bool ignored;
      if (auto error = value.get_bool().get(ignored)) return error;
      break;
    }
    case ondemand::json_type::null: {
      bool null = false;
      if (value.is_null().get(null) || !null) return INCORRECT_TYPE;
      break;
    }
    default:
      return INCORRECT_TYPE;
  }
  handler.scalar(scalar);
  return SUCCESS;
}

// Reads every token of the body into the handler, without recursion (an ignored value may nest
// as deep as the body is long): a stack of the open objects' and arrays' iterators. Each is
// advanced only once the value it is at has been read, as On-Demand requires, and is at its end
// when `it != it` is false (On-Demand's end test looks only at the iterator itself).
error_code walk(ondemand::document& doc, Handler& handler) {
  ondemand::object top;
  if (auto error = doc.get_object().get(top)) return error;
  struct Open {
    std::variant<ondemand::object_iterator, ondemand::array_iterator> at;
    bool started = false;  // `at` is at a value already read: advance it first
  };
  std::vector<Open> open;
  auto enter = [&](auto container) -> error_code {
    using Iterator = std::remove_cvref_t<decltype(container.begin().value_unsafe())>;
    Iterator begin;
    if (auto error = container.begin().get(begin)) return error;
    open.push_back({begin});
    return SUCCESS;
  };
  handler.start_object();
  if (auto error = enter(top)) return error;
  while (!open.empty()) {
    Open& o = open.back();
    ondemand::value value;
    if (auto* fields = std::get_if<ondemand::object_iterator>(&o.at)) {
      if (std::exchange(o.started, true)) ++*fields;
      if (!(*fields != *fields)) {
        open.pop_back();
        handler.end_object();
        continue;
      }
      ondemand::field field;
      if (auto error = (**fields).get(field)) return error;
      const int level = handler.key_level();
      int index = kUnknownTop;
      std::string_view key;
      if (level == 1) {
        if (auto error = field_of(field, kTopNames, kUnknownTop).get(index)) return error;
        if (index < kTopCount) key = kTopNames[index];
      } else if (level == 3) {
        if (auto error = field_of(field, kFieldNames, kUnknownField).get(index)) return error;
        if (index < kFieldCount) key = kFieldNames[index];
      } else if (auto error = field.unescaped_key().get(key)) {
        return error;  // an ignored key, read all the same to check it
      }
      handler.key(key, index);
      value = field.value();
    } else {
      auto& elements = std::get<ondemand::array_iterator>(o.at);
      if (std::exchange(o.started, true)) ++elements;
      if (!(elements != elements)) {
        open.pop_back();
        handler.end_array();
        continue;
      }
      if (auto error = (*elements).get(value)) return error;
    }
    ondemand::json_type type;
    if (auto error = value.type().get(type)) return error;
    if (type == ondemand::json_type::object) {
      ondemand::object object;
      if (auto error = value.get_object().get(object)) return error;
      handler.start_object();
      if (auto error = enter(object)) return error;
    } else if (type == ondemand::json_type::array) {
      ondemand::array array;
      if (auto error = value.get_array().get(array)) return error;
      handler.start_array();
      if (auto error = enter(array)) return error;
    } else if (auto error = read_scalar(value, type, handler)) {
      return error;
    }
  }
  // Nothing may follow the object.
  return doc.current_location().error() == OUT_OF_BOUNDS ? SUCCESS : TRAILING_CONTENT;
}

}  // namespace

Result<ResultBatch> batch_from_json(std::string_view body, const std::string& location) {
  // A UTF-8 byte order mark is allowed, as nlohmann's parser (which this replaced) allowed it.
  constexpr std::string_view kBom = "\xEF\xBB\xBF";
  if (body.starts_with(kBom)) body.remove_prefix(kBom.size());
  // One parser and one padded copy of the body per thread (the agent API decodes on one), reused:
  // they grow to the largest body seen, at most the server's 1 MiB limit (and ~6x that for the
  // parser's index).
  thread_local ondemand::parser parser;
  thread_local std::string padded;
  padded.assign(body);
  padded.append(simdjson::SIMDJSON_PADDING, '\0');
  Handler handler(body.size());
  ondemand::document doc;
  error_code error = parser.iterate(padded.data(), body.size(), padded.size()).get(doc);
  if (!error) error = walk(doc, handler);
  return std::move(handler).finish(error != SUCCESS, location);
}

}  // namespace leeway::agent
