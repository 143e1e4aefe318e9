// The c-ares resolver driven by the Asio loop: c-ares reports which sockets it wants watched
// (ARES_OPT_SOCK_STATE_CB), the loop waits on them without owning them, and a timer follows
// ares_timeout(). User callbacks are always posted, so none runs inside a c-ares call.
#include "probe/resolver.h"

#include <ares.h>
#include <ares_dns.h>
#include <ares_nameser.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/time.h>

#include <chrono>
#include <cstdint>
#include <cstring>
#include <map>
#include <mutex>
#include <utility>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "probe/dns_format.h"

namespace leeway::probe {

namespace asio = boost::asio;

namespace {

// How long c-ares waits for the first reply before retrying; it doubles each round. Our own
// per-call deadline cuts a lookup short long before the rounds run out.
constexpr int kAresFirstTryTimeoutMs = 1000;
constexpr int kAresTries = 5;
// A bounded number of extra reads when a socket is still readable after ares_process_fd: Asio
// waits on edges, so data c-ares left unread would otherwise wait for the next datagram.
constexpr int kMaxDrainRounds = 16;

std::string family_name(IpFamily family) {
  return family == IpFamily::kV4 ? "IPv4" : family == IpFamily::kV6 ? "IPv6" : "any";
}

// What a failed lookup's c-ares status says of the DNS (see Lookup).
Cause cause_of(int status) {
  switch (status) {
    case ARES_ENOTFOUND:
      return Cause::kNxdomain;
    case ARES_ESERVFAIL:
      return Cause::kServfail;
    case ARES_EREFUSED:
    case ARES_ECONNREFUSED:
      return Cause::kRefused;
    case ARES_ETIMEOUT:
      return Cause::kTimeout;
    default:
      return Cause::kNone;
  }
}

}  // namespace

struct Resolver::Impl : std::enable_shared_from_this<Impl> {
  // One socket c-ares asked us to watch. The descriptor only borrows the fd: c-ares closes it.
  struct Watch {
    explicit Watch(asio::io_context& io, int fd) : descriptor(io, fd) {}
    ~Watch() {
      if (descriptor.is_open()) descriptor.release();
    }
    asio::posix::stream_descriptor descriptor;
    bool want_read = false;
    bool want_write = false;
    bool waiting_read = false;
    bool waiting_write = false;
  };

  // One resolve() or query() in flight. c-ares holds a pointer to it until its callback runs,
  // so it is erased only there (or after ares_destroy); the deadline finds it by id.
  struct Request {
    Request(asio::io_context& io, std::uint64_t id) : id(id), deadline(io) {}
    Impl* impl = nullptr;
    std::uint64_t id;
    asio::steady_timer deadline;
    bool delivered = false;
    std::string name;
    int type = 0;
    AddressesCallback on_addresses;
    AnswerCallback on_answer;
  };

  explicit Impl(asio::io_context& io) : io(io), timer(io) {}

  ~Impl() {
    destroying = true;
    // Cancels every lookup; their callbacks see ARES_EDESTRUCTION and do nothing, and the
    // socket-state callback releases every watch before c-ares closes the sockets.
    if (channel) ares_destroy(channel);
    watches.clear();
    requests.clear();
  }

  Status init(const std::string& servers) {
    static std::once_flag library_once;
    static int library_status = ARES_SUCCESS;
    std::call_once(library_once, [] { library_status = ares_library_init(ARES_LIB_INIT_ALL); });
    if (library_status != ARES_SUCCESS)
      return fail("c-ares init failed: ", ares_strerror(library_status));

    ares_options options{};
    int mask = ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
               ARES_OPT_FLAGS;
    options.sock_state_cb = &Impl::on_sock_state;
    options.sock_state_cb_data = this;
    char lookups[] = "fb";  // /etc/hosts first, then DNS
    options.lookups = lookups;
    options.timeout = kAresFirstTryTimeoutMs;
    options.tries = kAresTries;
    // Hand SERVFAIL and REFUSED replies to us instead of retrying them as if lost, so a probe
    // reports the server's answer.
    options.flags = ARES_FLAG_NOCHECKRESP;
    int status = ares_init_options(&channel, &options, mask);
    if (status != ARES_SUCCESS) {
      channel = nullptr;
      return fail("c-ares init failed: ", ares_strerror(status));
    }
    if (!servers.empty()) {
      status = ares_set_servers_ports_csv(channel, servers.c_str());
      if (status != ARES_SUCCESS)
        return fail("bad DNS server list \"", servers, "\": ", ares_strerror(status));
    }
    return {};
  }

  Request& add_request() {
    auto id = ++next_id;
    auto request = std::make_unique<Request>(io, id);
    request->impl = this;
    auto& ref = *request;
    requests.emplace(id, std::move(request));
    return ref;
  }

  void arm_deadline(Request& request, DurationUs timeout_us) {
    request.deadline.expires_after(std::chrono::microseconds(timeout_us));
    request.deadline.async_wait(
        [weak = weak_from_this(), id = request.id, timeout_us](boost::system::error_code ec) {
          auto self = weak.lock();
          if (ec || !self) return;
          auto it = self->requests.find(id);
          if (it == self->requests.end()) return;
          Request& r = *it->second;
          self->deliver_error(
              r, fail("no DNS answer for \"", r.name, "\" within ", format_duration(timeout_us)),
              Cause::kTimeout);
        });
  }

  // Posts `done(result)` unless the Resolver is gone by the time it runs.
  template <typename Callback, typename Value>
  void post_result(Callback done, Value result) {
    asio::post(io, [weak = weak_from_this(), done = std::move(done),
                    result = std::move(result)]() mutable {
      if (weak.expired()) return;
      done(std::move(result));
    });
  }

  void deliver_error(Request& r, Error error, Cause cause = Cause::kNone) {
    if (r.delivered) return;
    r.delivered = true;
    r.deadline.cancel();
    if (r.on_addresses)
      post_result(std::move(r.on_addresses),
                  Lookup<std::vector<asio::ip::address>>(std::move(error), cause));
    else
      post_result(std::move(r.on_answer), Lookup<DnsAnswer>(std::move(error), cause));
  }

  void deliver(Request& r, std::vector<asio::ip::address> addresses) {
    if (r.delivered) return;
    r.delivered = true;
    r.deadline.cancel();
    post_result(std::move(r.on_addresses),
                Result<std::vector<asio::ip::address>>(std::move(addresses)));
  }

  void deliver(Request& r, DnsAnswer answer) {
    if (r.delivered) return;
    r.delivered = true;
    r.deadline.cancel();
    post_result(std::move(r.on_answer), Result<DnsAnswer>(std::move(answer)));
  }

  static void on_addrinfo(void* arg, int status, int, ares_addrinfo* info) {
    auto* r = static_cast<Request*>(arg);
    Impl* self = r->impl;
    if (!self->destroying) {
      if (status != ARES_SUCCESS) {
        self->deliver_error(*r, fail("cannot resolve \"", r->name, "\": ", ares_strerror(status)),
                            cause_of(status));
      } else {
        std::vector<asio::ip::address> addresses;
        for (auto* node = info ? info->nodes : nullptr; node; node = node->ai_next) {
          if (node->ai_family == AF_INET) {
            auto* sin = reinterpret_cast<const sockaddr_in*>(node->ai_addr);
            asio::ip::address_v4::bytes_type bytes;
            std::memcpy(bytes.data(), &sin->sin_addr, bytes.size());
            addresses.emplace_back(asio::ip::address_v4(bytes));
          } else if (node->ai_family == AF_INET6) {
            auto* sin6 = reinterpret_cast<const sockaddr_in6*>(node->ai_addr);
            asio::ip::address_v6::bytes_type bytes;
            std::memcpy(bytes.data(), &sin6->sin6_addr, bytes.size());
            addresses.emplace_back(asio::ip::address_v6(bytes, sin6->sin6_scope_id));
          }
        }
        if (addresses.empty())
          self->deliver_error(*r, fail("cannot resolve \"", r->name, "\": no addresses"));
        else
          self->deliver(*r, std::move(addresses));
      }
    }
    if (info) ares_freeaddrinfo(info);
    if (!self->destroying) self->requests.erase(r->id);
  }

  static void on_reply(void* arg, int status, int, unsigned char* abuf, int alen) {
    auto* r = static_cast<Request*>(arg);
    Impl* self = r->impl;
    if (self->destroying) return;
    if (abuf && alen >= HFIXEDSZ) {
      DnsAnswer answer;
      answer.rcode = rcode_name(DNS_HEADER_RCODE(abuf));
      auto records = parse_records(abuf, alen, r->type);
      if (records)
        answer.records = std::move(*records);
      else if (answer.rcode == "NOERROR")
        return self->finish_reply(*r, records.error());
      self->deliver(*r, std::move(answer));
    } else if (status == ARES_ETIMEOUT) {
      self->deliver_error(*r, fail("no DNS answer for \"", r->name, "\": ", ares_strerror(status)),
                          Cause::kTimeout);
    } else {
      self->deliver_error(*r,
                          fail("DNS query for \"", r->name, "\" failed: ", ares_strerror(status)),
                          cause_of(status));
    }
    self->requests.erase(r->id);
  }

  void finish_reply(Request& r, const Error& error) {
    deliver_error(r, fail("DNS reply for \"", r.name, "\": ", error.message));
    requests.erase(r.id);
  }

  static void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
    auto* self = static_cast<Impl*>(data);
    auto it = self->watches.find(fd);
    if (!readable && !writable) {
      // Release now, before c-ares closes the fd: a later release could deregister a new
      // socket that reuses the number.
      if (it != self->watches.end()) {
        it->second->descriptor.release();
        self->watches.erase(it);
      }
      return;
    }
    if (it == self->watches.end())
      it = self->watches.emplace(fd, std::make_shared<Watch>(self->io, fd)).first;
    it->second->want_read = readable;
    it->second->want_write = writable;
    if (!self->destroying) self->arm(fd, it->second);
  }

  void arm(int fd, const std::shared_ptr<Watch>& watch) {
    if (watch->want_read && !watch->waiting_read) {
      watch->waiting_read = true;
      watch->descriptor.async_wait(
          asio::posix::descriptor_base::wait_read,
          [weak = weak_from_this(), watch, fd](boost::system::error_code ec) {
            watch->waiting_read = false;
            auto self = weak.lock();
            if (ec || !self || !self->watching(fd, watch)) return;
            self->process(fd, ARES_SOCKET_BAD);
          });
    }
    if (watch->want_write && !watch->waiting_write) {
      watch->waiting_write = true;
      watch->descriptor.async_wait(
          asio::posix::descriptor_base::wait_write,
          [weak = weak_from_this(), watch, fd](boost::system::error_code ec) {
            watch->waiting_write = false;
            auto self = weak.lock();
            if (ec || !self || !self->watching(fd, watch)) return;
            self->process(ARES_SOCKET_BAD, fd);
          });
    }
  }

  bool watching(int fd, const std::shared_ptr<Watch>& watch) const {
    auto it = watches.find(fd);
    return it != watches.end() && it->second == watch;
  }

  static bool still_readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & POLLIN);
  }

  void process(ares_socket_t read_fd, ares_socket_t write_fd) {
    ares_process_fd(channel, read_fd, write_fd);
    for (int round = 0; read_fd != ARES_SOCKET_BAD && round < kMaxDrainRounds; ++round) {
      auto it = watches.find(read_fd);
      if (it == watches.end() || !it->second->want_read || !still_readable(read_fd)) break;
      ares_process_fd(channel, read_fd, ARES_SOCKET_BAD);
    }
    for (auto& [fd, watch] : watches) arm(fd, watch);
    schedule_timeouts();
  }

  // Keeps one timer on c-ares's next retry or timeout.
  void schedule_timeouts() {
    timeval tv{};
    if (!ares_timeout(channel, nullptr, &tv)) {
      timer.cancel();
      return;
    }
    timer.expires_after(std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec));
    timer.async_wait([weak = weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self) return;
      self->process(ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    });
  }

  asio::io_context& io;
  ares_channel channel = nullptr;
  Error init_error;
  bool ok = false;
  bool destroying = false;
  std::map<ares_socket_t, std::shared_ptr<Watch>> watches;
  asio::steady_timer timer;
  std::map<std::uint64_t, std::unique_ptr<Request>> requests;
  std::uint64_t next_id = 0;
};

Resolver::Resolver(asio::io_context& io, const std::string& servers)
    : impl_(std::make_shared<Impl>(io)) {
  auto status = impl_->init(servers);
  impl_->ok = status.has_value();
  if (!status) impl_->init_error = status.error();
}

Resolver::~Resolver() = default;

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

void Resolver::resolve(const std::string& host, IpFamily family, DurationUs timeout_us,
                       AddressesCallback done) {
  boost::system::error_code ec;
  auto literal = asio::ip::make_address(host, ec);
  if (!ec) {
    Result<std::vector<asio::ip::address>> result = std::vector{literal};
    if ((family == IpFamily::kV4 && !literal.is_v4()) ||
        (family == IpFamily::kV6 && !literal.is_v6()))
      result = fail("address ", host, " is not ", family_name(family));
    return impl_->post_result(std::move(done), std::move(result));
  }
  if (!impl_->ok)
    return impl_->post_result(std::move(done),
                              Result<std::vector<asio::ip::address>>(impl_->init_error));

  auto& request = impl_->add_request();
  request.name = host;
  request.on_addresses = std::move(done);
  impl_->arm_deadline(request, timeout_us);
  ares_addrinfo_hints hints{};
  hints.ai_family = family == IpFamily::kV4   ? AF_INET
                    : family == IpFamily::kV6 ? AF_INET6
                                              : AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // May call on_addrinfo at once (e.g. from /etc/hosts); that only posts the user callback.
  ares_getaddrinfo(impl_->channel, host.c_str(), nullptr, &hints, &Impl::on_addrinfo, &request);
  impl_->schedule_timeouts();
}

void Resolver::query(const std::string& name, const std::string& record_type, DurationUs timeout_us,
                     AnswerCallback done) {
  int type = record_type_code(record_type);
  if (type < 0)
    return impl_->post_result(
        std::move(done), Result<DnsAnswer>(fail("unsupported DNS record type \"", record_type,
                                                "\": expected A, AAAA, CNAME, MX, TXT or NS")));
  if (!impl_->ok) return impl_->post_result(std::move(done), Result<DnsAnswer>(impl_->init_error));

  auto& request = impl_->add_request();
  request.name = name;
  request.type = type;
  request.on_answer = std::move(done);
  impl_->arm_deadline(request, timeout_us);
  ares_query(impl_->channel, name.c_str(), ns_c_in, type, &Impl::on_reply, &request);
  impl_->schedule_timeouts();
}

}  // namespace leeway::probe
