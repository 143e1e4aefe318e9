// The tls prober: resolve, connect, TLS handshake, then judge the certificate: trust, host name,
// validity and days to expiry. The handshake completes even when verification fails (we judge
// after it), so a broken certificate is still described: who it is for and when it expires.
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "probe/connect.h"
#include "probe/probers.h"

namespace leeway::probe {

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
using asio::ip::tcp;

constexpr int kSecondsPerDay = 24 * 60 * 60;

// The certificate's subject as "CN=host" when it has a common name, else OpenSSL's one-line form.
std::string subject_of(X509* cert) {
  X509_NAME* name = X509_get_subject_name(cert);
  char cn[256] = {0};
  if (X509_NAME_get_text_by_NID(name, NID_commonName, cn, sizeof cn) > 0)
    return std::string("CN=") + cn;
  char line[512] = {0};
  X509_NAME_oneline(name, line, sizeof line);
  return line;
}

// Seconds from now until `when`, negative once past. ASN1_TIME_diff splits the span into days and
// seconds of the same sign, so no 32-bit time_t or timegm() is involved.
std::optional<long long> seconds_until(const ASN1_TIME* when) {
  int days = 0;
  int seconds = 0;
  if (ASN1_TIME_diff(&days, &seconds, nullptr, when) != 1) return std::nullopt;
  return static_cast<long long>(days) * kSecondsPerDay + seconds;
}

// Floor division by a day: 89.9 days left is 89, and 0.1 days past expiry is -1.
int floor_days(long long seconds) {
  long long days = seconds / kSecondsPerDay;
  if (seconds % kSecondsPerDay < 0) --days;
  return static_cast<int>(days);
}

// "2026-11-27T08:00:00Z", for messages.
std::string rfc3339(const ASN1_TIME* when) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(when, &tm) != 1) return "an unreadable date";
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

struct Run : std::enable_shared_from_this<Run> {
  Run(asio::io_context& io, ssl::context& context, const CheckSpec& spec, ProbeCallback done)
      : spec(spec), stream(io, context), deadline(io), done(std::move(done)) {}

  CheckSpec spec;
  ssl::stream<tcp::socket> stream;
  // One deadline over the whole run; after the report it still bounds the closing exchange.
  asio::steady_timer deadline;
  ProbeCallback done;
  ProbeResult result;
  bool finished = false;
  bool handshake_done = false;
  const char* step = "dns";  // for the timeout message
  SteadyClock::time_point step_started = SteadyClock::now();

  std::string name() const {
    return spec.tls.server_name.empty() ? spec.host : spec.tls.server_name;
  }

  // Reports once, then closes: with close_notify when a session exists (in the background, so
  // the peer cannot delay the result), else by closing the socket.
  void finish(Outcome outcome, Stage stage, std::string error) {
    if (finished) return;
    finished = true;
    result.outcome = outcome;
    result.stage = stage;
    result.error = std::move(error);
    if (outcome == Outcome::kDown && stage == Stage::kTls && result.cause == Cause::kNone)
      result.cause = Cause::kTls;
    done(std::move(result));
    if (!handshake_done) return close();
    stream.async_shutdown(
        [self = shared_from_this()](boost::system::error_code) { self->close(); });
  }

  void close() {
    deadline.cancel();
    boost::system::error_code ignored;
    stream.lowest_layer().close(ignored);
  }

  void start(Resolver& resolver, SteadyClock::time_point started) {
    deadline.expires_at(started + std::chrono::microseconds(spec.timeout_us));
    deadline.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return;
      if (self->finished) return self->close();
      // Before the connection was made, nothing answered: a black hole.
      if (std::string_view(self->step) == "dns" || std::string_view(self->step) == "connect")
        self->result.cause = Cause::kTimeout;
      self->finish(
          Outcome::kDown, Stage::kTimeout,
          "timed out after " + format_duration(self->spec.timeout_us) + " during " + self->step);
    });
    resolve_and_connect(shared_from_this(), resolver, stream.lowest_layer(), &Run::handshake);
  }

  void handshake() {
    step = "tls handshake";
    step_started = SteadyClock::now();
    std::string sni = name();
    // SNI only for names: RFC 6066 forbids address literals in server_name.
    if (!is_ip_literal(sni)) SSL_set_tlsext_host_name(stream.native_handle(), sni.c_str());
    stream.async_handshake(
        ssl::stream_base::client, [self = shared_from_this()](boost::system::error_code ec) {
          if (self->finished) return;
          if (ec) {
            self->result.cause = connect_cause(ec);  // a reset; else kTls (see finish())
            return self->finish(Outcome::kDown, Stage::kTls, "tls handshake: " + ec.message());
          }
          self->handshake_done = true;
          self->result.timings.tls_us = since(self->step_started);
          self->judge();
        });
  }

  // The certificate's facts first (so every outcome carries them), then the verdict: the leaf's
  // own dates, then the chain's trust, then the name, then the expiry threshold.
  void judge() {
    SSL* ssl = stream.native_handle();
    std::unique_ptr<X509, decltype(&X509_free)> cert(SSL_get1_peer_certificate(ssl), &X509_free);
    if (!cert) return finish(Outcome::kDown, Stage::kTls, "the server sent no certificate");
    result.cert_subject = subject_of(cert.get());
    auto left_s = seconds_until(X509_get0_notAfter(cert.get()));
    auto wait_s = seconds_until(X509_get0_notBefore(cert.get()));
    if (!left_s || !wait_s)
      return finish(Outcome::kDown, Stage::kTls, "certificate has unreadable validity dates");
    int days_left = floor_days(*left_s);
    result.cert_days_left = days_left;

    if (*left_s < 0)
      return finish(
          Outcome::kDown, Stage::kTls,
          "certificate expired " + std::to_string(-*left_s / kSecondsPerDay) + " days ago");
    if (*wait_s > 0)
      return finish(Outcome::kDown, Stage::kTls,
                    "certificate is not valid until " + rfc3339(X509_get0_notBefore(cert.get())));
    // Verification ran during the handshake (see context_for); this is its first error, e.g. an
    // unknown issuer or an expired intermediate.
    long verify = SSL_get_verify_result(ssl);
    if (verify != X509_V_OK)
      return finish(
          Outcome::kDown, Stage::kTls,
          std::string("certificate not trusted: ") + X509_verify_cert_error_string(verify));
    std::string host = name();
    // Browsers' rule for wildcards: "*" stands for one whole label, never part of one.
    bool host_ok = is_ip_literal(host)
                       ? X509_check_ip_asc(cert.get(), host.c_str(), 0) == 1
                       : X509_check_host(cert.get(), host.c_str(), host.size(),
                                         X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, nullptr) == 1;
    if (!host_ok)
      return finish(
          Outcome::kDown, Stage::kTls,
          "certificate is not valid for " + host + " (subject " + result.cert_subject + ")");
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
    // The timeout counts from here: reading a CA bundle the first time is part of the run.
    const SteadyClock::time_point started = SteadyClock::now();
    auto context = context_for(spec.tls.ca_file);
    if (!context) {
      ProbeResult result;
      result.outcome = Outcome::kDown;
      result.stage = Stage::kTls;
      result.error = context.error().message;
      asio::post(ctx_.io, [done = std::move(done), result]() mutable { done(std::move(result)); });
      return;
    }
    std::make_shared<Run>(ctx_.io, **context, spec, std::move(done))->start(ctx_.resolver, started);
  }

 private:
  // One context per CA source, made once (an SSL_CTX is costly to make with OpenSSL 3), trusting
  // the store that the http prober shares too. When the CA file changed on disk the store is a
  // new one, and the context takes it for the handshakes from then on.
  Result<ssl::context*> context_for(const std::string& ca_file) {
    auto store = ctx_.trust.get(ca_file);
    if (!store) return store.error();
    auto& context = contexts_[ca_file];
    if (!context) {
      context = std::make_unique<ssl::context>(ssl::context::tls_client);
      // verify_none still verifies the chain but lets the handshake finish whatever the result,
      // which judge() reads with SSL_get_verify_result.
      context->set_verify_mode(ssl::verify_none);
    }
    SSL_CTX* native = context->native_handle();
    if (SSL_CTX_get_cert_store(native) != store->get())
      SSL_CTX_set1_cert_store(native, store->get());
    return context.get();
  }

  ProbeContext& ctx_;
  std::map<std::string, std::unique_ptr<ssl::context>> contexts_;
};

}  // namespace

std::unique_ptr<Prober> make_tls_prober(ProbeContext& ctx) {
  return std::make_unique<TlsProber>(ctx);
}

}  // namespace leeway::probe
