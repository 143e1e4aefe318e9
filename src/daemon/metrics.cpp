// /metrics of `leeway serve`, in the Prometheus text format, written piece by piece on the loop:
// the per-series families a few hundred series at a time, straight from the current state, then
// the rest. The whole text (17 MB at 10,000 checks) is never held: rendered at once on a worker,
// it and its snapshot held 20 MB more than the daemon needs between scrapes, which one malloc
// arena then kept (bench/scale.sh).
#include <fmt/format.h>

#include <iterator>
#include <optional>

#include "daemon/impl.h"

namespace leeway::daemon {

namespace {

// Appends one sample line, `name{labels<more_labels>} value`. Plain appends, no format string
// parsing: /metrics has ~170,000 such lines at 10,000 checks.
void append_sample(std::string& out, std::string_view name, std::string_view labels,
                   std::string_view more_labels, std::string_view value) {
  out.append(name).append(1, '{').append(labels).append(more_labels).append("} ").append(value);
  out.push_back('\n');
}

std::string_view as_view(const fmt::format_int& f) {
  return {f.data(), f.size()};
}

// What /metrics shows besides the per-series families, taken on the loop at the last piece.
struct MetricsSnapshot {
  schedule::Metrics schedule;
  std::size_t queue_depth;
  DurationUs last_batch_write_us, batch_write_us_total, availability_refresh_us;
  std::int64_t written, duplicates, dropped, write_errors;
  bool store_healthy;
  std::vector<ingest::SubscriberMetrics> subscribers;
  std::size_t offloaded;
  std::size_t http_connections = 0;
  std::uint64_t http_refused = 0, http_accept_errors = 0;
  incident::TrackerStatus incidents;
  std::string locations;  // the leeway_location_* families, rendered by the agent API
  std::vector<SloView> slos;
};

// What the detector says: incidents open and their verdicts, services and locations up.
std::string render_incidents(const incident::TrackerStatus& s) {
  std::string out =
      "# HELP leeway_incidents_open Incidents open per service.\n"
      "# TYPE leeway_incidents_open gauge\n";
  for (const auto& [service, open] : s.open)
    out += fmt::format("leeway_incidents_open{{service=\"{}\"}} {}\n", label_escape(service), open);
  out +=
      "# HELP leeway_incident_verdict The verdict of the incident open for a service (1).\n"
      "# TYPE leeway_incident_verdict gauge\n";
  for (const auto& [service, incident] : s.verdict)
    out += fmt::format("leeway_incident_verdict{{service=\"{}\",id=\"{}\",verdict=\"{}\"}} 1\n",
                       label_escape(service), label_escape(incident.first),
                       label_escape(incident.second));
  out +=
      "# HELP leeway_service_up Whether the service has no incident open, by the quorum of its "
      "locations (no sample before its first result).\n"
      "# TYPE leeway_service_up gauge\n";
  for (const auto& [service, up] : s.service_up)
    if (up)
      out += fmt::format("leeway_service_up{{service=\"{}\"}} {}\n", label_escape(service),
                         *up ? 1 : 0);
  out +=
      "# HELP leeway_location_reachable Whether the location reports results and reaches its "
      "reference targets "
      "(no sample before its first result).\n"
      "# TYPE leeway_location_reachable gauge\n";
  for (const auto& [location, up] : s.location_up)
    if (up)
      out += fmt::format("leeway_location_reachable{{location=\"{}\"}} {}\n",
                         label_escape(location), *up ? 1 : 0);
  out += fmt::format(
      "# HELP leeway_incident_store_up Whether the last write of incidents to the store "
      "succeeded.\n"
      "# TYPE leeway_incident_store_up gauge\nleeway_incident_store_up {}\n",
      s.last_error.empty() ? 1 : 0);
  return out;
}

// The results stream's subscribers: queue depth, drops and replays, per subscriber.
std::string render_subscribers(const std::vector<ingest::SubscriberMetrics>& subscribers) {
  using M = ingest::SubscriberMetrics;
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    std::int64_t (*value)(const M&);
  };
  static constexpr Family kFamilies[] = {
      {"leeway_subscriber_queue_depth", "gauge",
       "Stored results waiting for a subscriber of the results stream.",
       [](const M& s) { return std::int64_t(s.queue_depth); }},
      {"leeway_subscriber_dropped_total", "counter",
       "Results dropped from a subscriber's full queue (it reads them back from the store).",
       [](const M& s) { return s.dropped_total; }},
      {"leeway_subscriber_replayed_total", "counter",
       "Results a subscriber read back from the store.",
       [](const M& s) { return s.replayed_total; }},
      {"leeway_subscriber_delivered_total", "counter", "Results handed to a subscriber.",
       [](const M& s) { return s.delivered_total; }},
  };
  std::string out;
  for (const Family& f : kFamilies) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, f.type);
    for (const M& s : subscribers)
      out += fmt::format("{}{{subscriber=\"{}\"}} {}\n", f.name, s.name, f.value(s));
  }
  return out;
}

// The families with a sample per series (check and location), in order. Each renders its
// lines for one series; a family's lines stay together, as the text format requires.
struct SeriesFamily {
  const char* header;  // HELP and TYPE
  void (*render)(std::string& out, const SeriesState& s);
};

const std::string& le_label(std::size_t bucket) {
  static const auto kLe = [] {
    std::array<std::string, store::kLatencyBucketBoundsUs.size()> le;
    for (std::size_t i = 0; i < le.size(); ++i)
      le[i] = fmt::format(",le=\"{}\"", store::kLatencyBucketBoundsUs[i] / 1e6);
    return le;
  }();
  return kLe[bucket];
}

constexpr SeriesFamily kSeriesFamilies[] = {
    {"# HELP leeway_check_up Whether the last run of the check was up or degraded (1) or down "
     "(0).\n"
     "# TYPE leeway_check_up gauge\n",
     [](std::string& out, const SeriesState& s) {
       // A last run that leeway could not judge (unknown) says neither: no sample.
       if (s.last.outcome == probe::Outcome::kUnknown) return;
       append_sample(out, "leeway_check_up", s.labels, "",
                     s.last.outcome == probe::Outcome::kDown ? "0" : "1");
     }},
    {"# HELP leeway_check_unknown_runs_total Runs that leeway could not judge because of a "
     "failure of its own (no file descriptors, a late loop), since the daemon started.\n"
     "# TYPE leeway_check_unknown_runs_total counter\n",
     [](std::string& out, const SeriesState& s) {
       append_sample(out, "leeway_check_unknown_runs_total", s.labels, "",
                     as_view(fmt::format_int(s.unknown)));
     }},
    // Runs by outcome: what `leeway slo rules` reads for availability over runs (slo/rules.h).
    {"# HELP leeway_check_runs_total Runs judged up, degraded or down, since the daemon "
     "started.\n"
     "# TYPE leeway_check_runs_total counter\n",
     [](std::string& out, const SeriesState& s) {
       for (probe::Outcome outcome :
            {probe::Outcome::kUp, probe::Outcome::kDegraded, probe::Outcome::kDown}) {
         append_sample(out, "leeway_check_runs_total", s.labels,
                       fmt::format(",outcome=\"{}\"", probe::to_string(outcome)),
                       as_view(fmt::format_int(s.runs[static_cast<std::size_t>(outcome)])));
       }
     }},
    {"# HELP leeway_check_last_duration_seconds Duration of the last run.\n"
     "# TYPE leeway_check_last_duration_seconds gauge\n",
     [](std::string& out, const SeriesState& s) {
       append_sample(out, "leeway_check_last_duration_seconds", s.labels, "",
                     fmt::format("{:.6f}", s.last.total_us / 1e6));
     }},
    {"# HELP leeway_check_duration_seconds Durations of the runs judged up, degraded or down, "
     "since the daemon started.\n"
     "# TYPE leeway_check_duration_seconds histogram\n",
     [](std::string& out, const SeriesState& s) {
       std::uint64_t cumulative = 0;
       for (std::size_t i = 0; i < store::kLatencyBucketBoundsUs.size(); ++i) {
         cumulative += s.buckets[i];
         append_sample(out, "leeway_check_duration_seconds_bucket", s.labels, le_label(i),
                       as_view(fmt::format_int(cumulative)));
       }
       append_sample(out, "leeway_check_duration_seconds_bucket", s.labels, ",le=\"+Inf\"",
                     as_view(fmt::format_int(s.count)));
       append_sample(out, "leeway_check_duration_seconds_sum", s.labels, "",
                     fmt::format("{:.6f}", s.sum_seconds));
       append_sample(out, "leeway_check_duration_seconds_count", s.labels, "",
                     as_view(fmt::format_int(s.count)));
     }},
};

// The families after the series': a few hundred lines, and a line per service and location.
std::string render_rest(const MetricsSnapshot& m) {
  std::string out = schedule::format_prometheus(m.schedule);
  out += fmt::format(
      "# HELP leeway_store_queue_depth Results waiting for the store writer.\n"
      "# TYPE leeway_store_queue_depth gauge\nleeway_store_queue_depth {}\n"
      "# HELP leeway_store_last_batch_write_seconds Duration of the last batch write.\n"
      "# TYPE leeway_store_last_batch_write_seconds gauge\nleeway_store_last_batch_write_seconds "
      "{:.6f}\n"
      "# HELP leeway_store_batch_write_seconds_total Time spent writing batches.\n"
      "# TYPE leeway_store_batch_write_seconds_total "
      "counter\nleeway_store_batch_write_seconds_total {:.6f}\n"
      "# HELP leeway_availability_refresh_seconds Duration of the last pass computing every "
      "check's availability for the API.\n"
      "# TYPE leeway_availability_refresh_seconds gauge\nleeway_availability_refresh_seconds "
      "{:.6f}\n"
      "# HELP leeway_results_written_total Results written to the store.\n"
      "# TYPE leeway_results_written_total counter\nleeway_results_written_total {}\n"
      "# HELP leeway_results_duplicate_total Results written again that the store already held "
      "(stored and counted once).\n"
      "# TYPE leeway_results_duplicate_total counter\nleeway_results_duplicate_total {}\n"
      "# HELP leeway_results_dropped_total Results lost before the store: the store queue was "
      "full, or their batch failed to write.\n"
      "# TYPE leeway_results_dropped_total counter\nleeway_results_dropped_total {}\n"
      "# HELP leeway_store_write_errors_total Batches that failed to write.\n"
      "# TYPE leeway_store_write_errors_total counter\nleeway_store_write_errors_total {}\n"
      "# HELP leeway_store_up Whether the last write to the store succeeded.\n"
      "# TYPE leeway_store_up gauge\nleeway_store_up {}\n"
      "# HELP leeway_http_offloaded_requests API requests queued or running on the HTTP server's "
      "worker threads.\n"
      "# TYPE leeway_http_offloaded_requests gauge\nleeway_http_offloaded_requests {}\n",
      m.queue_depth, m.last_batch_write_us / 1e6, m.batch_write_us_total / 1e6,
      m.availability_refresh_us / 1e6, m.written, m.duplicates, m.dropped, m.write_errors,
      m.store_healthy ? 1 : 0, m.offloaded);
  out += render_subscribers(m.subscribers);
  out += render_incidents(m.incidents);
  out += render_slo_metrics(m.slos);
  out += fmt::format(
      "# HELP leeway_http_connections HTTP connections open.\n"
      "# TYPE leeway_http_connections gauge\nleeway_http_connections {}\n"
      "# HELP leeway_http_connections_refused_total Connections refused (503) past "
      "server.max_connections.\n"
      "# TYPE leeway_http_connections_refused_total counter\n"
      "leeway_http_connections_refused_total {}\n"
      "# HELP leeway_http_accept_errors_total Failed accepts (no file descriptors left), each "
      "followed by a wait.\n"
      "# TYPE leeway_http_accept_errors_total counter\nleeway_http_accept_errors_total {}\n",
      m.http_connections, m.http_refused, m.http_accept_errors);
  out += m.locations;
  return out;
}

// A piece is about this big: a fraction of a millisecond of the loop's time.
constexpr std::size_t kPieceBytes = 64 * 1024;

// Where the text has got to: a family, and the last series written of it. A series added or
// removed meanwhile (a reload) is simply met or not: the walk goes on after the last key.
struct MetricsCursor {
  std::size_t family = 0;
  std::optional<std::pair<std::string, std::string>> after;  // none: the family's start
};

}  // namespace

http::Response Daemon::Impl::metrics() {
  const auto snapshot = [this] {
    const store::StoreWriter& writer = ingest.writer();
    MetricsSnapshot m{driver.metrics(),
                      writer.queue_depth(),
                      writer.last_batch_write_us(),
                      writer.batch_write_us_total(),
                      availability.last_refresh_us(),
                      writer.results_written_total(),
                      writer.duplicates_total(),
                      writer.dropped_total(),
                      writer.write_errors_total(),
                      writer.healthy(),
                      ingest.subscribers(),
                      server->offloaded_in_flight()};
    m.http_connections = server->open_connections();
    m.http_refused = server->refused_connections_total();
    m.http_accept_errors = server->accept_errors_total();
    m.incidents = current_tracker()->status();
    m.locations = agents.metrics_text();
    m.slos = slos->views();
    return m;
  };
  http::Response response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.pieces = [this, cursor = MetricsCursor{}, snapshot](std::string& out) mutable {
    const auto& series = state.series();
    while (cursor.family < std::size(kSeriesFamilies)) {
      const SeriesFamily& family = kSeriesFamilies[cursor.family];
      auto it = series.begin();
      if (cursor.after) {
        it = series.upper_bound(*cursor.after);
      } else {
        out += family.header;
      }
      // At least one series after the cursor, so that the piece moves it (even when the
      // family's header filled it).
      while (it != series.end()) {
        family.render(out, (it++)->second);
        if (out.size() >= kPieceBytes) break;
      }
      if (it != series.end()) {
        cursor.after = std::prev(it)->first;
        return true;
      }
      ++cursor.family;
      cursor.after.reset();
      if (out.size() >= kPieceBytes) return true;
    }
    out += render_rest(snapshot());
    return false;
  };
  return response;
}

}  // namespace leeway::daemon
