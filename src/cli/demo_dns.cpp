// Replies are built by hand: c-ares (the resolver leeway uses) builds queries, not answers, and
// an A record for a demo name is a few lines of RFC 1035 that need no library.
#include "cli/demo_dns.h"

#include <algorithm>
#include <cctype>

namespace leeway::cli {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

constexpr std::size_t kHeaderBytes = 12;
constexpr int kTypeA = 1;
constexpr int kClassIn = 1;
constexpr int kRcodeFormErr = 1;
constexpr int kRcodeNxDomain = 3;
constexpr std::uint32_t kTtlSeconds = 5;  // short, so a changed demo shows at once

int get16(std::string_view data, std::size_t at) {
  return (static_cast<unsigned char>(data[at]) << 8) | static_cast<unsigned char>(data[at + 1]);
}

void put16(std::string& out, int value) {
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

// The question's name in lower case, and where the question's type starts; false when the
// packet does not hold one uncompressed name.
bool read_name(std::string_view query, std::string& name, std::size_t& end) {
  std::size_t at = kHeaderBytes;
  while (at < query.size()) {
    auto length = static_cast<unsigned char>(query[at]);
    if (length == 0) {
      end = at + 1;
      return true;
    }
    if (length > 63 || at + 1 + length > query.size()) return false;  // compressed or cut off
    if (!name.empty()) name.push_back('.');
    for (std::size_t i = at + 1; i <= at + length; ++i)
      name.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(query[i]))));
    at += 1 + length;
  }
  return false;
}

}  // namespace

Result<std::pair<std::string, asio::ip::address_v4>> parse_dns_record(std::string_view text) {
  auto equals = text.find('=');
  if (equals == std::string_view::npos || equals == 0)
    return fail("expected NAME=IPV4, got \"", std::string(text), "\"");
  std::string name(text.substr(0, equals));
  if (name.back() == '.') name.pop_back();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  boost::system::error_code ec;
  auto address = asio::ip::make_address_v4(std::string(text.substr(equals + 1)), ec);
  if (ec) return fail("expected an IPv4 address after \"=\" in \"", std::string(text), "\"");
  return std::pair{name, address};
}

std::string dns_reply(std::string_view query, const DnsZone& zone) {
  if (query.size() < kHeaderBytes) return {};
  std::string name;
  std::size_t end = 0;
  bool one_question = get16(query, 4) == 1 && read_name(query, name, end) &&
                      end + 4 <= query.size() && (query[2] & 0x80) == 0;  // a query, not a reply
  std::string out(query.substr(0, 2));                                    // the id
  int rd = query[2] & 0x01;
  // QR, AA and the query's RD; RA is 0: this server answers for its own names only.
  out.push_back(static_cast<char>(0x84 | rd));
  if (!one_question) {
    out.push_back(static_cast<char>(kRcodeFormErr));
    out.append(8, '\0');  // no sections
    return out;
  }
  auto found = zone.find(name);
  int type = get16(query, end);
  bool answer = found != zone.end() && type == kTypeA && get16(query, end + 2) == kClassIn;
  out.push_back(static_cast<char>(found == zone.end() ? kRcodeNxDomain : 0));
  put16(out, 1);        // the question, echoed
  put16(out, answer);   // answers
  out.append(4, '\0');  // no authority or additional records
  out.append(query.substr(kHeaderBytes, end + 4 - kHeaderBytes));
  if (answer) {
    put16(out, 0xc000 | kHeaderBytes);  // the name: a pointer to the question's
    put16(out, kTypeA);
    put16(out, kClassIn);
    put16(out, static_cast<int>(kTtlSeconds >> 16));
    put16(out, static_cast<int>(kTtlSeconds & 0xffff));
    put16(out, 4);
    auto bytes = found->second.to_bytes();
    out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  }
  return out;
}

DemoDns::DemoDns(asio::io_context& io, const udp::endpoint& endpoint, DnsZone zone)
    : socket_(io, endpoint), zone_(std::move(zone)) {
  receive();
}

void DemoDns::receive() {
  socket_.async_receive_from(asio::buffer(in_), from_,
                             [this](boost::system::error_code ec, std::size_t n) {
                               if (ec == asio::error::operation_aborted) return;
                               if (!ec) {
                                 out_ = dns_reply(std::string_view(in_.data(), n), zone_);
                                 boost::system::error_code ignored;
                                 if (!out_.empty())
                                   socket_.send_to(asio::buffer(out_), from_, 0, ignored);
                               }
                               receive();
                             });
}

}  // namespace leeway::cli
