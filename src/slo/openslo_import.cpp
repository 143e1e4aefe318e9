// OpenSLO v1 SLOs read as leeway SLOs: the time window, the budgeting method and one SloSpec
// per objective, with the SLI of openslo_sli_import.cpp and the alerts of
// openslo_alert_import.cpp.
#include <cctype>
#include <charconv>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "slo/openslo.h"
#include "slo/openslo_read.h"

namespace leeway::slo {

namespace {

using openslo::Documents;
using openslo::Field;
using openslo::field;
using openslo::is_id;
using openslo::Messages;

class SloReader {
 public:
  SloReader(const Documents& documents, const openslo::Alerts& alerts, Messages& messages,
            std::string check)
      : documents_(documents), alerts_(alerts), messages_(messages), check_(std::move(check)) {}

  // The specs of one SLO document, one per objective; none after an error.
  std::vector<SloSpec> read(const YAML::Node& document) {
    std::size_t errors = messages_.errors.size();
    Field name = field(field(document, "metadata").value, "name");
    Field spec = field(document, "spec");
    Field service = field(spec.value, "service");
    if (!is_id(name.text()))
      error(name ? name.key : document,
            fmt::format("metadata.name: expected an id of letters, digits, '-', '_' or '.', got "
                        "\"{}\"",
                        name.text()));
    if (!is_id(service.text()))
      error(service ? service.key : spec.key,
            fmt::format("service: expected a service id of letters, digits, '-', '_' or '.', got "
                        "\"{}\"",
                        service.text()));
    SloSpec base;
    base.id = name.text();
    base.service = service.text();
    auto binding = openslo::read_indicator(spec, base.service, documents_, check_, messages_);
    auto window = read_window(spec);
    auto method = read_method(spec);
    auto alerts =
        openslo::read_alert_policies(field(spec.value, "alertPolicies"), alerts_, messages_);
    if (messages_.errors.size() != errors || !binding || !window || !method || !alerts) return {};
    base.sli = binding->sli;
    base.checks = binding->checks;
    base.service = base.checks.front().substr(0, base.checks.front().find('/'));
    base.window = *window;
    base.method = *method;
    base.alerts = *alerts;
    if (std::string wrong = check_method(base.sli, base.method); !wrong.empty()) {
      error(field(spec.value, "budgetingMethod").key, fmt::format("budgetingMethod: {}", wrong));
      return {};
    }
    return read_objectives(spec, base, binding->foreign);
  }

 private:
  void error(const YAML::Node& at, std::string_view message) { messages_.error(at, message); }

  // timeWindow: one rolling window of fixed length, or a calendar month.
  std::optional<Window> read_window(const Field& spec) {
    Field windows = field(spec.value, "timeWindow");
    if (!windows.value.IsSequence() || windows.value.size() != 1) {
      error(windows ? windows.key : spec.key, "timeWindow: expected a list of one window");
      return std::nullopt;
    }
    const YAML::Node w = windows.value[0];
    Field duration = field(w, "duration"), rolling = field(w, "isRolling");
    Field calendar = field(w, "calendar");
    auto shorthand = openslo::parse_shorthand(duration.text());
    if (!shorthand) {
      error(
          duration ? duration.key : w,
          fmt::format("duration: expected a duration like 30d or 1M, got \"{}\"", duration.text()));
      return std::nullopt;
    }
    if (shorthand->unit == 'm' && shorthand->count == 1)
      messages_.warning(duration.key,
                        "duration: 1m is one minute; a month is 1M. Read as "
                        "written for a rolling window, as 1M for a calendar one");
    bool is_calendar = rolling.text() == "false" || (!rolling && calendar);
    if (!is_calendar) {
      auto us = shorthand->fixed_us();
      auto window = us ? parse_window(window_name(*us), "") : Result<Window>(fail(""));
      if (!window || window->calendar()) {
        error(duration.key,
              fmt::format("duration: a rolling window in leeway is whole minutes from 1h to "
                          "400d, like 28d; got {}",
                          duration.text()));
        return std::nullopt;
      }
      return *window;
    }
    if (!(shorthand->count == 1 && (shorthand->unit == 'M' || shorthand->unit == 'm'))) {
      error(duration.key, fmt::format("duration: leeway's calendar windows are months (1M), got {}",
                                      duration.text()));
      return std::nullopt;
    }
    Field zone = field(calendar.value, "timeZone");
    std::string zone_name = zone ? zone.text() : "UTC";
    if (!known_time_zone(zone_name)) {
      error(zone.key,
            fmt::format("timeZone: unknown time zone \"{}\"; expected an IANA name", zone_name));
      return std::nullopt;
    }
    read_start(field(calendar.value, "startTime"));
    return Window{0, zone_name};
  }

  // A calendar month starts at local midnight on the 1st in leeway.
  void read_start(const Field& start) {
    if (!start) return;
    const std::string t = start.text();  // "2022-01-01 12:00:00"
    if (t.size() < 10 || t.substr(8, 2) != "01") {
      error(start.key, fmt::format("startTime: leeway's months start on the 1st, got \"{}\"", t));
      return;
    }
    if (t.size() > 10 && t.substr(10) != " 00:00:00" && t.substr(10) != "T00:00:00")
      messages_.warning(start.key,
                        fmt::format("startTime: {}: leeway's months start at local midnight on "
                                    "the 1st; the time of day is not kept",
                                    t));
  }

  std::optional<Method> read_method(const Field& spec) {
    Field method = field(spec.value, "budgetingMethod");
    std::string m = method.text();
    if (m == "Occurrences") return Method::kOccurrences;
    if (m == "Timeslices") return Method::kTimeslices;
    if (m == "RatioTimeslices") return Method::kRatioTimeslices;
    error(method ? method.key : spec.key,
          fmt::format("budgetingMethod: expected Occurrences, Timeslices or RatioTimeslices, got "
                      "\"{}\"",
                      m));
    return std::nullopt;
  }

  // One spec per objective; an SLO of several gets ids "<name>-<objective>".
  std::vector<SloSpec> read_objectives(const Field& spec, const SloSpec& base, bool foreign) {
    Field objectives = field(spec.value, "objectives");
    if (!objectives.value.IsSequence() || objectives.value.size() == 0) {
      error(objectives ? objectives.key : spec.key, "objectives: expected a list of objectives");
      return {};
    }
    std::vector<SloSpec> out;
    std::size_t index = 0;
    for (const auto& o : objectives.value) {
      ++index;
      SloSpec s = base;
      if (objectives.value.size() > 1) s.id += "-" + suffix(o, index);
      if (!read_objective(o, s, foreign)) continue;
      if (std::string wrong = check_spec(s); !wrong.empty()) {
        error(o, fmt::format("objectives: {}", wrong));
        continue;
      }
      out.push_back(std::move(s));
    }
    return out;
  }

  static std::string suffix(const YAML::Node& objective, std::size_t index) {
    std::string name = field(objective, "name").text();
    if (name.empty()) name = field(objective, "displayName").text();
    std::string slug;
    for (char c : name) {
      bool keep = std::isalnum(static_cast<unsigned char>(c));
      if (keep)
        slug += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      else if (!slug.empty() && slug.back() != '-')
        slug += '-';
    }
    while (!slug.empty() && slug.back() == '-') slug.pop_back();
    return slug.empty() ? std::to_string(index) : slug;
  }

  bool read_objective(const YAML::Node& o, SloSpec& s, bool foreign) {
    std::size_t errors = messages_.errors.size();
    Field target = field(o, "target"), percent = field(o, "targetPercent");
    if (target) {
      auto f = openslo::parse_fraction(target.text());
      if (f && f->billionths > 0 && f->billionths < 1'000'000'000)
        s.objective = *f;
      else
        error(target.key, fmt::format("target: expected a fraction above 0 and below 1 with at "
                                      "most 9 decimals, like 0.999, got \"{}\"",
                                      target.text()));
    } else if (auto p = parse_percent(percent.text())) {
      s.objective = *p;
    } else {
      error(percent ? percent.key : o,
            percent ? fmt::format("targetPercent: {}", p.error().message)
                    : "objectives: a target (0.999) or a targetPercent (99.9) is required");
    }
    if (s.sli == Sli::kLatency) read_threshold(o, s, foreign);
    read_slices(o, s);
    return messages_.errors.size() == errors;
  }

  // A threshold metric's bound: runs at most `value` milliseconds long are good.
  void read_threshold(const YAML::Node& o, SloSpec& s, bool foreign) {
    Field op = field(o, "op"), value = field(o, "value");
    if (op.text() != "lte" && op.text() != "lt") {
      error(op ? op.key : o,
            fmt::format("op: a latency objective counts runs at most `value` ms long as good: "
                        "expected lte (or lt), got \"{}\"",
                        op.text()));
      return;
    }
    const std::string v = value.text();
    double ms = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), ms);
    if (ec != std::errc() || end != v.data() + v.size() || !(ms > 0) || ms > 1e9) {
      error(value ? value.key : o,
            fmt::format("value: expected a latency in milliseconds, got \"{}\"", v));
      return;
    }
    s.threshold_us = std::llround(ms * kMillisecondUs);
    if (std::string wrong = check_threshold(s.threshold_us); !wrong.empty()) {
      error(value.key, fmt::format("value: {}", wrong));
      return;
    }
    if (foreign)
      messages_.warning(value.key,
                        fmt::format("value: {} read as milliseconds, the unit of leeway's run "
                                    "durations",
                                    v));
  }

  // timeSliceTarget and timeSliceWindow: leeway's slices are minutes.
  void read_slices(const YAML::Node& o, SloSpec& s) {
    Field target = field(o, "timeSliceTarget"), window = field(o, "timeSliceWindow");
    if (window) {
      auto shorthand = openslo::parse_shorthand(window.text());
      bool minute = (shorthand && shorthand->fixed_us() == kMinuteUs) || window.text() == "60";
      if (!minute)
        error(window.key, fmt::format("timeSliceWindow: leeway's time slices are one minute "
                                      "(1m), got \"{}\"",
                                      window.text()));
    }
    bool sliced = s.method == Method::kTimeslices;
    if (!target) {
      if (sliced && s.sli != Sli::kAvailabilityMinutes)
        error(o,
              "timeSliceTarget: required for Timeslices: the share of good runs that makes a "
              "minute good, like 0.95");
      return;
    }
    auto fraction = openslo::parse_fraction(target.text());
    if (!sliced) {
      error(target.key, "timeSliceTarget: applies to budgetingMethod Timeslices only");
    } else if (s.sli == Sli::kAvailabilityMinutes) {
      if (!fraction || fraction->billionths != 1'000'000'000)
        error(target.key,
              "timeSliceTarget: an availability_minutes minute is good or bad as a "
              "whole: expected 1");
    } else if (!fraction || fraction->billionths <= 0) {
      error(target.key, fmt::format("timeSliceTarget: expected a fraction above 0 and at most 1, "
                                    "got \"{}\"",
                                    target.text()));
    } else {
      s.slice_target = *fraction;
    }
  }

  const Documents& documents_;
  const openslo::Alerts& alerts_;
  Messages& messages_;
  std::string check_;
};

}  // namespace

OpenSloImport import_openslo(std::string_view text, const std::string& file,
                             const std::string& check) {
  Messages messages{file, {}, {}};
  Documents documents = openslo::read_documents(text, messages);
  OpenSloImport out;
  openslo::Alerts alerts = openslo::read_alerts(documents, messages);
  SloReader reader(documents, alerts, messages, check);
  std::set<std::string> ids;
  for (const auto& document : documents.slos)
    for (auto& spec : reader.read(document)) {
      if (!ids.insert(spec.id).second) {
        messages.error(document, fmt::format("metadata.name: a second SLO with id {}", spec.id));
        continue;
      }
      out.slos.push_back(std::move(spec));
    }
  if (documents.slos.empty() && messages.errors.empty())
    messages.errors.push_back(fmt::format("{}: no SLO documents (kind: SLO) in the file", file));
  out.errors = std::move(messages.errors);
  out.warnings = std::move(messages.warnings);
  if (!out.errors.empty()) out.slos.clear();
  return out;
}

}  // namespace leeway::slo
