// Misbehaving TCP peers on loopback for probe tests: silent, resetting, trickling, banner and echo
// servers, and a port that nothing listens on. Each peer runs on its own thread and io_context,
// listens from its constructor until its destructor, and accepts any number of connections.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/time.h"

namespace leeway::testing {

// The loopback address a peer listens on.
enum class Loopback { kV4, kV6 };

// "127.0.0.1" or "::1".
const char* loopback_address(Loopback where);

// A port on `where` that nothing listens on: bound, read and closed again. Connecting to it is
// refused (unless another process grabs it in between, which the kernel makes unlikely).
std::uint16_t closed_port(Loopback where = Loopback::kV4);

namespace detail {
class PeerLoop;
}

// The shared part of every peer: the listening socket, its thread and the connection count.
class Peer {
 public:
  virtual ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // The port the peer listens on.
  std::uint16_t port() const { return port_; }
  // "127.0.0.1" or "::1".
  const char* address() const { return loopback_address(where_); }
  // Connections accepted so far.
  int connections() const { return connections_.load(); }

 protected:
  // `on_accept` runs on the peer's thread for each accepted connection; the socket is a
  // boost::asio::ip::tcp::socket passed as an opaque pointer to keep Asio out of this header.
  using AcceptHandler = std::function<void(std::shared_ptr<void> socket)>;
  Peer(Loopback where, AcceptHandler on_accept);

 private:
  Loopback where_;
  std::uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::unique_ptr<detail::PeerLoop> loop_;
};

// Accepts and never says a word; reads and discards whatever the client sends, and keeps the
// connection open until the peer is destroyed.
class SilentPeer final : public Peer {
 public:
  explicit SilentPeer(Loopback where = Loopback::kV4);
};

// Accepts and resets the connection (close with SO_LINGER 0, so the client sees RST), either at
// once or after the first bytes the client sends (e.g. an HTTP request).
class ResetPeer final : public Peer {
 public:
  enum class When { kOnAccept, kAfterFirstRead };
  explicit ResetPeer(When when = When::kOnAccept, Loopback where = Loopback::kV4);
};

// Sends `response` one byte every `interval_us` (default one second), then keeps the connection
// open (or closes it when `close_when_done`). Reads and discards what the client sends.
class TricklePeer final : public Peer {
 public:
  explicit TricklePeer(std::string response, DurationUs interval_us = kSecondUs,
                       bool close_when_done = false, Loopback where = Loopback::kV4);
};

// Sends `banner` at once on accept (as SMTP, SSH or FTP servers do), then either keeps the
// connection open, reading and discarding, or closes it when `close_after_banner`.
class BannerPeer final : public Peer {
 public:
  explicit BannerPeer(std::string banner, bool close_after_banner = false,
                      Loopback where = Loopback::kV4);
};

// Sends back every byte it receives, prefixed by `reply_prefix` once per connection before the
// first echoed bytes; closes when the client does.
class EchoPeer final : public Peer {
 public:
  explicit EchoPeer(std::string reply_prefix = "", Loopback where = Loopback::kV4);
};

}  // namespace leeway::testing
