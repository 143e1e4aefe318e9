// A small real DNS responder on a loopback UDP port for resolver and dns-probe tests: it answers
// from records the test gives it, or with NXDOMAIN / SERVFAIL, or not at all.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "support/peers.h"

namespace leeway::testing {

namespace detail {
class DnsLoop;
}

class DnsServer {
 public:
  // What the server does with a query for a name (or with every query, see set_default).
  enum class Mode { kAnswer, kNxdomain, kServfail, kSilent };

  // Starts listening on `where` at an ephemeral UDP port, on its own thread.
  explicit DnsServer(Loopback where = Loopback::kV4);
  ~DnsServer();
  DnsServer(const DnsServer&) = delete;
  DnsServer& operator=(const DnsServer&) = delete;

  std::uint16_t port() const { return port_; }
  // "127.0.0.1:port" or "[::1]:port", as Resolver and dns:// targets take it.
  std::string address() const;

  // Adds a record. `type` is A, AAAA, CNAME, MX, TXT or NS; `value` is the address, the target
  // name, "pref host" for MX, or the text for TXT. Names compare case-insensitively, without a
  // trailing dot. Queries for other types of a known name get an empty NOERROR answer; a CNAME
  // is followed one step for other types, as a recursive server would.
  void add(const std::string& name, const std::string& type, const std::string& value);
  // How to answer queries for `name`, whatever its records.
  void set_mode(const std::string& name, Mode mode);
  // How to answer names with no records and no mode of their own (default: kNxdomain).
  void set_default(Mode mode);

  // Queries received so far (answered or not).
  int queries() const { return queries_.load(); }

 private:
  friend class detail::DnsLoop;
  struct Record {
    std::string type;
    std::string value;
  };
  // Builds the reply to `query` (nothing when silent). Called on the server's thread.
  std::string respond(const std::string& query);

  std::mutex mutex_;
  std::map<std::string, std::vector<Record>> records_;
  std::map<std::string, Mode> modes_;
  Mode default_mode_ = Mode::kNxdomain;
  Loopback where_;
  std::uint16_t port_ = 0;
  std::atomic<int> queries_{0};
  std::unique_ptr<detail::DnsLoop> loop_;
};

}  // namespace leeway::testing
