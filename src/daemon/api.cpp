// The HTTP API of `leeway serve`: routes, parameters and JSON views. Slow routes take a snapshot
// on the loop and render on the HTTP server's worker threads.
#include <charconv>
#include <iostream>
#include <nlohmann/json.hpp>

#include "daemon/impl.h"
#include "probe/target.h"

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
          {"cause", r.cause == probe::Cause::kNone ? json() : json(to_string(r.cause))},
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
  if (auto t = parse_rfc3339_offset(value)) return *t;
  return fail_as(ErrorKind::kInvalidArgument, name,
                 ": expected a time like 2026-11-25T10:00:00Z or Unix seconds, got \"", value,
                 "\"");
}

http::Work answer(http::Response response) {
  return [response = std::move(response)] { return response; };
}

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

std::vector<http::Route> Daemon::Impl::routes() {
  using http::Request;
  using http::Response;
  std::vector<http::Route> all = {
      {"GET", "/healthz",
       [this](const Request&) {
         // Healthy means results are being kept: a store that refuses writes is a failure
         // even while the process runs.
         const store::StoreWriter& writer = ingest.writer();
         if (!writer.healthy())
           return Response::json(
               {{"status", "failing"}, {"reason", "store: writes fail: " + writer.last_error()}},
               503);
         return Response::json({{"status", "ok"}});
       }},
      // On the loop, in pieces: see metrics.cpp.
      {"GET", "/metrics", [this](const Request&) { return metrics(); }},
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
      // Offloaded: the file is parsed on a worker thread, and only the swap runs on the loop.
      {"POST", "/api/v1/reload",
       [this](const Request& r) -> http::Work {
         std::cerr << "leeway serve: reload requested through the API with the token of "
                   << r.caller << "\n";
         return [this] {
           Status s = reload();
           if (!s) return Response::error(400, s.error().message);
           return Response::json({{"status", "reloaded"}, {"checks", checks_run_here.load()}});
         };
       },
       http::Access::kWrite},
  };
  for (auto& route : incident_routes()) all.push_back(std::move(route));
  for (auto& route : sla_record_routes()) all.push_back(std::move(route));
  for (auto& route : report_routes()) all.push_back(std::move(route));
  for (auto& route : slo_routes()) all.push_back(std::move(route));
  for (auto& route : gate_routes()) all.push_back(std::move(route));
  return all;
}

}  // namespace leeway::daemon
