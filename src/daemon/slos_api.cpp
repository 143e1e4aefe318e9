// The SLO routes of the API (list, show) and the SLO families of /metrics.
#include <fmt/format.h>

#include "daemon/impl.h"

namespace leeway::daemon {

namespace {

using nlohmann::json;

json optional_number(const std::optional<double>& v) {
  return v ? json(*v) : json();
}

json alert_event_json(const store::StoredAlertEvent& e) {
  json doc = json::parse(e.document, nullptr, false);
  if (!doc.is_object()) doc = json::object();  // written by this daemon: never expected
  return {{"slo", e.slo},
          {"severity", e.severity},
          {"state", e.firing ? "fired" : "resolved"},
          {"at", format_rfc3339(e.at_us)},
          {"data_until", format_rfc3339(e.data_us)},
          {"condition", doc.value("condition", json())},
          {"burn_rates", doc.value("burn_rates", json::object())}};
}

// The latest alert events of one SLO, newest first; the burn-down's points.
constexpr std::size_t kEventsShown = 100;
constexpr std::size_t kEventsListed = 10;
constexpr int kBurnDownPoints = 48;

}  // namespace

json slo_json(const SloView& v, const std::vector<store::StoredAlertEvent>& events) {
  const slo::SloSpec& spec = v.spec;
  const slo::SloStatus& s = v.status;
  json j = {{"id", spec.id},
            {"service", spec.service},
            {"sli", slo::to_string(spec.sli)},
            {"objective", spec.objective.percent_text()},
            {"window", spec.window.to_string()},
            {"method", slo::to_string(spec.method)},
            {"unit", slo::budget_unit(spec)},
            {"network_spends_budget", spec.network_spends_budget},
            {"evaluated_at", v.evaluated ? json(format_rfc3339(s.at_us)) : json()}};
  const slo::Budget& b = s.budget;
  j["budget"] = {{"period_start", v.evaluated ? json(format_rfc3339(b.period.start_us)) : json()},
                 {"period_end", v.evaluated ? json(format_rfc3339(b.period.end_us)) : json()},
                 {"total", b.total},
                 {"spent", b.spent},
                 {"remaining", b.remaining()},
                 {"remaining_ratio", optional_number(b.remaining_ratio)},
                 {"minutes", b.counted.minutes},
                 {"minutes_without_data", b.counted.no_data_minutes()},
                 {"minutes_to_come", b.minutes_to_come}};
  json rates = json::array();
  for (const auto& r : s.burn_rates)
    rates.push_back({{"window", slo::window_name(r.window_us)}, {"rate", optional_number(r.rate)}});
  j["burn_rates"] = rates;
  json alerts = json::array();
  for (slo::Severity severity : {slo::Severity::kPage, slo::Severity::kTicket})
    alerts.push_back({{"severity", slo::to_string(severity)},
                      {"firing", s.firing[static_cast<std::size_t>(severity)]}});
  j["alerts"] = alerts;
  j["exhausted_at"] = s.exhausted_at_us ? json(format_rfc3339(*s.exhausted_at_us)) : json();
  json history = json::array();
  for (const auto& e : events) history.push_back(alert_event_json(e));
  j["alert_events"] = history;
  return j;
}

std::string render_slo_metrics(const std::vector<SloView>& slos) {
  auto labels = [](const slo::SloSpec& spec) {
    return fmt::format("slo=\"{}\",service=\"{}\"", label_escape(spec.id),
                       label_escape(spec.service));
  };
  std::string out =
      "# HELP leeway_slo_error_budget_remaining_ratio The share of the error budget left in the "
      "SLO's window (no sample while nothing is known).\n"
      "# TYPE leeway_slo_error_budget_remaining_ratio gauge\n";
  for (const auto& v : slos)
    if (v.evaluated && v.status.budget.remaining_ratio)
      out += fmt::format("leeway_slo_error_budget_remaining_ratio{{{}}} {}\n", labels(v.spec),
                         *v.status.budget.remaining_ratio);
  out +=
      "# HELP leeway_slo_burn_rate How fast the error budget burns over a window (1: spent in "
      "exactly the SLO's window; no sample for a window without data).\n"
      "# TYPE leeway_slo_burn_rate gauge\n";
  for (const auto& v : slos)
    for (const auto& r : v.status.burn_rates)
      if (r.rate)
        out += fmt::format("leeway_slo_burn_rate{{{},window=\"{}\"}} {}\n", labels(v.spec),
                           slo::window_name(r.window_us), *r.rate);
  out +=
      "# HELP leeway_slo_alert_firing Whether the SLO's burn-rate alert of a severity fires.\n"
      "# TYPE leeway_slo_alert_firing gauge\n";
  for (const auto& v : slos)
    for (slo::Severity severity : {slo::Severity::kPage, slo::Severity::kTicket})
      out += fmt::format("leeway_slo_alert_firing{{{},severity=\"{}\"}} {}\n", labels(v.spec),
                         slo::to_string(severity),
                         v.status.firing[static_cast<std::size_t>(severity)] ? 1 : 0);
  out +=
      "# HELP leeway_slo_slices_total Minutes with data closed since the daemon started, per "
      "SLO.\n"
      "# TYPE leeway_slo_slices_total counter\n";
  for (const auto& v : slos)
    out += fmt::format("leeway_slo_slices_total{{{}}} {}\n", labels(v.spec),
                       v.status.closed.data_minutes);
  out +=
      "# HELP leeway_slo_bad_slices_total Bad minutes (timeslices) or the sum of the minutes' bad "
      "shares (ratio timeslices) closed since the daemon started, per SLO.\n"
      "# TYPE leeway_slo_bad_slices_total counter\n";
  for (const auto& v : slos)
    if (v.spec.method != slo::Method::kOccurrences)
      out += fmt::format("leeway_slo_bad_slices_total{{{}}} {}\n", labels(v.spec),
                         v.status.closed.bad);
  return out;
}

http::Work Daemon::Impl::slo_json_work(const http::Request& r) {
  const std::string& id = r.params.at(0);
  auto found = slos->view(id);
  if (!found) return answer(http::Response::error(404, "no SLO with id \"" + id + "\""));
  return [this, v = std::move(*found)] {
    auto events = slo_store->alert_events({.slo = v.spec.id, .limit = kEventsShown});
    if (!events) return http::Response::error(503, events.error().message);
    json j = slo_json(v, *events);
    // The changes whose window may reach into the budget's period.
    auto changes = incident_store->changes(
        {.service = v.spec.service,
         .from_us = v.status.budget.period.start_us - slos->change_window_us()});
    if (!changes) return http::Response::error(503, changes.error().message);
    auto causes = slos->causes(v.spec.id, *changes);
    j["causes"] = causes ? causes_json(*causes) : json();
    j["burn_down"] = burn_down_json(slos->burn_down(v.spec.id, kBurnDownPoints));
    return http::Response::json(j);
  };
}

std::vector<http::Route> Daemon::Impl::slo_routes() {
  using http::Request;
  return {
      {"GET", "/api/v1/slos",
       [this](const Request&) -> http::Work {
         return [this, views = slos->views()] {
           json list = json::array();
           for (const auto& v : views) {
             auto events = slo_store->alert_events({.slo = v.spec.id, .limit = kEventsListed});
             if (!events) return http::Response::error(503, events.error().message);
             list.push_back(slo_json(v, *events));
           }
           return http::Response::json({{"slos", list}});
         };
       }},
      {"GET", "/api/v1/slos/{id}", [this](const Request& r) { return slo_json_work(r); }},
  };
}

}  // namespace leeway::daemon
