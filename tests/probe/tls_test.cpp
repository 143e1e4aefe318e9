// The tls prober against real TLS servers on loopback with certificates made by the test.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>

#include "probe/probe.h"
#include "support/certs.h"
#include "support/http_server.h"
#include "support/peers.h"

namespace leeway::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using probe::Outcome;
using probe::Stage;

// Runs one check to completion on a loop of its own.
probe::ProbeResult run(const probe::CheckSpec& spec) {
  boost::asio::io_context io;
  probe::ProbeEngine engine(io, SystemClock::instance());
  probe::ProbeResult result;
  engine.run(spec, [&](probe::ProbeResult r) {
    result = std::move(r);
    io.stop();
  });
  io.run();
  return result;
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() / ("leeway-tls-" + std::to_string(getpid())));
    ca_ = new TestCa(*dir_);
  }
  static void TearDownTestSuite() {
    delete ca_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  // Runs one tls check of 127.0.0.1:port, verifying `name`, trusting the test CA by default.
  probe::ProbeResult check(std::uint16_t port, const std::string& name = "localhost",
                           bool trust_test_ca = true, DurationUs timeout_us = 2 * kSecondUs) {
    auto spec = probe::parse_target("tls://127.0.0.1:" + std::to_string(port));
    EXPECT_TRUE(spec);
    spec->tls.server_name = name;
    if (trust_test_ca) spec->tls.ca_file = ca_->ca_pem_path();
    spec->timeout_us = timeout_us;
    return run(*spec);
  }

  static HttpServer serve(const CertFiles& files) {
    return HttpServer(HttpServerOptions{files.cert_pem_path, files.key_pem_path});
  }

  static std::string* dir_;
  static TestCa* ca_;
};

std::string* TlsTest::dir_ = nullptr;
TestCa* TlsTest::ca_ = nullptr;

TEST_F(TlsTest, ValidCertificateIsUpWithItsFacts) {
  HttpServer server = serve(ca_->issue("valid", "localhost", -1, 90));
  auto r = check(server.port());
  EXPECT_EQ(r.outcome, Outcome::kUp) << r.error;
  EXPECT_EQ(r.stage, Stage::kNone);
  ASSERT_TRUE(r.cert_days_left);
  EXPECT_GE(*r.cert_days_left, 88);
  EXPECT_LE(*r.cert_days_left, 90);
  EXPECT_EQ(r.cert_subject, "CN=localhost");
  EXPECT_GE(r.timings.connect_us, 0);
  EXPECT_GE(r.timings.tls_us, 0);
  EXPECT_EQ(r.remote_address, "127.0.0.1");
}

TEST_F(TlsTest, ExpiringSoonIsDegraded) {
  HttpServer server = serve(ca_->issue("expiring", "localhost", -30, 5));
  auto r = check(server.port());
  EXPECT_EQ(r.outcome, Outcome::kDegraded);
  EXPECT_THAT(r.error, StartsWith("certificate expires in "));
}

TEST_F(TlsTest, ExpiredIsDownAtTls) {
  HttpServer server = serve(ca_->issue("expired", "localhost", -60, -3));
  auto r = check(server.port());
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_THAT(r.error, StartsWith("certificate expired "));
  ASSERT_TRUE(r.cert_days_left);
  EXPECT_LT(*r.cert_days_left, 0);
}

TEST_F(TlsTest, NotYetValidIsDownAtTls) {
  HttpServer server = serve(ca_->issue("future", "localhost", 2, 90));
  auto r = check(server.port());
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_THAT(r.error, StartsWith("certificate is not valid yet"));
}

TEST_F(TlsTest, WrongHostIsDownAtTls) {
  HttpServer server = serve(ca_->issue("wronghost", "other.example", -1, 90));
  auto r = check(server.port());
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_EQ(r.error, "certificate is not valid for localhost (CN=other.example)");
}

TEST_F(TlsTest, SelfSignedAndUntrustedAreDownAtTls) {
  HttpServer self_signed = serve(ca_->self_signed("self", "localhost"));
  auto r = check(self_signed.port());
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_THAT(r.error, StartsWith("certificate not trusted: "));

  // Signed by the test CA, which the system store does not know.
  HttpServer valid = serve(ca_->issue("valid2", "localhost", -1, 90));
  r = check(valid.port(), "localhost", /*trust_test_ca=*/false);
  EXPECT_EQ(r.stage, Stage::kTls);
  EXPECT_THAT(r.error, HasSubstr("local issuer"));
}

TEST_F(TlsTest, IpLiteralNamesAreCheckedAgainstIpSans) {
  HttpServer server = serve(ca_->issue("ip", "127.0.0.1", -1, 90));
  EXPECT_EQ(check(server.port(), "127.0.0.1").outcome, Outcome::kUp);
}

TEST_F(TlsTest, RefusedSilentAndNotTlsPeers) {
  auto refused = check(closed_port());
  EXPECT_EQ(refused.stage, Stage::kConnect);

  SilentPeer silent;
  auto start = std::chrono::steady_clock::now();
  auto timeout = check(silent.port(), "localhost", true, 300 * kMillisecondUs);
  EXPECT_EQ(timeout.stage, Stage::kTimeout);
  EXPECT_EQ(timeout.error, "timed out after 300ms during tls handshake");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(1500));

  BannerPeer garbage("SSH-2.0-OpenSSH_9.2\r\n");
  auto not_tls = check(garbage.port());
  EXPECT_EQ(not_tls.stage, Stage::kTls);
  EXPECT_THAT(not_tls.error, StartsWith("handshake: "));

  ResetPeer reset(ResetPeer::When::kAfterFirstRead);
  auto r = check(reset.port());
  EXPECT_EQ(r.outcome, Outcome::kDown);
  EXPECT_EQ(r.stage, Stage::kTls);
}

TEST_F(TlsTest, MissingCaFileIsAClearError) {
  auto spec = probe::parse_target("tls://127.0.0.1:1");
  spec->tls.ca_file = "/nonexistent/ca.pem";
  probe::ProbeResult result = run(*spec);
  EXPECT_EQ(result.stage, Stage::kTls);
  EXPECT_THAT(result.error, StartsWith("cannot load CA file \"/nonexistent/ca.pem\""));
}

}  // namespace
}  // namespace leeway::testing
