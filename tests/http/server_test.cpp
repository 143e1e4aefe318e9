#include "http/server.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <gtest/gtest.h>

#include <thread>

namespace leeway::http {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = boost::asio::ip::tcp;

// A server on a free loopback port, its loop on a thread of its own.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<Route> routes = {
        {"GET", "/healthz", [](const Request&) { return Response::text("ok\n"); }},
        {"GET", "/api/v1/checks/{}/results",
         [](const Request& r) {
           return Response::json({{"id", r.params.at(0)},
                                  {"from", r.query.count("from") ? r.query.at("from") : ""}});
         }},
        {"POST", "/api/v1/reload", [](const Request& r) { return Response::json({{"body", r.body}}); }},
        {"GET", "/boom", [](const Request&) -> Response { throw std::runtime_error("kaput"); }},
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
  EXPECT_EQ(server.listen("localhost").error().message, "listen: expected HOST:PORT, got \"localhost\"");
  EXPECT_EQ(server.listen("nohost:80").error().message, "listen: \"nohost\" is not an IP address");
}

}  // namespace
}  // namespace leeway::http
