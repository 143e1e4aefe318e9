// The demo target's authoritative DNS: answers A queries for the names it is given and NXDOMAIN
// for every other name, so a test bed (scripts/testbed.sh) can give its service a name of its own
// and then stop the name server to show a DNS failure.
#pragma once

#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>
#include <map>
#include <string>
#include <string_view>

#include "core/result.h"

namespace leeway::cli {

// Name (lower case, without the trailing dot) -> IPv4 address.
using DnsZone = std::map<std::string, boost::asio::ip::address_v4>;

// Parses "NAME=IPV4", e.g. "shop.test=10.99.0.1".
Result<std::pair<std::string, boost::asio::ip::address_v4>> parse_dns_record(std::string_view text);

// The reply to one query packet: the answer, NXDOMAIN, FORMERR for a packet that is not one
// plain question, or nothing for a packet too short to answer.
std::string dns_reply(std::string_view query, const DnsZone& zone);

// Serves `zone` on a UDP endpoint of `io` until the io_context stops.
class DemoDns {
 public:
  DemoDns(boost::asio::io_context& io, const boost::asio::ip::udp::endpoint& endpoint,
          DnsZone zone);

 private:
  void receive();

  boost::asio::ip::udp::socket socket_;
  boost::asio::ip::udp::endpoint from_;
  std::array<char, 512> in_{};
  std::string out_;
  DnsZone zone_;
};

}  // namespace leeway::cli
