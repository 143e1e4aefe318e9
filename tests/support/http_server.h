// A real HTTP/1.1 (and HTTPS) server on loopback for probe tests, built on Boost.Beast. It runs on
// its own thread and io_context from its constructor until its destructor.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace leeway::testing {

struct HttpServerOptions {
  // Serve TLS with this certificate and key (PEM files, e.g. from TestCa); empty: plain HTTP.
  std::string cert_pem_path;
  std::string key_pem_path;
  // Listen on ::1 instead of 127.0.0.1.
  bool ipv6 = false;
  // Listen on this IPv4 loopback address instead (e.g. "127.0.0.2", a second host); "": the above.
  std::string address;
};

// Routes:
//   /ok            200 "hello"
//   /status/<code> that status, body "status <code>"
//   /slow/<ms>     200 "slow" after <ms> milliseconds
//   /json          200 {"status":"ok","version":3,"healthy":true,"checks":{"db":"ok"},...}
//   /redirect      302 to /ok
//   /redirect-to/<location>  302 to <location>, verbatim
//   /digits/<n>    200, <n> digits and no " results" (a body that stalls backtracking regexes)
//   /letters/<n>   200, <n> times 'a' and no 'c'
//   /echo          200, a JSON object {"method":..,"target":..,"headers":{lower-case name: value},
//                  "body":..} describing the request
//   /big           200, kBigBodyBytes of 'x' followed by "the end"
//   anything else  404
class HttpServer {
 public:
  static constexpr std::size_t kBigBodyBytes = 4 << 20;

  // Starts listening on an ephemeral port. Throws if it cannot (a broken test setup).
  explicit HttpServer(HttpServerOptions options = {});
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "127.0.0.1", "::1" or the address given.
  const char* address() const;
  // The URL of `path` on this server: "http://127.0.0.1:<port>/ok", "https://[::1]:<port>/ok".
  std::string url(std::string_view path) const;
  // The same URL with `host` in place of the address (for names resolved to loopback).
  std::string url_with_host(std::string_view host, std::string_view path) const;

  // Requests fully read so far.
  int requests() const { return requests_.load(); }
  // Connections accepted so far.
  int connections() const { return connections_.load(); }

 private:
  struct Impl;
  HttpServerOptions options_;
  std::uint16_t port_ = 0;
  std::atomic<int> requests_{0};
  std::atomic<int> connections_{0};
  std::unique_ptr<Impl> impl_;
};

}  // namespace leeway::testing
