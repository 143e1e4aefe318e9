// The probe module's vocabulary: what a check asks (CheckSpec) and what a run found (ProbeResult),
// with their outcomes and stages. No Asio here, so that the store, incident, SLO and SLA code can
// speak of results without inheriting the event loop (probe.h has the engine).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace leeway::probe {

enum class Kind { kHttp, kTcp, kDns, kIcmp, kTls };
// kUnknown: the run failed because of leeway itself (no file descriptors, no memory), so it says
// nothing about the target; it is stored but counted in no rollup or availability figure.
enum class Outcome { kUp, kDegraded, kDown, kUnknown };
// Where a run failed. kNone when it did not fail.
enum class Stage { kNone, kDns, kConnect, kTls, kSend, kStatus, kBody, kTimeout };
// Why a run could not reach its target, as the network or DNS said it: the evidence for "is it us
// or the network?". With stage connect (or send, body: a reset), and for the address lookup of
// http, tcp, tls and icmp checks, stage dns:
//   kRefused      the host answered with a refusal (ECONNREFUSED; a DNS server's REFUSED): the
//                 path to it works
//   kUnreachable  no route (ENETUNREACH, EHOSTUNREACH, an ICMP error): the path is broken
//   kReset        the peer reset the connection (ECONNRESET)
//   kTimeout      nothing answered in time while resolving or connecting: a black hole (a run
//                 that timed out after it connected has no cause: the target was reached)
//   kNxdomain     DNS: the name does not exist
//   kServfail     DNS: the server failed to answer for the name
//   kTls          the TLS handshake or the certificate failed
// kNone: the run did not fail on the way to its target, or the cause is not known (results
// stored before causes were recorded read as kNone).
enum class Cause { kNone, kRefused, kUnreachable, kReset, kTimeout, kNxdomain, kServfail, kTls };
enum class IpFamily { kAny, kV4, kV6 };
// Which redirects an http check follows: within its own host, to any host, or none. No redirect
// ever leads to a link-local or cloud metadata address unless the check's own target is there.
enum class Redirects { kSameHost, kAny, kNone };

std::string_view to_string(Kind kind);
std::string_view to_string(Outcome outcome);
std::string_view to_string(Stage stage);  // "" for kNone
std::string_view to_string(Cause cause);  // "" for kNone
std::optional<Kind> kind_from_string(std::string_view text);
std::optional<Stage> stage_from_string(std::string_view text);
std::optional<Cause> cause_from_string(std::string_view text);
// The cause an OS error number says: refused, unreachable, reset or timeout; kNone for others.
Cause cause_from_errno(int error);

// An inclusive range of acceptable HTTP status codes.
struct StatusRange {
  int lo = 200;
  int hi = 399;
  bool operator==(const StatusRange&) const = default;
};

struct HttpSpec {
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::vector<StatusRange> expect_status;  // empty: 200-399
  std::string body_contains;               // empty: not checked
  std::string body_regex;                  // RE2 syntax; empty: not checked
  std::string json_pointer;                // RFC 6901; empty: not checked
  std::optional<std::string>
      json_equals;  // the value at json_pointer, as JSON text or a bare string
  Redirects follow_redirects = Redirects::kSameHost;
  bool insecure = false;  // skip certificate verification
  std::string ca_file;    // PEM bundle to trust instead of the system store

  bool operator==(const HttpSpec&) const = default;
};

struct TcpSpec {
  std::string send;    // written after connecting; empty: nothing
  std::string expect;  // a substring the peer must send; empty: connecting is enough

  bool operator==(const TcpSpec&) const = default;
};

struct DnsSpec {
  std::string record_type = "A";  // A, AAAA, CNAME, MX, TXT, NS
  std::string resolver;           // "ip" or "ip:port" ("[v6]:port"); empty: the system's
  std::string expect;             // one answer must equal this; empty: any answer is enough

  bool operator==(const DnsSpec&) const = default;
};

struct IcmpSpec {
  int count = 3;                     // echo requests per run
  DurationUs interval_us = 200'000;  // between echo requests
  double degraded_loss_percent = 0;  // loss above this (but not 100%) is degraded
  int payload_bytes = 56;

  bool operator==(const IcmpSpec&) const = default;
};

struct TlsSpec {
  int expiry_degraded_days = 14;  // fewer days left than this: degraded
  std::string ca_file;            // PEM bundle to trust instead of the system store
  std::string server_name;        // SNI and host name to verify; empty: the target host

  bool operator==(const TlsSpec&) const = default;
};

// One probe definition. `parse_target` fills kind/host/port/url from a URL; the rest are options.
struct CheckSpec {
  Kind kind = Kind::kHttp;
  std::string target;  // as the user wrote it
  std::string url;     // http(s): the URL to fetch
  std::string host;    // name or address literal (no brackets)
  std::uint16_t port = 0;
  IpFamily family = IpFamily::kAny;
  DurationUs timeout_us = 10 * kSecondUs;
  DurationUs degraded_after_us = 0;  // a slower run is degraded; 0: no latency threshold
  HttpSpec http;
  TcpSpec tcp;
  DnsSpec dns;  // dns://resolver/name: `host` is the name to query
  IcmpSpec icmp;
  TlsSpec tls;

  bool operator==(const CheckSpec&) const = default;
};

// Durations of each stage reached, in microseconds; -1 when the stage was not reached or does
// not apply. They add up (with small gaps) to total_us.
struct Timings {
  DurationUs dns_us = -1;
  DurationUs connect_us = -1;
  DurationUs tls_us = -1;
  DurationUs first_byte_us = -1;  // request sent until the first response byte
  DurationUs total_us = 0;
};

struct ProbeResult {
  Outcome outcome = Outcome::kDown;
  Stage stage = Stage::kNone;  // set when outcome is not up (kNone for a degraded-by-latency run)
  Cause cause = Cause::kNone;  // why the target could not be reached, when that is known
  TimeUs started_us = 0;
  Timings timings;
  int http_status = 0;         // http: the final status code
  std::string answer;          // dns: answers joined by ", "; tcp: the start of the banner
  std::string error;           // why it is not up, in the library's words plus ours
  std::string remote_address;  // the address connected to or pinged
  // icmp
  int sent = 0;
  int received = 0;
  DurationUs rtt_min_us = -1;
  DurationUs rtt_avg_us = -1;
  DurationUs rtt_max_us = -1;
  // tls (and https when known)
  std::optional<int> cert_days_left;
  std::string cert_subject;
};

using ProbeCallback = std::function<void(ProbeResult)>;

// Parses a target URL: http(s)://host[:port]/path, tcp://host:port, dns://[resolver[:port]]/name
// (?type=MX), icmp://host, tls://host[:port]. Fills kind, target, url, host, port and for dns the
// resolver and record type. Errors name the problem, e.g. `unknown scheme "ftp"`.
Result<CheckSpec> parse_target(std::string_view target);

}  // namespace leeway::probe
