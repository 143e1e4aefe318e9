// The tls prober: resolve, connect, TLS handshake, then judge the certificate: trust, host name,
// validity and days to expiry. The handshake completes even when verification fails (we verify
// after it), so a broken certificate is still described: who it is for and when it expires.
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <map>

#include "probe/probers.h"

namespace leeway::probe {

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;
using SteadyClock = std::chrono::steady_clock;

constexpr DurationUs kResolverGraceUs = 100 * kMillisecondUs;

DurationUs since(SteadyClock::time_point start) {
  return std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start).count();
}

// The certificate's subject as "CN=host" when it has a common name, else OpenSSL's one-line form.
std::string subject_of(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof cn) > 0) return std::string("CN=") + cn;
  char line[512] = {0};
  X509_NAME_oneline(name, line, sizeof line);
  return line;
}

// Whole days from now until `when` (negative once past), rounded down.
int days_until(const ASN1_TIME* when) {
  int days = 0, seconds = 0;
  ASN1_TIME_diff(&days, &seconds, nullptr, when);
  if (days <= 0 && seconds < 0) days -= 1;  // 0 days and -5 s is "expired today": -1
  return days;
}

struct Run : std::enable_shared_from_this<Run> {
  Run(asio::io_context& io, ssl::context& context, const CheckSpec& spec, ProbeCallback done)
      : spec(spec), stream(io, context), deadline(io), done(std::move(done)) {}

  CheckSpec spec;
  ssl::stream<tcp::socket> stream;
  asio::steady_timer deadline;
  ProbeCallback done;
  ProbeResult result;
  bool finished = false;
  const char* step = "dns";
  SteadyClock::time_point step_started = SteadyClock::now();

  std::string name() const { return spec.tls.server_name.empty() ? spec.host : spec.tls.server_name; }

  void finish(Outcome outcome, Stage stage, std::string error) {
    if (finished) return;
    finished = true;
    deadline.cancel();
    boost::system::error_code ignored;
    stream.lowest_layer().close(ignored);
    result.outcome = outcome;
    result.stage = stage;
    result.error = std::move(error);
    done(std::move(result));
  }

  void start(Resolver& resolver) {
    deadline.expires_after(std::chrono::microseconds(spec.timeout_us));
    deadline.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return;
      self->finish(Outcome::kDown, Stage::kTimeout,
                   "timed out after " + format_duration(self->spec.timeout_us) + " during " + self->step);
    });
    boost::system::error_code ec;
    bool literal = (asio::ip::make_address(spec.host, ec), !ec);
    resolver.resolve(spec.host, spec.family, spec.timeout_us + kResolverGraceUs,
                     [self = shared_from_this(), literal](auto addresses) {
                       if (self->finished) return;
                       if (!literal) self->result.timings.dns_us = since(self->step_started);
                       if (!addresses)
                         return self->finish(Outcome::kDown, Stage::kDns, addresses.error().message);
                       self->connect(*addresses);
                     });
  }

  void connect(const std::vector<asio::ip::address>& addresses) {
    std::vector<tcp::endpoint> endpoints;
    for (const auto& address : addresses) endpoints.emplace_back(address, spec.port);
    step = "connect";
    step_started = SteadyClock::now();
    asio::async_connect(stream.lowest_layer(), endpoints,
                        [self = shared_from_this()](boost::system::error_code ec, const tcp::endpoint& endpoint) {
                          if (self->finished) return;
                          if (ec) return self->finish(Outcome::kDown, Stage::kConnect, "connect: " + ec.message());
                          self->result.timings.connect_us = since(self->step_started);
                          self->result.remote_address = endpoint.address().to_string();
                          self->handshake();
                        });
  }

  void handshake() {
    step = "tls handshake";
    step_started = SteadyClock::now();
    SSL* ssl = stream.native_handle();
    std::string sni = name();
    boost::system::error_code ec;
    // SNI only for names: RFC 6066 forbids IP literals in server_name.
    if (!(asio::ip::make_address(sni, ec), !ec)) SSL_set_tlsext_host_name(ssl, sni.c_str());
    stream.async_handshake(ssl::stream_base::client, [self = shared_from_this()](boost::system::error_code ec) {
      if (self->finished) return;
      if (ec) return self->finish(Outcome::kDown, Stage::kTls, "handshake: " + ec.message());
      self->result.timings.tls_us = since(self->step_started);
      self->judge();
    });
  }

  void judge() {
    SSL* ssl = stream.native_handle();
    X509* cert = SSL_get1_peer_certificate(ssl);
    if (!cert) return finish(Outcome::kDown, Stage::kTls, "the server sent no certificate");
    result.cert_subject = subject_of(cert);
    int days_left = days_until(X509_get0_notAfter(cert));
    result.cert_days_left = days_left;
    bool not_yet_valid = X509_cmp_current_time(X509_get0_notBefore(cert)) > 0;
    std::string host = name();
    boost::system::error_code ec;
    bool host_is_ip = (asio::ip::make_address(host, ec), !ec);
    bool host_ok = host_is_ip ? X509_check_ip_asc(cert, host.c_str(), 0) == 1
                              : X509_check_host(cert, host.c_str(), host.size(), 0, nullptr) == 1;
    X509_free(cert);
    long verify = SSL_get_verify_result(ssl);

    if (days_left < 0 || verify == X509_V_ERR_CERT_HAS_EXPIRED)
      return finish(Outcome::kDown, Stage::kTls,
                    "certificate expired " + std::to_string(-days_left) + " days ago (" + result.cert_subject + ")");
    if (not_yet_valid || verify == X509_V_ERR_CERT_NOT_YET_VALID)
      return finish(Outcome::kDown, Stage::kTls, "certificate is not valid yet (" + result.cert_subject + ")");
    if (verify != X509_V_OK)
      return finish(Outcome::kDown, Stage::kTls,
                    std::string("certificate not trusted: ") + X509_verify_cert_error_string(verify));
    if (!host_ok)
      return finish(Outcome::kDown, Stage::kTls,
                    "certificate is not valid for " + host + " (" + result.cert_subject + ")");
    if (days_left < spec.tls.expiry_degraded_days)
      return finish(Outcome::kDegraded, Stage::kTls,
                    "certificate expires in " + std::to_string(days_left) + " days");
    finish(Outcome::kUp, Stage::kNone, "");
  }
};

class TlsProber final : public Prober {
 public:
  explicit TlsProber(ProbeContext& ctx) : ctx_(ctx) {}

  void start(const CheckSpec& spec, ProbeCallback done) override {
    auto context = context_for(spec.tls.ca_file);
    if (!context) {
      ProbeResult result;
      result.stage = Stage::kTls;
      result.error = context.error().message;
      asio::post(ctx_.io, [done = std::move(done), result]() mutable { done(std::move(result)); });
      return;
    }
    std::make_shared<Run>(ctx_.io, **context, spec, std::move(done))->start(ctx_.resolver);
  }

 private:
  // One context per trust store, built once: loading the system store costs milliseconds.
  Result<ssl::context*> context_for(const std::string& ca_file) {
    auto it = contexts_.find(ca_file);
    if (it != contexts_.end()) return it->second.get();
    auto context = std::make_unique<ssl::context>(ssl::context::tls_client);
    boost::system::error_code ec;
    if (ca_file.empty()) context->set_default_verify_paths(ec);
    else context->load_verify_file(ca_file, ec);
    if (ec) return fail("cannot load CA file \"", ca_file, "\": ", ec.message());
    // Verification runs and its result is read after the handshake (see judge()).
    context->set_verify_mode(ssl::verify_none);
    ssl::context* raw = context.get();
    contexts_.emplace(ca_file, std::move(context));
    return raw;
  }

  ProbeContext& ctx_;
  std::map<std::string, std::unique_ptr<ssl::context>> contexts_;
};

}  // namespace

std::unique_ptr<Prober> make_tls_prober(ProbeContext& ctx) { return std::make_unique<TlsProber>(ctx); }

}  // namespace leeway::probe
