// libFuzzer entry point for the HTTP server's request path: any bytes in, sent on one loopback
// connection, through Beast's parser, the router, the parameter and write checks and a handler
// to the response; never a crash, a hang or a reply that is not HTTP. `make fuzz` runs it under
// libFuzzer; `make test` replays the saved inputs (fuzz/corpus/http) through replay_main.cpp.
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <string>
#include <thread>

#include "http/server.h"

namespace {

namespace asio = boost::asio;
using leeway::http::Access;
using leeway::http::Request;
using leeway::http::Response;
using leeway::http::Work;

// Routes of the daemon's shapes: plain, with a parameter and a query, offloaded, and a write.
std::vector<leeway::http::Route> routes() {
  auto echo = [](const Request& r) {
    return Response::json(
        {{"params", r.params}, {"query", r.query}, {"body", r.body}, {"caller", r.caller}});
  };
  return {
      {"GET", "/healthz",
       [](const Request&) {
         return Response::json({{"status", "ok"}});
       }},
      {"GET", "/api/v1/checks/{id}/results", echo},
      {"GET", "/api/v1/checks/{id}/minutes",
       [echo](const Request& r) -> Work { return [echo, r] { return echo(r); }; }},
      {"POST", "/api/v1/reload", echo, Access::kWrite},
  };
}

// One server for the whole run, on its own loop thread; never destroyed, so that nothing races
// the exit.
struct Fixture {
  Fixture() : server(io, routes()) {
    port = server.listen("127.0.0.1:0").value();
    server.set_api_tokens({{"fuzz", leeway::http::hash_token("fuzz-token")}});
    loop = std::thread([this] { io.run(); });
  }
  asio::io_context io;
  leeway::http::Server server;
  std::uint16_t port = 0;
  std::thread loop;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Fixture* fixture = new Fixture;
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), fixture->port});
  timeval timeout{10, 0};  // more than any answer takes: a hang
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  boost::system::error_code ec;
  asio::write(socket, asio::buffer(data, size), ec);  // the server may refuse before the end
  socket.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
  std::string reply;
  char chunk[4096];
  ssize_t n = 0;  // plain recv(): Asio's blocking reads would wait past the timeout
  while ((n = ::recv(socket.native_handle(), chunk, sizeof chunk, 0)) > 0) reply.append(chunk, n);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) __builtin_trap();  // no answer, no close
  if (!reply.empty() && reply.rfind("HTTP/1.1 ", 0) != 0) __builtin_trap();
  return 0;
}
