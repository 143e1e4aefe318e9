#include "http/server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <atomic>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "support/http_client.h"
#include "support/process.h"

namespace leeway::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::wait_until;
using tcp = boost::asio::ip::tcp;

// A server on a free loopback port, its loop on a thread of its own.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Route> routes = {
        {"GET", "/healthz", [](const Request&) { return Response::text("ok\n"); }},
        {"GET", "/api/v1/checks/{id}/results",
         [](const Request& r) {
           return Response::json(
               {{"id", r.params.at(0)}, {"from", r.query.count("from") ? r.query.at("from") : ""}});
         }},
        {"POST", "/api/v1/reload",
         [](const Request& r) {
           return Response::json({{"body", r.body}});
         }},
        {"GET", "/headers",
         [](const Request& r) {
           return Response::json({{"etag", r.header("If-None-Match")},
                                  {"via", r.header("via")},
                                  {"missing", r.header("X-Missing")}});
         }},
        {"GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("kaput"); }},
        // A body in `n` pieces ("piece 0\n" ...; the third one empty), or cut off at the
        // third when `boom` is set.
        {"GET", "/pieces",
         [](const Request& r) {
           Response response = Response::text("");
           const int n = std::stoi(r.query.at("n"));
           const bool boom = r.query.count("boom") > 0;
           response.pieces = [next = 0, n, boom](std::string& out) mutable {
             if (next == 2 && boom) throw std::runtime_error("kaput");
             if (next != 2) out += "piece " + std::to_string(next) + "\n";
             return ++next < n;
           };
           return response;
         }},
        {"GET", "/boom-int", [](const Request&) -> Response { throw 42; }},
        {"GET", "/latin1",
         [](const Request&) {
           return Response::json({{"name", "caf\xe9"}});
         }},
        {"POST", "/write",
         [](const Request& r) {
           return Response::json({{"caller", r.caller}, {"body", r.body}});
         },
         Access::kWrite},
    };
    server_ = std::make_unique<Server>(io_, std::move(routes));
    auto port = server_->listen("127.0.0.1:0");
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    thread_ = std::thread([this] { io_.run(); });
  }

  void TearDown() override {
    boost::asio::post(io_, [this] { server_->stop(); });
    io_.stop();
    thread_.join();
  }

  bhttp::response<bhttp::string_body> call(const std::string& method, const std::string& target,
                                           const std::string& body = "") {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port_));
    bhttp::request<bhttp::string_body> req{bhttp::string_to_verb(method), target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    req.body() = body;
    req.prepare_payload();
    bhttp::write(stream, req);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(stream, buffer, res);
    return res;
  }

  boost::asio::io_context io_;
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::thread thread_;
};

TEST_F(ServerTest, RoutesByMethodAndPath) {
  auto res = call("GET", "/healthz");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "ok\n");
  EXPECT_EQ(res[bhttp::field::content_type], "text/plain; charset=utf-8");
  res = call("POST", "/api/v1/reload", "please");
  EXPECT_EQ(res.body(), R"({"body":"please"})");
}

TEST_F(ServerTest, DecodesPathParamsAndQuery) {
  auto res = call("GET", "/api/v1/checks/shop-web%2Fhome/results?from=2026-11-01T00%3A00%3A00Z");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"from":"2026-11-01T00:00:00Z","id":"shop-web/home"})");
}

TEST_F(ServerTest, HandlersSeeTheHeadersByNameInAnyCase) {
  leeway::testing::HttpReply res = leeway::testing::http_request(
      port_, "GET", "/headers", "", {{"If-None-Match", "\"v7\""}, {"VIA", "a"}});
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(res.body, R"({"etag":"\"v7\"","missing":"","via":"a"})");
}

TEST_F(ServerTest, ErrorsAreJsonWithTheRightStatus) {
  auto res = call("GET", "/nope");
  EXPECT_EQ(res.result_int(), 404);
  EXPECT_EQ(res.body(), R"({"error":"no such endpoint: /nope"})");
  res = call("DELETE", "/healthz");
  EXPECT_EQ(res.result_int(), 405);
  EXPECT_EQ(res.body(), R"({"error":"method DELETE not allowed on /healthz"})");
  res = call("GET", "/boom");
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_EQ(res.body(), R"({"error":"internal error: kaput"})");
}

// Sends `bytes` as they are on a new connection and returns everything the server sends until it
// closes the connection (or is silent for 10 s): for requests no HTTP client would send.
std::string raw_exchange(std::uint16_t port, const std::string& bytes) {
  boost::asio::io_context io;
  tcp::socket socket(io);
  socket.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  timeval timeout{10, 0};
  ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  beast::error_code ec;
  boost::asio::write(socket, boost::asio::buffer(bytes), ec);  // the server may refuse early
  std::string reply;
  char chunk[4096];
  ssize_t n = 0;  // plain recv(): Asio's blocking reads would wait past the timeout
  while ((n = ::recv(socket.native_handle(), chunk, sizeof chunk, 0)) > 0) reply.append(chunk, n);
  return reply;
}

// Issue 12, item 1: the 404 quoted a path of raw bytes, rendering it threw, and the exception
// left the event loop: one request killed the daemon.
TEST_F(ServerTest, RawBytesInThePathAreAnsweredAndTheServerLives) {
  std::string reply =
      raw_exchange(port_, "GET /\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 404 "));
  EXPECT_THAT(reply, EndsWith("{\"error\":\"no such endpoint: /\xef\xbf\xbd\"}"));
  reply = raw_exchange(port_, "PUT /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 405 "));
  reply = raw_exchange(port_,
                       "PUT /api/v1/checks/\xff\xfe/results HTTP/1.1\r\nHost: x\r\n"
                       "Connection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 405 "));
  EXPECT_THAT(reply, HasSubstr("/api/v1/checks/\xef\xbf\xbd\xef\xbf\xbd/results"));
  EXPECT_EQ(call("GET", "/healthz").result_int(), 200);
}

// Issue 12, item 6: decoded bytes that are not UTF-8 were a 500 (rendering failed); they are the
// client's error, named.
TEST_F(ServerTest, ParametersThatAreNotUtf8AreA400NamingThem) {
  auto res = call("GET", "/api/v1/checks/%FF%FE/results");
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(res.body(), R"({"error":"id: not valid UTF-8 once percent-decoded"})");
  res = call("GET", "/api/v1/checks/web/results?from=%C0%AF");  // an overlong '/'
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(res.body(), R"({"error":"from: not valid UTF-8 once percent-decoded"})");
  res = call("GET", "/api/v1/checks/web/results?%ED%A0%80=1");  // a surrogate
  EXPECT_EQ(res.result_int(), 400);
  EXPECT_EQ(res.body(),
            R"({"error":"a query parameter's name is not valid UTF-8 once percent-decoded"})");
  res = call("GET", "/api/v1/checks/caf%C3%A9%F0%9F%99%82/results");
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), R"({"from":"","id":"café🙂"})");
}

// Issue 12, item 12: a request that breaks HTTP got a silent close.
TEST_F(ServerTest, ProtocolErrorsAreAnsweredThenClosed) {
  auto status_line = [&](const std::string& bytes) {
    std::string reply = raw_exchange(port_, bytes);
    return reply.substr(0, reply.find("\r\n"));
  };
  EXPECT_EQ(status_line("GET /healthz HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");
  EXPECT_EQ(status_line("\x16\x03\x01\x02\x01\x01\xfc\x03\x03\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");  // a TLS hello
  EXPECT_EQ(status_line("GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n"),
            "HTTP/1.1 400 Bad Request");
  std::string long_path = "/" + std::string(9000, 'a');
  EXPECT_EQ(status_line("GET " + long_path + " HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 414 URI Too Long");
  long_path = "/" + std::string(40000, 'a');
  EXPECT_EQ(status_line("GET " + long_path + " HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 414 URI Too Long");
  EXPECT_EQ(status_line("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(40000, 'b') +
                        "\r\n\r\n"),
            "HTTP/1.1 431 Request Header Fields Too Large");
  std::string reply =
      raw_exchange(port_, "GET /healthz HTTP/1.1\r\nX: " + std::string(20000, 'b') + "\r\n\r\n");
  EXPECT_THAT(reply, EndsWith(R"({"error":"request header over 16 KiB"})"));
  EXPECT_EQ(call("GET", "/healthz").result_int(), 200);
}

// Issue 12, item 12: HEAD was a 405.
TEST_F(ServerTest, HeadIsAGetWithoutTheBody) {
  std::string reply =
      raw_exchange(port_, "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(reply, HasSubstr("Content-Length: 3\r\n"));
  EXPECT_THAT(reply, EndsWith("\r\n\r\n"));
  reply = raw_exchange(port_, "HEAD /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 404 Not Found\r\n"));
  EXPECT_THAT(reply, EndsWith("\r\n\r\n"));
  reply =
      raw_exchange(port_, "HEAD /api/v1/reload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n"));
}

TEST_F(ServerTest, NoResponseCanFailToRender) {
  auto res = call("GET", "/latin1");  // a handler's JSON with text that is not UTF-8
  EXPECT_EQ(res.result_int(), 200);
  EXPECT_EQ(res.body(), "{\"name\":\"caf\xef\xbf\xbd\"}");
  res = call("GET", "/boom-int");  // not a std::exception
  EXPECT_EQ(res.result_int(), 500);
  EXPECT_EQ(res.body(), R"({"error":"internal error"})");
  EXPECT_EQ(call("GET", "/healthz").result_int(), 200);
}

// A POST to /write with these header lines, its body JSON; the status line and the body.
std::string write(std::uint16_t port, const std::string& headers, const std::string& body = "") {
  std::string reply = raw_exchange(
      port, "POST /write HTTP/1.1\r\nHost: 127.0.0.1:80\r\nConnection: close\r\n" + headers +
                "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
  return reply.substr(0, reply.find("\r\n")) + " " + reply.substr(reply.find("\r\n\r\n") + 4);
}

TEST_F(ServerTest, WriteRoutesNeedATokenAndJsonFromTheSameOrigin) {
  EXPECT_EQ(write(port_, ""),
            "HTTP/1.1 403 Forbidden {\"error\":\"writes are off: no API token is configured; add "
            "one under server.api_tokens (see Security in the README)\"}");
  boost::asio::post(io_, [this] { server_->set_api_tokens({{"ops", hash_token("t0k")}}); });
  ASSERT_TRUE(wait_until([&] { return write(port_, "").find(" 401 ") != std::string::npos; }));

  std::string reply = raw_exchange(
      port_, "POST /write HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
  EXPECT_THAT(reply, HasSubstr("\r\nWWW-Authenticate: Bearer realm=\"leeway\"\r\n"));
  EXPECT_EQ(write(port_, "Authorization: Bearer t0k!\r\n"),
            "HTTP/1.1 401 Unauthorized {\"error\":\"the API token is not valid\"}");
  EXPECT_EQ(write(port_, "Authorization: Basic dDBrOg==\r\n").substr(0, 13), "HTTP/1.1 401 ");
  EXPECT_EQ(write(port_, "Authorization: bearer t0k\r\n"),
            "HTTP/1.1 200 OK {\"body\":\"\",\"caller\":\"ops\"}");
  EXPECT_EQ(write(port_, "Authorization: Bearer t0k\r\nContent-Type: application/json\r\n", "{}"),
            "HTTP/1.1 200 OK {\"body\":\"{}\",\"caller\":\"ops\"}");
  // What a browser sends on a web page's behalf without asking first: a simple content type, and
  // the page's origin.
  EXPECT_EQ(write(port_, "Authorization: Bearer t0k\r\nContent-Type: text/plain\r\n", "{}"),
            "HTTP/1.1 415 Unsupported Media Type "
            "{\"error\":\"a write's body must be application/json\"}");
  EXPECT_EQ(write(port_, "Authorization: Bearer t0k\r\n", "{}").substr(0, 13), "HTTP/1.1 415 ");
  EXPECT_EQ(write(port_, "Authorization: Bearer t0k\r\nOrigin: http://evil.example\r\n"),
            "HTTP/1.1 403 Forbidden {\"error\":\"writes from another origin are refused\"}");
  EXPECT_EQ(write(port_, "Authorization: Bearer t0k\r\nOrigin: null\r\n").substr(0, 13),
            "HTTP/1.1 403 ");
  EXPECT_EQ(write(port_, "Authorization: Bearer t0k\r\nOrigin: http://127.0.0.1:80\r\n"),
            "HTTP/1.1 200 OK {\"body\":\"\",\"caller\":\"ops\"}");
  // Reads need nothing, and no response invites other origins.
  reply = raw_exchange(port_,
                       "GET /healthz HTTP/1.1\r\nHost: x\r\nOrigin: http://evil.example\r\n"
                       "Connection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK"));
  EXPECT_THAT(reply, Not(HasSubstr("Access-Control")));
}

TEST_F(ServerTest, ListeningOnLoopbackIsNotBeyondIt) {
  EXPECT_FALSE(server_->beyond_loopback());
}

// Holds offloaded work until the test opens it.
class Gate {
 public:
  void wait() {
    std::unique_lock lock(mutex_);
    opened_.wait(lock, [&] { return open_; });
  }
  void open() {
    std::lock_guard lock(mutex_);
    open_ = true;
    opened_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable opened_;
  bool open_ = false;
};

// A keep-alive client: every call() goes over the same connection.
class Client {
 public:
  explicit Client(std::uint16_t port) : stream_(io_) {
    stream_.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
  }

  // The response, or nothing when the server closed the connection without one.
  std::optional<bhttp::response<bhttp::string_body>> call(const std::string& target) {
    bhttp::request<bhttp::string_body> req{bhttp::verb::get, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    beast::error_code ec;
    bhttp::write(stream_, req, ec);
    bhttp::response<bhttp::string_body> res;
    if (!ec) bhttp::read(stream_, buffer_, res, ec);
    if (ec) return std::nullopt;
    return res;
  }

 private:
  boost::asio::io_context io_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

// The body of /pieces?n=N.
std::string pieces_body(int n) {
  std::string body;
  for (int i = 0; i < n; ++i) {
    if (i != 2) body += "piece " + std::to_string(i) + "\n";
  }
  return body;
}

TEST_F(ServerTest, ABodyInPiecesArrivesWholeChunkedAndTheConnectionGoesOn) {
  Client client(port_);
  for (int n : {1, 5, 2000}) {
    auto res = client.call("/pieces?n=" + std::to_string(n));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->result_int(), 200);
    EXPECT_TRUE(res->chunked());
    EXPECT_EQ(res->body(), pieces_body(n));
    auto quick = client.call("/healthz");
    ASSERT_TRUE(quick);
    EXPECT_EQ(quick->body(), "ok\n");
  }
}

TEST_F(ServerTest, HeadOfABodyInPiecesSendsNoBody) {
  std::string reply =
      raw_exchange(port_, "HEAD /pieces?n=5 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(reply, HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_THAT(reply, EndsWith("\r\n\r\n"));
  EXPECT_THAT(reply, Not(HasSubstr("piece")));
}

TEST_F(ServerTest, APieceThatThrowsCutsTheBodyOffWithoutItsLastChunk) {
  std::string reply = raw_exchange(
      port_, "GET /pieces?n=5&boom=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(reply, HasSubstr("piece 1\n"));
  EXPECT_THAT(reply, Not(EndsWith("0\r\n\r\n")));  // a client cannot take it for the whole
  EXPECT_EQ(call("GET", "/healthz").result_int(), 200);
}

// A body of `size` bytes that a lost or reordered chunk would change.
std::string numbered_body(std::size_t size) {
  std::string body;
  for (std::size_t i = 0; body.size() < size; ++i) body += std::to_string(i) + ",";
  body.resize(size);
  return body;
}

// A server whose /slow route is offloaded and waits on a gate the test opens.
class OffloadTest : public ::testing::Test {
 protected:
  void SetUp() override { start(2); }

  void start(std::size_t worker_threads) {
    std::vector<Route> routes = {
        {"GET", "/healthz", [](const Request&) { return Response::text("ok\n"); }},
        {"GET", "/slow",
         [this](const Request& r) -> Work {
           // The loop part: what the work needs is copied here.
           std::size_t size = std::stoul(r.query.at("size"));
           return [this, size] {
             started_++;
             gate_.wait();
             finished_++;
             return Response::text(numbered_body(size));
           };
         }},
        {"GET", "/loop-boom", [](const Request&) -> Work { throw std::runtime_error("kaput"); }},
        {"GET", "/work-boom",
         [](const Request&) -> Work {
           return []() -> Response { throw std::runtime_error("kaput later"); };
         }},
    };
    ServerOptions options;
    options.worker_threads = worker_threads;
    server_ = std::make_unique<Server>(*io_, std::move(routes), options);
    auto port = server_->listen("127.0.0.1:0");
    ASSERT_TRUE(port) << port.error().message;
    port_ = *port;
    loop_ = std::thread([this] { io_->run(); });
  }

  void TearDown() override {
    gate_.open();
    stop_loop();
  }

  void stop_loop() {
    if (!loop_.joinable()) return;
    boost::asio::post(*io_, [this] { server_->stop(); });
    io_->stop();
    loop_.join();
  }

  std::unique_ptr<boost::asio::io_context> io_ = std::make_unique<boost::asio::io_context>();
  Gate gate_;
  std::atomic<int> started_{0};
  std::atomic<int> finished_{0};
  std::unique_ptr<Server> server_;
  std::uint16_t port_ = 0;
  std::thread loop_;
};

TEST_F(OffloadTest, ASlowOffloadedRequestDoesNotHoldTheLoop) {
  std::optional<bhttp::response<bhttp::string_body>> slow;
  std::thread waiting([&] { slow = Client(port_).call("/slow?size=3000000"); });
  ASSERT_TRUE(wait_until([&] { return started_ == 1; }));
  EXPECT_EQ(server_->offloaded_in_flight(), 1u);

  // Answered while the offloaded work still waits.
  Client other(port_);
  auto quick = other.call("/healthz");
  ASSERT_TRUE(quick);
  EXPECT_EQ(quick->body(), "ok\n");
  EXPECT_EQ(finished_, 0);

  gate_.open();
  waiting.join();
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->result_int(), 200);
  EXPECT_EQ(slow->body(), numbered_body(3'000'000));
  EXPECT_EQ(server_->offloaded_in_flight(), 0u);
}

TEST_F(OffloadTest, KeepAliveWorksAcrossOffloadedAndLoopRoutes) {
  gate_.open();
  Client client(port_);
  for (int i = 0; i < 3; ++i) {
    auto slow = client.call("/slow?size=100");
    ASSERT_TRUE(slow);
    EXPECT_EQ(slow->body(), numbered_body(100));
    auto quick = client.call("/healthz");
    ASSERT_TRUE(quick);
    EXPECT_EQ(quick->body(), "ok\n");
  }
}

TEST_F(OffloadTest, HeadOfAnOffloadedRouteGivesTheLengthWithoutTheBody) {
  gate_.open();
  std::string reply =
      raw_exchange(port_, "HEAD /slow?size=100 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(reply, HasSubstr("Content-Length: 100\r\n"));
  EXPECT_THAT(reply, EndsWith("\r\n\r\n"));
}

TEST_F(OffloadTest, ErrorsInEitherPartAreJson500s) {
  Client client(port_);
  auto res = client.call("/loop-boom");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 500);
  EXPECT_EQ(res->body(), R"({"error":"internal error: kaput"})");
  res = client.call("/work-boom");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 500);
  EXPECT_EQ(res->body(), R"({"error":"internal error: kaput later"})");
  res = client.call("/slow?nosize");  // std::out_of_range from the loop part
  ASSERT_TRUE(res);
  EXPECT_EQ(res->result_int(), 500);
}

TEST_F(OffloadTest, StopLetsAnOffloadedRequestFinish) {
  std::optional<bhttp::response<bhttp::string_body>> slow;
  std::thread waiting([&] { slow = Client(port_).call("/slow?size=1000"); });
  ASSERT_TRUE(wait_until([&] { return started_ == 1; }));
  boost::asio::post(*io_, [this] { server_->stop(); });
  gate_.open();
  waiting.join();
  ASSERT_TRUE(slow);
  EXPECT_EQ(slow->body(), numbered_body(1000));
}

class OneWorkerOffloadTest : public OffloadTest {
 protected:
  void SetUp() override { start(1); }
};

// The daemon's shutdown: the loop stops, then the Server goes while its work still runs (one
// request running, one queued behind it on the single worker thread). The destructor waits for
// the running work and drops the queued one (unless the gate opened first), and nothing runs
// after it returns. Under ASan, a late use of the connections or the loop would fail here.
TEST_F(OneWorkerOffloadTest, DestroyingTheServerWhileWorkRunsIsSafe) {
  std::optional<bhttp::response<bhttp::string_body>> first, second;
  std::thread a([&] { first = Client(port_).call("/slow?size=10"); });
  std::thread b([&] { second = Client(port_).call("/slow?size=10"); });
  ASSERT_TRUE(wait_until([&] { return server_->offloaded_in_flight() == 2 && started_ == 1; }));

  stop_loop();
  std::thread opener([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the destructor start
    gate_.open();
  });
  server_.reset();
  int finished = finished_;
  EXPECT_GE(finished, 1);
  opener.join();
  EXPECT_EQ(finished_, finished);  // nothing ran after the destructor returned

  // The loop never ran again: the responses die with its handlers, and the connections close.
  io_.reset();
  a.join();
  b.join();
  EXPECT_FALSE(first);
  EXPECT_FALSE(second);
}

// Lowers this process's soft limit on open files to what is open now plus `spare`, until
// destroyed.
class FileLimit {
 public:
  explicit FileLimit(rlim_t spare) {
    ::getrlimit(RLIMIT_NOFILE, &saved_);
    rlim_t open = 0;
    for ([[maybe_unused]] const auto& fd : std::filesystem::directory_iterator("/proc/self/fd"))
      ++open;
    rlimit lower = saved_;
    lower.rlim_cur = open + spare;
    ::setrlimit(RLIMIT_NOFILE, &lower);
  }
  ~FileLimit() { ::setrlimit(RLIMIT_NOFILE, &saved_); }

 private:
  rlimit saved_{};
};

// A server with the given options and one route, listening; its loop runs on a thread of its own
// from run() on.
class LimitedServer {
 public:
  explicit LimitedServer(ServerOptions options)
      : server_(io_, {{"GET", "/healthz", [](const Request&) { return Response::text("ok\n"); }}},
                options) {
    port_ = server_.listen("127.0.0.1:0").value();
  }
  ~LimitedServer() {
    boost::asio::post(io_, [this] { server_.stop(); });
    io_.stop();
    if (loop_.joinable()) loop_.join();
  }

  void run() {
    loop_ = std::thread([this] { io_.run(); });
  }

  Server& server() { return server_; }
  std::uint16_t port() const { return port_; }

 private:
  boost::asio::io_context io_;
  Server server_;
  std::uint16_t port_ = 0;
  std::thread loop_;
};

// Whether a new connection gets a 200 from /healthz.
bool healthy(std::uint16_t port) {
  try {
    auto res = Client(port).call("/healthz");
    return res && res->result_int() == 200;
  } catch (const std::exception&) {
    return false;
  }
}

TEST(ServerLimits, PastTheConnectionLimitANewConnectionGetsA503) {
  ServerOptions options;
  options.max_connections = 3;
  LimitedServer s(options);
  s.run();
  boost::asio::io_context io;
  std::vector<std::unique_ptr<tcp::socket>> idle;
  for (int i = 0; i < 3; ++i) {
    idle.push_back(std::make_unique<tcp::socket>(io));
    idle.back()->connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), s.port()));
  }
  ASSERT_TRUE(wait_until([&] { return s.server().open_connections() == 3; }));
  std::string reply = raw_exchange(s.port(), "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 503 Service Unavailable\r\n"));
  EXPECT_THAT(reply, EndsWith("\r\n\r\n{\"error\":\"too many open connections\"}"));
  EXPECT_EQ(s.server().refused_connections_total(), 1u);

  idle.pop_back();  // one closes: a new one is served again
  EXPECT_TRUE(wait_until([&] { return healthy(s.port()); }));
}

// Issue 12, item 3: with no file descriptors left, the accept loop spun at 100% CPU (accept
// failed at once, again and again, on the connection waiting in the queue). Server and clients
// share this process: the clients take every descriptor.
TEST(ServerLimits, OutOfFileDescriptorsTheServerWaitsInsteadOfSpinningThenServesAgain) {
  ServerOptions options;
  options.max_connections = 100'000;  // the limit is the process's, not the server's
  LimitedServer s(options);
  boost::asio::io_context io;
  std::vector<std::unique_ptr<tcp::socket>> idle;
  {
    FileLimit limit(200);
    // Before the server's loop runs, so that connections are still queued when none are left.
    for (int i = 0; i < 1000; ++i) {
      auto socket = std::make_unique<tcp::socket>(io);
      beast::error_code ec;
      socket->connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), s.port()), ec);
      if (ec) break;  // EMFILE
      idle.push_back(std::move(socket));
    }
    ASSERT_GT(idle.size(), 50u);
    s.run();
    ASSERT_TRUE(wait_until([&] { return s.server().accept_errors_total() > 0; }));
    // Spinning fails hundreds of thousands of times a second; waiting, 10 ms doubling to 1 s,
    // about 8 times in the first second.
    std::uint64_t before = s.server().accept_errors_total();
    std::this_thread::sleep_for(std::chrono::seconds(1));
    EXPECT_LT(s.server().accept_errors_total() - before, 20u);

    idle.clear();  // the descriptors come back, under the same low limit
    EXPECT_TRUE(wait_until([&] { return healthy(s.port()); }));
  }
}

TEST(PercentDecode, DecodesAndKeepsInvalidEscapes) {
  EXPECT_EQ(percent_decode("a%2Fb"), "a/b");
  EXPECT_EQ(percent_decode("100%"), "100%");
  EXPECT_EQ(percent_decode("%zz"), "%zz");
  EXPECT_EQ(percent_decode("a+b", true), "a b");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
}

TEST(Listen, BadAddressesAreErrors) {
  boost::asio::io_context io;
  Server server(io, {});
  EXPECT_EQ(server.listen("localhost").error().message,
            "listen: expected HOST:PORT, got \"localhost\"");
  EXPECT_EQ(server.listen("nohost:80").error().message, "listen: \"nohost\" is not an IP address");
}

}  // namespace
}  // namespace leeway::http
