// The icmp prober: echo requests through one ICMP socket per address family, shared by every run,
// with each reply matched to its run by sequence number plus a per-prober token in the payload.
// ICMP errors about our echoes (a router's "host unreachable") come through the socket's error
// queue and end the run as unreachable: a broken path, not a black hole.
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip_icmp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <system_error>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "probe/probers.h"

namespace leeway::probe {

namespace {

using Steady = std::chrono::steady_clock;

// The payload starts with the prober's token and the echo's 32-bit serial number; the rest is
// padding up to spec.icmp.payload_bytes.
constexpr int kTokenBytes = 8;
constexpr int kSerialBytes = 4;
constexpr int kMinPayloadBytes = kTokenBytes + kSerialBytes;
constexpr int kMaxPayloadBytes = 65'507;  // the most an IPv4 datagram can carry after the header
constexpr int kHeaderBytes = 8;           // type, code, checksum, identifier, sequence
constexpr std::size_t kSlots = 65'536;    // one per 16-bit sequence number
constexpr int kBatch = 64;                // echoes per sendmmsg / replies per recvmmsg
constexpr int kReceiveBytes = 256;        // enough for an IPv4 header, ICMP header and our prefix
constexpr int kSocketBufferBytes = 4 << 20;  // so a burst of replies is not dropped

constexpr std::uint8_t kEchoRequestV4 = ICMP_ECHO;
constexpr std::uint8_t kEchoReplyV4 = ICMP_ECHOREPLY;
constexpr std::uint8_t kEchoRequestV6 = ICMP6_ECHO_REQUEST;
constexpr std::uint8_t kEchoReplyV6 = ICMP6_ECHO_REPLY;

// The IPv4 raw socket filter of <linux/icmp.h>, which cannot be included beside Asio's <net/if.h>.
constexpr int kIcmpFilterOption = 1;  // ICMP_FILTER, at level SOL_RAW
struct IcmpFilter {
  std::uint32_t blocked_types;  // bit n set: drop ICMP type n
};

std::string errno_text(int error) {
  return std::system_category().message(error);
}

// The Internet checksum (RFC 1071) of an ICMPv4 message. Written by hand because no library in
// Debian offers it, and it is a few lines; ping sockets and ICMPv6 raw sockets have the kernel
// fill it in, only IPv4 raw sockets need it.
std::uint16_t internet_checksum(const std::uint8_t* data, std::size_t size) {
  std::uint32_t sum = 0;
  for (std::size_t i = 0; i + 1 < size; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (size % 2 == 1) sum += data[size - 1] << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

// "33.33" or "100": loss without trailing zeros.
std::string format_percent(double percent) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", percent);
  std::string s(text);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

// An ICMP error's type and code in words, as ping says them.
std::string describe_icmp_error(bool v6, int type, int code) {
  if (!v6 && type == ICMP_DEST_UNREACH) {
    switch (code) {
      case ICMP_NET_UNREACH:
        return "network unreachable";
      case ICMP_HOST_UNREACH:
        return "host unreachable";
      case ICMP_PROT_UNREACH:
        return "protocol unreachable";
      case ICMP_FRAG_NEEDED:
        return "fragmentation needed";
      case ICMP_NET_ANO:
      case ICMP_HOST_ANO:
      case ICMP_PKT_FILTERED:
        return "administratively prohibited";
    }
    return "destination unreachable (code " + std::to_string(code) + ")";
  }
  if (!v6 && type == ICMP_TIME_EXCEEDED) return "time to live exceeded";
  if (v6 && type == ICMP6_DST_UNREACH) {
    switch (code) {
      case ICMP6_DST_UNREACH_NOROUTE:
        return "no route to destination";
      case ICMP6_DST_UNREACH_ADMIN:
        return "administratively prohibited";
      case ICMP6_DST_UNREACH_ADDR:
        return "address unreachable";
    }
    return "destination unreachable (code " + std::to_string(code) + ")";
  }
  if (v6 && type == ICMP6_TIME_EXCEEDED) return "hop limit exceeded";
  if (v6 && type == ICMP6_PACKET_TOO_BIG) return "packet too big";
  return "ICMP" + std::string(v6 ? "v6" : "") + " error type " + std::to_string(type) + " code " +
         std::to_string(code);
}

// The address in an error-queue message's offender field, or "" when it has none.
std::string offender_text(const sockaddr* offender) {
  char text[INET6_ADDRSTRLEN] = "";
  if (offender->sa_family == AF_INET)
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(offender)->sin_addr, text,
                sizeof text);
  else if (offender->sa_family == AF_INET6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(offender)->sin6_addr, text,
                sizeof text);
  return text;
}

struct Run;

// One echo in flight: the run that sent it and when, keyed by its sequence number.
struct Slot {
  Run* run = nullptr;  // null: free. Cleared when the run finishes, so it never dangles.
  std::uint32_t serial = 0;
  Steady::time_point sent_at;
  bool sent = false;
  bool replied = false;
};

// The ICMP socket of one address family, its echoes in flight and its send queue.
class Channel {
 public:
  Channel(boost::asio::io_context& io, bool v6, std::uint64_t token, std::uint16_t identifier)
      : v6_(v6), token_(token), identifier_(identifier), descriptor_(io) {}

  // Opens a ping socket if the kernel allows it for our group, else a raw socket.
  void open();
  bool is_open() const { return descriptor_.is_open(); }
  const std::string& open_error() const { return open_error_; }
  void close() {
    boost::system::error_code ignored;
    descriptor_.close(ignored);
  }

  // Reserves a sequence number for the run's next echo and queues it for the next burst. Returns
  // false when every sequence number is in flight.
  bool enqueue(Run& run);
  // Frees the run's sequence numbers; later replies to them are ignored.
  void release(const Run& run);
  // Starts the receive loop. Every pending handler holds `owner` (the Core this channel lives
  // in), so the channel outlives its handlers; the loop ends when the socket closes.
  void start_receiving(std::weak_ptr<void> owner);

 private:
  void flush();
  void wait_for_replies();
  void drain();
  int drain_errors();
  void on_error(const std::uint8_t* data, std::size_t size, const sock_extended_err& error,
                const std::string& offender);
  void on_reply(const std::uint8_t* data, std::size_t size, const sockaddr_storage& from,
                Steady::time_point now);

  bool v6_;
  bool raw_ = false;  // raw socket: we see every echo reply on the host and set the identifier
  std::uint64_t token_;
  std::uint16_t identifier_;
  boost::asio::posix::stream_descriptor descriptor_;
  std::string open_error_;
  std::weak_ptr<void> owner_;  // weak: the Core owns this channel

  std::vector<Slot> slots_;  // kSlots entries once the first echo is queued
  std::uint32_t next_serial_ = 0;
  std::vector<std::uint32_t> queue_;  // serials waiting to be sent, oldest first
  std::size_t queue_head_ = 0;
  bool flush_pending_ = false;  // a flush is posted or waiting for the socket to be writable
  int packet_stride_ = 0;
  std::vector<std::uint8_t> send_buffer_;

  std::array<mmsghdr, kBatch> recv_headers_{};
  std::array<iovec, kBatch> recv_iovecs_{};
  std::array<sockaddr_storage, kBatch> recv_from_{};
  std::array<std::array<std::uint8_t, kReceiveBytes>, kBatch> recv_buffers_{};
};

// Where the prober's sockets live; shared with every run so a run outlives the prober safely.
struct Core {
  Core(ProbeContext& ctx, std::uint64_t token, std::uint16_t identifier)
      : io(ctx.io),
        resolver(ctx.resolver),
        v4(ctx.io, false, token, identifier),
        v6(ctx.io, true, token, identifier) {}
  boost::asio::io_context& io;
  Resolver& resolver;
  Channel v4;
  Channel v6;
};

// One run: `count` echoes to one address, then a verdict.
struct Run {
  Run(std::shared_ptr<Core> core, const CheckSpec& spec, ProbeCallback done)
      : core(std::move(core)),
        done(std::move(done)),
        host(spec.host),
        family(spec.family),
        count(std::max(1, spec.icmp.count)),
        interval_us(spec.icmp.interval_us),
        timeout_us(spec.timeout_us),
        degraded_loss_percent(spec.icmp.degraded_loss_percent),
        payload_bytes(std::clamp(spec.icmp.payload_bytes, kMinPayloadBytes, kMaxPayloadBytes)),
        deadline(this->core->io),
        pacer(this->core->io) {
    serials.reserve(count);
  }

  std::shared_ptr<Core> core;
  ProbeCallback done;
  std::string host;
  IpFamily family;
  int count;
  DurationUs interval_us;
  DurationUs timeout_us;
  double degraded_loss_percent;
  int payload_bytes;
  boost::asio::steady_timer deadline;
  boost::asio::steady_timer pacer;

  Steady::time_point started;
  Channel* channel = nullptr;
  sockaddr_storage destination{};
  socklen_t destination_size = 0;
  std::vector<std::uint32_t> serials;  // of the echoes queued so far
  ProbeResult result;
  int errored = 0;         // echoes an ICMP error came back for
  std::string icmp_error;  // the first of those errors, in words
  DurationUs rtt_sum_us = 0;
  bool resolved = false;
  bool finished = false;

  void on_sent() { ++result.sent; }

  void on_reply(DurationUs rtt_us) {
    ++result.received;
    rtt_sum_us += rtt_us;
    if (result.rtt_min_us < 0 || rtt_us < result.rtt_min_us) result.rtt_min_us = rtt_us;
    if (rtt_us > result.rtt_max_us) result.rtt_max_us = rtt_us;
    if (result.received + errored == count) finish();
  }

  // Something on the path (or the host) said that this echo cannot reach the target.
  void on_icmp_error(std::string what) {
    ++errored;
    if (icmp_error.empty()) icmp_error = std::move(what);
    if (result.received + errored == count) finish();
  }

  void fail_at(Stage stage, std::string error, Cause cause = Cause::kNone) {
    result.stage = stage;
    result.cause = cause;
    result.error = std::move(error);
    finish();
  }

  // Settles the verdict from the counts unless a failure was already recorded, and reports.
  void finish() {
    if (finished) return;
    finished = true;
    deadline.cancel();
    pacer.cancel();
    if (channel) channel->release(*this);
    if (result.received > 0) result.rtt_avg_us = rtt_sum_us / result.received;
    if (result.stage == Stage::kNone) judge();
    boost::asio::post(core->io, [done = std::move(done), result = std::move(result)]() mutable {
      done(std::move(result));
    });
  }

  void judge() {
    if (!resolved) {
      result.outcome = Outcome::kDown;
      result.stage = Stage::kDns;
      result.cause = Cause::kTimeout;
      result.error = "could not resolve \"" + host + "\" within the " +
                     format_duration(timeout_us) + " timeout";
      return;
    }
    const int lost = result.sent - result.received;
    const double loss_percent = result.sent > 0 ? 100.0 * lost / result.sent : 100.0;
    const std::string loss = format_percent(loss_percent) + "% loss (" +
                             std::to_string(result.received) + "/" + std::to_string(result.sent) +
                             ")";
    const std::string errors = errored == 0 ? "" : ", " + icmp_error;
    if (result.received == 0 && errored > 0) {
      result.outcome = Outcome::kDown;
      result.stage = Stage::kSend;
      result.cause = Cause::kUnreachable;  // the path said so: not a black hole
      result.error = loss + errors;
    } else if (result.received == 0) {
      result.outcome = Outcome::kDown;
      result.stage = Stage::kTimeout;
      result.cause = Cause::kTimeout;  // no reply at all: a black hole
      result.error = loss;
    } else if (loss_percent > degraded_loss_percent) {
      result.outcome = Outcome::kDegraded;
      result.stage = Stage::kTimeout;  // the missing replies timed out or came back as errors
      result.error = loss + errors;
    } else {
      result.outcome = Outcome::kUp;
    }
  }
};

void Channel::open() {
  const int domain = v6_ ? AF_INET6 : AF_INET;
  const int protocol = v6_ ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
  int fd = ::socket(domain, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  const int ping_errno = errno;
  if (fd < 0) {
    fd = ::socket(domain, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
    if (fd < 0) {
      open_error_ = std::string("cannot open an ICMP") + (v6_ ? "v6" : "") +
                    " socket: ping socket: " + errno_text(ping_errno) +
                    " (see net.ipv4.ping_group_range); raw socket: " + errno_text(errno);
      return;
    }
    raw_ = true;
  }
  // ICMP errors about our echoes go to the socket's error queue (drain_errors()).
  const int on = 1;
  if (v6_)
    ::setsockopt(fd, SOL_IPV6, IPV6_RECVERR, &on, sizeof on);
  else
    ::setsockopt(fd, SOL_IP, IP_RECVERR, &on, sizeof on);
  // Best effort: SO_RCVBUFFORCE lets root go past net.core.rmem_max.
  const int size = kSocketBufferBytes;
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) != 0)
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (raw_ && v6_) {
    icmp6_filter filter;
    ICMP6_FILTER_SETBLOCKALL(&filter);
    ICMP6_FILTER_SETPASS(ICMP6_ECHO_REPLY, &filter);
    ::setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, &filter, sizeof filter);
  } else if (raw_) {
    // Without it a raw socket also wakes for every echo request, ours included on loopback.
    IcmpFilter filter{~(1U << ICMP_ECHOREPLY)};
    ::setsockopt(fd, SOL_RAW, kIcmpFilterOption, &filter, sizeof filter);
  }
  descriptor_.assign(fd);
}

bool Channel::enqueue(Run& run) {
  if (slots_.empty()) slots_.resize(kSlots);
  for (std::size_t tries = 0; tries < kSlots; ++tries) {
    const std::uint32_t serial = next_serial_++;
    Slot& slot = slots_[serial & 0xffff];
    if (slot.run != nullptr) continue;
    slot = Slot{&run, serial, {}, false, false};
    run.serials.push_back(serial);
    queue_.push_back(serial);
    packet_stride_ = std::max(packet_stride_, kHeaderBytes + run.payload_bytes);
    if (!flush_pending_) {
      flush_pending_ = true;
      boost::asio::post(descriptor_.get_executor(), [this, keep = owner_.lock()] {
        flush_pending_ = false;
        flush();
      });
    }
    return true;
  }
  return false;
}

void Channel::release(const Run& run) {
  for (std::uint32_t serial : run.serials) {
    Slot& slot = slots_[serial & 0xffff];
    if (slot.run == &run && slot.serial == serial) slot.run = nullptr;
  }
}

// Sends the queued echoes in bursts of kBatch per system call, until the queue is empty or the
// socket's buffer is full (then waits until it is writable).
void Channel::flush() {
  std::array<mmsghdr, kBatch> headers{};
  std::array<iovec, kBatch> iovecs{};
  std::array<Slot*, kBatch> batch{};
  const std::size_t stride = static_cast<std::size_t>(packet_stride_);
  if (send_buffer_.size() < stride * kBatch) send_buffer_.resize(stride * kBatch);

  while (queue_head_ < queue_.size()) {
    int n = 0;
    while (n < kBatch && queue_head_ < queue_.size()) {
      const std::uint32_t serial = queue_[queue_head_++];
      Slot& slot = slots_[serial & 0xffff];
      if (slot.run == nullptr || slot.serial != serial) continue;  // its run has finished
      Run& run = *slot.run;
      std::uint8_t* packet = send_buffer_.data() + n * stride;
      const std::size_t size = kHeaderBytes + run.payload_bytes;
      const std::uint16_t sequence = htons(static_cast<std::uint16_t>(serial));
      const std::uint16_t identifier = htons(identifier_);
      std::memset(packet, 0, size);
      packet[0] = v6_ ? kEchoRequestV6 : kEchoRequestV4;
      std::memcpy(packet + 4, &identifier, 2);  // a ping socket overwrites it with its own
      std::memcpy(packet + 6, &sequence, 2);
      std::memcpy(packet + kHeaderBytes, &token_, kTokenBytes);
      std::memcpy(packet + kHeaderBytes + kTokenBytes, &serial, kSerialBytes);
      if (raw_ && !v6_) {
        const std::uint16_t checksum = htons(internet_checksum(packet, size));
        std::memcpy(packet + 2, &checksum, 2);
      }
      iovecs[n] = {packet, size};
      headers[n].msg_hdr = {};
      headers[n].msg_hdr.msg_name = &run.destination;
      headers[n].msg_hdr.msg_namelen = run.destination_size;
      headers[n].msg_hdr.msg_iov = &iovecs[n];
      headers[n].msg_hdr.msg_iovlen = 1;
      batch[n] = &slot;
      ++n;
    }
    int done = 0;
    while (done < n) {
      const Steady::time_point now = Steady::now();
      const int sent = ::sendmmsg(descriptor_.native_handle(), headers.data() + done, n - done, 0);
      if (sent > 0) {
        for (int i = done; i < done + sent; ++i) {
          batch[i]->sent = true;
          batch[i]->sent_at = now;
          // Null if an earlier echo of the same run failed in this burst and ended the run.
          if (batch[i]->run != nullptr) batch[i]->run->on_sent();
        }
        done += sent;
        continue;
      }
      const int error = errno;
      if (error == EINTR) continue;
      // A queued ICMP error about an earlier echo (maybe another run's) fails the next send once:
      // read it where it belongs, then send this echo again.
      if (drain_errors() > 0) continue;
      if (error == EAGAIN || error == EWOULDBLOCK) {
        // Put the unsent rest back at the head of the queue and wait for room.
        queue_head_ -= n - done;
        for (int i = done; i < n; ++i) queue_[queue_head_ + (i - done)] = batch[i]->serial;
        flush_pending_ = true;
        descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_write,
                               [this, keep = owner_.lock()](boost::system::error_code ec) {
                                 flush_pending_ = false;
                                 if (!ec) flush();
                               });
        return;
      }
      // This echo could not be sent (no route, closed socket, ...): its run is down.
      if (Run* run = batch[done]->run) {
        run->fail_at(Stage::kSend,
                     "cannot send an echo request to " + run->result.remote_address + ": " +
                         errno_text(error),
                     cause_from_errno(error));
      }
      ++done;
    }
  }
  queue_.clear();
  queue_head_ = 0;
}

void Channel::start_receiving(std::weak_ptr<void> owner) {
  owner_ = std::move(owner);
  for (int i = 0; i < kBatch; ++i) {
    recv_iovecs_[i] = {recv_buffers_[i].data(), kReceiveBytes};
    recv_headers_[i].msg_hdr.msg_iov = &recv_iovecs_[i];
    recv_headers_[i].msg_hdr.msg_iovlen = 1;
  }
  wait_for_replies();
}

void Channel::wait_for_replies() {
  descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_read,
                         [this, keep = owner_.lock()](boost::system::error_code ec) {
                           if (ec) return;
                           drain();
                           wait_for_replies();
                         });
}

// Reads every error and reply waiting in the socket, replies kBatch per system call, until it
// would block.
void Channel::drain() {
  drain_errors();
  for (;;) {
    for (int i = 0; i < kBatch; ++i) {
      recv_headers_[i].msg_hdr.msg_name = &recv_from_[i];
      recv_headers_[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
      recv_headers_[i].msg_hdr.msg_flags = 0;
    }
    const int n = ::recvmmsg(descriptor_.native_handle(), recv_headers_.data(), kBatch,
                             MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // EAGAIN, or an error the next readiness event will report again
    }
    const Steady::time_point now = Steady::now();
    for (int i = 0; i < n; ++i)
      on_reply(recv_buffers_[i].data(), recv_headers_[i].msg_len, recv_from_[i], now);
    if (n < kBatch) return;
  }
}

// Reads the error queue: each message is an echo of ours that came back as an ICMP error, with
// the error (origin, type, code) and who sent it in a control message. A queued error also
// makes the socket report POLLERR until it is read, so this reads until it would block. Returns
// how many messages it read.
int Channel::drain_errors() {
  std::array<std::uint8_t, kReceiveBytes> data;
  alignas(cmsghdr) std::array<char, 512> control;
  for (int read = 0;; ++read) {
    iovec iov{data.data(), data.size()};
    sockaddr_storage from{};
    msghdr message{};
    message.msg_name = &from;
    message.msg_namelen = sizeof from;
    message.msg_iov = &iov;
    message.msg_iovlen = 1;
    message.msg_control = control.data();
    message.msg_controllen = control.size();
    const ssize_t n = ::recvmsg(descriptor_.native_handle(), &message, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EINTR) continue;
      return read;
    }
    for (cmsghdr* c = CMSG_FIRSTHDR(&message); c != nullptr; c = CMSG_NXTHDR(&message, c)) {
      const bool error = v6_ ? c->cmsg_level == SOL_IPV6 && c->cmsg_type == IPV6_RECVERR
                             : c->cmsg_level == SOL_IP && c->cmsg_type == IP_RECVERR;
      if (!error) continue;
      const auto* extended = reinterpret_cast<const sock_extended_err*>(CMSG_DATA(c));
      on_error(data.data(), static_cast<std::size_t>(n), *extended,
               offender_text(SO_EE_OFFENDER(extended)));
    }
  }
}

// An ICMP error quotes the echo it is about from its ICMP header on: the identifier and sequence
// number always (even a router that quotes only 8 bytes), our token and serial when it quotes
// more.
void Channel::on_error(const std::uint8_t* data, std::size_t size, const sock_extended_err& error,
                       const std::string& offender) {
  const bool icmp = error.ee_origin == (v6_ ? SO_EE_ORIGIN_ICMP6 : SO_EE_ORIGIN_ICMP);
  if (!icmp || size < kHeaderBytes || slots_.empty()) return;
  if (data[0] != (v6_ ? kEchoRequestV6 : kEchoRequestV4)) return;
  std::uint16_t identifier, sequence;
  std::memcpy(&identifier, data + 4, 2);
  std::memcpy(&sequence, data + 6, 2);
  // A ping socket gets only the errors about its own echoes; a raw one about every echo on the
  // host.
  if (raw_ && ntohs(identifier) != identifier_) return;
  Slot& slot = slots_[ntohs(sequence)];
  if (size >= kHeaderBytes + kMinPayloadBytes) {
    std::uint32_t serial;
    std::memcpy(&serial, data + kHeaderBytes + kTokenBytes, kSerialBytes);
    if (std::memcmp(data + kHeaderBytes, &token_, kTokenBytes) != 0 || slot.serial != serial)
      return;
  }
  if (slot.run == nullptr || !slot.sent || slot.replied) return;
  slot.replied = true;  // answered, if by an error: a late reply to it is not counted
  std::string what = describe_icmp_error(v6_, error.ee_type, error.ee_code);
  if (!offender.empty())
    what += " (ICMP" + std::string(v6_ ? "v6" : "") + " from " + offender + ")";
  slot.run->on_icmp_error(std::move(what));
}

void Channel::on_reply(const std::uint8_t* data, std::size_t size, const sockaddr_storage& from,
                       Steady::time_point now) {
  std::size_t offset = 0;
  if (raw_ && !v6_) {  // an IPv4 raw socket hands us the IP header too
    if (size < 20) return;
    offset = (data[0] & 0x0f) * 4u;
  }
  size = std::min<std::size_t>(size, kReceiveBytes);
  if (size < offset + kHeaderBytes + kMinPayloadBytes) return;
  const std::uint8_t* icmp = data + offset;
  if (icmp[0] != (v6_ ? kEchoReplyV6 : kEchoReplyV4) || icmp[1] != 0) return;
  std::uint16_t identifier, sequence;
  std::memcpy(&identifier, icmp + 4, 2);
  std::memcpy(&sequence, icmp + 6, 2);
  // A ping socket gets only its own replies; a raw one gets every reply on the host.
  if (raw_ && ntohs(identifier) != identifier_) return;
  if (std::memcmp(icmp + kHeaderBytes, &token_, kTokenBytes) != 0) return;
  std::uint32_t serial;
  std::memcpy(&serial, icmp + kHeaderBytes + kTokenBytes, kSerialBytes);
  if (static_cast<std::uint16_t>(serial) != ntohs(sequence) || slots_.empty()) return;
  Slot& slot = slots_[serial & 0xffff];
  if (slot.run == nullptr || slot.serial != serial || !slot.sent || slot.replied) return;
  Run& run = *slot.run;
  // The reply must come from the address the echo went to.
  if (v6_) {
    const auto& got = reinterpret_cast<const sockaddr_in6&>(from);
    const auto& want = reinterpret_cast<const sockaddr_in6&>(run.destination);
    if (std::memcmp(&got.sin6_addr, &want.sin6_addr, sizeof got.sin6_addr) != 0) return;
  } else {
    const auto& got = reinterpret_cast<const sockaddr_in&>(from);
    const auto& want = reinterpret_cast<const sockaddr_in&>(run.destination);
    if (got.sin_addr.s_addr != want.sin_addr.s_addr) return;
  }
  slot.replied = true;
  run.on_reply(std::chrono::duration_cast<std::chrono::microseconds>(now - slot.sent_at).count());
}

// Queues the run's next echo and, if more are due, schedules the one after.
void send_next(const std::shared_ptr<Run>& run) {
  if (run->finished) return;
  if (!run->channel->enqueue(*run)) {
    run->fail_at(Stage::kSend, "too many echo requests in flight (65536)");
    return;
  }
  if (static_cast<int>(run->serials.size()) >= run->count) return;
  run->pacer.expires_after(std::chrono::microseconds(run->interval_us));
  run->pacer.async_wait([run](boost::system::error_code ec) {
    if (!ec) send_next(run);
  });
}

void on_resolved(const std::shared_ptr<Run>& run,
                 Lookup<std::vector<boost::asio::ip::address>> addresses) {
  if (run->finished) return;
  run->resolved = true;
  run->result.timings.dns_us =
      std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - run->started).count();
  if (!addresses) return run->fail_at(Stage::kDns, addresses.error().message, addresses.cause);
  if (addresses->empty()) return run->fail_at(Stage::kDns, "\"" + run->host + "\" has no address");
  const boost::asio::ip::address address = addresses->front();
  run->result.remote_address = address.to_string();
  if (address.is_v6()) {
    auto& to = reinterpret_cast<sockaddr_in6&>(run->destination);
    to.sin6_family = AF_INET6;
    const auto bytes = address.to_v6().to_bytes();
    std::memcpy(&to.sin6_addr, bytes.data(), bytes.size());
    to.sin6_scope_id = address.to_v6().scope_id();
    run->destination_size = sizeof(sockaddr_in6);
    run->channel = &run->core->v6;
  } else {
    auto& to = reinterpret_cast<sockaddr_in&>(run->destination);
    to.sin_family = AF_INET;
    const auto bytes = address.to_v4().to_bytes();
    std::memcpy(&to.sin_addr, bytes.data(), bytes.size());
    run->destination_size = sizeof(sockaddr_in);
    run->channel = &run->core->v4;
  }
  if (!run->channel->is_open()) {
    std::string error = run->channel->open_error();
    run->channel = nullptr;
    return run->fail_at(Stage::kSend, error.empty() ? "the ICMP socket is closed" : error);
  }
  send_next(run);
}

class IcmpProber final : public Prober {
 public:
  explicit IcmpProber(ProbeContext& ctx) {
    std::random_device random;
    const std::uint64_t token = (std::uint64_t{random()} << 32) | random();
    core_ = std::make_shared<Core>(ctx, token, static_cast<std::uint16_t>(random()));
    for (Channel* channel : {&core_->v4, &core_->v6}) {
      channel->open();
      if (channel->is_open()) channel->start_receiving(core_);
    }
  }

  // Closing the sockets ends the receive loops, which hold the core; runs still in flight hold
  // it too and finish by their deadlines.
  ~IcmpProber() override {
    core_->v4.close();
    core_->v6.close();
  }

  void start(const CheckSpec& spec, ProbeCallback done) override {
    auto run = std::make_shared<Run>(core_, spec, std::move(done));
    run->started = Steady::now();
    run->deadline.expires_after(std::chrono::microseconds(spec.timeout_us));
    run->deadline.async_wait([run](boost::system::error_code ec) {
      if (!ec) run->finish();
    });
    core_->resolver.resolve(spec.host, spec.family, spec.timeout_us,
                            [run](Lookup<std::vector<boost::asio::ip::address>> addresses) {
                              on_resolved(run, std::move(addresses));
                            });
  }

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace

std::unique_ptr<Prober> make_icmp_prober(ProbeContext& ctx) {
  return std::make_unique<IcmpProber>(ctx);
}

}  // namespace leeway::probe
