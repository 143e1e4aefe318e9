// The server side of vantage agents (see agent_api.h). Tokens are per location, kept as hashes,
// compared in constant time and never logged; a batch is stored whole or not at all and
// answered only once committed, so the agent may forget it.
#include "daemon/agent_api.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <charconv>
#include <nlohmann/json.hpp>

#include "agent/wire.h"
#include "http/auth.h"

namespace leeway::daemon {

namespace {

using nlohmann::json;

// A result further ahead of the server's clock than this is refused: stored, it would sit in the
// future of every incident timeline and SLO window.
constexpr DurationUs kMaxAheadUs = 5 * kMinuteUs;

http::Response with_header(http::Response r, std::string name, std::string value) {
  r.headers.emplace_back(std::move(name), std::move(value));
  return r;
}

// 503 with a hint to come back: the agent keeps the batch and retries with backoff.
http::Response unavailable(const std::string& message) {
  return with_header(http::Response::error(503, message), "Retry-After", "1");
}

std::string hex(const http::TokenHash& hash, std::size_t bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) out += fmt::format("{:02x}", hash[i]);
  return out;
}

}  // namespace

AgentApi::AgentApi(boost::asio::io_context& io, const Clock& clock, ingest::Ingest& ingest,
                   std::shared_ptr<const config::Config> config)
    : io_(io), clock_(clock), ingest_(ingest), health_(std::make_shared<LocationHealth>()) {
  set_config(std::move(config));
}

AgentApi::~AgentApi() {
  batches_.join();
}

void AgentApi::set_config(std::shared_ptr<const config::Config> config) {
  config_ = std::move(config);
  tokens_.clear();
  for (const auto& location : config_->locations)
    if (location.kind == "agent" && location.token_sha256)
      tokens_.push_back({location.id, *location.token_sha256});
  auto index = std::make_shared<Index>();
  index->config = config_;
  for (const auto& service : config_->services)
    for (const auto& check : service.checks) index->checks.emplace(check.id, &check);
  // Reference targets too: an agent probes them to tell "I reach nothing" from "I cannot reach
  // the service".
  for (const auto& check : config_->references) index->checks.emplace(check.id, &check);
  index_ = std::move(index);
  lists_.clear();
  // Long polls whose location's list changed get it now; the others wait on.
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    const CheckList& list = check_list(it->second.location);
    if (list.etag == it->second.etag) {
      ++it;
      continue;
    }
    it->second.respond(
        with_header(http::Response::text(list.body, "application/json"), "ETag", list.etag));
    it = waiters_.erase(it);
  }
}

const AgentApi::CheckList& AgentApi::check_list(const std::string& location) {
  auto [it, added] = lists_.try_emplace(location);
  if (!added) return it->second;
  std::vector<agent::AgentCheck> checks;
  auto add = [&](const config::Check& check) {
    if (std::find(check.locations.begin(), check.locations.end(), location) !=
        check.locations.end())
      checks.push_back({check.id, check.interval_us, check.spec});
  };
  for (const auto& service : config_->services)
    for (const auto& check : service.checks) add(check);
  for (const auto& check : config_->references) add(check);
  it->second.body = agent::check_list_to_json(location, checks)
                        .dump(-1, ' ', false, json::error_handler_t::replace);
  // The list's own hash: a reload that leaves this location's checks alone keeps its ETag.
  it->second.etag = "\"" + hex(http::hash_token(it->second.body), 16) + "\"";
  return it->second;
}

const config::Location* AgentApi::authenticate(const http::Request& r, http::Respond& respond) {
  auto refuse = [&](std::string message, std::string challenge) {
    respond(with_header(http::Response::error(401, message), "WWW-Authenticate", challenge));
    return nullptr;
  };
  std::string authorization = r.header("authorization");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      !std::equal(kBearer.begin(), kBearer.end(), authorization.begin(),
                  [](char a, char b) { return std::tolower(a) == std::tolower(b); }))
    return refuse("this route is for agents: it needs Authorization: Bearer <the location's token>",
                  "Bearer realm=\"leeway-agent\"");
  const http::ApiToken* token =
      http::find_token(tokens_, std::string_view(authorization).substr(kBearer.size()));
  if (!token)
    return refuse("the token is not the token of any agent location",
                  "Bearer realm=\"leeway-agent\", error=\"invalid_token\"");
  return config_->find_location(token->name);
}

void AgentApi::get_checks(const http::Request& r, http::Respond respond) {
  const config::Location* location = authenticate(r, respond);
  if (!location) return;
  if (auto it = r.query.find("location"); it != r.query.end() && it->second != location->id)
    return respond(http::Response::error(
        403, fmt::format("this token is location \"{}\"'s; it may not fetch the checks of \"{}\"",
                         location->id, it->second)));
  TimeUs now = clock_.now_us();
  health_->contact(location->id, now);
  int wait_s = 0;
  if (auto it = r.query.find("wait"); it != r.query.end()) {
    const std::string& v = it->second;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), wait_s);
    if (ec != std::errc() || p != v.data() + v.size() || wait_s < 0 ||
        wait_s > agent::kMaxLongPollWaitS)
      return respond(http::Response::error(
          400, fmt::format("wait: expected whole seconds from 0 to {}, got \"{}\"",
                           agent::kMaxLongPollWaitS, v)));
  }
  const CheckList& list = check_list(location->id);
  if (r.header("if-none-match") != list.etag)
    return respond(
        with_header(http::Response::text(list.body, "application/json"), "ETag", list.etag));
  http::Response not_modified{304, "application/json", "", {{"ETag", list.etag}}};
  if (wait_s == 0) return respond(std::move(not_modified));
  // Parked until a reload changes the list (set_config) or the wait ends.
  std::uint64_t id = next_waiter_++;
  Waiter& waiter = waiters_[id];
  waiter.location = location->id;
  waiter.etag = list.etag;
  waiter.respond = respond;
  waiter.timer = clock_.make_timer(io_);
  waiter.timer->arm_at(now + wait_s * kSecondUs, [this, id, respond, not_modified] {
    respond(not_modified);
    // Not erased here: that would destroy the timer inside its own callback.
    boost::asio::post(io_, [this, id] { waiters_.erase(id); });
  });
}

void AgentApi::post_results(const http::Request& r, http::Respond respond) {
  const config::Location* location = authenticate(r, respond);
  if (!location) return;
  TimeUs now = clock_.now_us();
  health_->contact(location->id, now);
  boost::asio::post(batches_, [this, index = index_, location = location->id, body = r.body, now,
                               respond = std::move(respond)] {
    auto bad = [&](int status, std::string message) {
      respond(http::Response::error(status, message));
    };
    auto batch = agent::batch_from_json(body, location);
    if (!batch) return bad(400, batch.error().message);
    if (batch->location != location)
      return bad(403, fmt::format("this token is location \"{}\"'s; it may not push results as "
                                  "\"{}\"",
                                  location, batch->location));
    health_->batch(location, now, batch->sent_us);
    DurationUs offset = now - batch->sent_us;
    // The decoder kept the results before its first bad one: each of them may still be refused
    // here first, so the error names the first bad result whatever its fault.
    for (std::size_t i = 0; i < batch->results.size(); ++i) {
      const store::StoredResult& result = batch->results[i];
      auto check = index->checks.find(result.check);
      if (check == index->checks.end())
        return bad(422, fmt::format("results[{}].check: unknown check \"{}\"", i, result.check));
      const auto& where = check->second->locations;
      if (std::find(where.begin(), where.end(), location) == where.end())
        return bad(422, fmt::format("results[{}].check: \"{}\" is not assigned to location \"{}\"",
                                    i, result.check, location));
      if (result.started_us > now + kMaxAheadUs)
        return bad(422, fmt::format("results[{}].started_us: {} is {} ahead of the server's clock "
                                    "(the agent's clock is {} {} it); fix the agent's clock",
                                    i, format_rfc3339(result.started_us),
                                    format_duration(result.started_us - now),
                                    format_duration(std::abs(offset)),
                                    offset < 0 ? "ahead of" : "behind"));
    }
    if (batch->bad_result) return bad(400, *batch->bad_result);
    std::size_t count = batch->results.size();
    bool queued = ingest_.submit_batch(
        std::move(batch->results),
        [health = health_, location, id = batch->id, count, dropped = batch->dropped_total,
         respond](Result<store::BatchOutcome> outcome) {
          if (!outcome) return respond(unavailable("store: " + outcome.error().message));
          health->committed(location, std::int64_t(count), dropped);
          respond(http::Response::json(
              {{"batch", id}, {"stored", outcome->stored}, {"duplicates", outcome->duplicates}}));
        });
    if (!queued) respond(unavailable("the store's queue is full; send the batch again later"));
  });
}

http::Response AgentApi::locations_json() const {
  json out = json::array();
  for (const auto& v : location_views(*config_, health_->snapshot(), clock_.now_us())) {
    const config::Location& l = *v.location;
    auto time = [](TimeUs t) { return t > 0 ? json(format_rfc3339(t)) : json(); };
    json entry = {{"id", l.id},
                  {"kind", l.kind},
                  {"region", l.region},
                  {"isp", l.isp},
                  {"up", v.up},
                  {"last_contact", time(v.last_contact_us)},
                  {"silent_since", v.up ? json() : time(v.silent_since_us)},
                  {"clock_offset_s", v.clock_offset_us ? json(*v.clock_offset_us / 1e6) : json()},
                  {"clock_offset_flagged", v.clock_offset_flagged},
                  {"results_total", v.results_total},
                  {"agent_dropped_total", v.agent_dropped_total}};
    if (!v.up && v.last_contact_us == 0) entry["note"] = "no contact since the server started";
    out.push_back(std::move(entry));
  }
  return http::Response::json({{"locations", out}});
}

std::string AgentApi::metrics_text() const {
  auto views = location_views(*config_, health_->snapshot(), clock_.now_us());
  std::string out =
      "# HELP leeway_location_up Whether the location is in contact: the daemon's own always, an "
      "agent's while its last contact is recent (incidents.silent_after of its shortest check "
      "interval, at least 30s).\n# TYPE leeway_location_up gauge\n";
  for (const auto& v : views)
    out += fmt::format("leeway_location_up{{location=\"{}\"}} {}\n", v.location->id, v.up ? 1 : 0);
  out +=
      "# HELP leeway_location_last_contact_seconds When the location last made contact, in Unix "
      "seconds; no sample before its first contact since the server started.\n"
      "# TYPE leeway_location_last_contact_seconds gauge\n";
  for (const auto& v : views)
    if (v.last_contact_us > 0)
      out += fmt::format("leeway_location_last_contact_seconds{{location=\"{}\"}} {:.3f}\n",
                         v.location->id, v.last_contact_us / 1e6);
  out +=
      "# HELP leeway_location_clock_offset_seconds The server's clock minus the agent's when its "
      "last batch arrived (beyond 2s its results' times are suspect).\n"
      "# TYPE leeway_location_clock_offset_seconds gauge\n";
  for (const auto& v : views)
    if (v.clock_offset_us)
      out += fmt::format("leeway_location_clock_offset_seconds{{location=\"{}\"}} {:.6f}\n",
                         v.location->id, *v.clock_offset_us / 1e6);
  out +=
      "# HELP leeway_location_agent_dropped_total Results an agent's full spool dropped, as it "
      "reported.\n# TYPE leeway_location_agent_dropped_total counter\n";
  for (const auto& v : views)
    if (v.location->kind == "agent")
      out += fmt::format("leeway_location_agent_dropped_total{{location=\"{}\"}} {}\n",
                         v.location->id, v.agent_dropped_total);
  return out;
}

std::vector<http::Route> AgentApi::routes() {
  using http::Request;
  using http::Respond;
  return {
      {"GET", "/api/v1/agent/checks",
       [this](const Request& r, Respond respond) { get_checks(r, std::move(respond)); }},
      {"POST", "/api/v1/agent/results",
       [this](const Request& r, Respond respond) { post_results(r, std::move(respond)); }},
      {"GET", "/api/v1/locations", [this](const Request&) { return locations_json(); }},
  };
}

}  // namespace leeway::daemon
