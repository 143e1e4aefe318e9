#include "probe/options.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include "core/text.h"

namespace leeway::probe {

namespace {

// Parses a whole decimal integer in [lo, hi].
Result<long> parse_int(std::string_view text, long lo, long hi) {
  long value = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || p != text.data() + text.size() || value < lo || value > hi)
    return fail("expected a whole number from ", std::to_string(lo), " to ", std::to_string(hi),
                ", got \"", std::string(text), "\"");
  return value;
}

Result<bool> parse_bool(std::string_view text) {
  if (text == "true" || text == "yes" || text == "on" || text == "1") return true;
  if (text == "false" || text == "no" || text == "off" || text == "0") return false;
  return fail("expected true or false, got \"", std::string(text), "\"");
}

Result<DurationUs> parse_positive_duration(std::string_view text) {
  auto d = parse_duration(text);
  if (d && *d <= 0) return fail("expected a duration above zero, got \"", std::string(text), "\"");
  return d;
}

// "200", "200-299", or a comma-separated list of them.
Status add_status_ranges(std::vector<StatusRange>& out, std::string_view text) {
  auto bad = [original = std::string(text)] {
    return fail("expected status codes like 200 or 200-299,301, got \"", original, "\"");
  };
  if (text.empty()) return bad();
  while (!text.empty()) {
    auto comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    auto dash = item.find('-');
    auto lo = parse_int(item.substr(0, dash), 100, 599);
    auto hi = dash == std::string_view::npos ? lo : parse_int(item.substr(dash + 1), 100, 599);
    if (!lo || !hi || *hi < *lo) return bad();
    out.push_back(StatusRange{static_cast<int>(*lo), static_cast<int>(*hi)});
  }
  return {};
}

Status set_timeout(CheckSpec& s, std::string_view v) {
  auto d = parse_positive_duration(v);
  if (!d) return d.error();
  s.timeout_us = *d;
  return {};
}

Status set_degraded_after(CheckSpec& s, std::string_view v) {
  auto d = parse_positive_duration(v);
  if (!d) return d.error();
  s.degraded_after_us = *d;
  return {};
}

Status set_ip(CheckSpec& s, std::string_view v) {
  if (v == "4")
    s.family = IpFamily::kV4;
  else if (v == "6")
    s.family = IpFamily::kV6;
  else if (v == "any")
    s.family = IpFamily::kAny;
  else
    return fail("expected 4, 6 or any, got \"", std::string(v), "\"");
  return {};
}

Status set_method(CheckSpec& s, std::string_view v) {
  if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= 'A' && c <= 'Z'; }))
    return fail("expected an HTTP method in capitals like GET or POST, got \"", std::string(v),
                "\"");
  s.http.method = std::string(v);
  return {};
}

// RFC 9110's token: what a header name may be made of.
bool is_token(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

Status set_header(CheckSpec& s, std::string_view v) {
  auto colon = v.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return fail("expected a header like \"Name: value\", got \"", terminal_safe(v), "\"");
  // A line break would smuggle more headers (or a whole request) into what is sent.
  if (!is_token(v.substr(0, colon)) || v.find_first_of("\r\n", colon) != std::string_view::npos ||
      v.find('\0') != std::string_view::npos)
    return fail(
        "expected a header like \"Name: value\" with a name of letters, digits or "
        "-_.!#$%&'*+^`|~ and no line breaks, got \"",
        terminal_safe(v), "\"");
  std::string_view value = v.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  s.http.headers.emplace_back(std::string(v.substr(0, colon)), std::string(value));
  return {};
}

Status set_body(CheckSpec& s, std::string_view v) {
  s.http.body = std::string(v);
  return {};
}

Status set_expect_status(CheckSpec& s, std::string_view v) {
  return add_status_ranges(s.http.expect_status, v);
}

Status set_body_contains(CheckSpec& s, std::string_view v) {
  s.http.body_contains = std::string(v);
  return {};
}

Status set_body_regex(CheckSpec& s, std::string_view v) {
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(v, options);
  if (!re.ok())
    return fail("expected a regular expression (RE2 syntax), got \"", std::string(v),
                "\": ", re.error());
  s.http.body_regex = std::string(v);
  return {};
}

Status set_json_pointer(CheckSpec& s, std::string_view v) {
  if (!v.empty() && v.front() != '/')
    return fail("expected a JSON Pointer starting with / like /status, got \"", std::string(v),
                "\"");
  s.http.json_pointer = std::string(v);
  return {};
}

Status set_json_equals(CheckSpec& s, std::string_view v) {
  s.http.json_equals = std::string(v);
  return {};
}

Status set_follow_redirects(CheckSpec& s, std::string_view v) {
  if (v == "same-host")
    s.http.follow_redirects = Redirects::kSameHost;
  else if (v == "any")
    s.http.follow_redirects = Redirects::kAny;
  else if (v == "none")
    s.http.follow_redirects = Redirects::kNone;
  // true and false were the values before redirects were confined to the check's host.
  else if (auto b = parse_bool(v))
    s.http.follow_redirects = *b ? Redirects::kSameHost : Redirects::kNone;
  else
    return fail("expected same-host, any or none, got \"", std::string(v), "\"");
  return {};
}

Status set_insecure(CheckSpec& s, std::string_view v) {
  auto b = parse_bool(v);
  if (!b) return b.error();
  s.http.insecure = *b;
  return {};
}

Status set_ca_file(CheckSpec& s, std::string_view v) {
  if (v.empty()) return fail("expected a path to a PEM file");
  s.http.ca_file = std::string(v);
  s.tls.ca_file = std::string(v);
  return {};
}

Status set_send(CheckSpec& s, std::string_view v) {
  s.tcp.send = std::string(v);
  return {};
}

Status set_expect(CheckSpec& s, std::string_view v) {
  s.tcp.expect = std::string(v);
  return {};
}

Status set_record_type(CheckSpec& s, std::string_view v) {
  std::string type(v);
  for (auto& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (std::string_view known : {"A", "AAAA", "CNAME", "MX", "TXT", "NS"}) {
    if (type == known) {
      s.dns.record_type = type;
      return {};
    }
  }
  return fail("expected one of A, AAAA, CNAME, MX, TXT, NS, got \"", std::string(v), "\"");
}

Status set_expect_answer(CheckSpec& s, std::string_view v) {
  s.dns.expect = std::string(v);
  return {};
}

Status set_count(CheckSpec& s, std::string_view v) {
  auto n = parse_int(v, 1, 100);
  if (!n) return n.error();
  s.icmp.count = static_cast<int>(*n);
  return {};
}

Status set_echo_interval(CheckSpec& s, std::string_view v) {
  auto d = parse_positive_duration(v);
  if (!d) return d.error();
  s.icmp.interval_us = *d;
  return {};
}

Status set_degraded_loss(CheckSpec& s, std::string_view v) {
  std::string_view number = v;
  if (!number.empty() && number.back() == '%') number.remove_suffix(1);
  double value = -1;
  auto [p, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc() || p != number.data() + number.size() || value < 0 || value >= 100)
    return fail("expected a percentage from 0 to below 100 like 20%, got \"", std::string(v), "\"");
  s.icmp.degraded_loss_percent = value;
  return {};
}

Status set_expiry_days(CheckSpec& s, std::string_view v) {
  auto n = parse_int(v, 0, 3650);
  if (!n) return n.error();
  s.tls.expiry_degraded_days = static_cast<int>(*n);
  return {};
}

Status set_server_name(CheckSpec& s, std::string_view v) {
  s.tls.server_name = std::string(v);
  return {};
}

// ---- The other way: what apply() needs to rebuild a spec's value.

using Texts = std::vector<std::string>;

// Exact to the microsecond, which "1.5s" would not always be.
Texts duration_text(DurationUs us) {
  return {std::to_string(us) + "us"};
}
Texts text_unless_empty(const std::string& text) {
  if (text.empty()) return {};
  return {text};
}

Texts format_timeout(const CheckSpec& s) {
  return duration_text(s.timeout_us);
}
Texts format_degraded_after(const CheckSpec& s) {
  return s.degraded_after_us > 0 ? duration_text(s.degraded_after_us) : Texts{};
}
Texts format_ip(const CheckSpec& s) {
  switch (s.family) {
    case IpFamily::kV4:
      return {"4"};
    case IpFamily::kV6:
      return {"6"};
    case IpFamily::kAny:
      break;
  }
  return {};
}
Texts format_method(const CheckSpec& s) {
  return {s.http.method};
}
Texts format_header(const CheckSpec& s) {
  Texts out;
  for (const auto& [name, value] : s.http.headers) out.push_back(name + ": " + value);
  return out;
}
Texts format_body(const CheckSpec& s) {
  return text_unless_empty(s.http.body);
}
Texts format_expect_status(const CheckSpec& s) {
  Texts out;
  for (const auto& range : s.http.expect_status)
    out.push_back(std::to_string(range.lo) + "-" + std::to_string(range.hi));
  return out;
}
Texts format_body_contains(const CheckSpec& s) {
  return text_unless_empty(s.http.body_contains);
}
Texts format_body_regex(const CheckSpec& s) {
  return text_unless_empty(s.http.body_regex);
}
Texts format_json_pointer(const CheckSpec& s) {
  return text_unless_empty(s.http.json_pointer);
}
Texts format_json_equals(const CheckSpec& s) {
  if (!s.http.json_equals) return {};
  return {*s.http.json_equals};
}
Texts format_follow_redirects(const CheckSpec& s) {
  switch (s.http.follow_redirects) {
    case Redirects::kAny:
      return {"any"};
    case Redirects::kNone:
      return {"none"};
    case Redirects::kSameHost:
      break;
  }
  return {"same-host"};
}
Texts format_insecure(const CheckSpec& s) {
  return {s.http.insecure ? "true" : "false"};
}
Texts format_ca_file(const CheckSpec& s) {
  return text_unless_empty(s.kind == Kind::kTls ? s.tls.ca_file : s.http.ca_file);
}
Texts format_send(const CheckSpec& s) {
  return text_unless_empty(s.tcp.send);
}
Texts format_expect(const CheckSpec& s) {
  return text_unless_empty(s.tcp.expect);
}
Texts format_record_type(const CheckSpec& s) {
  return {s.dns.record_type};
}
Texts format_expect_answer(const CheckSpec& s) {
  return text_unless_empty(s.dns.expect);
}
Texts format_count(const CheckSpec& s) {
  return {std::to_string(s.icmp.count)};
}
Texts format_echo_interval(const CheckSpec& s) {
  return duration_text(s.icmp.interval_us);
}
Texts format_degraded_loss(const CheckSpec& s) {
  // The shortest text that reads back as the same double.
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, s.icmp.degraded_loss_percent);
  return {std::string(buffer, end) + "%"};
}
Texts format_expiry_days(const CheckSpec& s) {
  return {std::to_string(s.tls.expiry_degraded_days)};
}
Texts format_server_name(const CheckSpec& s) {
  return text_unless_empty(s.tls.server_name);
}

using T = OptionType;

// The table. Keep it in the order people meet the options: common ones first, then per kind.
constexpr CheckOption kOptions[] = {
    {"timeout", T::kDuration, "all", "10s", "give up and report down after this long", false,
     set_timeout, format_timeout},
    {"degraded_after", T::kDuration, "all", "", "a run slower than this is degraded, not up", false,
     set_degraded_after, format_degraded_after},
    {"ip", T::kIpVersion, "http,tcp,icmp,tls", "any", "use only IPv4 (4) or IPv6 (6) addresses",
     false, set_ip, format_ip},
    {"method", T::kString, "http", "GET", "HTTP request method", false, set_method, format_method},
    {"header", T::kHeader, "http", "", "a request header \"Name: value\"", true, set_header,
     format_header},
    {"body", T::kString, "http", "", "request body", false, set_body, format_body},
    {"expect_status", T::kStatusList, "http", "200-399",
     "acceptable status codes, e.g. 200,301-302", true, set_expect_status, format_expect_status},
    {"body_contains", T::kString, "http", "", "the response body must contain this text", false,
     set_body_contains, format_body_contains},
    {"body_regex", T::kString, "http", "",
     "the response body must match this regular expression (RE2 syntax: no backreferences or "
     "lookaround)",
     false, set_body_regex, format_body_regex},
    {"json_pointer", T::kString, "http", "",
     "the body must be JSON with a value at this JSON Pointer, e.g. /status", false,
     set_json_pointer, format_json_pointer},
    {"json_equals", T::kString, "http", "",
     "the value at json_pointer must equal this (JSON text or a bare string)", false,
     set_json_equals, format_json_equals},
    {"follow_redirects", T::kRedirects, "http", "same-host",
     "follow redirects (up to 10) within the target's host, to any host, or none (true: same-host, "
     "false: none); never to link-local or cloud metadata addresses",
     false, set_follow_redirects, format_follow_redirects},
    {"insecure", T::kBool, "http", "false", "do not verify the server's certificate", false,
     set_insecure, format_insecure},
    {"ca_file", T::kString, "http,tls", "",
     "trust the CA certificates in this PEM file instead of the system's", false, set_ca_file,
     format_ca_file},
    {"send", T::kString, "tcp", "", "text to send after connecting", false, set_send, format_send},
    {"expect", T::kString, "tcp", "", "text the peer must send back (a banner)", false, set_expect,
     format_expect},
    {"record_type", T::kString, "dns", "A", "record type to ask for: A, AAAA, CNAME, MX, TXT or NS",
     false, set_record_type, format_record_type},
    {"expect_answer", T::kString, "dns", "", "one of the answers must equal this", false,
     set_expect_answer, format_expect_answer},
    {"count", T::kInt, "icmp", "3", "echo requests per run", false, set_count, format_count},
    {"echo_interval", T::kDuration, "icmp", "200ms", "time between echo requests", false,
     set_echo_interval, format_echo_interval},
    {"degraded_loss", T::kPercent, "icmp", "0%", "loss above this (but not total) is degraded",
     false, set_degraded_loss, format_degraded_loss},
    {"expiry_days", T::kInt, "tls", "14", "a certificate with fewer days left is degraded", false,
     set_expiry_days, format_expiry_days},
    {"server_name", T::kString, "tls", "",
     "name for SNI and certificate verification (default: the target host)", false, set_server_name,
     format_server_name},
};

}  // namespace

std::span<const CheckOption> check_options() {
  return kOptions;
}

const CheckOption* find_check_option(std::string_view key) {
  for (const auto& option : kOptions)
    if (option.key == key) return &option;
  return nullptr;
}

bool applies_to(const CheckOption& option, Kind kind) {
  if (option.kinds == "all") return true;
  std::string_view kinds = option.kinds;
  std::string_view name = to_string(kind);
  while (!kinds.empty()) {
    auto comma = kinds.find(',');
    if (kinds.substr(0, comma) == name) return true;
    if (comma == std::string_view::npos) break;
    kinds.remove_prefix(comma + 1);
  }
  return false;
}

Status apply_option(CheckSpec& spec, const CheckOption& option, std::string_view value) {
  if (!applies_to(option, spec.kind))
    return fail(std::string(option.key), ": applies to ", std::string(option.kinds),
                " checks, not ", std::string(to_string(spec.kind)));
  Status status = option.apply(spec, value);
  if (!status) return fail(std::string(option.key), ": ", status.error().message);
  return {};
}

std::string_view describe(OptionType type) {
  switch (type) {
    case OptionType::kString:
      return "text";
    case OptionType::kDuration:
      return "a duration like 30s";
    case OptionType::kInt:
      return "a whole number";
    case OptionType::kBool:
      return "true or false";
    case OptionType::kPercent:
      return "a percentage like 20%";
    case OptionType::kStatusList:
      return "status codes like 200,301-399";
    case OptionType::kHeader:
      return "a header \"Name: value\"";
    case OptionType::kIpVersion:
      return "4, 6 or any";
    case OptionType::kRedirects:
      return "same-host, any or none";
  }
  return "";
}

}  // namespace leeway::probe
