// How a DNS reply becomes text: the resolver's reading of the answer section and the dns prober's
// verdict on it, as pure functions so a fuzzer can feed them any reply. Internal to the probe
// module. The text is what the peer sent (a TXT string may hold any bytes); the engine makes
// every result valid UTF-8 and the CLI escapes it for a terminal (core/text.h).
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "probe/probe.h"

namespace leeway::probe {

// The records of one DNS answer, each as text: an address, a name, "10 mx.example.com", a TXT
// string. `rcode` is the response code name ("NOERROR", "NXDOMAIN", ...).
struct DnsAnswer {
  std::vector<std::string> records;
  std::string rcode;
};

// The response code's name: "NOERROR", "NXDOMAIN", ..., "RCODE<n>" for the others.
std::string rcode_name(int rcode);

// The query type for "A", "AAAA", "CNAME", "MX", "TXT" or "NS"; -1 for any other.
int record_type_code(const std::string& type);

// The answer section of the reply `abuf` (`alen` bytes) as text records of `type` (a code from
// record_type_code): empty when there are none, an error when the reply is malformed. Reads only
// within the `alen` bytes, whatever they hold.
Result<std::vector<std::string>> parse_records(const unsigned char* abuf, int alen, int type);

// A dns check's result from its answer: up when the response code is NOERROR and there is a
// record (the expected one, when spec.dns.expect is set), else down at the dns stage with an
// error naming the query (and the cause an NXDOMAIN, SERVFAIL or REFUSED answer says). `answer`
// holds the records joined by ", ".
ProbeResult judge_dns_answer(const CheckSpec& spec, const DnsAnswer& answer);

}  // namespace leeway::probe
