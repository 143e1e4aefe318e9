#include "daemon/daemon.h"

#include <fmt/format.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <charconv>
#include <iostream>
#include <map>

#include "daemon/availability.h"
#include "daemon/current_state.h"
#include "http/server.h"
#include "ingest/ingest.h"
#include "probe/probe.h"
#include "probe/target.h"
#include "schedule/schedule.h"
#include "store/store.h"

namespace leeway::daemon {

namespace {

using nlohmann::json;

json result_json(const store::StoredResult& r) {
  auto us = [](DurationUs v) { return v < 0 ? json() : json(v); };
  return {{"location", r.location},
          {"started", format_rfc3339(r.started_us)},
          {"started_us", r.started_us},
          {"outcome", to_string(r.outcome)},
          {"stage", r.stage == probe::Stage::kNone ? json() : json(to_string(r.stage))},
          {"status", r.http_status ? json(r.http_status) : json()},
          {"error", r.error},
          {"timings_us",
           {{"dns", us(r.dns_us)},
            {"connect", us(r.connect_us)},
            {"tls", us(r.tls_us)},
            {"first_byte", us(r.first_byte_us)},
            {"total", r.total_us}}}};
}

}  // namespace

Result<TimeUs> parse_time_param(const std::string& name, const std::string& value) {
  if (!value.empty() && value.find_first_not_of("0123456789") == std::string::npos) {
    std::int64_t seconds = 0;
    auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc() && seconds < 9'000'000'000) return seconds * kSecondUs;
  }
  if (auto t = parse_rfc3339(value)) return *t;
  return fail_as(ErrorKind::kInvalidArgument, name,
                 ": expected a time like 2026-11-25T10:00:00Z or Unix seconds, got \"", value,
                 "\"");
}

struct Daemon::Impl {
  Impl(const DaemonOptions& options, const Clock& clock, config::Config cfg,
       std::unique_ptr<store::Store> db)
      : options(options),
        clock(clock),
        config(std::make_shared<const config::Config>(std::move(cfg))),
        store(std::move(db)),
        ingest(*store, clock),
        availability(*store, clock),
        engine(io, clock),
        driver(
            io, clock,
            [this](const schedule::Entry& e, TimeUs scheduled_us, std::function<void()> done) {
              start_run(e, scheduled_us, std::move(done));
            },
            schedule_options(*config)),
        signals(io, SIGTERM, SIGINT, SIGHUP) {}

  static std::vector<http::ApiToken> api_tokens(const config::Config& cfg) {
    std::vector<http::ApiToken> tokens;
    for (const auto& t : cfg.server.api_tokens) tokens.push_back({t.name, t.sha256});
    return tokens;
  }

  static schedule::Options schedule_options(const config::Config& cfg) {
    schedule::Options o;
    if (cfg.server.max_concurrent_per_host > 0)
      o.max_in_flight_per_host = static_cast<std::size_t>(cfg.server.max_concurrent_per_host);
    return o;
  }

  // The checks this daemon runs: those listing its own location.
  std::vector<schedule::Entry> entries() {
    std::vector<schedule::Entry> out;
    std::size_t index = 0;
    checks.clear();
    for (const auto& service : config->services) {
      for (const auto& check : service.checks) {
        bool here = std::find(check.locations.begin(), check.locations.end(),
                              config->server.location) != check.locations.end();
        if (here) {
          checks.push_back(&check);
          out.push_back({check.id, check.interval_us, check.spec.host, index++});
        }
      }
    }
    return out;
  }

  // Whether the config has a check with this id, wherever it runs.
  bool has_check(std::string_view id) const {
    for (const auto& service : config->services)
      for (const auto& check : service.checks)
        if (check.id == id) return true;
    return false;
  }

  // Every check of the config, wherever it runs: the API lists them all.
  std::vector<std::string> all_check_ids() const {
    std::vector<std::string> ids;
    for (const auto& service : config->services)
      for (const auto& check : service.checks) ids.push_back(check.id);
    return ids;
  }

  void start_run(const schedule::Entry& entry, TimeUs, std::function<void()> done) {
    // Hold the config the check came from until the run is over, even across a reload.
    auto snapshot = config;
    const config::Check* check = checks.at(entry.payload);
    engine.run(check->spec, [this, snapshot, check, done = std::move(done)](probe::ProbeResult r) {
      ingest.submit(store::make_stored_result(check->id, snapshot->server.location, r));
      done();
    });
  }

  // The first subscriber to the results stream: what the API and /metrics show now. The
  // stream's thread hands each batch to the loop, which owns `state`.
  Status subscribe_state() {
    return ingest.subscribe({.name = "state"}, [this](ingest::Batch batch) {
      std::vector<store::StoredResult> results;
      results.reserve(batch.size());
      for (const auto& c : batch) results.push_back(c.result);
      boost::asio::post(io, [this, results = std::move(results)] {
        for (const auto& r : results) state.record(r);
      });
    });
  }

  Status reload() {
    config::LoadResult loaded = config::load_config(options.config_path);
    if (!loaded.ok()) {
      std::string all;
      for (const auto& e : loaded.errors) all += e.to_string() + "\n";
      std::cerr << "leeway serve: reload refused, the running config stays:\n" << all;
      return Error{all};
    }
    auto previous = config;
    config = std::make_shared<const config::Config>(std::move(*loaded.config));
    if (Status s = driver.replace(entries()); !s) {
      config = previous;
      (void)driver.replace(entries());
      return s;
    }
    availability.set_checks(all_check_ids());
    server->set_api_tokens(api_tokens(*config));
    std::cerr << fmt::format("leeway serve: reloaded {}: {} checks run here\n", options.config_path,
                             checks.size());
    return {};
  }

  void wait_for_signals() {
    signals.async_wait([this](boost::system::error_code ec, int signal) {
      if (ec) return;
      if (signal == SIGHUP) {
        (void)reload();
        wait_for_signals();
        return;
      }
      std::cerr << "leeway serve: stopping; writing pending results\n";
      driver.stop();
      server->stop();
      io.stop();
    });
  }

  std::vector<http::Route> routes();
  // The API's slow routes: each reads what it needs on the loop and returns the work (store
  // queries, rendering) that the HTTP server runs on its worker threads.
  http::Work checks_json();
  http::Work results_json(const http::Request& r);
  http::Work minutes_json(const http::Request& r);
  http::Work metrics_text();

  DaemonOptions options;
  const Clock& clock;
  std::shared_ptr<const config::Config> config;
  std::vector<const config::Check*> checks;  // payload index -> check, for the config
  boost::asio::io_context io;  // before ingest: the state subscriber posts to it until stopped
  std::unique_ptr<store::Store> store;
  ingest::Ingest ingest;
  AvailabilityCache availability;
  probe::ProbeEngine engine;
  schedule::Driver driver;
  boost::asio::signal_set signals;
  std::unique_ptr<http::Server> server;
  std::uint16_t port = 0;
  CurrentState state;
};

namespace {

// Work whose response is already known (bad parameters).
http::Work answer(http::Response response) {
  return [response = std::move(response)] { return response; };
}

}  // namespace

http::Work Daemon::Impl::checks_json() {
  // On the loop, a snapshot: the config (immutable, shared) and each check's last result, in
  // config order. Rendering 10,000 checks (5 MB) held the loop for ~110 ms.
  std::vector<std::vector<store::StoredResult>> last;
  for (const auto& service : config->services)
    for (const auto& check : service.checks) last.push_back(state.last_of(check.id));
  return [config = config, last = std::move(last), &availability = availability] {
    // One entry at a time, dumped and freed: one tree of every check took ~75 MB at 10,000 checks.
    std::string body = R"({"checks":[)";
    std::size_t index = 0;
    for (const auto& service : config->services) {
      for (const auto& check : service.checks) {
        json locations = json::array();
        for (const auto& r : last[index++]) locations.push_back(result_json(r));
        json entry = {{"id", check.id},
                      {"service", service.id},
                      {"target", probe::redact_credentials(check.spec.target)},
                      {"kind", to_string(check.spec.kind)},
                      {"interval_s", check.interval_us / 1e6},
                      {"locations", check.locations},
                      {"last", locations}};
        // From the cache (thread-safe), not the store. Null until first computed.
        auto cached = availability.get(check.id).value_or(CachedAvailability{});
        // No data is not 100%: the ratio is null until a run counts (the store says 1.0).
        auto window = [](const std::optional<store::Availability>& a, TimeUs as_of) {
          return a ? json({{"ratio", a->total > 0 ? json(a->ratio()) : json()},
                           {"total", a->total},
                           {"as_of", format_rfc3339(as_of)}})
                   : json();
        };
        entry["availability_24h"] = window(cached.day, cached.day_as_of_us);
        entry["availability_30d"] = window(cached.month, cached.month_as_of_us);
        if (body.back() != '[') body += ',';
        body += entry.dump(-1, ' ', false, json::error_handler_t::replace);
      }
    }
    body += "]}";
    return http::Response::text(std::move(body), "application/json");
  };
}

namespace {

// Reads from/to (default: the last 24 hours) and checks the order of the two.
Status time_window(const http::Request& r, TimeUs now, TimeUs& from, TimeUs& to) {
  to = now;
  from = now - kDayUs;
  if (auto it = r.query.find("to"); it != r.query.end()) {
    auto t = parse_time_param("to", it->second);
    if (!t) return t.error();
    to = *t;
  }
  if (auto it = r.query.find("from"); it != r.query.end()) {
    auto t = parse_time_param("from", it->second);
    if (!t) return t.error();
    from = *t;
  } else {
    from = to - kDayUs;
  }
  if (from >= to) return fail("from must be before to");
  return {};
}

// An unknown check is a 404, not an empty page that reads as "no results yet".
http::Response no_such_check(const std::string& id) {
  return http::Response::error(404, "no such check: \"" + id + "\"");
}

}  // namespace

http::Work Daemon::Impl::results_json(const http::Request& r) {
  store::ResultQuery q;
  q.check = r.params.at(0);
  if (!has_check(q.check)) return answer(no_such_check(q.check));
  if (Status s = time_window(r, clock.now_us(), q.from_us, q.to_us); !s)
    return answer(http::Response::error(400, s.error().message));
  if (auto it = r.query.find("location"); it != r.query.end()) q.location = it->second;
  if (auto it = r.query.find("limit"); it != r.query.end()) {
    std::size_t limit = 0;
    auto [p, ec] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), limit);
    if (ec != std::errc() || p != it->second.data() + it->second.size() || limit == 0 ||
        limit > 10'000)
      return answer(http::Response::error(
          400, "limit: expected a whole number from 1 to 10000, got \"" + it->second + "\""));
    q.limit = limit;
  }
  if (auto it = r.query.find("order"); it != r.query.end()) {
    if (it->second == "asc")
      q.order = store::Order::kOldestFirst;
    else if (it->second != "desc")
      return answer(
          http::Response::error(400, "order: expected asc or desc, got \"" + it->second + "\""));
  }
  if (auto it = r.query.find("cursor"); it != r.query.end()) q.cursor = it->second;
  if (!store::check_cursor(q))
    return answer(http::Response::error(
        400, "cursor: expected the next_cursor of an earlier page, got \"" + q.cursor + "\""));
  // The store is thread-safe; with PostgreSQL a query is a network round trip.
  return [q = std::move(q), &db = *store] {
    auto page = db.results(q);
    if (!page) return http::Response::error(500, page.error().message);
    json results = json::array();
    for (const auto& res : page->results) results.push_back(result_json(res));
    return http::Response::json(
        {{"check", q.check},
         {"results", results},
         {"next_cursor", page->next_cursor.empty() ? json() : json(page->next_cursor)}});
  };
}

http::Work Daemon::Impl::minutes_json(const http::Request& r) {
  store::RollupQuery q;
  q.check = r.params.at(0);
  if (!has_check(q.check)) return answer(no_such_check(q.check));
  if (Status s = time_window(r, clock.now_us(), q.from_us, q.to_us); !s)
    return answer(http::Response::error(400, s.error().message));
  if (auto it = r.query.find("location"); it != r.query.end()) q.location = it->second;
  // 30 days of minutes is ~43,000 rows: read and rendered off the loop.
  return [q = std::move(q), &db = *store] {
    auto rollups = db.rollups(q);
    if (!rollups) return http::Response::error(500, rollups.error().message);
    json minutes = json::array();
    for (const auto& m : *rollups) {
      minutes.push_back({{"minute", format_rfc3339(m.minute_us)},
                         {"minute_us", m.minute_us},
                         {"location", m.location},
                         {"total", m.total},
                         {"good", m.good},
                         {"degraded", m.degraded},
                         {"latency_buckets", m.latency_buckets}});
    }
    json bounds = json::array();
    for (auto b : store::kLatencyBucketBoundsUs) bounds.push_back(b);
    return http::Response::json(
        {{"check", q.check}, {"latency_bucket_bounds_us", bounds}, {"minutes", minutes}});
  };
}

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

// What /metrics shows, copied on the loop so that the text (13 MB at 10,000 checks, ~24 ms) is
// rendered on a worker thread.
struct MetricsSnapshot {
  std::vector<SeriesState> series;  // ordered by check, then location
  schedule::Metrics schedule;
  std::size_t queue_depth;
  DurationUs last_batch_write_us, batch_write_us_total, availability_refresh_us;
  std::int64_t written, duplicates, dropped, write_errors;
  bool store_healthy;
  std::vector<ingest::SubscriberMetrics> subscribers;
  std::size_t offloaded;
  std::size_t http_connections = 0;
  std::uint64_t http_refused = 0, http_accept_errors = 0;
};

// The results stream's subscribers: queue depth, drops and replays, per subscriber.
std::string render_subscribers(const std::vector<ingest::SubscriberMetrics>& subscribers) {
  std::string out =
      "# HELP leeway_subscriber_queue_depth Stored results waiting for a subscriber of the "
      "results stream.\n"
      "# TYPE leeway_subscriber_queue_depth gauge\n";
  for (const auto& s : subscribers)
    out += fmt::format("leeway_subscriber_queue_depth{{subscriber=\"{}\"}} {}\n", s.name,
                       s.queue_depth);
  out +=
      "# HELP leeway_subscriber_dropped_total Results dropped from a subscriber's full queue "
      "(it reads them back from the store).\n"
      "# TYPE leeway_subscriber_dropped_total counter\n";
  for (const auto& s : subscribers)
    out += fmt::format("leeway_subscriber_dropped_total{{subscriber=\"{}\"}} {}\n", s.name,
                       s.dropped_total);
  out +=
      "# HELP leeway_subscriber_replayed_total Results a subscriber read back from the store.\n"
      "# TYPE leeway_subscriber_replayed_total counter\n";
  for (const auto& s : subscribers)
    out += fmt::format("leeway_subscriber_replayed_total{{subscriber=\"{}\"}} {}\n", s.name,
                       s.replayed_total);
  out +=
      "# HELP leeway_subscriber_delivered_total Results handed to a subscriber.\n"
      "# TYPE leeway_subscriber_delivered_total counter\n";
  for (const auto& s : subscribers)
    out += fmt::format("leeway_subscriber_delivered_total{{subscriber=\"{}\"}} {}\n", s.name,
                       s.delivered_total);
  return out;
}

std::string render_metrics(const MetricsSnapshot& m) {
  static const auto kLe = [] {
    std::array<std::string, store::kLatencyBucketBoundsUs.size()> le;
    for (std::size_t i = 0; i < le.size(); ++i)
      le[i] = fmt::format(",le=\"{}\"", store::kLatencyBucketBoundsUs[i] / 1e6);
    return le;
  }();
  std::string out;
  out.reserve(m.series.size() * 1536);
  out +=
      "# HELP leeway_check_up Whether the last run of the check was up or degraded (1) or down "
      "(0).\n"
      "# TYPE leeway_check_up gauge\n";
  for (const auto& s : m.series) {
    // A last run that leeway could not judge (unknown) says neither: no sample.
    if (s.last.outcome == probe::Outcome::kUnknown) continue;
    append_sample(out, "leeway_check_up", s.labels, "",
                  s.last.outcome == probe::Outcome::kDown ? "0" : "1");
  }
  out +=
      "# HELP leeway_check_unknown_runs_total Runs that leeway could not judge because of a "
      "failure of its own (no file descriptors, a late loop), since the daemon started.\n"
      "# TYPE leeway_check_unknown_runs_total counter\n";
  for (const auto& s : m.series)
    append_sample(out, "leeway_check_unknown_runs_total", s.labels, "",
                  as_view(fmt::format_int(s.unknown)));
  out +=
      "# HELP leeway_check_last_duration_seconds Duration of the last run.\n"
      "# TYPE leeway_check_last_duration_seconds gauge\n";
  for (const auto& s : m.series) {
    append_sample(out, "leeway_check_last_duration_seconds", s.labels, "",
                  fmt::format("{:.6f}", s.last.total_us / 1e6));
  }
  out +=
      "# HELP leeway_check_duration_seconds Run durations since the daemon started.\n"
      "# TYPE leeway_check_duration_seconds histogram\n";
  for (const auto& s : m.series) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kLe.size(); ++i) {
      cumulative += s.buckets[i];
      append_sample(out, "leeway_check_duration_seconds_bucket", s.labels, kLe[i],
                    as_view(fmt::format_int(cumulative)));
    }
    append_sample(out, "leeway_check_duration_seconds_bucket", s.labels, ",le=\"+Inf\"",
                  as_view(fmt::format_int(s.count)));
    append_sample(out, "leeway_check_duration_seconds_sum", s.labels, "",
                  fmt::format("{:.6f}", s.sum_seconds));
    append_sample(out, "leeway_check_duration_seconds_count", s.labels, "",
                  as_view(fmt::format_int(s.count)));
  }
  out += schedule::format_prometheus(m.schedule);
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
  return out;
}

}  // namespace

http::Work Daemon::Impl::metrics_text() {
  const store::StoreWriter& writer = ingest.writer();
  MetricsSnapshot m{{},
                    driver.metrics(),
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
  m.series.reserve(state.series().size());
  for (const auto& [key, s] : state.series()) m.series.push_back(s);
  return [m = std::move(m)] {
    return http::Response::text(render_metrics(m), "text/plain; version=0.0.4; charset=utf-8");
  };
}

std::vector<http::Route> Daemon::Impl::routes() {
  using http::Request;
  using http::Response;
  return {
      {"GET", "/healthz",
       [this](const Request&) {
         // Healthy means results are being kept: a store that refuses writes is a failure
         // even while the process runs.
         const store::StoreWriter& writer = ingest.writer();
         if (!writer.healthy())
           return Response::json({{"status", "failing"},
                                  {"reason", "store: writes fail: " + writer.last_error()}},
                                 503);
         return Response::json({{"status", "ok"}});
       }},
      {"GET", "/api/v1/services",
       [this](const Request&) {
         json services = json::array();
         for (const auto& s : config->services) {
           json ids = json::array();
           for (const auto& c : s.checks) ids.push_back(c.id);
           services.push_back({{"id", s.id},
                               {"name", s.name},
                               {"owner", s.owner},
                               {"tier", s.tier},
                               {"checks", ids}});
         }
         return Response::json({{"services", services}});
       }},
      // Offloaded: these return work for the server's worker threads (see http::OffloadHandler).
      {"GET", "/api/v1/checks", [this](const Request&) { return checks_json(); }},
      {"GET", "/api/v1/checks/{id}/results", [this](const Request& r) { return results_json(r); }},
      {"GET", "/api/v1/checks/{id}/minutes", [this](const Request& r) { return minutes_json(r); }},
      {"GET", "/metrics", [this](const Request&) { return metrics_text(); }},
      {"POST", "/api/v1/reload",
       [this](const Request& r) {
         std::cerr << "leeway serve: reload requested through the API with the token of "
                   << r.caller << "\n";
         Status s = reload();
         if (!s) return Response::error(400, s.error().message);
         return Response::json({{"status", "reloaded"}, {"checks", checks.size()}});
       },
       http::Access::kWrite},
  };
}

Daemon::Daemon(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Daemon::~Daemon() = default;

std::unique_ptr<Daemon> Daemon::create(const DaemonOptions& options, const Clock& clock,
                                       StartFailure& failure) {
  config::LoadResult loaded = config::load_config(options.config_path);
  if (!loaded.ok()) {
    failure.bad_config = true;
    for (const auto& e : loaded.errors) failure.errors.push_back(e.to_string());
    return nullptr;
  }
  config::Config cfg = std::move(*loaded.config);
  std::string uri = options.store_uri.empty() ? cfg.server.store : options.store_uri;
  store::StoreOptions store_options;
  store_options.raw_retention_us = cfg.server.raw_retention_us;
  store_options.rollup_retention_us = cfg.server.rollup_retention_us;
  auto db = store::open_store(uri, store_options);
  if (!db) {
    failure.errors.push_back(db.error().message);
    return nullptr;
  }
  auto impl = std::make_unique<Impl>(options, clock, std::move(cfg), std::move(*db));
  // What the daemon knew before a restart: the latest results, so /metrics and the API are
  // complete from the first second; the stream brings everything stored from here on.
  if (auto latest = impl->store->latest(""); latest) {
    for (const auto& r : *latest) impl->state.seed(r);
  }
  if (Status s = impl->subscribe_state(); !s) {
    failure.errors.push_back(s.error().message);
    return nullptr;
  }
  return std::unique_ptr<Daemon>(new Daemon(std::move(impl)));
}

int Daemon::run() {
  Impl& d = *impl_;
  http::ServerOptions server_options;
  server_options.max_connections = static_cast<std::size_t>(d.config->server.max_connections);
  d.server = std::make_unique<http::Server>(d.io, d.routes(), server_options);
  d.server->set_api_tokens(Impl::api_tokens(*d.config));
  std::string listen = d.options.listen.empty() ? d.config->server.listen : d.options.listen;
  auto port = d.server->listen(listen);
  if (!port) {
    std::cerr << "leeway serve: " << port.error().message << "\n";
    return 1;
  }
  if (d.server->beyond_loopback())
    std::cerr << "leeway serve: WARNING: " << listen
              << " is reachable from other machines and the API speaks plain HTTP: API tokens "
                 "and results cross the network unencrypted. Listen on 127.0.0.1 behind a TLS "
                 "proxy (see Security in the README).\n";
  d.port = *port;
  if (Status s = d.driver.replace(d.entries()); !s) {
    std::cerr << "leeway serve: " << s.error().message << "\n";
    return 1;
  }
  d.availability.set_checks(d.all_check_ids());
  d.wait_for_signals();
  std::cerr << fmt::format(
      "leeway serve: {} checks run here (location {}); storing in {}; "
      "listening on http://{}:{}/\n",
      d.checks.size(), d.config->server.location, d.store->describe(),
      listen.substr(0, listen.rfind(':')), d.port);
  d.io.run();
  d.server.reset();  // waits for API work still running on its threads: it reads the store
  d.availability.stop();
  d.ingest.stop();  // every pending result is written before we exit
  const store::StoreWriter& writer = d.ingest.writer();
  if (writer.write_errors_total() > 0) {
    // Results were lost: say so, and exit non-zero so that a supervisor notices.
    std::cerr << fmt::format(
        "leeway serve: stopped; {} results written, {} lost in {} failed writes (last: {})\n",
        writer.results_written_total(), writer.dropped_total(), writer.write_errors_total(),
        writer.last_error());
    return 1;
  }
  std::cerr << fmt::format("leeway serve: stopped; {} results written\n",
                           writer.results_written_total());
  return 0;
}

std::uint16_t Daemon::port() const {
  return impl_->port;
}

}  // namespace leeway::daemon
