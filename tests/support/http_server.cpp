// The loopback HTTP(S) test server: one Beast session per connection on the server's own loop,
// keep-alive honoured, a small fixed route table.
#include "support/http_server.h"

#include <charconv>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <nlohmann/json.hpp>

namespace leeway::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::ip::tcp;

namespace {

constexpr std::string_view kJsonDoc =
    R"({"status":"ok","version":3,"healthy":true,"checks":{"db":"ok","cache":"degraded"},)"
    R"("items":[1,2,3],"name":"leeway"})";

std::optional<unsigned> number_after(std::string_view target, std::string_view prefix) {
  if (target.substr(0, prefix.size()) != prefix) return std::nullopt;
  target.remove_prefix(prefix.size());
  unsigned value = 0;
  auto [p, ec] = std::from_chars(target.data(), target.data() + target.size(), value);
  if (ec != std::errc() || p != target.data() + target.size()) return std::nullopt;
  return value;
}

// Fills `res` for `req`; returns how long to wait before sending it.
std::chrono::milliseconds route(const http::request<http::string_body>& req,
                                http::response<http::string_body>& res) {
  std::string_view target(req.target().data(), req.target().size());
  res.version(req.version());
  res.keep_alive(req.keep_alive());
  res.set(http::field::server, "leeway-test");
  res.set(http::field::content_type, "text/plain");
  res.result(http::status::ok);
  std::chrono::milliseconds delay{0};
  if (target == "/ok") {
    res.body() = "hello";
  } else if (auto code = number_after(target, "/status/")) {
    if (*code < 100 || *code > 999) {
      res.result(http::status::bad_request);
      res.body() = "bad status";
    } else {
      res.result(*code);
      res.body() = "status " + std::to_string(*code);
    }
  } else if (auto ms = number_after(target, "/slow/")) {
    delay = std::chrono::milliseconds(*ms);
    res.body() = "slow";
  } else if (target == "/json") {
    res.set(http::field::content_type, "application/json");
    res.body() = kJsonDoc;
  } else if (target == "/redirect") {
    res.result(http::status::found);
    res.set(http::field::location, "/ok");
    res.body() = "see /ok";
  } else if (target.starts_with("/redirect-to/")) {
    res.result(http::status::found);
    res.set(http::field::location,
            std::string(target.substr(std::string_view("/redirect-to/").size())));
  } else if (auto digits = number_after(target, "/digits/")) {
    res.body().resize(*digits);
    for (unsigned i = 0; i < *digits; ++i) res.body()[i] = static_cast<char>('0' + i % 10);
  } else if (auto letters = number_after(target, "/letters/")) {
    res.body().assign(*letters, 'a');
  } else if (target == "/echo") {
    nlohmann::json doc;
    doc["method"] = std::string(req.method_string());
    doc["target"] = std::string(target);
    doc["headers"] = nlohmann::json::object();
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      doc["headers"][name] = std::string(field.value());
    }
    doc["body"] = req.body();
    res.set(http::field::content_type, "application/json");
    res.body() = doc.dump();
  } else if (target == "/big") {
    res.body().assign(HttpServer::kBigBodyBytes, 'x');
    res.body() += "the end";
  } else {
    res.result(http::status::not_found);
    res.body() = "not found";
  }
  res.prepare_payload();
  return delay;
}

}  // namespace

struct HttpServer::Impl {
  // Declared before the loop so it outlives the sessions the loop destroys.
  std::optional<asio::ssl::context> tls;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread thread;
  std::atomic<int>& requests;
  std::atomic<int>& connections;

  Impl(std::atomic<int>& requests, std::atomic<int>& connections)
      : requests(requests), connections(connections) {}
  void accept();
};

namespace {

template <typename Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <typename... Args>
  Session(std::atomic<int>& requests, asio::io_context& io, Args&&... stream_args)
      : stream_(std::forward<Args>(stream_args)...), delay_(io), requests_(requests) {}

  void start() {
    if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
      read();
    } else {
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (!ec) self->read();
                              });
    }
  }

 private:
  void read() {
    req_ = {};
    http::async_read(stream_, buffer_, req_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->close();
                       ++self->requests_;
                       self->res_ = {};
                       auto delay = route(self->req_, self->res_);
                       if (delay.count() == 0) return self->write();
                       self->delay_.expires_after(delay);
                       self->delay_.async_wait([self](beast::error_code ec) {
                         if (!ec) self->write();
                       });
                     });
  }

  void write() {
    http::async_write(stream_, res_,
                      [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec || !self->res_.keep_alive()) return self->close();
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(stream_).close();
  }

  Stream stream_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  http::response<http::string_body> res_;
  asio::steady_timer delay_;
  std::atomic<int>& requests_;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec != asio::error::operation_aborted) accept();
      return;
    }
    ++connections;
    if (tls) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(requests, io,
                                                                      std::move(socket), *tls)
          ->start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(requests, io, std::move(socket))->start();
    }
    accept();
  });
}

HttpServer::HttpServer(HttpServerOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(requests_, connections_)) {
  if (!options_.cert_pem_path.empty()) {
    impl_->tls.emplace(asio::ssl::context::tls_server);
    impl_->tls->use_certificate_chain_file(options_.cert_pem_path);
    impl_->tls->use_private_key_file(options_.key_pem_path, asio::ssl::context::pem);
  }
  tcp::endpoint endpoint(asio::ip::make_address(address()), 0);
  impl_->acceptor.open(endpoint.protocol());
  impl_->acceptor.set_option(asio::socket_base::reuse_address(true));
  impl_->acceptor.bind(endpoint);
  impl_->acceptor.listen(asio::socket_base::max_listen_connections);
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([this] { impl_->io.run(); });
}

HttpServer::~HttpServer() {
  impl_->io.stop();
  impl_->thread.join();
}

const char* HttpServer::address() const {
  if (!options_.address.empty()) return options_.address.c_str();
  return options_.ipv6 ? "::1" : "127.0.0.1";
}

std::string HttpServer::url(std::string_view path) const {
  return url_with_host(options_.ipv6 ? "[::1]" : address(), path);
}

std::string HttpServer::url_with_host(std::string_view host, std::string_view path) const {
  std::string url = options_.cert_pem_path.empty() ? "http://" : "https://";
  url.append(host);
  url += ':' + std::to_string(port_);
  url.append(path);
  return url;
}

}  // namespace leeway::testing
