// A probe result for people (the human and Nagios formats) and for programs (JSON). Whatever a
// peer or the command line put into a result's text, the terminal gets it escaped
// (terminal_safe) and JSON gets valid UTF-8.
#include "cli/report.h"

#include <fmt/format.h>

#include <algorithm>

#include "core/text.h"

namespace leeway::cli {

using probe::Kind;
using probe::Outcome;
using probe::ProbeResult;
using probe::Stage;

namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// What the run found, beyond up or down: the status, the answers, the loss, the certificate.
// Escaped for a terminal: answers and banners are the peer's words.
std::string details(const ProbeResult& r, Kind kind) {
  std::string out;
  auto add = [&out](const std::string& part) {
    if (part.empty()) return;
    if (!out.empty()) out += ", ";
    out += part;
  };
  switch (kind) {
    case Kind::kHttp:
      if (r.http_status) add(fmt::format("HTTP {}", r.http_status));
      break;
    case Kind::kDns:
      if (!r.answer.empty()) add("answer " + r.answer);
      break;
    case Kind::kTcp:
      if (!r.answer.empty()) add(fmt::format("banner \"{}\"", r.answer));
      break;
    case Kind::kIcmp:
      if (r.sent) add(fmt::format("{}/{} replies", r.received, r.sent));
      if (r.received)
        add(fmt::format("rtt min/avg/max {}/{}/{}", format_duration(r.rtt_min_us),
                        format_duration(r.rtt_avg_us), format_duration(r.rtt_max_us)));
      break;
    case Kind::kTls:
      break;
  }
  if (r.cert_days_left) add(fmt::format("certificate valid {} more days", *r.cert_days_left));
  if (!r.cert_subject.empty()) add("subject " + r.cert_subject);
  if (!r.remote_address.empty()) add("from " + r.remote_address);
  return terminal_safe(out);
}

}  // namespace

std::string format_human(const probe::CheckSpec& spec, const ProbeResult& r, bool color) {
  const char* paint = "";
  const char* reset = color ? "\033[0m" : "";
  if (color) {
    paint = r.outcome == Outcome::kUp         ? "\033[1;32m"
            : r.outcome == Outcome::kDegraded ? "\033[1;33m"
                                              : "\033[1;31m";
  }
  std::string out = fmt::format("{}{:<8}{} {} in {}", paint, upper(to_string(r.outcome)), reset,
                                terminal_safe(spec.target), format_duration(r.timings.total_us));
  if (std::string d = details(r, spec.kind); !d.empty()) out += " (" + d + ")";
  out += "\n";
  if (r.outcome != Outcome::kUp) {
    std::string where = r.stage == Stage::kNone ? "" : fmt::format("at {}: ", to_string(r.stage));
    if (r.cause != probe::Cause::kNone) where += fmt::format("{}: ", to_string(r.cause));
    out += fmt::format("         {}{}\n", where, terminal_safe(r.error));
  }

  // The waterfall: each stage reached, as a bar placed where it happened within the total.
  const struct {
    const char* name;
    DurationUs us;
  } stages[] = {{"dns", r.timings.dns_us},
                {"connect", r.timings.connect_us},
                {"tls", r.timings.tls_us},
                {"first byte", r.timings.first_byte_us}};
  constexpr int kWidth = 40;
  const double total = std::max<DurationUs>(r.timings.total_us, 1);
  DurationUs offset = 0;
  for (const auto& stage : stages) {
    if (stage.us < 0) continue;
    int start = static_cast<int>(offset / total * kWidth);
    int len = std::max(1, static_cast<int>(stage.us / total * kWidth + 0.5));
    start = std::min(start, kWidth - 1);
    len = std::min(len, kWidth - start);
    out += fmt::format("  {:<11}{:>9}  {}{}\n", stage.name, format_duration(stage.us),
                       std::string(start, ' '), std::string(len, '#'));
    offset += stage.us;
  }
  out += fmt::format("  {:<11}{:>9}\n", "total", format_duration(r.timings.total_us));
  return out;
}

nlohmann::json to_json(const probe::CheckSpec& spec, const ProbeResult& r) {
  auto us_or_null = [](DurationUs us) { return us < 0 ? nlohmann::json() : nlohmann::json(us); };
  nlohmann::json j = {
      {"target", utf8_safe(spec.target)},
      {"kind", to_string(spec.kind)},
      {"outcome", to_string(r.outcome)},
      {"stage", r.stage == Stage::kNone ? nlohmann::json() : nlohmann::json(to_string(r.stage))},
      {"cause",
       r.cause == probe::Cause::kNone ? nlohmann::json() : nlohmann::json(to_string(r.cause))},
      {"started", format_rfc3339(r.started_us)},
      {"started_us", r.started_us},
      {"timings_us",
       {{"dns", us_or_null(r.timings.dns_us)},
        {"connect", us_or_null(r.timings.connect_us)},
        {"tls", us_or_null(r.timings.tls_us)},
        {"first_byte", us_or_null(r.timings.first_byte_us)},
        {"total", r.timings.total_us}}},
      {"status", r.http_status ? nlohmann::json(r.http_status) : nlohmann::json()},
      {"answer", r.answer},
      {"error", r.error},
      {"remote_address", r.remote_address},
  };
  if (spec.kind == Kind::kIcmp) {
    j["icmp"] = {{"sent", r.sent},
                 {"received", r.received},
                 {"rtt_min_us", us_or_null(r.rtt_min_us)},
                 {"rtt_avg_us", us_or_null(r.rtt_avg_us)},
                 {"rtt_max_us", us_or_null(r.rtt_max_us)}};
  }
  if (r.cert_days_left || !r.cert_subject.empty()) {
    j["certificate"] = {
        {"days_left", r.cert_days_left ? nlohmann::json(*r.cert_days_left) : nlohmann::json()},
        {"subject", r.cert_subject}};
  }
  return j;
}

std::string format_nagios(const probe::CheckSpec& spec, const ProbeResult& r) {
  static constexpr const char* kState[] = {"OK", "WARNING", "CRITICAL"};
  std::string text;
  if (r.outcome == Outcome::kUp) {
    text = fmt::format("{} in {}", terminal_safe(spec.target), format_duration(r.timings.total_us));
  } else {
    std::string where = r.stage == Stage::kNone ? "" : fmt::format("{}: ", to_string(r.stage));
    text = fmt::format("{} {}{}", terminal_safe(spec.target), where, terminal_safe(r.error));
  }
  if (std::string d = details(r, spec.kind); !d.empty()) text += " (" + d + ")";
  // Nagios reserves '|' for the performance data.
  std::replace(text.begin(), text.end(), '|', '/');

  // Performance data: 'label'=value[unit];warn;crit;min;max, seconds with a dot.
  auto seconds = [](DurationUs us) { return fmt::format("{:.6f}s", us / 1e6); };
  std::string warn =
      spec.degraded_after_us ? fmt::format("{:.6f}", spec.degraded_after_us / 1e6) : "";
  std::string perf =
      fmt::format("time={};{};{:.6f};0", seconds(r.timings.total_us), warn, spec.timeout_us / 1e6);
  const std::pair<const char*, DurationUs> stages[] = {{"dns", r.timings.dns_us},
                                                       {"connect", r.timings.connect_us},
                                                       {"tls", r.timings.tls_us},
                                                       {"first_byte", r.timings.first_byte_us}};
  for (const auto& [name, us] : stages)
    if (us >= 0) perf += fmt::format(" {}={};;;0", name, seconds(us));
  if (spec.kind == Kind::kIcmp && r.sent > 0) {
    perf += fmt::format(" pl={}%;;;0;100", (r.sent - r.received) * 100 / r.sent);
    if (r.rtt_avg_us >= 0) perf += fmt::format(" rta={};;;0", seconds(r.rtt_avg_us));
  }
  if (r.cert_days_left)
    perf += fmt::format(" days_left={};{};;", *r.cert_days_left, spec.tls.expiry_degraded_days);
  return fmt::format("LEEWAY {} {} - {} | {}\n", upper(to_string(spec.kind)),
                     kState[static_cast<int>(r.outcome)], text, perf);
}

}  // namespace leeway::cli
