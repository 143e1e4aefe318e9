// Misbehaving TCP peers: each behaviour is a small per-connection state machine on the peer's
// own io_context, so a test's client loop never shares a thread with its server.
#include "support/peers.h"

#include <array>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace leeway::testing {

namespace asio = boost::asio;
using asio::ip::tcp;
using Socket = std::shared_ptr<tcp::socket>;

const char* loopback_address(Loopback where) {
  return where == Loopback::kV4 ? "127.0.0.1" : "::1";
}

namespace {

tcp::endpoint loopback_endpoint(Loopback where, std::uint16_t port) {
  return {asio::ip::make_address(loopback_address(where)), port};
}

// Reads and throws away until the client closes or the peer stops; keeps `socket` alive.
void discard(Socket socket) {
  auto buffer = std::make_shared<std::array<char, 4096>>();
  socket->async_read_some(asio::buffer(*buffer),
                          [socket, buffer](boost::system::error_code ec, std::size_t) {
                            if (!ec) discard(socket);
                          });
}

// Closes so that the client sees RST instead of FIN.
void reset(const Socket& socket) {
  boost::system::error_code ignored;
  socket->set_option(asio::socket_base::linger(true, 0), ignored);
  socket->close(ignored);
}

struct Trickle {
  Socket socket;
  asio::steady_timer timer;
  std::string response;
  std::chrono::microseconds interval;
  bool close_when_done;
  std::size_t sent = 0;
};

void trickle_next(std::shared_ptr<Trickle> t) {
  if (t->sent == t->response.size()) {
    if (t->close_when_done) {
      boost::system::error_code ignored;
      t->socket->shutdown(tcp::socket::shutdown_both, ignored);
      t->socket->close(ignored);
    }
    return;
  }
  asio::async_write(*t->socket, asio::buffer(&t->response[t->sent], 1),
                    [t](boost::system::error_code ec, std::size_t) {
                      if (ec) return;
                      ++t->sent;
                      t->timer.expires_after(t->interval);
                      t->timer.async_wait([t](boost::system::error_code ec) {
                        if (!ec) trickle_next(t);
                      });
                    });
}

struct Echo {
  Socket socket;
  std::string prefix;
  bool prefixed = false;
  std::array<char, 4096> in;
  std::string out;
};

void echo_next(std::shared_ptr<Echo> e) {
  e->socket->async_read_some(asio::buffer(e->in), [e](boost::system::error_code ec, std::size_t n) {
    if (ec) return;
    e->out.clear();
    if (!e->prefixed) e->out = e->prefix;
    e->prefixed = true;
    e->out.append(e->in.data(), n);
    asio::async_write(*e->socket, asio::buffer(e->out),
                      [e](boost::system::error_code ec, std::size_t) {
                        if (!ec) echo_next(e);
                      });
  });
}

}  // namespace

std::uint16_t closed_port(Loopback where) {
  asio::io_context io;
  tcp::acceptor acceptor(io, loopback_endpoint(where, 0));
  return acceptor.local_endpoint().port();
}

namespace detail {

// The listening socket and the thread that runs it. Stopping the loop and destroying the
// io_context closes every connection the behaviours still hold.
class PeerLoop {
 public:
  PeerLoop(Loopback where, std::function<void(Socket)> on_accept)
      : acceptor_(io_, loopback_endpoint(where, 0)), on_accept_(std::move(on_accept)) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~PeerLoop() {
    io_.stop();
    thread_.join();
  }

  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  asio::io_context& io() { return io_; }

 private:
  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      on_accept_(std::make_shared<tcp::socket>(std::move(socket)));
      accept();
    });
  }

  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  tcp::acceptor acceptor_;
  std::function<void(Socket)> on_accept_;
  std::thread thread_;
};

}  // namespace detail

Peer::Peer(Loopback where, AcceptHandler on_accept) : where_(where) {
  loop_ = std::make_unique<detail::PeerLoop>(
      where, [this, on_accept = std::move(on_accept)](Socket socket) {
        ++connections_;
        on_accept(std::move(socket));
      });
  port_ = loop_->port();
}

Peer::~Peer() = default;

SilentPeer::SilentPeer(Loopback where)
    : Peer(where,
           [](std::shared_ptr<void> s) { discard(std::static_pointer_cast<tcp::socket>(s)); }) {}

ResetPeer::ResetPeer(When when, Loopback where)
    : Peer(where, [when](std::shared_ptr<void> s) {
        auto socket = std::static_pointer_cast<tcp::socket>(s);
        if (when == When::kOnAccept) return reset(socket);
        auto buffer = std::make_shared<std::array<char, 4096>>();
        socket->async_read_some(
            asio::buffer(*buffer),
            [socket, buffer](boost::system::error_code, std::size_t) { reset(socket); });
      }) {}

TricklePeer::TricklePeer(std::string response, DurationUs interval_us, bool close_when_done,
                         Loopback where)
    : Peer(where,
           [response = std::move(response), interval_us, close_when_done](std::shared_ptr<void> s) {
             auto socket = std::static_pointer_cast<tcp::socket>(s);
             auto t = std::make_shared<Trickle>(
                 Trickle{socket, asio::steady_timer(socket->get_executor()), response,
                         std::chrono::microseconds(interval_us), close_when_done});
             discard(socket);
             trickle_next(t);
           }) {}

BannerPeer::BannerPeer(std::string banner, bool close_after_banner, Loopback where)
    : Peer(where, [banner = std::make_shared<const std::string>(std::move(banner)),
                   close_after_banner](std::shared_ptr<void> s) {
        auto socket = std::static_pointer_cast<tcp::socket>(s);
        asio::async_write(
            *socket, asio::buffer(*banner),
            [socket, banner, close_after_banner](boost::system::error_code ec, std::size_t) {
              if (ec) return;
              if (!close_after_banner) return discard(socket);
              boost::system::error_code ignored;
              socket->shutdown(tcp::socket::shutdown_both, ignored);
              socket->close(ignored);
            });
      }) {}

EchoPeer::EchoPeer(std::string reply_prefix, Loopback where)
    : Peer(where, [reply_prefix = std::move(reply_prefix)](std::shared_ptr<void> s) {
        echo_next(
            std::make_shared<Echo>(Echo{std::static_pointer_cast<tcp::socket>(s), reply_prefix}));
      }) {}

}  // namespace leeway::testing
