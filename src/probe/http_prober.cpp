// The http(s) prober: its runs on libcurl's multi interface, driven by the shared Asio loop
// (curl_loop.h), judged by judge_http() (http_verdict.h). We resolve the host with the context's
// Resolver and pin curl to those addresses, so curl never blocks on DNS.
// Redirects are followed here, hop by hop, not by curl: each hop's host and addresses are
// checked against the check's follow_redirects before anything connects to them.
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <openssl/asn1.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <re2/re2.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/post.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "probe/curl_loop.h"
#include "probe/http_verdict.h"
#include "probe/probers.h"

namespace leeway::probe {

namespace {

namespace asio = boost::asio;
using SteadyClock = std::chrono::steady_clock;

// More than any page a check should assert on; a bigger body is read no further.
constexpr std::size_t kMaxBodyBytes = 1 << 20;
// Pooled transfers keep their body buffer across runs, but not a huge one.
constexpr std::size_t kKeptBodyCapacity = 64 << 10;
constexpr int kMaxRedirects = 10;
// Compiled body_regex patterns kept for reuse; past this many the cache starts over. RE2 matches
// in time linear in the body (at most kMaxBodyBytes), so a hostile page cannot stall the loop
// or overflow the stack the way a backtracking engine can.
constexpr std::size_t kMaxCachedRegexes = 256;

// One run's state. Pooled with its easy handle: curl_easy_reset keeps the handle's allocations,
// while FRESH_CONNECT and FORBID_REUSE make sure no connection outlives a run.
struct Transfer {
  CURL* easy = nullptr;
  ProbeCallback done;
  bool https = false;
  bool keep_body = false;
  bool truncated = false;
  std::string body;
  curl_slist* headers = nullptr;
  curl_slist* resolve = nullptr;
  // The "host:port" this handle last pinned in the multi handle's DNS cache (see launch()).
  std::string pinned;
  char error[CURL_ERROR_SIZE] = {};
  SteadyClock::time_point started;
  DurationUs timeout_us = 0;
  DurationUs dns_us = -1;
  // The shared CA store this run verifies against (held so a reload cannot free it mid-run),
  // and its handshake on the wire, timed by on_tls_state.
  StoreRef trust;
  SteadyClock::time_point handshake_started;
  DurationUs tls_us = -1;
  SteadyClock::time_point hop_started;
  std::optional<int> cert_days_left;
  // The request of the current hop: the check's own, then each redirect's.
  CheckSpec hop;
  std::string own_host;  // the check's target host
  // The check's own target is at a link-local or metadata address: the check names that place,
  // so redirects within its host may go there.
  bool own_forbidden = false;
  int redirects = 0;
  // A redirect hop: no connection to a link-local or metadata address (within the check's host
  // too, whose name may now resolve elsewhere) unless the check names one as its target.
  bool guarded = false;
  std::string refused;  // why the guard refused to connect, for the verdict
  // The check's body_regex, compiled (judge_http() reads the rest of the check from `hop`).
  std::shared_ptr<const RE2> body_regex;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (!t->keep_body) return n;
  size_t room = kMaxBodyBytes - t->body.size();
  if (n > room) {
    // Enough to judge the page by; stop here rather than hold an unbounded body.
    t->body.append(data, room);
    t->truncated = true;
    return CURL_WRITEFUNC_ERROR;
  }
  t->body.append(data, n);
  return n;
}

// Reads the peer certificate's expiry while the TLS session is still alive (only https runs
// install this). Done on each status line so redirects report the final server's certificate.
size_t on_header(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t n = size * count;
  if (n < 5 || std::memcmp(data, "HTTP/", 5) != 0) return n;
  const curl_tlssessioninfo* info = nullptr;
  if (curl_easy_getinfo(t->easy, CURLINFO_TLS_SSL_PTR, &info) != CURLE_OK || info == nullptr ||
      info->backend != CURLSSLBACKEND_OPENSSL || info->internals == nullptr)
    return n;
  X509* cert = SSL_get0_peer_certificate(static_cast<SSL*>(info->internals));
  int days = 0, seconds = 0;
  if (cert && ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert)))
    t->cert_days_left = days;
  return n;
}

// Where on_ssl_ctx leaves the run's Transfer on the SSL_CTX, for on_tls_state.
int transfer_index() {
  static const int kIndex = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return kIndex;
}

// The tls stage is the handshake itself, from the first ClientHello to the peer's Finished, not
// curl's connection setup before it (making the SSL_CTX and the SSL). A redirect's new
// connection starts again, so the final server's handshake is reported, like its certificate.
void on_tls_state(const SSL* ssl, int where, int) {
  if (!(where & (SSL_CB_HANDSHAKE_START | SSL_CB_HANDSHAKE_DONE))) return;
  auto* t = static_cast<Transfer*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), transfer_index()));
  if (!t) return;
  if (where & SSL_CB_HANDSHAKE_START) {
    t->handshake_started = SteadyClock::now();
    t->tls_us = -1;
  } else if (t->tls_us < 0) {  // TLS 1.3 tickets after the handshake do not count
    t->tls_us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() -
                                                                      t->handshake_started)
                    .count();
  }
}

// curl made this connection's SSL_CTX and loaded no CA into it (see launch()): hand it the shared
// store, which the SSL_CTX keeps a reference to for as long as it lives.
CURLcode on_ssl_ctx(CURL*, void* ssl_ctx, void* user) {
  auto* t = static_cast<Transfer*>(user);
  auto* ctx = static_cast<SSL_CTX*>(ssl_ctx);
  if (t->trust) {
    SSL_CTX_set1_cert_store(ctx, t->trust.get());
    // curl sets these on the store it made, which is replaced: keep its rules (a CA file may
    // anchor trust at an intermediate), on this connection only, not on the shared store.
    X509_VERIFY_PARAM_set_flags(SSL_CTX_get0_param(ctx),
                                X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
  }
  SSL_CTX_set_ex_data(ctx, transfer_index(), t);
  SSL_CTX_set_info_callback(ctx, &on_tls_state);
  return CURLE_OK;
}

DurationUs stage_us(curl_off_t from, curl_off_t to) {
  return to > 0 ? std::max<curl_off_t>(0, to - from) : -1;
}

// Why a redirect hop may not reach `a`, or "" when it may: link-local addresses (where cloud
// metadata services answer) and the metadata services outside them.
std::string forbidden_reason(asio::ip::address a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    a = asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6());
  if (a.is_v4()) {
    auto bytes = a.to_v4().to_bytes();
    if (bytes[0] == 169 && bytes[1] == 254) return a.to_string() + " is a link-local address";
    // Alibaba Cloud's and Azure's metadata services.
    for (const char* metadata : {"100.100.100.200", "168.63.129.16"})
      if (a == asio::ip::make_address_v4(metadata))
        return a.to_string() + " is a cloud metadata address";
    return "";
  }
  if (a.to_v6().is_link_local()) return a.to_string() + " is a link-local address";
  if (a == asio::ip::make_address_v6("fd00:ec2::254"))  // AWS's metadata service over IPv6
    return a.to_string() + " is a cloud metadata address";
  return "";
}

// The last line of defence for a guarded hop: curl may read a host like "2852039166" as an
// address itself, so the address it is about to connect to is checked here, whatever its form.
curl_socket_t on_open_socket(void* user, curlsocktype purpose, curl_sockaddr* addr) {
  auto* t = static_cast<Transfer*>(user);
  if (purpose == CURLSOCKTYPE_IPCXN) {
    std::optional<asio::ip::address> a;
    if (addr->family == AF_INET && addr->addrlen >= sizeof(sockaddr_in)) {
      const auto* in = reinterpret_cast<const sockaddr_in*>(&addr->addr);
      a = asio::ip::address_v4(ntohl(in->sin_addr.s_addr));
    } else if (addr->family == AF_INET6 && addr->addrlen >= sizeof(sockaddr_in6)) {
      const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&addr->addr);
      asio::ip::address_v6::bytes_type bytes;
      std::memcpy(bytes.data(), in6->sin6_addr.s6_addr, bytes.size());
      a = asio::ip::address_v6(bytes);
    }
    std::string reason = a ? forbidden_reason(*a) : "not an IP address";
    if (!reason.empty()) {
      t->refused = reason;
      return CURL_SOCKET_BAD;
    }
  }
  return ::socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
}

bool is_redirect(long status) {
  return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

// The request headers that carry credentials, which a hop to another host does not get.
bool is_credential_header(const std::string& name) {
  return strcasecmp(name.c_str(), "Authorization") == 0 ||
         strcasecmp(name.c_str(), "Proxy-Authorization") == 0 ||
         strcasecmp(name.c_str(), "Cookie") == 0;
}

// Everything the prober owns, shared with pending handlers so that a completion arriving after
// the prober is gone finds `closed` set instead of freed memory.
class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(ProbeContext& ctx) : ctx_(ctx), loop_(CurlLoop::create(ctx.io)) {}

  ~Core() { close(); }

  // Stops everything; no callback runs afterwards.
  void close() {
    if (closed_) return;
    closed_ = true;
    loop_->close();
    for (auto& t : transfers_) {
      free_lists(*t);
      curl_easy_cleanup(t->easy);
    }
    transfers_.clear();
  }

  void start(const CheckSpec& spec, ProbeCallback done);

 private:
  Transfer* acquire();
  void release(Transfer* t);
  static void free_lists(Transfer& t) {
    curl_slist_free_all(t.headers);
    curl_slist_free_all(t.resolve);
    t.headers = t.resolve = nullptr;
  }
  void fail_soon(Transfer* t, Stage stage, std::string error, Cause cause = Cause::kNone);
  void begin_hop(Transfer* t);
  void launch(Transfer* t, const std::vector<asio::ip::address>* addrs);
  void finish(Transfer* t, CURLcode rc);
  std::optional<std::string> redirect_target(Transfer* t, CURLcode rc, long status);
  void follow(Transfer* t, const std::string& location, long status);
  ProbeResult judge(Transfer* t, CURLcode rc);

  std::shared_ptr<const RE2> compiled(const std::string& pattern, std::string& error);

  ProbeContext& ctx_;
  std::shared_ptr<CurlLoop> loop_;
  bool closed_ = false;

  std::vector<std::unique_ptr<Transfer>> transfers_;
  std::vector<Transfer*> idle_transfers_;
  std::unordered_map<std::string, std::shared_ptr<const RE2>> regexes_;
};

Transfer* Core::acquire() {
  if (idle_transfers_.empty()) {
    auto t = std::make_unique<Transfer>();
    t->easy = curl_easy_init();
    idle_transfers_.push_back(t.get());
    transfers_.push_back(std::move(t));
  }
  Transfer* t = idle_transfers_.back();
  idle_transfers_.pop_back();
  return t;
}

void Core::release(Transfer* t) {
  free_lists(*t);
  t->done = nullptr;
  t->body.clear();
  if (t->body.capacity() > kKeptBodyCapacity) std::string().swap(t->body);
  t->body_regex.reset();
  t->trust.reset();
  idle_transfers_.push_back(t);
}

void Core::fail_soon(Transfer* t, Stage stage, std::string error, Cause cause) {
  ProbeResult result;
  result.stage = stage;
  result.cause = cause;
  result.error = std::move(error);
  result.timings.dns_us = t->dns_us;
  ProbeCallback done = std::move(t->done);
  release(t);
  asio::post(ctx_.io, [self = shared_from_this(), done = std::move(done),
                       result = std::move(result)]() mutable {
    if (!self->closed_) done(std::move(result));
  });
}

std::shared_ptr<const RE2> Core::compiled(const std::string& pattern, std::string& error) {
  if (auto it = regexes_.find(pattern); it != regexes_.end()) return it->second;
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const RE2>(pattern, options);
  if (!re->ok()) {
    // The config refuses these at load; a spec built some other way still gets a clear verdict.
    error = "bad body_regex \"" + pattern + "\": " + re->error();
    return nullptr;
  }
  if (regexes_.size() >= kMaxCachedRegexes) regexes_.clear();
  regexes_.emplace(pattern, re);
  return re;
}

void Core::start(const CheckSpec& spec, ProbeCallback done) {
  Transfer* t = acquire();
  t->done = std::move(done);
  t->started = SteadyClock::now();
  t->timeout_us = spec.timeout_us;
  t->dns_us = -1;
  t->tls_us = -1;
  t->cert_days_left.reset();
  t->hop = spec;
  t->own_host = spec.host;
  t->own_forbidden = false;
  t->redirects = 0;
  t->guarded = false;
  const HttpSpec& http = spec.http;
  t->keep_body =
      !http.body_contains.empty() || !http.body_regex.empty() || !http.json_pointer.empty();
  if (!http.body_regex.empty()) {
    std::string error;
    t->body_regex = compiled(http.body_regex, error);
    if (!t->body_regex) return fail_soon(t, Stage::kBody, std::move(error));
  }
  begin_hop(t);
}

// Resolves the current hop's host, then launches it; a guarded hop whose name leads to a
// forbidden address ends the run there.
void Core::begin_hop(Transfer* t) {
  const CheckSpec& spec = t->hop;
  t->hop_started = SteadyClock::now();
  t->truncated = false;
  t->body.clear();
  t->error[0] = '\0';
  t->refused.clear();
  t->https = spec.url.size() >= 8 && strncasecmp(spec.url.c_str(), "https://", 8) == 0;
  if (is_ip_literal(spec.host)) {  // no lookup needed
    std::string reason = forbidden_reason(asio::ip::make_address(spec.host));
    if (t->redirects == 0) t->own_forbidden = !reason.empty();
    if (t->guarded && !reason.empty())
      return fail_soon(t, Stage::kStatus, "redirect to " + spec.url + " refused: " + reason);
    return launch(t, nullptr);
  }

  DurationUs spent_us =
      std::chrono::duration_cast<std::chrono::microseconds>(t->hop_started - t->started).count();
  ctx_.resolver.resolve(
      spec.host, spec.family, std::max<DurationUs>(1, t->timeout_us - spent_us),
      [self = shared_from_this(), t](Lookup<std::vector<asio::ip::address>> addrs) {
        if (self->closed_) return;
        t->dns_us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() -
                                                                          t->hop_started)
                        .count();
        if (!addrs) return self->fail_soon(t, Stage::kDns, addrs.error().message, addrs.cause);
        if (addrs->empty())
          return self->fail_soon(t, Stage::kDns, "no address for \"" + t->hop.host + "\"");
        for (const auto& a : *addrs) {
          std::string reason = forbidden_reason(a);
          if (reason.empty()) continue;
          if (t->redirects == 0) t->own_forbidden = true;
          if (t->guarded)
            return self->fail_soon(t, Stage::kStatus,
                                   "redirect to " + t->hop.url + " refused: " + reason);
        }
        self->launch(t, &*addrs);
      });
}

void Core::launch(Transfer* t, const std::vector<asio::ip::address>* addrs) {
  CURL* e = t->easy;
  const CheckSpec& spec = t->hop;
  const HttpSpec& http = spec.http;
  curl_easy_reset(e);
  curl_easy_setopt(e, CURLOPT_URL, spec.url.c_str());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &on_body);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  // A check measures a whole new connection every time.
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");

  DurationUs spent_us =
      std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - t->started)
          .count();
  long left_ms = static_cast<long>((t->timeout_us - spent_us) / kMillisecondUs);
  curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, std::max(1L, left_ms));

  if (spec.family == IpFamily::kV4) curl_easy_setopt(e, CURLOPT_IPRESOLVE, CURL_IPRESOLVE_V4);
  if (spec.family == IpFamily::kV6) curl_easy_setopt(e, CURLOPT_IPRESOLVE, CURL_IPRESOLVE_V6);

  if (addrs) {
    // "host:port:addr,addr": curl takes these as the answer instead of resolving the name.
    std::string entry = spec.host + ":" + std::to_string(spec.port) + ":";
    for (size_t i = 0; i < addrs->size(); ++i) {
      if (i) entry += ',';
      const auto& a = (*addrs)[i];
      entry += a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
    }
    // curl keeps these entries in the multi handle's DNS cache for good and walks the whole
    // cache on every transfer: at 1,000 hosts that was a tenth of leeway's CPU (perf). So each
    // handle first removes the entry of its previous run ("-host:port"): the cache holds at
    // most one entry per pooled handle. (Removing an entry another run is using is safe: curl
    // counts its users.)
    if (!t->pinned.empty()) t->resolve = curl_slist_append(nullptr, ("-" + t->pinned).c_str());
    t->resolve = curl_slist_append(t->resolve, entry.c_str());
    t->pinned = spec.host + ":" + std::to_string(spec.port);
    curl_easy_setopt(e, CURLOPT_RESOLVE, t->resolve);
  }

  if (http.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (!http.body.empty()) {
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(http.body.size()));
    curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, http.body.c_str());
    if (http.method != "POST") curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, http.method.c_str());
  } else if (http.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, http.method.c_str());
  }
  bool has_expect = false;
  for (const auto& [name, value] : http.headers) {
    if (strcasecmp(name.c_str(), "Expect") == 0) has_expect = true;
    std::string line = name + (value.empty() ? ";" : ": " + value);
    t->headers = curl_slist_append(t->headers, line.c_str());
  }
  // A probe sends its body at once rather than wait a second for "100 Continue".
  if (!http.body.empty() && !has_expect) t->headers = curl_slist_append(t->headers, "Expect:");
  if (t->headers) curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);

  if (t->guarded) {
    curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, &on_open_socket);
    curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, t);
  }

  if (t->https) {
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
    // Every run does a full handshake, so tls_us is real.
    curl_easy_setopt(e, CURLOPT_SSL_SESSIONID_CACHE, 0L);
    if (http.insecure) {
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
      curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    }
    // curl would parse the CA bundle for every connection: Debian's libcurl is built with a
    // default CA path (/etc/ssl/certs), and curl 7.87's CURLOPT_CA_CACHE_TIMEOUT caches no store
    // when a CA path is set, so strace showed ca-certificates.crt opened once per check (~20 ms
    // of CPU each with OpenSSL 3). So curl loads no CA at all and caches nothing; the
    // connection gets the parsed store that every check trusting the same CAs shares.
    curl_easy_setopt(e, CURLOPT_CAINFO, nullptr);
    curl_easy_setopt(e, CURLOPT_CAPATH, nullptr);
    curl_easy_setopt(e, CURLOPT_CA_CACHE_TIMEOUT, 0L);
    if (!http.insecure) {
      auto store = ctx_.trust.get(http.ca_file);
      if (!store) return fail_soon(t, Stage::kTls, store.error().message);
      t->trust = std::move(*store);
    }
    curl_easy_setopt(e, CURLOPT_SSL_CTX_FUNCTION, &on_ssl_ctx);
    curl_easy_setopt(e, CURLOPT_SSL_CTX_DATA, t);
  }

  // The loop runs no callback after close(), which comes before this Core is gone.
  if (CURLMcode mc = loop_->add(e, [this, t](CURL*, CURLcode rc) { finish(t, rc); });
      mc != CURLM_OK)
    return fail_soon(t, Stage::kConnect, std::string("curl: ") + curl_multi_strerror(mc));
}

ProbeResult Core::judge(Transfer* t, CURLcode rc) {
  CURL* e = t->easy;
  ProbeResult result;
  curl_off_t lookup = 0, connect = 0, appconnect = 0, pretransfer = 0, starttransfer = 0;
  curl_easy_getinfo(e, CURLINFO_NAMELOOKUP_TIME_T, &lookup);
  curl_easy_getinfo(e, CURLINFO_CONNECT_TIME_T, &connect);
  curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &appconnect);
  curl_easy_getinfo(e, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
  curl_easy_getinfo(e, CURLINFO_STARTTRANSFER_TIME_T, &starttransfer);
  long status = 0;
  curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
  char* ip = nullptr;
  curl_easy_getinfo(e, CURLINFO_PRIMARY_IP, &ip);
  if (ip) result.remote_address = ip;

  result.timings.dns_us = t->dns_us;
  result.timings.connect_us = stage_us(lookup, connect);
  if (t->https) result.timings.tls_us = t->tls_us;
  result.timings.first_byte_us = stage_us(pretransfer, starttransfer);
  result.http_status = static_cast<int>(status);
  result.cert_days_left = t->cert_days_left;

  HttpExchange x;
  x.rc = rc;
  x.curl_error = t->error[0] ? t->error : curl_easy_strerror(rc);
  long os_errno = 0;
  curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
  x.os_errno = static_cast<int>(os_errno);
  x.url = t->hop.url;
  x.refused = t->refused;
  x.connected = connect > 0;
  x.tls_done = !t->https || appconnect > 0;
  x.first_byte = starttransfer > 0;
  x.status = result.http_status;
  x.body = t->body;
  x.truncated = t->truncated;
  x.timeout_us = t->timeout_us;
  HttpVerdict verdict = judge_http(x, t->hop.http, t->body_regex.get());
  result.outcome = verdict.outcome;
  result.stage = verdict.stage;
  result.cause = verdict.cause;
  result.error = std::move(verdict.error);
  return result;
}

// Where a finished hop redirects to, when the check follows redirects and this is one.
std::optional<std::string> Core::redirect_target(Transfer* t, CURLcode rc, long status) {
  if (t->hop.http.follow_redirects == Redirects::kNone || !is_redirect(status)) return std::nullopt;
  if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && t->truncated)) return std::nullopt;
  char* location = nullptr;
  if (curl_easy_getinfo(t->easy, CURLINFO_REDIRECT_URL, &location) != CURLE_OK || !location)
    return std::nullopt;
  return std::string(location);
}

// Starts the next hop to `location` (absolute: curl resolved it against the hop's URL), or ends
// the run when the check does not allow it.
void Core::follow(Transfer* t, const std::string& location, long status) {
  auto next = parse_target(location);
  if (!next || next->kind != Kind::kHttp)
    return fail_soon(t, Stage::kStatus,
                     "redirect to \"" + location + "\" refused: not an http(s) URL");
  if (++t->redirects > kMaxRedirects)
    return fail_soon(
        t, Stage::kStatus,
        "more than " + std::to_string(kMaxRedirects) + " redirects, the last to " + next->url);
  bool same_host = strcasecmp(next->host.c_str(), t->own_host.c_str()) == 0;
  if (!same_host && t->hop.http.follow_redirects == Redirects::kSameHost)
    return fail_soon(t, Stage::kStatus,
                     "redirect to " + next->url + " not followed: it leaves " + t->own_host +
                         " (follow_redirects: any would follow it)");
  CheckSpec& hop = t->hop;
  hop.url = next->url;
  hop.host = next->host;
  hop.port = next->port;
  // What browsers and curl do: 303 asks for a GET, and so do 301 and 302 after a POST.
  bool to_get = status == 303 || ((status == 301 || status == 302) && hop.http.method == "POST");
  if (to_get && hop.http.method != "HEAD") {
    hop.http.method = "GET";
    hop.http.body.clear();
  }
  if (!same_host) {
    std::erase_if(hop.http.headers, [](const auto& h) { return is_credential_header(h.first); });
  }
  t->guarded = !(same_host && t->own_forbidden);
  free_lists(*t);
  t->cert_days_left.reset();
  begin_hop(t);
}

void Core::finish(Transfer* t, CURLcode rc) {
  long status = 0;
  curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
  if (auto location = redirect_target(t, rc, status)) return follow(t, *location, status);
  ProbeResult result = judge(t, rc);
  ProbeCallback done = std::move(t->done);
  release(t);
  done(std::move(result));
}

class HttpProber final : public Prober {
 public:
  explicit HttpProber(ProbeContext& ctx) : core_(std::make_shared<Core>(ctx)) {}
  ~HttpProber() override { core_->close(); }
  void start(const CheckSpec& spec, ProbeCallback done) override {
    core_->start(spec, std::move(done));
  }

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace

std::unique_ptr<Prober> make_http_prober(ProbeContext& ctx) {
  return std::make_unique<HttpProber>(ctx);
}

}  // namespace leeway::probe
