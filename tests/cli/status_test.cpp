// `leeway status` against servers that are not a leeway daemon: a reply that never ends, an
// error page with escape sequences. The real daemon's side is in tests/daemon/serve_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include "support/process.h"

namespace leeway::testing {
namespace {

using ::testing::HasSubstr;

// Answers every connection on 127.0.0.1 with `head`, then `chunk` again and again while
// `endless` (until the client goes away), one connection at a time.
class RawHttpPeer {
 public:
  RawHttpPeer(std::string head, std::string chunk, bool endless)
      : head_(std::move(head)), chunk_(std::move(chunk)), endless_(endless) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), len) != 0 || ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
      throw std::runtime_error("cannot listen on loopback");
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~RawHttpPeer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  void serve() {
    while (!stop_) {
      int client = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) return;
      char request[4096];
      (void)::recv(client, request, sizeof request, 0);
      bool ok = ::send(client, head_.data(), head_.size(), MSG_NOSIGNAL) > 0;
      do {
        ok = ok && ::send(client, chunk_.data(), chunk_.size(), MSG_NOSIGNAL) > 0;
      } while (ok && endless_ && !stop_);
      ::close(client);
    }
  }

  std::string head_, chunk_;
  bool endless_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

ProcessResult leeway(std::vector<std::string> args) {
  args.insert(args.begin(), LEEWAY_BINARY);
  return run_process(args);
}

TEST(StatusCommand, AnEndlessReplyIsCutOffWithAClearError) {
  RawHttpPeer peer("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"checks\":[",
                   std::string(64 << 10, ' '), /*endless=*/true);
  ProcessResult r = leeway({"status", "--server", peer.url()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err, "leeway status: " + peer.url() +
                       "/api/v1/checks sent more than 64 MiB; stopped reading\n");
}

TEST(StatusCommand, AnErrorPageCannotWriteToTheTerminal) {
  RawHttpPeer peer("HTTP/1.1 500 Oops\r\nConnection: close\r\n\r\n", "\x1b[2J\r\nUP fake",
                   /*endless=*/false);
  ProcessResult r = leeway({"status", "--server", peer.url()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.err, "leeway status: " + peer.url() +
                       "/api/v1/checks answered HTTP 500: \\x1b[2J\\x0d\\x0aUP fake\n");
}

TEST(StatusCommand, AnswersShapedOtherwiseAreNotLeeway) {
  RawHttpPeer peer("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", R"({"checks":[{"id":42}]})",
                   /*endless=*/false);
  ProcessResult r = leeway({"status", "--server", peer.url()});
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_THAT(r.err, HasSubstr("did not answer like a leeway daemon"));
}

}  // namespace
}  // namespace leeway::testing
