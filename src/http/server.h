// A small HTTP/1.1 server on Boost.Beast for leeway's API, /metrics and pages. Routes are an
// explicit table (method, pattern, handler); handlers run on the server's event loop.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "core/result.h"

namespace leeway::http {

struct Request {
  std::string method;                        // "GET", "POST", ...
  std::string path;                          // without the query, percent-encoded as sent
  std::map<std::string, std::string> query;  // decoded; a repeated key keeps the last value
  std::vector<std::string> params;           // decoded path segments matched by "{}" in order
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;

  // A JSON body.
  static Response json(const nlohmann::json& body, int status = 200);
  // A JSON error body {"error": message} with the given status.
  static Response error(int status, const std::string& message);
  // A plain text body (e.g. the Prometheus exposition format).
  static Response text(std::string body, std::string content_type = "text/plain; charset=utf-8");
};

using Handler = std::function<Response(const Request&)>;

struct Route {
  std::string method;
  std::string pattern;  // "/api/v1/checks/{}/results": "{}" matches one path segment
  Handler handler;
};

// Finds the route for a request and fills its params; nullptr when none matches. Sets
// `method_not_allowed` when the path matches a route of another method.
const Route* match_route(const std::vector<Route>& routes, Request& request,
                         bool& method_not_allowed);

// Decodes %XX escapes (and '+' as space when `plus_is_space`); invalid escapes stay as they are.
std::string percent_decode(std::string_view text, bool plus_is_space = false);

class Server {
 public:
  Server(boost::asio::io_context& io, std::vector<Route> routes);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds "host:port" ("[::1]:8080" for IPv6; port 0 picks a free one) and starts accepting.
  // Returns the bound port.
  Result<std::uint16_t> listen(const std::string& host_port);

  // Stops accepting; open connections finish their current request.
  void stop();

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace leeway::http
