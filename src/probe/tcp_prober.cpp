// The tcp prober: resolve, connect, optionally send, and read until the expected text arrives,
// all under one deadline that names the step it ran out in.
#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <utility>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "probe/connect.h"
#include "probe/probers.h"

namespace leeway::probe {

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

// The most received data kept while looking for `expect`; a peer that streams more without it
// fails rather than growing memory.
constexpr std::size_t kMaxReceivedBytes = 64 * 1024;
constexpr std::size_t kAnswerBytes = 200;
// The start of what the peer sent, fit for a log line: non-printable bytes become '.', and the
// line ending of a one-line banner is dropped.
std::string printable_start(const std::string& data) {
  std::string out = data.substr(0, kAnswerBytes);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  for (auto& c : out)
    if (c < 0x20 || c > 0x7e) c = '.';
  return out;
}

struct Run : std::enable_shared_from_this<Run> {
  Run(asio::io_context& io, const CheckSpec& spec, ProbeCallback done)
      : spec(spec), socket(io), deadline(io), done(std::move(done)) {}

  CheckSpec spec;
  tcp::socket socket;
  asio::steady_timer deadline;
  ProbeCallback done;
  ProbeResult result;
  bool finished = false;
  const char* step = "dns";  // for the timeout message
  SteadyClock::time_point step_started = SteadyClock::now();
  std::string received;
  std::array<char, 4096> buffer;

  void finish(Outcome outcome, Stage stage, std::string error) {
    if (finished) return;
    finished = true;
    deadline.cancel();
    boost::system::error_code ignored;
    socket.close(ignored);
    result.outcome = outcome;
    result.stage = stage;
    result.error = std::move(error);
    if (!received.empty()) result.answer = printable_start(received);
    done(std::move(result));
  }

  void start(Resolver& resolver) {
    deadline.expires_after(std::chrono::microseconds(spec.timeout_us));
    deadline.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec) return;
      self->on_deadline();
    });
    resolve_and_connect(shared_from_this(), resolver, socket, &Run::send);
  }

  void on_deadline() {
    // Before the connection was made, nothing answered: a black hole.
    if (std::string_view(step) == "dns" || std::string_view(step) == "connect")
      result.cause = Cause::kTimeout;
    std::string error = "timed out after " + format_duration(spec.timeout_us) + " during " + step;
    if (std::string_view(step) == "read")
      error += ": \"" + spec.tcp.expect + "\" not seen in " + std::to_string(received.size()) +
               " bytes received";
    finish(Outcome::kDown, Stage::kTimeout, std::move(error));
  }

  void send() {
    step_started = SteadyClock::now();
    if (spec.tcp.send.empty()) return read();
    step = "send";
    asio::async_write(socket, asio::buffer(spec.tcp.send),
                      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                        if (self->finished) return;
                        if (ec) {
                          self->result.cause = connect_cause(ec);
                          return self->finish(Outcome::kDown, Stage::kSend,
                                              "send: " + ec.message());
                        }
                        self->step_started = SteadyClock::now();
                        self->read();
                      });
  }

  void read() {
    if (spec.tcp.expect.empty()) return finish(Outcome::kUp, Stage::kNone, "");
    step = "read";
    socket.async_read_some(asio::buffer(buffer), [self = shared_from_this()](
                                                     boost::system::error_code ec, std::size_t n) {
      if (self->finished) return;
      self->on_read(ec, n);
    });
  }

  void on_read(boost::system::error_code ec, std::size_t n) {
    if (n > 0 && result.timings.first_byte_us < 0)
      result.timings.first_byte_us = since(step_started);
    received.append(buffer.data(), n);
    if (received.find(spec.tcp.expect) != std::string::npos)
      return finish(Outcome::kUp, Stage::kNone, "");
    if (ec == asio::error::eof)
      return finish(Outcome::kDown, Stage::kBody,
                    "connection closed after " + std::to_string(received.size()) +
                        " bytes without \"" + spec.tcp.expect + "\"");
    if (ec) result.cause = connect_cause(ec);
    if (ec)
      return finish(Outcome::kDown, Stage::kBody,
                    "read after " + std::to_string(received.size()) + " bytes: " + ec.message());
    if (received.size() > kMaxReceivedBytes)
      return finish(Outcome::kDown, Stage::kBody,
                    "\"" + spec.tcp.expect + "\" not seen in the first " +
                        std::to_string(received.size()) + " bytes");
    read();
  }
};

class TcpProber final : public Prober {
 public:
  explicit TcpProber(ProbeContext& ctx) : ctx_(ctx) {}

  void start(const CheckSpec& spec, ProbeCallback done) override {
    std::make_shared<Run>(ctx_.io, spec, std::move(done))->start(ctx_.resolver);
  }

 private:
  ProbeContext& ctx_;
};

}  // namespace

std::unique_ptr<Prober> make_tcp_prober(ProbeContext& ctx) {
  return std::make_unique<TcpProber>(ctx);
}

}  // namespace leeway::probe
