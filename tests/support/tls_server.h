// A minimal TLS acceptor on loopback for tls prober tests: it completes handshakes with a given
// certificate (and optionally its chain), then closes or idles; or accepts TCP and never speaks
// TLS. It runs on its own thread and io_context from its constructor until its destructor.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "support/peers.h"

namespace leeway::testing {

struct TlsServerOptions {
  // The leaf certificate and its key (PEM files, e.g. from TestCa).
  std::string cert_pem_path;
  std::string key_pem_path;
  // Certificates sent after the leaf (e.g. TestCa::ca_pem_path()); empty: the leaf alone.
  std::string chain_pem_path;
  // After a handshake: false closes at once (close_notify, then TCP close); true keeps the
  // connection open, reading until the client closes, and counts the clients that close cleanly.
  bool idle_after_handshake = false;
  // Accept TCP but never speak TLS: answer the client's first bytes with `plain_reply` and close,
  // or say nothing at all when it is empty. The certificate is not needed then.
  bool speak_tls = true;
  std::string plain_reply;
  Loopback where = Loopback::kV4;
};

class TlsServer {
 public:
  // Starts listening on an ephemeral port. Throws if it cannot (a broken test setup).
  explicit TlsServer(TlsServerOptions options);
  ~TlsServer();
  TlsServer(const TlsServer&) = delete;
  TlsServer& operator=(const TlsServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "127.0.0.1" or "::1".
  const char* address() const { return loopback_address(options_.where); }

  // Connections accepted so far.
  int connections() const { return connections_.load(); }
  // Handshakes completed on the server's side so far.
  int handshakes() const { return handshakes_.load(); }
  // Connections whose client ended the session with close_notify (idle_after_handshake only).
  int clean_closes() const { return clean_closes_.load(); }
  // The SNI host name of every ClientHello so far, in order; "" when a client sent none. Recorded
  // before the server answers, so it is complete by the time the client has its result.
  std::vector<std::string> server_names() const;

 private:
  struct Impl;
  TlsServerOptions options_;
  std::uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<int> handshakes_{0};
  std::atomic<int> clean_closes_{0};
  std::unique_ptr<Impl> impl_;
};

// True when this machine can listen on ::1 (IPv6 tests skip otherwise).
bool ipv6_loopback_available();

}  // namespace leeway::testing
