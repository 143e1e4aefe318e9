// parse_target: a check URL into a CheckSpec. libcurl's URL parser does the RFC 3986 work
// (brackets, ports, percent-encoding); this file only maps schemes to check kinds. And the same
// target as it may be shown (probe/target.h).
#include <curl/curl.h>

#include <charconv>
#include <memory>

#include "probe/target.h"
#include "probe/types.h"

namespace leeway::probe {

namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};

// Reads one part of a parsed URL; "" when absent.
std::string url_part(CURLU* u, CURLUPart part, unsigned flags = 0) {
  char* out = nullptr;
  if (curl_url_get(u, part, &out, flags) != CURLUE_OK || out == nullptr) return "";
  std::string value(out);
  curl_free(out);
  return value;
}

// Finds `key` in a query string "a=1&b=2".
std::string query_value(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == key)
      return eq == std::string_view::npos ? "" : std::string(pair.substr(eq + 1));
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return "";
}

std::string strip_brackets(std::string host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    return host.substr(1, host.size() - 2);
  return host;
}

}  // namespace

Result<CheckSpec> parse_target(std::string_view target) {
  std::string text(target);
  if (text.empty()) return fail("empty target: expected a URL such as https://example.com/");
  auto scheme_end = text.find("://");
  if (scheme_end == std::string::npos)
    return fail("target \"", text,
                "\" has no scheme: expected http://, https://, tcp://, dns://, icmp:// or tls://");
  std::string scheme = text.substr(0, scheme_end);
  for (auto& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));

  CheckSpec spec;
  spec.target = text;
  std::uint16_t default_port = 0;
  if (scheme == "http" || scheme == "https") {
    spec.kind = Kind::kHttp;
    default_port = scheme == "http" ? 80 : 443;
  } else if (scheme == "tcp") {
    spec.kind = Kind::kTcp;
  } else if (scheme == "dns") {
    spec.kind = Kind::kDns;
    default_port = 53;
  } else if (scheme == "icmp") {
    spec.kind = Kind::kIcmp;
  } else if (scheme == "tls") {
    spec.kind = Kind::kTls;
    default_port = 443;
  } else {
    return fail("unknown scheme \"", scheme, "\" in \"", text,
                "\": expected http, https, tcp, dns, icmp or tls");
  }

  // dns:///name (no resolver: the system's) has an empty authority, which libcurl's parser reads
  // differently across versions; give it a placeholder resolver and drop it again below.
  bool system_resolver = spec.kind == Kind::kDns && text.compare(scheme_end, 4, ":///") == 0;
  std::string parse_text = text;
  if (system_resolver) parse_text.insert(scheme_end + 3, "0.0.0.0");

  std::unique_ptr<CURLU, UrlDeleter> u(curl_url());
  unsigned flags = CURLU_NON_SUPPORT_SCHEME;
  if (CURLUcode rc = curl_url_set(u.get(), CURLUPART_URL, parse_text.c_str(), flags);
      rc != CURLUE_OK)
    return fail("malformed URL \"", text, "\": ", curl_url_strerror(rc));

  std::string host = system_resolver ? "" : strip_brackets(url_part(u.get(), CURLUPART_HOST));
  std::string port_text = url_part(u.get(), CURLUPART_PORT);
  std::uint16_t port = default_port;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || value == 0 ||
        value > 65535)
      return fail("bad port \"", port_text, "\" in \"", text, "\": expected 1-65535");
    port = static_cast<std::uint16_t>(value);
  }

  if (spec.kind == Kind::kDns) {
    // dns://resolver[:port]/name?type=MX: the authority is the resolver, the path the name.
    std::string path = url_part(u.get(), CURLUPART_PATH, CURLU_URLDECODE);
    while (!path.empty() && path.front() == '/') path.erase(0, 1);
    if (path.empty())
      return fail("dns target \"", text,
                  "\" names no host to look up: expected dns://[resolver]/name");
    spec.host = path;
    if (!host.empty()) {
      bool v6 = host.find(':') != std::string::npos;
      spec.dns.resolver = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
    }
    spec.port = port;
    std::string type = query_value(url_part(u.get(), CURLUPART_QUERY), "type");
    if (!type.empty()) {
      for (auto& c : type) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      static const std::string_view kTypes[] = {"A", "AAAA", "CNAME", "MX", "TXT", "NS"};
      if (std::find(std::begin(kTypes), std::end(kTypes), type) == std::end(kTypes))
        return fail("unsupported DNS record type \"", type,
                    "\": expected A, AAAA, CNAME, MX, TXT or NS");
      spec.dns.record_type = type;
    }
    return spec;
  }

  if (host.empty()) return fail("target \"", text, "\" has no host");
  spec.host = host;
  if (spec.kind == Kind::kTcp && port == 0)
    return fail("tcp target \"", text, "\" needs a port: tcp://host:port");
  spec.port = port;
  if (spec.kind == Kind::kHttp) spec.url = url_part(u.get(), CURLUPART_URL);
  return spec;
}

std::string redact_credentials(std::string_view target) {
  auto scheme_end = target.find("://");
  if (scheme_end == std::string_view::npos) return std::string(target);
  std::size_t start = scheme_end + 3;
  std::string_view authority = target.substr(start, target.find_first_of("/?#", start) - start);
  auto at = authority.rfind('@');  // the last: what a URL parser takes for the host follows it
  if (at == std::string_view::npos) return std::string(target);
  auto colon = authority.substr(0, at).find(':');
  std::string shown(target.substr(0, start));
  if (colon != std::string_view::npos) shown.append(authority.substr(0, colon + 1));
  shown += "***";
  shown.append(target.substr(start + at));
  return shown;
}

}  // namespace leeway::probe
