// A small HTTP/1.1 server on Boost.Beast for leeway's API, /metrics and pages. Routes are an
// explicit table (method, pattern, handler). Handlers run on the server's event loop; a route
// whose work is slow (store queries, big renders) hands that work to the server's worker threads.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <variant>
#include <vector>

#include "core/result.h"
#include "http/auth.h"

namespace leeway::http {

struct Request {
  std::string method;                        // "GET", "POST", ... (a HEAD is routed as a GET)
  std::string path;                          // without the query, percent-encoded as sent
  std::map<std::string, std::string> query;  // decoded, valid UTF-8; a repeated key keeps the last
  std::vector<std::string> params;           // decoded, valid UTF-8 segments matched by "{name}"
  std::string body;
  std::string caller;  // on a write route: the name of the API token it came with
  // Header fields by lower-case name; a repeated field's values joined with ", " (RFC 9110
  // 5.3). Values are as sent: they may not be UTF-8.
  std::map<std::string, std::string> headers;

  // The value of a header field (name in any case), or "" when it was not sent.
  std::string header(std::string_view name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // more header fields
  // A body made piece by piece on the event loop, for a big body that need not be held whole
  // (/metrics at 10,000 checks is 17 MB): each call appends the next piece to `out` and says
  // whether more follow; the next call comes once the piece is written. The body is sent with
  // chunked transfer coding, and `body` is unused. A piece that throws cuts the body off (the
  // client sees no last chunk).
  std::function<bool(std::string& out)> pieces;

  // A JSON body.
  static Response json(const nlohmann::json& body, int status = 200);
  // A JSON error body {"error": message} with the given status.
  static Response error(int status, const std::string& message);
  // A plain text body (e.g. the Prometheus exposition format).
  static Response text(std::string body, std::string content_type = "text/plain; charset=utf-8");
};

// Answers on the event loop: for quick answers from what the loop owns.
using Handler = std::function<Response(const Request&)>;

// Makes a response on one of the server's worker threads, off the event loop. It must not touch
// what the loop owns: it works on copies, or on thread-safe objects.
using Work = std::function<Response()>;

// For slow routes: runs on the event loop, takes there what the work needs (parameters, a cheap
// snapshot of loop-owned state) and returns the work; its response is written back on the loop.
using OffloadHandler = std::function<Work(const Request&)>;

// Sends the response to a request answered later (AsyncHandler). Call it once, from any thread;
// the response is written on the loop. Calling it after the client left does nothing.
using Respond = std::function<void(Response)>;

// For routes that wait on something other than their own work (a long poll, a commit on the
// store's writer): runs on the event loop and keeps `respond` until it has the answer. It must
// not block.
using AsyncHandler = std::function<void(const Request&, Respond)>;

// Who may use a route. A write needs `Authorization: Bearer <token>` with one of the server's API
// tokens (else 401, or 403 when it has none), comes from no other origin (403) and carries JSON
// or no body (415): a web page the user opens cannot write, nor can anyone without a token.
enum class Access { kRead, kWrite };

// A route's parameters and query values are percent-decoded and must be valid UTF-8: the server
// answers 400 naming the parameter before the handler runs.
struct Route {
  std::string method;
  std::string pattern;  // "/api/v1/checks/{id}/results": "{id}" matches one path segment
  std::variant<Handler, OffloadHandler, AsyncHandler> handler;
  Access access = Access::kRead;
};

// Finds the route for a request and fills its params; nullptr when none matches. Sets
// `method_not_allowed` when the path matches a route of another method.
const Route* match_route(const std::vector<Route>& routes, Request& request,
                         bool& method_not_allowed);

// Decodes %XX escapes (and '+' as space when `plus_is_space`); invalid escapes stay as they are.
std::string percent_decode(std::string_view text, bool plus_is_space = false);

struct ServerOptions {
  std::size_t worker_threads = 2;  // threads of the server's own for offloaded work
  // Connections open at once. Past it a new connection gets a 503 and is closed, so that clients
  // cannot take the file descriptors the probes need.
  std::size_t max_connections = 256;
  // PEM files of the certificate (chain) and its key: when set, the server speaks only HTTPS.
  std::string tls_cert_file;
  std::string tls_key_file;
};

class Server {
 public:
  // Serves `routes` on `io`. When accepting fails (no file descriptors left), it waits before
  // trying again, 10 ms doubling up to 1 s, instead of spinning on the pending connection.
  Server(boost::asio::io_context& io, std::vector<Route> routes, ServerOptions options = {});
  // Stops, drops offloaded work not started yet and waits for the work already running, so that
  // no work outlives what its handler captured (the caller's objects must outlive the Server).
  // `io` must outlive the Server.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds "host:port" ("[::1]:8080" for IPv6; port 0 picks a free one) and starts accepting.
  // Returns the bound port. With TLS options, loads the certificate and key first (an error
  // names the file).
  Result<std::uint16_t> listen(const std::string& host_port);

  // Stops accepting; open connections finish their current request, offloaded or not, while
  // `io` runs.
  void stop();

  // The tokens that may use write routes from now on (none: writes are refused). Call on the
  // loop's thread, or before it runs.
  void set_api_tokens(std::vector<ApiToken> tokens);

  // Whether the server speaks HTTPS (listen() loaded a certificate).
  bool tls() const;

  // Whether listen() bound an address other than loopback (0.0.0.0 included): reachable from
  // other machines, over plain HTTP.
  bool beyond_loopback() const;

  // For /metrics; thread-safe. Offloaded requests queued or running on the worker threads:
  std::size_t offloaded_in_flight() const;
  // Connections open now:
  std::size_t open_connections() const;
  // Connections refused (503) at the limit since the start:
  std::uint64_t refused_connections_total() const;
  // Failed accepts (each followed by a wait) since the start:
  std::uint64_t accept_errors_total() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace leeway::http
