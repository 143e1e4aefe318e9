// ProbeEngine: dispatches a run to the prober of its kind, stamps the start time and total
// duration, applies the latency threshold, and enforces the deadline as a backstop.
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/steady_timer.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "core/text.h"
#include "probe/probe.h"
#include "probe/probers.h"

namespace leeway::probe {

namespace {

constexpr std::string_view kKindNames[] = {"http", "tcp", "dns", "icmp", "tls"};
constexpr std::string_view kOutcomeNames[] = {"up", "degraded", "down", "unknown"};
constexpr std::string_view kStageNames[] = {"",     "dns",    "connect", "tls",
                                            "send", "status", "body",    "timeout"};
constexpr std::string_view kCauseNames[] = {"",        "refused",  "unreachable", "reset",
                                            "timeout", "nxdomain", "servfail",    "tls"};

// How long past its timeout a prober may take before the engine reports for it. Probers enforce
// the timeout themselves; this only catches a prober bug.
constexpr DurationUs kDeadlineSlackUs = 250 * kMillisecondUs;

// Why a failed run says nothing about its target, if it does not: leeway could not open a socket
// (no file descriptors or memory left), or its loop woke later than the timeout allows. Asking
// the kernel for a socket once a run has failed covers every prober (curl, c-ares, Asio, raw
// ICMP) without each reporting its own errno; it costs two system calls per failed run.
std::optional<std::string> leeway_at_fault(DurationUs total_us, DurationUs timeout_us) {
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    int err = errno;
    if (err == EMFILE || err == ENFILE || err == ENOMEM || err == ENOBUFS)
      return std::string("leeway cannot open sockets (") + std::strerror(err) + ")";
  } else {
    ::close(fd);
  }
  if (total_us > 2 * timeout_us + kDeadlineSlackUs)
    return "leeway's event loop was late: the run took " + format_duration(total_us) +
           " against a timeout of " + format_duration(timeout_us);
  return std::nullopt;
}

}  // namespace

std::string_view to_string(Kind kind) {
  return kKindNames[static_cast<int>(kind)];
}
std::string_view to_string(Outcome outcome) {
  return kOutcomeNames[static_cast<int>(outcome)];
}
std::string_view to_string(Stage stage) {
  return kStageNames[static_cast<int>(stage)];
}

std::string_view to_string(Cause cause) {
  return kCauseNames[static_cast<int>(cause)];
}

std::optional<Kind> kind_from_string(std::string_view text) {
  for (std::size_t i = 0; i < std::size(kKindNames); ++i)
    if (kKindNames[i] == text) return static_cast<Kind>(i);
  return std::nullopt;
}

std::optional<Stage> stage_from_string(std::string_view text) {
  for (std::size_t i = 1; i < std::size(kStageNames); ++i)
    if (kStageNames[i] == text) return static_cast<Stage>(i);
  return std::nullopt;
}

std::optional<Cause> cause_from_string(std::string_view text) {
  for (std::size_t i = 1; i < std::size(kCauseNames); ++i)
    if (kCauseNames[i] == text) return static_cast<Cause>(i);
  return std::nullopt;
}

Cause cause_from_errno(int error) {
  switch (error) {
    case ECONNREFUSED:
      return Cause::kRefused;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ENETDOWN:
    case EHOSTDOWN:
      return Cause::kUnreachable;
    case ECONNRESET:
      return Cause::kReset;
    case ETIMEDOUT:
      return Cause::kTimeout;
    default:
      return Cause::kNone;
  }
}

struct ProbeEngine::Impl {
  Impl(boost::asio::io_context& io, const Clock& clock)
      : io(io), clock(clock), resolver(io), trust(clock), ctx{io, resolver, trust} {
    probers[static_cast<int>(Kind::kHttp)] = make_http_prober(ctx);
    probers[static_cast<int>(Kind::kTcp)] = make_tcp_prober(ctx);
    probers[static_cast<int>(Kind::kDns)] = make_dns_prober(ctx);
    probers[static_cast<int>(Kind::kIcmp)] = make_icmp_prober(ctx);
    probers[static_cast<int>(Kind::kTls)] = make_tls_prober(ctx);
  }

  boost::asio::io_context& io;
  const Clock& clock;
  Resolver resolver;
  TrustStores trust;
  ProbeContext ctx;
  std::unique_ptr<Prober> probers[5];
};

ProbeEngine::ProbeEngine(boost::asio::io_context& io, const Clock& clock)
    : impl_(std::make_unique<Impl>(io, clock)) {}

ProbeEngine::~ProbeEngine() = default;

namespace {

// The state one run shares between its prober's callback and the backstop timer.
struct Run {
  Run(boost::asio::io_context& io, ProbeCallback done) : deadline(io), done(std::move(done)) {}
  boost::asio::steady_timer deadline;
  ProbeCallback done;
  TimeUs started_us = 0;
  std::chrono::steady_clock::time_point started;
  DurationUs degraded_after_us = 0;
  DurationUs timeout_us = 0;
  bool finished = false;

  void finish(ProbeResult result) {
    if (finished) return;
    finished = true;
    deadline.cancel();
    result.started_us = started_us;
    result.timings.total_us = std::chrono::duration_cast<std::chrono::microseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count();
    if (result.outcome == Outcome::kDown) {
      if (auto why = leeway_at_fault(result.timings.total_us, timeout_us)) {
        // Recorded as unknown, never as the target being down: leeway's own exhaustion must not
        // land in history, availability or SLA figures.
        result.outcome = Outcome::kUnknown;
        result.cause = Cause::kNone;  // the failure says nothing about the path either
        result.error = "not judged: " + *why + "; the run failed with: " + result.error;
      }
    }
    if (result.outcome == Outcome::kUp && degraded_after_us > 0 &&
        result.timings.total_us > degraded_after_us) {
      result.outcome = Outcome::kDegraded;
      result.error = "slower than " + format_duration(degraded_after_us) + ": took " +
                     format_duration(result.timings.total_us);
    }
    // Peers' bytes end up in these (DNS answers, banners, certificate subjects, library errors
    // quoting a response); whatever a peer sent, a result is valid UTF-8 for JSON and the store.
    for (std::string* text :
         {&result.answer, &result.error, &result.cert_subject, &result.remote_address})
      if (!utf8_valid(*text)) *text = utf8_safe(*text);
    done(std::move(result));
  }
};

}  // namespace

void ProbeEngine::reload_trust() {
  impl_->trust.forget_all();
}

void ProbeEngine::run(const CheckSpec& spec, ProbeCallback done) {
  auto run = std::make_shared<Run>(impl_->io, std::move(done));
  run->started_us = impl_->clock.now_us();
  run->started = std::chrono::steady_clock::now();
  run->degraded_after_us = spec.degraded_after_us;
  run->timeout_us = spec.timeout_us;
  run->deadline.expires_after(std::chrono::microseconds(spec.timeout_us + kDeadlineSlackUs));
  run->deadline.async_wait([run, timeout_us = spec.timeout_us](boost::system::error_code ec) {
    if (ec) return;
    ProbeResult result;
    result.stage = Stage::kTimeout;
    result.error = "no result within the " + format_duration(timeout_us) + " timeout";
    run->finish(std::move(result));
  });
  impl_->probers[static_cast<int>(spec.kind)]->start(
      spec, [run](ProbeResult result) { run->finish(std::move(result)); });
}

}  // namespace leeway::probe
