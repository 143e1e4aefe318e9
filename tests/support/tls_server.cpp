// The TLS acceptor for tls prober tests: Boost.Asio's ssl::stream over OpenSSL, one small state
// machine per connection on the server's own io_context.
#include "support/tls_server.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <array>
#include <cstdio>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>

namespace leeway::testing {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using TlsStream = ssl::stream<tcp::socket>;

namespace {

// Adds every certificate of a PEM file to the chain the server sends after its leaf.
void add_chain(ssl::context& context, const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "r");
  if (!file) throw std::runtime_error("cannot open chain file " + path);
  int added = 0;
  while (X509* cert = PEM_read_X509(file, nullptr, nullptr, nullptr)) {
    SSL_CTX_add0_chain_cert(context.native_handle(), cert);  // takes ownership
    ++added;
  }
  std::fclose(file);
  if (added == 0) throw std::runtime_error("no certificate in chain file " + path);
}

}  // namespace

struct TlsServer::Impl {
  Impl(TlsServer& owner, const TlsServerOptions& options)
      : owner(owner),
        options(options),
        context(ssl::context::tls_server),
        acceptor(io, tcp::endpoint(asio::ip::make_address(loopback_address(options.where)), 0)) {
    if (options.speak_tls) {
      context.use_certificate_file(options.cert_pem_path, ssl::context::pem);
      context.use_private_key_file(options.key_pem_path, ssl::context::pem);
      if (!options.chain_pem_path.empty()) add_chain(context, options.chain_pem_path);
      SSL_CTX_set_tlsext_servername_arg(context.native_handle(), this);
      SSL_CTX_set_tlsext_servername_callback(context.native_handle(), &Impl::on_server_name);
    }
  }

  // OpenSSL calls this while reading a ClientHello: the moment the client's SNI is known.
  static int on_server_name(SSL* ssl, int*, void* arg) {
    auto* self = static_cast<Impl*>(arg);
    const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    std::lock_guard lock(self->names_mutex);
    self->names.emplace_back(name ? name : "");
    return SSL_TLSEXT_ERR_OK;
  }

  void accept() {
    acceptor.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      ++owner.connections_;
      if (options.speak_tls)
        handshake(std::make_shared<TlsStream>(std::move(socket), context));
      else
        plain(std::make_shared<tcp::socket>(std::move(socket)));
      accept();
    });
  }

  void handshake(std::shared_ptr<TlsStream> stream) {
    stream->async_handshake(ssl::stream_base::server, [this, stream](boost::system::error_code ec) {
      if (ec) return;
      ++owner.handshakes_;
      if (options.idle_after_handshake)
        idle(stream);
      else
        stream->async_shutdown([stream](boost::system::error_code) {});
    });
  }

  // Reads until the client ends the session; Asio reports close_notify as eof and a bare TCP
  // close as stream_truncated.
  void idle(std::shared_ptr<TlsStream> stream) {
    auto buffer = std::make_shared<std::array<char, 4096>>();
    stream->async_read_some(asio::buffer(*buffer),
                            [this, stream, buffer](boost::system::error_code ec, std::size_t) {
                              if (ec == asio::error::eof) {
                                ++owner.clean_closes_;
                                stream->async_shutdown([stream](boost::system::error_code) {});
                                return;
                              }
                              if (!ec) idle(stream);
                            });
  }

  void plain(std::shared_ptr<tcp::socket> socket) {
    auto buffer = std::make_shared<std::array<char, 4096>>();
    socket->async_read_some(
        asio::buffer(*buffer), [this, socket, buffer](boost::system::error_code ec, std::size_t) {
          if (ec) return;
          if (options.plain_reply.empty()) return plain(socket);
          asio::async_write(*socket, asio::buffer(options.plain_reply),
                            [socket](boost::system::error_code, std::size_t) {
                              boost::system::error_code ignored;
                              socket->shutdown(tcp::socket::shutdown_both, ignored);
                              socket->close(ignored);
                            });
        });
  }

  TlsServer& owner;
  TlsServerOptions options;
  // The io_context outlives everything that runs on it; connections still open when the server
  // stops are closed when their pending handlers are destroyed with it.
  asio::io_context io;
  ssl::context context;
  tcp::acceptor acceptor;
  std::mutex names_mutex;
  std::vector<std::string> names;
  std::thread thread;
};

TlsServer::TlsServer(TlsServerOptions options)
    : options_(std::move(options)), impl_(std::make_unique<Impl>(*this, options_)) {
  port_ = impl_->acceptor.local_endpoint().port();
  impl_->accept();
  impl_->thread = std::thread([impl = impl_.get()] { impl->io.run(); });
}

TlsServer::~TlsServer() {
  impl_->io.stop();
  impl_->thread.join();
}

std::vector<std::string> TlsServer::server_names() const {
  std::lock_guard lock(impl_->names_mutex);
  return impl_->names;
}

bool ipv6_loopback_available() {
  asio::io_context io;
  tcp::acceptor acceptor(io);
  boost::system::error_code ec;
  acceptor.open(tcp::v6(), ec);
  if (!ec) acceptor.bind(tcp::endpoint(asio::ip::address_v6::loopback(), 0), ec);
  return !ec;
}

}  // namespace leeway::testing
