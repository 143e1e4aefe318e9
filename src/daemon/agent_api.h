// The server side of vantage agents: GET /api/v1/agent/checks (a location's checks, with an ETag
// and long polling across reloads), POST /api/v1/agent/results (a batch stored whole, answered
// after its commit), and GET /api/v1/locations (location health). Internal to the daemon.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "daemon/location_health.h"
#include "http/server.h"
#include "ingest/ingest.h"

namespace leeway::daemon {

class AgentApi {
 public:
  // All must outlive this. Call everything but the routes' work on `io`'s thread.
  AgentApi(boost::asio::io_context& io, const Clock& clock, ingest::Ingest& ingest,
           std::shared_ptr<const config::Config> config);
  // Joins the thread that reads batches; long polls still parked are dropped unanswered.
  ~AgentApi();

  std::vector<http::Route> routes();

  // A reload: answers the long polls whose location's checks changed.
  void set_config(std::shared_ptr<const config::Config> config);

  // The leeway_location_* families of /metrics.
  std::string metrics_text() const;

 private:
  // One location's check list as it is served, and its ETag.
  struct CheckList {
    std::string body;
    std::string etag;
  };
  // A long poll waiting for its location's checks to change.
  struct Waiter {
    std::string location;
    std::string etag;  // what the agent has
    http::Respond respond;
    std::unique_ptr<Timer> timer;
  };
  // Check id -> the check, for validating batches off the loop; immutable once built.
  struct Index {
    std::shared_ptr<const config::Config> config;
    std::unordered_map<std::string_view, const config::Check*> checks;
  };

  // The location the request's bearer token belongs to, or the response refusing it (401).
  const config::Location* authenticate(const http::Request& r, http::Respond& respond);
  const CheckList& check_list(const std::string& location);
  void get_checks(const http::Request& r, http::Respond respond);
  void post_results(const http::Request& r, http::Respond respond);
  http::Response locations_json() const;

  boost::asio::io_context& io_;
  const Clock& clock_;
  ingest::Ingest& ingest_;
  std::shared_ptr<const config::Config> config_;
  std::shared_ptr<const Index> index_;
  std::vector<http::ApiToken> tokens_;      // one per agent location with a token, named by its id
  std::map<std::string, CheckList> lists_;  // cached until the config changes
  std::map<std::uint64_t, Waiter> waiters_;
  std::uint64_t next_waiter_ = 0;
  // Shared with the completions of batches, which run on the store's writer thread.
  std::shared_ptr<LocationHealth> health_;
  // Parses and checks batches, off the loop (a 1 MiB batch is ~5 ms of JSON).
  boost::asio::thread_pool batches_{1};
};

}  // namespace leeway::daemon
