// The test DNS responder. Replies are built by hand here: this is test code, it needs only the
// few record types the probes ask for, and a hand-built packet shows exactly what is on the wire.
#include "support/dns_server.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

namespace leeway::testing {

namespace asio = boost::asio;
using asio::ip::udp;

namespace {

constexpr std::size_t kHeaderBytes = 12;

int type_code(const std::string& type) {
  static const std::map<std::string, int> kCodes = {{"A", 1},   {"NS", 2},   {"CNAME", 5},
                                                    {"MX", 15}, {"TXT", 16}, {"AAAA", 28}};
  auto it = kCodes.find(type);
  return it == kCodes.end() ? -1 : it->second;
}

std::string normalise(std::string name) {
  if (!name.empty() && name.back() == '.') name.pop_back();
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
}

void put16(std::string& out, int value) {
  out.push_back(static_cast<char>((value >> 8) & 0xff));
  out.push_back(static_cast<char>(value & 0xff));
}

// A name as uncompressed labels.
void put_name(std::string& out, const std::string& name) {
  std::size_t start = 0;
  while (start < name.size()) {
    auto dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    out.push_back(static_cast<char>(dot - start));
    out.append(name, start, dot - start);
    start = dot + 1;
  }
  out.push_back('\0');
}

std::string rdata(const std::string& type, const std::string& value) {
  std::string out;
  if (type == "A" || type == "AAAA") {
    auto address = asio::ip::make_address(value);
    if (type == "A") {
      auto bytes = address.to_v4().to_bytes();
      out.assign(bytes.begin(), bytes.end());
    } else {
      auto bytes = address.to_v6().to_bytes();
      out.assign(bytes.begin(), bytes.end());
    }
  } else if (type == "CNAME" || type == "NS") {
    put_name(out, normalise(value));
  } else if (type == "MX") {
    auto space = value.find(' ');
    put16(out, std::stoi(value.substr(0, space)));
    put_name(out, normalise(value.substr(space + 1)));
  } else if (type == "TXT") {
    // <character-string>s of at most 255 bytes each.
    for (std::size_t at = 0; at == 0 || at < value.size(); at += 255) {
      auto chunk = value.substr(at, 255);
      out.push_back(static_cast<char>(chunk.size()));
      out += chunk;
    }
  }
  return out;
}

void put_record(std::string& out, const std::string& owner, const std::string& type,
                const std::string& value) {
  put_name(out, owner);
  put16(out, type_code(type));
  put16(out, 1);  // class IN
  put16(out, 0);  // TTL, high half
  put16(out, 60);
  auto data = rdata(type, value);
  put16(out, static_cast<int>(data.size()));
  out += data;
}

}  // namespace

namespace detail {

// The UDP socket and the thread that serves it.
class DnsLoop {
 public:
  DnsLoop(DnsServer& server, Loopback where)
      : server_(server),
        socket_(io_, udp::endpoint(asio::ip::make_address(loopback_address(where)), 0)) {
    receive();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~DnsLoop() {
    io_.stop();
    thread_.join();
  }
  std::uint16_t port() const { return socket_.local_endpoint().port(); }

 private:
  void receive() {
    socket_.async_receive_from(asio::buffer(in_), from_,
                               [this](boost::system::error_code ec, std::size_t n) {
                                 if (ec == asio::error::operation_aborted) return;
                                 if (!ec) {
                                   ++server_.queries_;
                                   out_ = server_.respond(std::string(in_.data(), n));
                                   if (!out_.empty()) {
                                     boost::system::error_code ignored;
                                     socket_.send_to(asio::buffer(out_), from_, 0, ignored);
                                   }
                                 }
                                 receive();
                               });
  }

  DnsServer& server_;
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_ = asio::make_work_guard(io_);
  udp::socket socket_;
  udp::endpoint from_;
  std::array<char, 1500> in_;
  std::string out_;
  std::thread thread_;
};

}  // namespace detail

DnsServer::DnsServer(Loopback where) : where_(where) {
  loop_ = std::make_unique<detail::DnsLoop>(*this, where);
  port_ = loop_->port();
}

DnsServer::~DnsServer() = default;

std::string DnsServer::address() const {
  return where_ == Loopback::kV4 ? "127.0.0.1:" + std::to_string(port_)
                                 : "[::1]:" + std::to_string(port_);
}

void DnsServer::add(const std::string& name, const std::string& type, const std::string& value) {
  if (type_code(type) < 0) throw std::invalid_argument("DnsServer: unsupported type " + type);
  std::lock_guard lock(mutex_);
  records_[normalise(name)].push_back({type, value});
}

void DnsServer::set_mode(const std::string& name, Mode mode) {
  std::lock_guard lock(mutex_);
  modes_[normalise(name)] = mode;
}

void DnsServer::set_default(Mode mode) {
  std::lock_guard lock(mutex_);
  default_mode_ = mode;
}

std::string DnsServer::respond(const std::string& query) {
  if (query.size() < kHeaderBytes) return "";
  // The question: labels, then type and class.
  std::string qname;
  std::size_t at = kHeaderBytes;
  while (at < query.size() && query[at] != 0) {
    auto len = static_cast<unsigned char>(query[at]);
    if (len > 63 || at + 1 + len > query.size()) return "";
    if (!qname.empty()) qname += '.';
    qname.append(query, at + 1, len);
    at += 1 + len;
  }
  if (at + 5 > query.size()) return "";
  std::size_t question_end = at + 5;
  int qtype =
      (static_cast<unsigned char>(query[at + 1]) << 8) | static_cast<unsigned char>(query[at + 2]);
  qname = normalise(qname);

  std::lock_guard lock(mutex_);
  auto found = records_.find(qname);
  Mode mode = default_mode_;
  if (auto m = modes_.find(qname); m != modes_.end())
    mode = m->second;
  else if (found != records_.end())
    mode = Mode::kAnswer;
  if (mode == Mode::kSilent) return "";

  std::string answers;
  int count = 0;
  auto add_matching = [&](const std::string& owner) {
    auto it = records_.find(owner);
    if (it == records_.end()) return;
    for (const auto& record : it->second) {
      if (type_code(record.type) != qtype) continue;
      put_record(answers, owner, record.type, record.value);
      ++count;
    }
  };
  int rcode = mode == Mode::kNxdomain ? 3 : mode == Mode::kServfail ? 2 : 0;
  if (mode == Mode::kAnswer && found != records_.end()) {
    add_matching(qname);
    if (count == 0 && qtype != type_code("CNAME")) {
      for (const auto& record : found->second) {
        if (record.type != "CNAME") continue;
        put_record(answers, qname, "CNAME", record.value);
        ++count;
        add_matching(normalise(record.value));
        break;
      }
    }
  }

  std::string reply;
  reply.append(query, 0, 2);  // id
  auto rd = static_cast<unsigned char>(query[2]) & 0x01;
  reply.push_back(static_cast<char>(0x84 | rd));     // QR, AA, RD as asked
  reply.push_back(static_cast<char>(0x80 | rcode));  // RA, rcode
  put16(reply, 1);
  put16(reply, count);
  put16(reply, 0);
  put16(reply, 0);
  reply.append(query, kHeaderBytes, question_end - kHeaderBytes);
  reply += answers;
  return reply;
}

}  // namespace leeway::testing
