// `leeway demo-target`: a small local web service that is healthy most of the time, slow at
// times and down at times, on a fixed cycle, so a fresh install shows live, changing data with
// no internet. Boost.Beast on one thread. With --dns it also answers for names of its own, as an
// authoritative name server would (demo_dns.h), for the test bed of scripts/testbed.sh.
#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

#include "cli/commands.h"
#include "cli/demo_dns.h"

namespace leeway::cli {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// The cycle, in seconds of each 10-minute period (UTC): what the demo service is doing now.
enum class Mood { kHealthy, kSlow, kDown };

Mood mood_at(std::int64_t unix_s, std::int64_t cycle_s) {
  std::int64_t t = unix_s % cycle_s;
  if (t >= cycle_s * 8 / 10) return Mood::kDown;                          // the last fifth: 503
  if (t >= cycle_s * 5 / 10 && t < cycle_s * 6 / 10) return Mood::kSlow;  // a tenth: 1.5 s
  return Mood::kHealthy;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::int64_t cycle_s)
      : stream_(std::move(socket)), timer_(stream_.get_executor()), cycle_s_(cycle_s) {}
  void start() { read(); }

 private:
  void read() {
    request_ = {};
    http::async_read(stream_, buffer_, request_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (!ec) self->answer();
                     });
  }

  void answer() {
    std::int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
    std::string target(request_.target());
    Mood mood = target == "/healthz" ? Mood::kHealthy : mood_at(now_s, cycle_s_);
    response_ = {};
    response_.version(request_.version());
    response_.keep_alive(request_.keep_alive());
    response_.set(http::field::content_type, "application/json");
    if (target != "/" && target != "/healthz" && target != "/api") {
      response_.result(http::status::not_found);
      response_.body() = R"({"error":"not found"})";
    } else if (mood == Mood::kDown) {
      response_.result(http::status::service_unavailable);
      response_.body() = R"({"status":"down"})";
    } else {
      response_.result(http::status::ok);
      response_.body() = mood == Mood::kSlow ? R"({"status":"slow"})" : R"({"status":"ok"})";
    }
    response_.prepare_payload();
    auto delay =
        mood == Mood::kSlow ? std::chrono::milliseconds(1500) : std::chrono::milliseconds(0);
    timer_.expires_after(delay);
    timer_.async_wait([self = shared_from_this()](beast::error_code) { self->write(); });
  }

  void write() {
    http::async_write(stream_, response_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (!ec && self->response_.keep_alive()) self->read();
                      });
  }

  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> request_;
  http::response<http::string_body> response_;
  std::int64_t cycle_s_;
};

void accept(tcp::acceptor& acceptor, std::int64_t cycle_s) {
  acceptor.async_accept([&acceptor, cycle_s](beast::error_code ec, tcp::socket socket) {
    if (!ec) std::make_shared<Session>(std::move(socket), cycle_s)->start();
    if (acceptor.is_open()) accept(acceptor, cycle_s);
  });
}

struct DemoArgs {
  std::string listen = "127.0.0.1:8081";
  std::int64_t cycle_s = 600;
  std::string dns;                   // ADDRESS:PORT for the name server; "" for none
  std::vector<std::string> records;  // NAME=IPV4
};

// "ADDRESS:PORT" as an address and port; prints the error naming `option` when it is not one.
std::optional<std::pair<asio::ip::address, unsigned short>> parse_endpoint(
    const std::string& option, const std::string& text) {
  auto colon = text.rfind(':');
  boost::system::error_code ec;
  auto address = asio::ip::make_address(text.substr(0, colon == std::string::npos ? 0 : colon), ec);
  int port = -1;
  if (colon != std::string::npos) {
    auto digits = text.substr(colon + 1);
    if (!digits.empty() && digits.size() <= 5 &&
        std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
      port = std::stoi(digits);
  }
  if (colon == std::string::npos || ec || port < 0 || port > 65535) {
    std::cerr << "leeway demo-target: " << option << ": expected ADDRESS:PORT, got \"" << text
              << "\"\n";
    return std::nullopt;
  }
  return std::pair{address, static_cast<unsigned short>(port)};
}

int run_demo_target(const DemoArgs& args) {
  auto web = parse_endpoint("--listen", args.listen);
  if (!web) return kExitUnknown;
  DnsZone zone;
  for (const auto& record : args.records) {
    auto parsed = parse_dns_record(record);
    if (!parsed) {
      std::cerr << "leeway demo-target: --record: " << parsed.error().message << "\n";
      return kExitUnknown;
    }
    zone[parsed->first] = parsed->second;
  }
  std::optional<std::pair<asio::ip::address, unsigned short>> dns;
  if (!args.dns.empty() && !(dns = parse_endpoint("--dns", args.dns))) return kExitUnknown;
  boost::system::error_code ec;
  asio::io_context io;
  std::optional<DemoDns> name_server;
  if (dns) {
    try {
      name_server.emplace(io, asio::ip::udp::endpoint(dns->first, dns->second), std::move(zone));
    } catch (const boost::system::system_error& e) {
      std::cerr << "leeway demo-target: cannot serve DNS on " << args.dns << ": "
                << e.code().message() << "\n";
      return kExitDown;
    }
  }
  tcp::acceptor acceptor(io);
  tcp::endpoint endpoint(web->first, web->second);
  acceptor.open(endpoint.protocol());
  acceptor.set_option(asio::socket_base::reuse_address(true));
  acceptor.bind(endpoint, ec);
  if (ec) {
    std::cerr << "leeway demo-target: cannot listen on " << args.listen << ": " << ec.message()
              << "\n";
    return kExitDown;
  }
  acceptor.listen();
  accept(acceptor, args.cycle_s);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](beast::error_code, int) {
    acceptor.close();
    io.stop();  // the name server's socket closes with the io_context
  });
  std::cout << fmt::format(
      "demo target on http://{}/ : healthy, slow (1.5 s) and down (503) in a {} s cycle; "
      "/healthz is always up\n",
      args.listen, args.cycle_s);
  if (dns)
    std::cout << fmt::format("name server on {} (udp) for {} names\n", args.dns,
                             args.records.size());
  std::cout << std::flush;
  io.run();
  return 0;
}

}  // namespace

Runner setup_demo_target(CLI::App& sub) {
  auto args = std::make_shared<DemoArgs>();
  sub.add_option("--listen", args->listen, "ADDRESS:PORT to serve on")->capture_default_str();
  sub.add_option("--cycle", args->cycle_s, "seconds of one healthy/slow/down cycle")
      ->check(CLI::Range(10, 86400))
      ->capture_default_str();
  sub.add_option("--dns", args->dns, "ADDRESS:PORT to answer DNS (UDP) on, for --record names");
  sub.add_option("--record", args->records, "NAME=IPV4 that --dns answers (repeatable)");
  return [args] { return run_demo_target(*args); };
}

}  // namespace leeway::cli
