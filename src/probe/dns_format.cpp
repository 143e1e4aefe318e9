// How a DNS reply becomes text (see dns_format.h). Moved out of resolver.cpp and dns_prober.cpp
// unchanged, so fuzz/dns_fuzz.cpp tests the code that runs.
#include "probe/dns_format.h"

#include <ares.h>
#include <ares_dns.h>
#include <ares_nameser.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cctype>

namespace leeway::probe {

namespace {

std::string address_text(int family, const void* addr) {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, addr, text, sizeof text);
  return text;
}

// The names in the answer section of records of `type` with a domain-name RDATA (CNAME). c-ares
// 1.18 has no parser for a bare CNAME answer, so this walks the sections with ares_expand_name.
Result<std::vector<std::string>> parse_names(const unsigned char* abuf, int alen, int type) {
  if (alen < HFIXEDSZ) return fail("short DNS reply");
  const unsigned char* p = abuf + HFIXEDSZ;
  const unsigned char* end = abuf + alen;
  auto skip_name = [&]() -> bool {
    char* name = nullptr;
    long len = 0;
    if (ares_expand_name(p, abuf, alen, &name, &len) != ARES_SUCCESS) return false;
    ares_free_string(name);
    p += len;
    return p <= end;
  };
  for (int i = 0; i < DNS_HEADER_QDCOUNT(abuf); ++i) {
    if (!skip_name() || end - p < QFIXEDSZ) return fail("malformed DNS question");
    p += QFIXEDSZ;
  }
  std::vector<std::string> names;
  for (int i = 0; i < DNS_HEADER_ANCOUNT(abuf); ++i) {
    if (!skip_name() || end - p < RRFIXEDSZ) return fail("malformed DNS answer");
    int rr_type = DNS_RR_TYPE(p);
    int rr_len = DNS_RR_LEN(p);
    p += RRFIXEDSZ;
    if (end - p < rr_len) return fail("truncated DNS answer");
    if (rr_type == type) {
      char* name = nullptr;
      long len = 0;
      if (ares_expand_name(p, abuf, alen, &name, &len) != ARES_SUCCESS)
        return fail("malformed name in DNS answer");
      names.emplace_back(name);
      ares_free_string(name);
    }
    p += rr_len;
  }
  return names;
}

// Lower case, no trailing dot: how DNS names (and, harmlessly, other answers) are compared.
std::string comparable(std::string text) {
  if (!text.empty() && text.back() == '.') text.pop_back();
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string joined(const std::vector<std::string>& records) {
  std::string out;
  for (const auto& record : records) {
    if (!out.empty()) out += ", ";
    out += record;
  }
  return out;
}

}  // namespace

std::string rcode_name(int rcode) {
  switch (rcode) {
    case 0:
      return "NOERROR";
    case 1:
      return "FORMERR";
    case 2:
      return "SERVFAIL";
    case 3:
      return "NXDOMAIN";
    case 4:
      return "NOTIMP";
    case 5:
      return "REFUSED";
    default:
      return "RCODE" + std::to_string(rcode);
  }
}

int record_type_code(const std::string& type) {
  if (type == "A") return ns_t_a;
  if (type == "AAAA") return ns_t_aaaa;
  if (type == "CNAME") return ns_t_cname;
  if (type == "MX") return ns_t_mx;
  if (type == "TXT") return ns_t_txt;
  if (type == "NS") return ns_t_ns;
  return -1;
}

// Turns the answer section of a reply into text records for `type`.
Result<std::vector<std::string>> parse_records(const unsigned char* abuf, int alen, int type) {
  std::vector<std::string> records;
  switch (type) {
    case ns_t_a: {
      ares_addrttl addrs[64];
      int n = 64;
      int status = ares_parse_a_reply(abuf, alen, nullptr, addrs, &n);
      if (status == ARES_ENODATA) return records;
      if (status != ARES_SUCCESS) return fail("bad A reply: ", ares_strerror(status));
      for (int i = 0; i < n; ++i) records.push_back(address_text(AF_INET, &addrs[i].ipaddr));
      return records;
    }
    case ns_t_aaaa: {
      ares_addr6ttl addrs[64];
      int n = 64;
      int status = ares_parse_aaaa_reply(abuf, alen, nullptr, addrs, &n);
      if (status == ARES_ENODATA) return records;
      if (status != ARES_SUCCESS) return fail("bad AAAA reply: ", ares_strerror(status));
      for (int i = 0; i < n; ++i) records.push_back(address_text(AF_INET6, &addrs[i].ip6addr));
      return records;
    }
    case ns_t_mx: {
      ares_mx_reply* mx = nullptr;
      int status = ares_parse_mx_reply(abuf, alen, &mx);
      if (status == ARES_ENODATA) return records;
      if (status != ARES_SUCCESS) return fail("bad MX reply: ", ares_strerror(status));
      for (auto* r = mx; r; r = r->next)
        records.push_back(std::to_string(r->priority) + " " + r->host);
      ares_free_data(mx);
      return records;
    }
    case ns_t_txt: {
      ares_txt_ext* txt = nullptr;
      int status = ares_parse_txt_reply_ext(abuf, alen, &txt);
      if (status == ARES_ENODATA) return records;
      if (status != ARES_SUCCESS) return fail("bad TXT reply: ", ares_strerror(status));
      // A record of several <character-string>s reads as their concatenation.
      for (auto* r = txt; r; r = r->next) {
        std::string chunk(reinterpret_cast<const char*>(r->txt), r->length);
        if (r->record_start || records.empty())
          records.push_back(std::move(chunk));
        else
          records.back() += chunk;
      }
      ares_free_data(txt);
      return records;
    }
    case ns_t_ns: {
      hostent* host = nullptr;
      int status = ares_parse_ns_reply(abuf, alen, &host);
      if (status == ARES_ENODATA) return records;
      if (status != ARES_SUCCESS) return fail("bad NS reply: ", ares_strerror(status));
      for (char** alias = host->h_aliases; alias && *alias; ++alias) records.emplace_back(*alias);
      ares_free_hostent(host);
      return records;
    }
    case ns_t_cname:
      return parse_names(abuf, alen, ns_t_cname);
  }
  return fail("unsupported record type");
}

ProbeResult judge_dns_answer(const CheckSpec& spec, const DnsAnswer& answer) {
  ProbeResult result;
  result.answer = joined(answer.records);
  std::string what = spec.dns.record_type + " " + spec.host;
  if (answer.rcode != "NOERROR") {
    result.stage = Stage::kDns;
    result.error = what + ": " + answer.rcode;
    result.cause = answer.rcode == "NXDOMAIN"   ? Cause::kNxdomain
                   : answer.rcode == "SERVFAIL" ? Cause::kServfail
                   : answer.rcode == "REFUSED"  ? Cause::kRefused
                                                : Cause::kNone;
    return result;
  }
  if (answer.records.empty()) {
    result.stage = Stage::kDns;
    result.error = what + ": no answer";
    return result;
  }
  if (!spec.dns.expect.empty()) {
    auto wanted = comparable(spec.dns.expect);
    bool seen = std::any_of(answer.records.begin(), answer.records.end(),
                            [&](const std::string& r) { return comparable(r) == wanted; });
    if (!seen) {
      result.stage = Stage::kDns;
      result.error = what + ": expected \"" + spec.dns.expect + "\", got " + result.answer;
      return result;
    }
  }
  result.outcome = Outcome::kUp;
  return result;
}

}  // namespace leeway::probe
