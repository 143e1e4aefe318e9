// The http(s) prober: libcurl's multi interface driven by the shared Asio loop. We resolve the
// host with the context's Resolver and pin curl to those addresses, so curl never blocks on DNS.
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
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

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

// One socket curl asked us to watch. The descriptor only watches: curl opened the fd and
// closes it, so we release() it (never close) when curl says the socket is gone.
struct Watch {
  explicit Watch(asio::io_context& io) : descriptor(io) {}
  asio::posix::stream_descriptor descriptor;
  curl_socket_t fd = CURL_SOCKET_BAD;
  int wanted = CURL_POLL_NONE;  // what curl wants to hear about
  // Bumped whenever the watch is let go, so a completion for an older socket is ignored.
  unsigned generation = 0;
  bool read_pending = false;
  bool write_pending = false;
};

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
  // The checks, copied so the caller's spec need not outlive start().
  std::vector<StatusRange> expect_status;
  std::string body_contains;
  std::shared_ptr<const RE2> body_regex;
  std::string body_regex_text;
  std::string json_pointer;
  std::optional<std::string> json_equals;
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

bool status_ok(const std::vector<StatusRange>& ranges, int status) {
  if (ranges.empty()) return status >= 200 && status <= 399;
  for (const auto& r : ranges)
    if (status >= r.lo && status <= r.hi) return true;
  return false;
}

std::string ranges_text(const std::vector<StatusRange>& ranges) {
  if (ranges.empty()) return "200-399";
  std::string text;
  for (const auto& r : ranges) {
    if (!text.empty()) text += ", ";
    text += std::to_string(r.lo);
    if (r.hi != r.lo) text += "-" + std::to_string(r.hi);
  }
  return text;
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

bool is_tls_error(CURLcode rc) {
  switch (rc) {
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
    case CURLE_USE_SSL_FAILED:
      return true;
    default:
      return false;
  }
}

// Everything the prober owns, shared with pending handlers so that a completion arriving after
// the prober is gone finds `closed` set instead of freed memory.
class Core : public std::enable_shared_from_this<Core> {
 public:
  Core(ProbeContext& ctx) : ctx_(ctx), timer_(ctx.io) {
    multi_ = curl_multi_init();
    curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &Core::on_socket);
    curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
    curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &Core::on_timer);
    curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
  }

  ~Core() { close(); }

  // Stops everything; no callback runs afterwards.
  void close() {
    if (closed_) return;
    closed_ = true;
    for (auto& t : transfers_) {
      if (t->done) curl_multi_remove_handle(multi_, t->easy);
      free_lists(*t);
      curl_easy_cleanup(t->easy);
    }
    transfers_.clear();
    curl_multi_cleanup(multi_);
    for (auto& w : watches_) {
      if (w->fd != CURL_SOCKET_BAD) w->descriptor.release();
    }
    timer_.cancel();
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
  void fail_soon(Transfer* t, Stage stage, std::string error);
  void begin_hop(Transfer* t);
  void launch(Transfer* t, const std::vector<asio::ip::address>* addrs);
  void finish(Transfer* t, CURLcode rc);
  std::optional<std::string> redirect_target(Transfer* t, CURLcode rc, long status);
  void follow(Transfer* t, const std::string& location, long status);
  ProbeResult judge(Transfer* t, CURLcode rc);

  static int on_socket(CURL*, curl_socket_t fd, int what, void* user, void* socketp);
  static int on_timer(CURLM*, long timeout_ms, void* user);
  void arm(Watch* w);
  void on_ready(Watch* w, unsigned generation, int direction, boost::system::error_code ec);
  void on_deadline();
  void act(curl_socket_t fd, int events);
  void drain_messages();
  std::shared_ptr<const RE2> compiled(const std::string& pattern, std::string& error);

  ProbeContext& ctx_;
  CURLM* multi_ = nullptr;
  bool closed_ = false;

  std::vector<std::unique_ptr<Transfer>> transfers_;
  std::vector<Transfer*> idle_transfers_;
  std::vector<std::unique_ptr<Watch>> watches_;
  std::vector<Watch*> idle_watches_;

  // curl's single timeout. The timer is moved earlier when curl asks, but left alone when curl
  // asks for later, which happens on nearly every call with many runs in flight; an early wake-up
  // just re-arms. A zero timeout is a post, cheaper than a timer.
  asio::steady_timer timer_;
  SteadyClock::time_point deadline_ = SteadyClock::time_point::max();
  bool timer_armed_ = false;
  bool timeout_posted_ = false;

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

void Core::fail_soon(Transfer* t, Stage stage, std::string error) {
  ProbeResult result;
  result.stage = stage;
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
  t->expect_status = http.expect_status;
  t->body_contains = http.body_contains;
  t->body_regex_text = http.body_regex;
  t->json_pointer = http.json_pointer;
  t->json_equals = http.json_equals;
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
      [self = shared_from_this(), t](Result<std::vector<asio::ip::address>> addrs) {
        if (self->closed_) return;
        t->dns_us = std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() -
                                                                          t->hop_started)
                        .count();
        if (!addrs) return self->fail_soon(t, Stage::kDns, addrs.error().message);
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
  curl_easy_setopt(e, CURLOPT_PRIVATE, t);
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

  if (CURLMcode mc = curl_multi_add_handle(multi_, e); mc != CURLM_OK)
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

  bool connected = connect > 0;
  bool tls_done = !t->https || appconnect > 0;
  if (rc == CURLE_WRITE_ERROR && t->truncated) rc = CURLE_OK;
  if (rc != CURLE_OK && !t->refused.empty()) {
    result.stage = Stage::kStatus;
    result.error = "redirect to " + t->hop.url + " refused: " + t->refused;
    return result;
  }
  if (rc != CURLE_OK) {
    std::string error = t->error[0] ? t->error : curl_easy_strerror(rc);
    if (rc == CURLE_OPERATION_TIMEDOUT) {
      result.stage = Stage::kTimeout;
      const char* step = !connected    ? "while connecting"
                         : !tls_done   ? "during the TLS handshake"
                         : status == 0 ? (starttransfer > 0 ? "while reading the response headers"
                                                            : "waiting for the response")
                                       : "while reading the body";
      result.error = "timed out " + std::string(step) + " (" + format_duration(t->timeout_us) +
                     " timeout): " + error;
      return result;
    }
    if (rc == CURLE_COULDNT_RESOLVE_HOST)
      result.stage = Stage::kDns;
    else if (rc == CURLE_COULDNT_CONNECT)
      result.stage = Stage::kConnect;
    else if (is_tls_error(rc))
      result.stage = Stage::kTls;
    else if (rc == CURLE_SEND_ERROR)
      result.stage = Stage::kSend;
    else if (!connected)
      result.stage = Stage::kConnect;
    else if (!tls_done)
      result.stage = Stage::kTls;
    else
      result.stage = status == 0 ? Stage::kStatus : Stage::kBody;
    result.error = std::move(error);
    return result;
  }

  if (!status_ok(t->expect_status, result.http_status)) {
    result.stage = Stage::kStatus;
    result.error = "status " + std::to_string(status) + " is not in the expected " +
                   ranges_text(t->expect_status);
    return result;
  }

  const char* within = t->truncated ? " in the first 1 MiB of the body" : " in the body";
  if (!t->body_contains.empty() && t->body.find(t->body_contains) == std::string::npos) {
    result.stage = Stage::kBody;
    result.error = "\"" + t->body_contains + "\" not found" + within;
    return result;
  }
  if (t->body_regex) {
    if (!RE2::PartialMatch(t->body, *t->body_regex)) {
      result.stage = Stage::kBody;
      result.error = "no match for /" + t->body_regex_text + "/" + within;
      return result;
    }
  }
  if (!t->json_pointer.empty()) {
    using nlohmann::json;
    json doc = json::parse(t->body, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      result.stage = Stage::kBody;
      result.error =
          t->truncated ? "body is over 1 MiB, too big to check as JSON" : "body is not valid JSON";
      return result;
    }
    try {
      json::json_pointer pointer(t->json_pointer);
      if (!doc.contains(pointer)) {
        result.stage = Stage::kBody;
        result.error = "JSON has nothing at " + t->json_pointer;
        return result;
      }
      const json& value = doc.at(pointer);
      if (t->json_equals) {
        // Equal as JSON text ("42", "true", "\"ok\"") or, for a string, as the bare string.
        json expected = json::parse(*t->json_equals, nullptr, false);
        bool equal = (!expected.is_discarded() && expected == value) ||
                     (value.is_string() && value.get_ref<const std::string&>() == *t->json_equals);
        if (!equal) {
          result.stage = Stage::kBody;
          result.error = "JSON at " + t->json_pointer + " is " + value.dump() + ", expected " +
                         *t->json_equals;
          return result;
        }
      }
    } catch (const json::exception& ex) {
      result.stage = Stage::kBody;
      result.error = "bad JSON pointer \"" + t->json_pointer + "\": " + ex.what();
      return result;
    }
  }
  result.outcome = Outcome::kUp;
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
  if (auto location = redirect_target(t, rc, status)) {
    curl_multi_remove_handle(multi_, t->easy);
    return follow(t, *location, status);
  }
  ProbeResult result = judge(t, rc);
  curl_multi_remove_handle(multi_, t->easy);
  ProbeCallback done = std::move(t->done);
  release(t);
  done(std::move(result));
}

int Core::on_socket(CURL*, curl_socket_t fd, int what, void* user, void* socketp) {
  auto* self = static_cast<Core*>(user);
  auto* w = static_cast<Watch*>(socketp);
  if (what == CURL_POLL_REMOVE) {
    if (w) {
      w->descriptor.release();  // cancels its waits; the fd stays curl's to close
      w->fd = CURL_SOCKET_BAD;
      w->wanted = CURL_POLL_NONE;
      ++w->generation;
      self->idle_watches_.push_back(w);
      curl_multi_assign(self->multi_, fd, nullptr);
    }
    return 0;
  }
  if (!w) {
    if (self->idle_watches_.empty()) {
      self->watches_.push_back(std::make_unique<Watch>(self->ctx_.io));
      self->idle_watches_.push_back(self->watches_.back().get());
    }
    w = self->idle_watches_.back();
    self->idle_watches_.pop_back();
    boost::system::error_code ec;
    w->descriptor.assign(fd, ec);
    if (ec) {
      self->idle_watches_.push_back(w);
      return -1;
    }
    w->fd = fd;
    w->read_pending = w->write_pending = false;
    curl_multi_assign(self->multi_, fd, w);
  }
  w->wanted = what;
  self->arm(w);
  return 0;
}

void Core::arm(Watch* w) {
  auto self = shared_from_this();
  if ((w->wanted & CURL_POLL_IN) && !w->read_pending) {
    w->read_pending = true;
    w->descriptor.async_wait(asio::posix::descriptor_base::wait_read,
                             [self, w, g = w->generation](boost::system::error_code ec) {
                               self->on_ready(w, g, CURL_CSELECT_IN, ec);
                             });
  }
  if ((w->wanted & CURL_POLL_OUT) && !w->write_pending) {
    w->write_pending = true;
    w->descriptor.async_wait(asio::posix::descriptor_base::wait_write,
                             [self, w, g = w->generation](boost::system::error_code ec) {
                               self->on_ready(w, g, CURL_CSELECT_OUT, ec);
                             });
  }
}

void Core::on_ready(Watch* w, unsigned generation, int direction, boost::system::error_code ec) {
  if (closed_ || w->generation != generation) return;
  (direction == CURL_CSELECT_IN ? w->read_pending : w->write_pending) = false;
  if (ec == asio::error::operation_aborted) return;
  // A wait that is no longer wanted (curl changed its mind) is simply not renewed.
  int want_bit = direction == CURL_CSELECT_IN ? CURL_POLL_IN : CURL_POLL_OUT;
  if (!(w->wanted & want_bit)) return;
  act(w->fd, ec ? CURL_CSELECT_ERR : direction);
  if (!closed_ && w->generation == generation) arm(w);
}

int Core::on_timer(CURLM*, long timeout_ms, void* user) {
  auto* self = static_cast<Core*>(user);
  if (timeout_ms < 0) {
    // Nothing is in flight: cancel outright, so an idle loop has no pending work and returns.
    self->deadline_ = SteadyClock::time_point::max();
    if (self->timer_armed_) self->timer_.cancel();
    self->timer_armed_ = false;
    return 0;
  }
  if (timeout_ms == 0) {
    self->deadline_ = SteadyClock::time_point::max();
    if (!self->timeout_posted_) {
      self->timeout_posted_ = true;
      asio::post(self->ctx_.io, [s = self->shared_from_this()] {
        s->timeout_posted_ = false;
        if (!s->closed_) s->act(CURL_SOCKET_TIMEOUT, 0);
      });
    }
    return 0;
  }
  self->deadline_ = SteadyClock::now() + std::chrono::milliseconds(timeout_ms);
  if (self->timer_armed_ && self->timer_.expiry() <= self->deadline_) return 0;
  self->timer_armed_ = true;
  self->timer_.expires_at(self->deadline_);
  self->timer_.async_wait([s = self->shared_from_this()](boost::system::error_code ec) {
    if (s->closed_ || ec == asio::error::operation_aborted) return;
    s->timer_armed_ = false;
    s->on_deadline();
  });
  return 0;
}

void Core::on_deadline() {
  if (deadline_ == SteadyClock::time_point::max()) return;
  if (SteadyClock::now() < deadline_) {
    timer_armed_ = true;
    timer_.expires_at(deadline_);
    timer_.async_wait([s = shared_from_this()](boost::system::error_code ec) {
      if (s->closed_ || ec == asio::error::operation_aborted) return;
      s->timer_armed_ = false;
      s->on_deadline();
    });
    return;
  }
  deadline_ = SteadyClock::time_point::max();
  act(CURL_SOCKET_TIMEOUT, 0);
}

void Core::act(curl_socket_t fd, int events) {
  int running = 0;
  curl_multi_socket_action(multi_, fd, events, &running);
  drain_messages();
}

void Core::drain_messages() {
  int left = 0;
  while (!closed_) {
    CURLMsg* msg = curl_multi_info_read(multi_, &left);
    if (!msg) break;
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    finish(t, msg->data.result);
  }
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
  static const CURLcode kInit = curl_global_init(CURL_GLOBAL_DEFAULT);
  (void)kInit;
  return std::make_unique<HttpProber>(ctx);
}

}  // namespace leeway::probe
